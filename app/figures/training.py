"""Training views, drawn from `metrics` (API.md `GET /metrics`): loss and held-out
accuracy curves, the confusion matrix, and the kernels over time."""

from __future__ import annotations

import math

import numpy as np

from app.figures.common import (
    Ctx,
    Parts,
    axes_layout,
    grid,
    heatmap,
    panel_title,
    placeholder,
    plot_axes,
    sym_range,
)

SMOOTHING = 0.05  # α of the loss curve's exponential moving average
MAX_SNAPSHOTS = 12


def ema(values: list[float], alpha: float = SMOOTHING) -> list[float]:
    """Exponential moving average s ← α·v + (1−α)·s from s = 0, bias-corrected by
    1 − (1−α)^t (as in Adam), so the first points are plain averages of what came so far
    rather than echoes of the very first value."""
    out, s = [], 0.0
    for t, v in enumerate(values, start=1):
        s = alpha * v + (1 - alpha) * s
        out.append(s / (1 - (1 - alpha) ** t))
    return out


def _train_first(ctx: Ctx, title: str) -> Parts:
    return placeholder(ctx, title, ctx.t("msg.train_first"))


def training_view(ctx: Ctx) -> Parts:
    """Loss per sample seen (raw, faint, and smoothed) and held-out accuracy on a 0..1 axis."""
    title = ctx.t("view.training.title")
    metrics = ctx.metrics or {}
    loss = metrics.get("loss") or []
    accuracy = metrics.get("accuracy") or []
    if not loss and not accuracy:
        return _train_first(ctx, title)
    th = ctx.theme
    data = []
    if loss:
        xs = [int(p["samples_seen"]) for p in loss]
        ys = [float(p["value"]) for p in loss]
        data += [
            {
                "type": "scatter",
                "mode": "lines",
                "name": ctx.t("label.loss_raw"),
                "x": xs,
                "y": ys,
                "line": {"color": th.bar, "width": 1},
                "opacity": 0.35,
                "meta": {"metric": "loss"},
            },
            {
                "type": "scatter",
                "mode": "lines",
                "name": ctx.t("label.loss_smooth", alpha=SMOOTHING),
                "x": xs,
                "y": ema(ys),
                "line": {"color": th.bar, "width": th.line_width + 1},
                "meta": {"metric": "loss.ema", "alpha": SMOOTHING},
            },
        ]
    if accuracy:
        data.append(
            {
                "type": "scatter",
                "mode": "lines+markers",
                "name": ctx.t("label.accuracy"),
                "x": [int(p["samples_seen"]) for p in accuracy],
                "y": [float(p["value"]) for p in accuracy],
                "yaxis": "y2",
                "line": {"color": th.accent, "width": th.line_width + 1},
                "marker": {"size": 8, "color": th.accent},
                "meta": {"metric": "accuracy"},
            }
        )
    layout = {
        "showlegend": True,
        "xaxis": plot_axes(th, title={"text": ctx.t("label.samples_seen")}, zeroline=False),
        "yaxis": plot_axes(th, title={"text": ctx.name("loss")}, rangemode="tozero"),
        "yaxis2": plot_axes(
            th,
            title={"text": ctx.t("label.accuracy")},
            overlaying="y",
            side="right",
            range=[0.0, 1.0],
            tickmode="linear",
            tick0=0.0,
            dtick=0.2,
            tickformat=".0%",
            showgrid=False,
            zeroline=False,
        ),
        "margin": {"l": 64, "r": 72, "t": 72, "b": 48, "pad": 0},
    }
    return Parts(title=title, data=data, layout=layout)


