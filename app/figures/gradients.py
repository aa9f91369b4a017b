"""The backward pass, one view each (MATH §3 and §4): the weight gradients, the deltas,
the routed delta and ∂E/∂x beside rot180(w).

Signed quantities use the theme's diverging scale with zmid 0 and a symmetric
range ±max|value| shared by all panels of a figure, so colours compare.
"""

from __future__ import annotations

import numpy as np

from app.figures.common import (
    COMPUTED_AT,
    MARGIN,
    Ctx,
    Panel,
    Parts,
    Theme,
    axes_layout,
    cell_hover,
    computed_at,
    grid,
    header,
    heatmap,
    kernel_maps,
    kernel_subtitles,
    layout_key,
    message,
    not_yet,
    on_paper,
    panel_title,
    plot_axes,
    pool_overlay,
    signed_bars,
    sym_range,
)


def _grad_hover(ctx: Ctx, param: str) -> str:
    return cell_hover(ctx, f"{ctx.name('grads.' + param)}[%{{customdata}}]")


def grad_conv_view(ctx: Ctx) -> Parts:
    """∂E/∂conv.w per kernel (K k×k); customdata = kernel·k·k + row·k + col."""
    title = ctx.t("view.gradients.conv.title", name=ctx.name("grads.conv.w"))
    if not ctx.has("grads.conv.w"):
        return not_yet(ctx, title, "grads.conv.w")
    g = ctx.arr("grads.conv.w")
    m = sym_range(g)
    data, layout, panels = kernel_maps(
        ctx,
        g,
        tensor="grads.conv.w",
        param="conv.w",
        colorscale=ctx.theme.diverging,
        zrange=(-m, m),
        zmid=0.0,
        subtitles=kernel_subtitles(ctx, "grads.conv.b"),
        hover=_grad_hover(ctx, "conv.w"),
        label_name=ctx.name("grads.conv.w"),
    )
    layout["plot_bgcolor"] = ctx.theme.cell_gap
    return Parts(title=title, data=data, layout=layout, axes=[p.pair for p in panels])


def _matrix_grad(ctx: Ctx, param: str, title: str, xtitle: str, ytitle: str) -> Parts:
    """One heatmap of a dense layer's weight gradient; customdata = row·cols + col."""
    name = "grads." + param
    if not ctx.has(name):
        return not_yet(ctx, title, name)
    g = ctx.arr(name)
    m = sym_range(g)
    (panel,) = grid(1)
    trace = heatmap(
        g,
        panel,
        ctx.theme,
        colorscale=ctx.theme.diverging,
        zmin=-m,
        zmax=m,
        zmid=0.0,
        hover=_grad_hover(ctx, param),
        meta={"param": param},
        name=ctx.name(name),
        customdata=np.arange(g.size).reshape(g.shape),
        showscale=True,
    )
    layout = axes_layout(
        panel, ctx.theme, shape=g.shape, square=False, most_ticks=6, xtitle=xtitle, ytitle=ytitle
    )
    layout["plot_bgcolor"] = ctx.theme.cell_gap
    return Parts(title=title, data=[trace], layout=layout)


def grad_fc1_view(ctx: Ctx) -> Parts:
    """∂E/∂fc1.w, rows j = pooled cells (K·P·P), columns m = hidden units; index j·H + m."""
    title = ctx.t("view.gradients.fc1.title", name=ctx.name("grads.fc1.w"))
    return _matrix_grad(ctx, "fc1.w", title, ctx.t("label.hidden_unit"), ctx.t("label.pooled_cell"))


def grad_fc2_view(ctx: Ctx) -> Parts:
    """∂E/∂fc2.w, rows m = hidden units, columns k = outputs; index m·10 + k."""
    title = ctx.t("view.gradients.fc2.title", name=ctx.name("grads.fc2.w"))
    return _matrix_grad(ctx, "fc2.w", title, ctx.t("label.output_unit"), ctx.t("label.hidden_unit"))


# deltas: the bars on top, act.delta's maps in the bottom region. Between them, from
# the top: the bars' tick labels, the act.delta heading, then (K > 1) the kernel titles.
DELTA_BARS_Y = (0.72, 1.0)
DELTA_MAPS_Y = (0.0, 0.4)