def confusion_view(ctx: Ctx) -> Parts:
    """10×10 counts on held-out digits: true digit per row, predicted per column."""
    title = ctx.t("view.confusion.title")
    counts = (ctx.metrics or {}).get("confusion")
    if not counts:
        return _train_first(ctx, title)
    c = np.asarray(counts, dtype=np.int64)
    total = int(c.sum())
    if total:
        title += " · " + ctx.t("msg.accuracy", value=f"{np.trace(c) / total:.1%}")
    (panel,) = grid(1)
    true, predicted = ctx.t("label.true"), ctx.t("label.predicted")
    trace = heatmap(
        c,
        panel,
        ctx.theme,
        colorscale=ctx.theme.sequential,
        zmin=0,
        zmax=max(1, int(c.max())),
        hover=f"{true} %{{y}}, {predicted} %{{x}}<br>%{{z}}",
        meta={"metric": "confusion"},
        name=ctx.t("label.count"),
        showscale=True,
    )
    trace["texttemplate"] = "%{z}"
    trace["textfont"] = {"size": max(11, ctx.theme.font_size - 2)}
    tick = {"tickmode": "linear", "dtick": 1}
    layout = axes_layout(panel, ctx.theme, shape=c.shape, xtitle=predicted, ytitle=true)
    # predicted digit along the bottom: a title above the matrix would need a top margin
    # the page does not leave (it shows the figure title outside the plot)
    layout["xaxis"].update(tick)
    layout["yaxis"].update(tick)
    return Parts(title=title, data=[trace], layout=layout)


def pick_snapshots(n: int, most: int = MAX_SNAPSHOTS) -> list[int]:
    """Up to `most` indices evenly spread over 0..n−1, always the first and the last."""
    if n <= most:
        return list(range(n))
    return sorted({round(i * (n - 1) / (most - 1)) for i in range(most)})


def mosaic(w: np.ndarray) -> list[list[float | None]]:
    """K kernels tiled into one near-square image, one empty (null) cell between them."""
    n_k, k = w.shape[0], w.shape[1]
    if n_k == 1:
        return w[0].tolist()
    cols = math.ceil(math.sqrt(n_k))
    rows = math.ceil(n_k / cols)
    out: list[list[float | None]] = [
        [None] * (cols * (k + 1) - 1) for _ in range(rows * (k + 1) - 1)
    ]
    for i in range(n_k):
        r0, c0 = divmod(i, cols)
        for a, row in enumerate(w[i].tolist()):
            out[r0 * (k + 1) + a][c0 * (k + 1) : c0 * (k + 1) + k] = row
    return out


def kernels_history_view(ctx: Ctx) -> Parts:
    """Small multiples of conv.w over training, one subplot per chosen snapshot."""
    title = ctx.t("view.kernels-history.title", name=ctx.name("conv.w"))
    snaps = (ctx.metrics or {}).get("kernels") or []
    if not snaps:
        return _train_first(ctx, title)
    chosen = [snaps[i] for i in pick_snapshots(len(snaps))]
    stacks = [np.asarray(s["conv.w"], dtype=float) for s in chosen]
    m = sym_range(*stacks)
    panels = grid(len(chosen), titled=True, hgap=0.06)
    th = ctx.theme
    data, layout, notes = [], {}, []
    row, col = ctx.t("label.row"), ctx.t("label.col")
    for i, (snap, w, panel) in enumerate(zip(chosen, stacks, panels, strict=True)):
        seen = int(snap["samples_seen"])
        z = mosaic(w)
        data.append(
            {
                "type": "heatmap",
                "name": ctx.t("label.snapshot", n=seen),
                "z": z,
                "xaxis": panel.x,
                "yaxis": panel.y,
                "colorscale": th.diverging,
                "zmin": -m,
                "zmax": m,
                "zmid": 0.0,
                "showscale": i == 0,
                "xgap": 1,
                "ygap": 1,
                "hoverongaps": False,
                "hovertemplate": (
                    f"{ctx.t('label.snapshot', n=seen)}<br>{row} %{{y}}, {col} %{{x}}"
                    "<br>%{z}<extra></extra>"
                ),
                "meta": {"tensor": "conv.w", "samples_seen": seen},
            }
        )
        layout.update(axes_layout(panel, th, shape=(len(z), len(z[0])), ticks=False))
        # up to four titles side by side: the first says "n samples", the rest just n
        text = ctx.t("label.snapshot", n=seen) if i == 0 else str(seen)
        note = panel_title(panel, text, th)
        note["font"]["size"] = th.font_size - 2
        notes.append(note)
    if data:
        data[0]["colorbar"] = {"thickness": 14, "outlinewidth": 0}
    layout["annotations"] = notes
    meta = {"snapshots": [int(s["samples_seen"]) for s in chosen]}
    return Parts(title=title, data=data, layout=layout, axes=[p.pair for p in panels], meta=meta)