def deltas_view(ctx: Ctx) -> Parts:
    """fc2.delta and fc1.delta as bars on top, act.delta as K P×P maps below.

    The panels keep fixed axis ids (fc2.delta x/y, fc1.delta x2/y2, act.delta
    x3…) so zoom survives stepping; a panel whose delta a later phase computes
    shows that phase instead. act.delta's colour bar spans only its maps.
    """
    title = ctx.t("view.deltas.title")
    if not ctx.has("fc2.delta"):
        return not_yet(ctx, title, "fc2.delta")
    th = ctx.theme
    bars = {
        "fc2.delta": Panel("x", "y", (0.0, 0.22), DELTA_BARS_Y),
        "fc1.delta": Panel("x2", "y2", (0.4, 1.0), DELTA_BARS_Y),
    }
    data, layout, notes = [], {}, []
    for tensor, panel in bars.items():
        layout[layout_key(panel.x)] = plot_axes(
            th, domain=list(panel.xdomain), anchor=panel.y, zeroline=False
        )
        layout[layout_key(panel.y)] = plot_axes(
            th, domain=list(panel.ydomain), anchor=panel.x, nticks=3
        )
        head = on_paper(panel_title(panel, ctx.name(tensor), th), panel)
        if panel.xdomain[0] == 0.0:
            # wider than its narrow panel: start at the panel's left edge, clear of the
            # y tick labels on its left
            head.update(x=0.0, xanchor="left")
        notes.append(head)
        if ctx.has(tensor):
            data.append(signed_bars(ctx, ctx.arr(tensor), panel, tensor))
        else:
            notes.append(on_paper(_later(ctx, tensor, panel), panel))
    axes = [["x", "y"]]
    meta = {"panels": {t: p.pair for t, p in bars.items()}}
    region = (0.0, 1.0, *DELTA_MAPS_Y)
    fmt = ctx.fmt
    subtitles = kernel_subtitles(ctx, cols=min(fmt["K"], 8))
    head_y = DELTA_MAPS_Y[1] + (0.1 if subtitles else 0.02)
    if ctx.has("act.delta"):
        a = ctx.arr("act.delta").reshape(fmt["K"], fmt["P"], fmt["P"])
        m = sym_range(a)
        maps, map_layout, panels = kernel_maps(
            ctx,
            a,
            tensor="act.delta",
            colorscale=th.diverging,
            zrange=(-m, m),
            zmid=0.0,
            subtitles=subtitles,
            first=3,
            region=region,
            cols=min(fmt["K"], 8),
            most_ticks=4,  # small maps in a low region
            colorbar={
                "len": DELTA_MAPS_Y[1] - DELTA_MAPS_Y[0],
                "lenmode": "fraction",
                "y": DELTA_MAPS_Y[0],
                "yanchor": "bottom",
                "nticks": 5,
            },
        )
        notes += map_layout.pop("annotations", [])
        data += maps
        layout.update(map_layout)
        axes = [p.pair for p in panels]
        meta["panels"]["act.delta"] = axes[0]
    else:
        note = message(computed_at(ctx, "backward.act"), th)
        note["y"] = sum(DELTA_MAPS_Y) / 2
        notes.append(note)
    notes.append(header(ctx.name("act.delta"), th, x=0.0, y=head_y, xanchor="left"))
    layout["annotations"] = notes
    return Parts(title=title, data=data, layout=layout, axes=axes, meta=meta)


def _later(ctx: Ctx, tensor: str, panel: Panel) -> dict:
    return message(computed_at(ctx, COMPUTED_AT[tensor], narrow=True), ctx.theme, panel)


def conv_delta_view(ctx: Ctx) -> Parts:
    """conv.delta per kernel (MATH §3 routed delta), pool grid drawn, winners ringed."""
    pool = ctx.config["pool"]
    title = (
        ctx.t("view.conv-delta.title", name=ctx.name("conv.delta"))
        + " — "
        + ctx.t(f"msg.routed.{pool}")
    )
    if not ctx.has("conv.delta"):
        return not_yet(ctx, title, "conv.delta")
    d = ctx.arr("conv.delta")
    m = sym_range(d)
    scale = ctx.theme.diverging
    data, layout, panels = kernel_maps(
        ctx,
        d,
        tensor="conv.delta",
        colorscale=scale,
        zrange=(-m, m),
        zmid=0.0,
        subtitles=kernel_subtitles(ctx),
    )
    layout["shapes"], markers = pool_overlay(
        ctx, panels, d, colorscale=scale, zrange=(-m, m), diverging=True
    )
    layout["plot_bgcolor"] = ctx.theme.cell_gap
    data += markers
    return Parts(title=title, data=data, layout=layout, axes=[p.pair for p in panels])


# input-grad: ∂E/∂x on the left, rot180(w) on the right, each with a horizontal colour
# bar under it (their ranges differ) at the bottom of the figure, below the maps' tick
# labels: the bottom margin holds both, measured in pixels so they never overlap.
IGRAD_LEFT = (0.0, 0.44)
IGRAD_RIGHT = (0.56, 1.0)
HBAR_THICKNESS = 10


def _hbar(x: tuple[float, float], m: float) -> dict:
    """A horizontal colour bar at the bottom of the figure under paper x-range `x`, ticked
    at −m, 0, m (a short bar has room for three numbers, the ends of the symmetric range)."""
    end = format(m, ".2g")
    return {
        "tickvals": [-m, 0.0, m],
        "ticktext": ["−" + end, "0", end],
        "orientation": "h",
        "x": (x[0] + x[1]) / 2,
        "xanchor": "center",
        "len": (x[1] - x[0]) * 0.9,
        "lenmode": "fraction",
        "yref": "container",
        "y": 0.0,
        "yanchor": "bottom",
        "ypad": 4,
        "thickness": HBAR_THICKNESS,
        "tickangle": 0,
    }


# Presenter mode (static/js/presenter.js) draws every figure font at least this large.
PRESENTER_FONT = 18


def _hbar_margin(th: Theme) -> int:
    """Bottom margin for the maps' tick labels plus a bar and its labels (≈1.4 em a line),
    at the theme's font or the presenter's, whichever is larger."""
    line = round(1.4 * max(th.font_size, PRESENTER_FONT))
    return 2 * (line + 4) + HBAR_THICKNESS + 8


def input_grad_view(ctx: Ctx) -> Parts:
    """∂E/∂x (S×S) beside rot180(w) of each kernel (MATH §4).

    rot180 (flip up-down, then left-right) is computed here for display only;
    each flipped cell's customdata is the flat index of the weight it shows.
    """
    title = ctx.t(
        "view.input-grad.title",
        grad=ctx.name("input.grad"),
        delta=ctx.name("conv.delta"),
        w=ctx.name("conv.w"),
    )
    if not ctx.has("input.grad"):
        return not_yet(ctx, title, "input.grad")
    th = ctx.theme
    g = ctx.arr("input.grad")
    y0, top = 0.0, 1.0
    (left,) = grid(1, region=(*IGRAD_LEFT, y0, top))
    m = sym_range(g)
    data = [
        heatmap(
            g,
            left,
            th,
            colorscale=th.diverging,
            zmin=-m,
            zmax=m,
            zmid=0.0,
            hover=cell_hover(ctx, f"{ctx.name('input.grad')}[%{{customdata}}]"),
            meta={"tensor": "input.grad"},
            name=ctx.name("input.grad"),
            customdata=np.arange(g.size).reshape(g.shape),
            showscale=True,
            colorbar=_hbar(IGRAD_LEFT, m),
        )
    ]
    layout = axes_layout(left, th, shape=g.shape, most_ticks=5)
    notes = [panel_title(left, ctx.name("input.grad"), th)]

    w = ctx.arr("params.conv.w")
    n_k = w.shape[0]
    rot = np.flip(w, (-2, -1))
    original = np.flip(np.arange(w.size).reshape(w.shape), (-2, -1))
    rot_name = ctx.t("label.rot180", name=ctx.name("conv.w"))
    if n_k == 1:
        subtitles, right_top = [rot_name], top
    else:
        subtitles = [ctx.t("label.kernel", i=i) for i in range(n_k)] if n_k <= 4 else None
        right_top = top - (0.11 if subtitles else 0.02)
        notes.append(header(rot_name, th, x=sum(IGRAD_RIGHT) / 2, y=top, xanchor="center"))
    wm = sym_range(w)
    maps, map_layout, panels = kernel_maps(
        ctx,
        rot,
        tensor="rot180(conv.w)",
        colorscale=th.diverging,
        zrange=(-wm, wm),
        zmid=0.0,
        subtitles=subtitles,
        first=2,
        region=(*IGRAD_RIGHT, y0, right_top),
        customdata=original,
        hover=cell_hover(ctx, f"{rot_name}<br>= {ctx.name('conv.w')}[%{{customdata}}]"),
        label_name=rot_name,
        colorbar=_hbar(IGRAD_RIGHT, wm),
    )
    data += maps
    notes += map_layout.pop("annotations", [])
    layout.update(map_layout)
    layout["annotations"] = notes
    layout["plot_bgcolor"] = th.cell_gap
    layout["margin"] = {**MARGIN, "b": _hbar_margin(th)}
    meta = {"panels": {"input.grad": left.pair, "rot180(conv.w)": panels[0].pair}}
    return Parts(title=title, data=data, layout=layout, axes=[p.pair for p in panels], meta=meta)
