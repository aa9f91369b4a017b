"""Shared pieces of every figure: themes, colour scales, subplot grids, heatmaps, layout.

Figures are plain dicts (`{"data": [...], "layout": {...}}`) built by hand, not
through `plotly.graph_objects`: that is fast enough for every request, and the
JSON a student opens shows the numbers as plain lists (never base64 `bdata`).
Every number that comes from a tensor keeps its full float64 precision.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from app import i18n
from engine.notation import label

# API.md "Phases of the seed config", in order.
PHASES: tuple[str, ...] = (
    "input",
    "forward.conv",
    "forward.pool",
    "forward.act",
    "forward.fc1",
    "forward.fc2",
    "loss",
    "backward.fc2",
    "backward.fc1",
    "backward.act",
    "backward.pool",
    "backward.conv",
    "update",
)

# The phase that first computes each tensor (API.md: `state` at a phase shows
# nothing a later phase computes), for the "step forward to see it" message.
COMPUTED_AT: dict[str, str] = {
    "conv.z": "forward.conv",
    "pool.out": "forward.pool",
    "pool.winners": "forward.pool",
    "act.out": "forward.act",
    "fc1.z": "forward.fc1",
    "fc1.out": "forward.fc1",
    "fc2.z": "forward.fc2",
    "fc2.out": "forward.fc2",
    "loss": "loss",
    "fc2.delta": "backward.fc2",
    "grads.fc2.w": "backward.fc2",
    "fc1.delta": "backward.fc1",
    "grads.fc1.w": "backward.fc1",
    "act.delta": "backward.act",
    "conv.delta": "backward.pool",
    "grads.conv.w": "backward.conv",
    "input.grad": "backward.conv",
}

FONT = "system-ui, -apple-system, 'Segoe UI', 'Noto Sans', 'Noto Sans CJK SC', sans-serif"

# Colour-blind-safe diverging scales centred on white (blue = negative, orange = positive).
BLUE_ORANGE = [
    [0.0, "#08519c"],
    [0.25, "#6baed6"],
    [0.5, "#f7f7f7"],
    [0.75, "#fdae6b"],
    [1.0, "#a63603"],
]
BLUE_ORANGE_STRONG = [[0.0, "#0033cc"], [0.5, "#ffffff"], [1.0, "#ff7700"]]
INK_ON_PAPER = [[0.0, "#ffffff"], [1.0, "#000000"]]
LIGHT_ON_DARK = [[0.0, "#000000"], [1.0, "#ffffff"]]


@dataclass(frozen=True)
class Theme:
    """Colours and sizes of one page theme."""

    paper: str
    text: str
    grid: str
    font_size: int
    title_size: int
    line_width: float
    sequential: str
    diverging: list
    grey: list
    bar: str
    target: str
    positive: str
    negative: str
    accent: str
    pool_line: str
    marker_fill: str = "#ffffff"
    marker_edge: str = "#000000"


THEME_STYLES: dict[str, Theme] = {
    "light": Theme(
        paper="#ffffff",
        text="#1a1a1a",
        grid="#d9d9d9",
        font_size=14,
        title_size=17,
        line_width=1.5,
        sequential="Viridis",
        diverging=BLUE_ORANGE,
        grey=INK_ON_PAPER,
        bar="#0072B2",
        target="#E69F00",
        positive="#D55E00",
        negative="#0072B2",
        accent="#D55E00",
        pool_line="#ffffff",
    ),
    "dark": Theme(
        paper="#15171c",
        text="#e8e8e8",
        grid="#3a3f4b",
        font_size=14,
        title_size=17,
        line_width=1.5,
        sequential="Viridis",
        diverging=BLUE_ORANGE,
        grey=LIGHT_ON_DARK,
        bar="#56B4E9",
        target="#E69F00",
        positive="#E69F00",
        negative="#56B4E9",
        accent="#E69F00",
        pool_line="#ffffff",
    ),
    "contrast": Theme(
        paper="#000000",
        text="#ffffff",
        grid="#ffffff",
        font_size=16,
        title_size=20,
        line_width=3.0,
        sequential="Cividis",
        diverging=BLUE_ORANGE_STRONG,
        grey=LIGHT_ON_DARK,
        bar="#33ccff",
        target="#ffb000",
        positive="#ff7700",
        negative="#33ccff",
        accent="#ffb000",
        pool_line="#ff00ff",
    ),
}


@dataclass(frozen=True)
class Panel:
    """One subplot: its axis ids ("x2", "y2") and paper domains."""

    x: str
    y: str
    xdomain: tuple[float, float]
    ydomain: tuple[float, float]

    @property
    def pair(self) -> list[str]:
        return [self.x, self.y]


@dataclass
class Parts:
    """What a view function returns; `build_figure` adds the shared layout."""

    title: str
    data: list = field(default_factory=list)
    layout: dict = field(default_factory=dict)
    axes: list = field(default_factory=lambda: [["x", "y"]])
    meta: dict = field(default_factory=dict)


@dataclass(frozen=True)
class Ctx:
    """Everything a view function reads: the tensors, the config and how to label."""

    view: str
    phase: str
    tensors: dict
    config: dict
    theme: Theme
    lang: str
    seed: bool
    metrics: dict | None

    @property
    def fmt(self) -> dict[str, int]:
        return i18n.config_fmt(self.config)

    def t(self, key: str, **fmt) -> str:
        return i18n.t(key, self.lang, **{**self.fmt, **fmt})

    def name(self, tensor: str) -> str:
        return label(tensor, self.seed)

    def has(self, *names: str) -> bool:
        return all(n in self.tensors for n in names)

    def arr(self, name: str) -> np.ndarray:
        return np.asarray(self.tensors[name], dtype=float)


# ---------------------------------------------------------------- numbers


def sym_range(*arrays: np.ndarray) -> float:
    """Half-width of a symmetric colour range: max |value|, or 1 when everything is 0."""
    m = max((float(np.max(np.abs(a))) for a in arrays if a.size), default=0.0)
    return m if m > 0 else 1.0


def seq_range(*arrays: np.ndarray) -> tuple[float, float]:
    """Shared (min, max) of the arrays, widened by 1 when they are all one value."""
    lo = min(float(np.min(a)) for a in arrays)
    hi = max(float(np.max(a)) for a in arrays)
    return (lo, hi) if hi > lo else (lo, lo + 1.0)


def short(value: float) -> str:
    """A number written into a title (the data keep full precision)."""
    return format(float(value), ".6g")


# ---------------------------------------------------------------- subplots


def axis_id(letter: str, n: int) -> str:
    return letter if n == 1 else f"{letter}{n}"


def layout_key(axis: str) -> str:
    """'x' -> 'xaxis', 'y3' -> 'yaxis3'."""
    return f"{axis[0]}axis{axis[1:]}"


def grid(
    n: int,
    *,
    first: int = 1,
    region: tuple[float, float, float, float] = (0.0, 1.0, 0.0, 1.0),
    cols: int | None = None,
    titled: bool = False,
) -> list[Panel]:
    """`n` panels in rows (one row up to 4, else a near-square grid) inside `region`.

    `region` is (x0, x1, y0, y1) in paper coordinates; panel i gets axis ids
    number `first + i`, filled left to right, top to bottom.
    """
    cols = cols or (n if n <= 4 else math.ceil(math.sqrt(n)))
    rows = math.ceil(n / cols)
    x0, x1, y0, y1 = region
    hgap = 0.03 if cols > 1 else 0.0
    vgap = (0.09 if titled else 0.04) if rows > 1 else 0.0
    width = (x1 - x0 - hgap * (cols - 1)) / cols
    height = (y1 - y0 - vgap * (rows - 1)) / rows
    panels = []
    for i in range(n):
        r, c = divmod(i, cols)
        left = x0 + c * (width + hgap)
        top = y1 - r * (height + vgap)
        idx = first + i
        panels.append(
            Panel(
                x=axis_id("x", idx),
                y=axis_id("y", idx),
                xdomain=(_clamp(left), _clamp(left + width)),
                ydomain=(_clamp(top - height), _clamp(top)),
            )
        )
    return panels


def _clamp(v: float) -> float:
    return min(1.0, max(0.0, v))


def axes_layout(
    panel: Panel,
    theme: Theme,
    *,
    square: bool = True,
    reversed_y: bool = True,
    ticks: bool = True,
    xtitle: str | None = None,
    ytitle: str | None = None,
) -> dict:
    """Layout entries (`xaxisN`, `yaxisN`) for one subplot; heatmaps have row 0 on top."""
    common = {
        "showgrid": False,
        "zeroline": False,
        "showticklabels": ticks,
        "ticks": "",
        "color": theme.text,
        "linecolor": theme.grid,
    }
    xa = {**common, "domain": list(panel.xdomain), "anchor": panel.y}
    ya = {**common, "domain": list(panel.ydomain), "anchor": panel.x}
    if reversed_y:
        ya["autorange"] = "reversed"
    if square:
        ya["scaleanchor"] = panel.x
        ya["constrain"] = "domain"
        xa["constrain"] = "domain"
    if xtitle:
        xa["title"] = {"text": xtitle}
    if ytitle:
        ya["title"] = {"text": ytitle}
    return {layout_key(panel.x): xa, layout_key(panel.y): ya}


def plot_axes(theme: Theme, **extra) -> dict:
    """Axis style for line and bar charts (grid lines on)."""
    return {
        "showgrid": True,
        "gridcolor": theme.grid,
        "zeroline": True,
        "zerolinecolor": theme.grid,
        "zerolinewidth": theme.line_width,
        "linecolor": theme.text,
        "color": theme.text,
        **extra,
    }


def panel_title(panel: Panel, text: str, theme: Theme) -> dict:
    """An annotation above one subplot."""
    return {
        "text": text,
        "xref": f"{panel.x} domain",
        "yref": f"{panel.y} domain",
        "x": 0.5,
        "y": 1.0,
        "xanchor": "center",
        "yanchor": "bottom",
        "showarrow": False,
        "font": {"size": theme.font_size, "color": theme.text},
    }


def header(text: str, theme: Theme, *, x: float, y: float, xanchor: str) -> dict:
    """A heading over a group of panels, in paper coordinates."""
    return {
        "text": text,
        "xref": "paper",
        "yref": "paper",
        "x": x,
        "y": y,
        "xanchor": xanchor,
        "yanchor": "bottom",
        "showarrow": False,
        "font": {"size": theme.font_size, "color": theme.text},
    }


def message(text: str, theme: Theme, panel: Panel | None = None) -> dict:
    """A centred note: on the whole figure, or inside one panel."""
    note = {
        "text": text,
        "x": 0.5,
        "y": 0.5,
        "xanchor": "center",
        "yanchor": "middle",
        "showarrow": False,
        "font": {"size": theme.font_size + 2, "color": theme.text},
    }
    if panel is None:
        note.update(xref="paper", yref="paper")
    else:
        note.update(xref=f"{panel.x} domain", yref=f"{panel.y} domain")
    return note


def placeholder(ctx: Ctx, title: str, text: str) -> Parts:
    """Empty axes and a centred note, so the page never breaks on a missing tensor."""
    hidden = {"visible": False, "showgrid": False, "zeroline": False}
    return Parts(
        title=title,
        layout={
            "xaxis": dict(hidden),
            "yaxis": dict(hidden),
            "annotations": [message(text, ctx.theme)],
        },
        meta={"missing": True},
    )


def not_yet(ctx: Ctx, title: str, tensor: str) -> Parts:
    """The placeholder for a tensor a later phase computes."""
    return placeholder(ctx, title, ctx.t("msg.computed_at", phase=COMPUTED_AT[tensor]))


# ---------------------------------------------------------------- traces


def heatmap(
    z: np.ndarray,
    panel: Panel,
    theme: Theme,
    *,
    colorscale,
    zmin: float,
    zmax: float,
    hover: str,
    meta: dict,
    name: str,
    zmid: float | None = None,
    customdata: np.ndarray | None = None,
    showscale: bool = False,
    colorbar_x: float | None = None,
) -> dict:
    """One heatmap trace; `z` and `customdata` become plain nested lists."""
    trace = {
        "type": "heatmap",
        "name": name,
        "z": z.tolist(),
        "xaxis": panel.x,
        "yaxis": panel.y,
        "colorscale": colorscale,
        "zmin": zmin,
        "zmax": zmax,
        "showscale": showscale,
        "hovertemplate": hover + "<extra></extra>",
        "meta": meta,
    }
    if zmid is not None:
        trace["zmid"] = zmid
    if customdata is not None:
        trace["customdata"] = customdata.tolist()
    if max(z.shape) <= 16:
        # thin gaps show the cells of small maps (a kernel, a pooled map)
        trace["xgap"] = 1
        trace["ygap"] = 1
    if showscale:
        bar = {"thickness": 14, "outlinewidth": 0, "tickfont": {"color": theme.text}}
        if colorbar_x is not None:
            bar["x"] = colorbar_x
        trace["colorbar"] = bar
    return trace


def cell_hover(ctx: Ctx, head: str) -> str:
    """Hover text of a map cell: `head`, then row/col and the value."""
    row, col = ctx.t("label.row"), ctx.t("label.col")
    return f"{head}<br>{row} %{{y}}, {col} %{{x}}<br>%{{z}}"


def param_hover(ctx: Ctx, param: str) -> str:
    """Hover of a parameter-shaped cell: the name with its flat index (customdata)."""
    return cell_hover(ctx, f"{ctx.name(param)}[%{{customdata}}]")


def kernel_maps(
    ctx: Ctx,
    stack: np.ndarray,
    *,
    tensor: str,
    colorscale,
    zrange: tuple[float, float],
    zmid: float | None = None,
    param: str | None = None,
    subtitles: list[str] | None = None,
    first: int = 1,
    region: tuple[float, float, float, float] = (0.0, 1.0, 0.0, 1.0),
    cols: int | None = None,
    customdata: np.ndarray | None = None,
    hover: str | None = None,
    label_name: str | None = None,
) -> tuple[list[dict], dict, list[Panel]]:
    """One heatmap per kernel of a (K, n, n) stack, sharing one colour range.

    customdata is each cell's flat row-major index into the whole tensor
    (kernel·n·n + row·n + col), the index the API uses, unless `customdata` is
    given. With `param` set the
    trace meta is `{"param": param}` (a click opens the weight inspector);
    otherwise `{"tensor": tensor, "kernel": i}`.
    """
    n_k = stack.shape[0]
    titled = subtitles is not None
    panels = grid(n_k, first=first, region=region, cols=cols, titled=titled)
    flat = customdata if customdata is not None else np.arange(stack.size).reshape(stack.shape)
    hover = hover or param_hover(ctx, param or tensor)
    shown = label_name or ctx.name(param or tensor)
    data, layout, notes = [], {}, []
    for i, panel in enumerate(panels):
        meta = {"param": param} if param else {"tensor": tensor, "kernel": i}
        data.append(
            heatmap(
                stack[i],
                panel,
                ctx.theme,
                colorscale=colorscale,
                zmin=zrange[0],
                zmax=zrange[1],
                zmid=zmid,
                hover=hover,
                meta=meta,
                name=f"{shown} [{i}]",
                customdata=flat[i],
                showscale=(i == 0),
            )
        )
        layout.update(axes_layout(panel, ctx.theme, ticks=n_k <= 4))
        if subtitles:
            notes.append(panel_title(panel, subtitles[i], ctx.theme))
    if notes:
        layout["annotations"] = notes
    return data, layout, panels


def kernel_subtitles(ctx: Ctx, bias: str | None = None) -> list[str] | None:
    """Subplot titles "kernel i" (K > 1) and the bias value when there is one."""
    n_k = int(ctx.config["kernels"])
    biases = ctx.arr(bias) if bias and ctx.has(bias) else None
    if n_k == 1 and biases is None:
        return None
    titles = []
    for i in range(n_k):
        parts = [ctx.t("label.kernel", i=i)] if n_k > 1 else []
        if biases is not None:
            parts.append(ctx.t("label.bias", value=short(biases[i])))
        titles.append(" · ".join(parts))
    return titles


def cell_pixels(n_panels: int, cells: int) -> float:
    """Rough on-screen size of one map cell in a ~800×500 container, to size overlays."""
    cols = n_panels if n_panels <= 4 else math.ceil(math.sqrt(n_panels))
    rows = math.ceil(n_panels / cols)
    return min(760 / cols, 440 / rows) / cells


def pool_grid(panel: Panel, pooled: int, theme: Theme, width: float) -> list[dict]:
    """Lines around the 2×2 pool windows (MATH §2: window (r, c) = rows 2r..2r+1, cols 2c..2c+1)."""
    end = 2 * pooled - 0.5
    shapes = []
    for t in range(pooled + 1):
        pos = 2 * t - 0.5
        for x0, x1, y0, y1 in ((pos, pos, -0.5, end), (-0.5, end, pos, pos)):
            shapes.append(
                {
                    "type": "line",
                    "xref": panel.x,
                    "yref": panel.y,
                    "x0": x0,
                    "x1": x1,
                    "y0": y0,
                    "y1": y1,
                    "line": {"color": theme.pool_line, "width": width},
                    "layer": "above",
                }
            )
    return shapes


def winner_markers(ctx: Ctx, panels: list[Panel], px: float) -> list[dict]:
    """A marker on each window's winning conv cell, one scatter trace per kernel.

    MATH §2: pooled cell (r, c) with winner offset (dr, dc) won at conv cell
    (2r+dr, 2c+dc). customdata is the pooled cell's flat index j (kernel-major),
    the row of the position table.
    """
    winners = np.asarray(ctx.tensors["pool.winners"]).astype(int)
    pooled = winners.shape[1]
    rr, cc = np.meshgrid(np.arange(pooled), np.arange(pooled), indexing="ij")
    size = min(9.0, max(3.0, 0.5 * px))
    edge = min(ctx.theme.line_width, max(0.5, px / 8))
    hover = (
        f"{ctx.t('label.winner')} → j = %{{customdata}}<br>"
        f"{ctx.t('label.row')} %{{y}}, {ctx.t('label.col')} %{{x}}"
    )
    traces = []
    for i, panel in enumerate(panels):
        rows = 2 * rr + winners[i, :, :, 0]
        cols = 2 * cc + winners[i, :, :, 1]
        traces.append(
            {
                "type": "scatter",
                "mode": "markers",
                "name": ctx.name("pool.winners"),
                "x": cols.ravel().tolist(),
                "y": rows.ravel().tolist(),
                "xaxis": panel.x,
                "yaxis": panel.y,
                "customdata": (i * pooled * pooled + np.arange(pooled * pooled)).tolist(),
                "marker": {
                    "symbol": "circle",
                    "size": size,
                    "color": ctx.theme.marker_fill,
                    "line": {"color": ctx.theme.marker_edge, "width": edge},
                },
                "hovertemplate": hover + "<extra></extra>",
                "meta": {"tensor": "pool.winners", "kernel": i},
                "showlegend": False,
            }
        )
    return traces


def pool_overlay(ctx: Ctx, panels: list[Panel], conv_size: int) -> tuple[list[dict], list[dict]]:
    """The 2×2 window grid (shapes) and, for max pooling once known, the winners (traces)."""
    px = cell_pixels(len(panels), conv_size)
    width = min(ctx.theme.line_width, max(0.5, px / 6))
    shapes = [s for p in panels for s in pool_grid(p, conv_size // 2, ctx.theme, width)]
    markers = []
    if ctx.config["pool"] == "max" and ctx.has("pool.winners"):
        markers = winner_markers(ctx, panels, px)
    return shapes, markers


def signed_bars(ctx: Ctx, values: np.ndarray, panel: Panel, tensor: str) -> dict:
    """A bar chart of a signed vector, bars coloured by sign (orange +, blue −)."""
    th = ctx.theme
    colours = [th.positive if v >= 0 else th.negative for v in values.tolist()]
    return {
        "type": "bar",
        "name": ctx.name(tensor),
        "x": list(range(values.size)),
        "y": values.tolist(),
        "xaxis": panel.x,
        "yaxis": panel.y,
        "marker": {"color": colours, "line": {"width": 0}},
        "hovertemplate": f"{ctx.name(tensor)}[%{{x}}] = %{{y}}<extra></extra>",
        "meta": {"tensor": tensor},
        "showlegend": False,
    }


# ---------------------------------------------------------------- layout


def base_layout(ctx: Ctx, title: str) -> dict:
    """Theme, fonts, margins and sizing shared by every figure."""
    th = ctx.theme
    return {
        "title": {
            "text": title,
            "x": 0.01,
            "xanchor": "left",
            "font": {"size": th.title_size, "color": th.text},
        },
        "autosize": True,
        "paper_bgcolor": th.paper,
        "plot_bgcolor": th.paper,
        "font": {"family": FONT, "size": th.font_size, "color": th.text},
        "margin": {"l": 56, "r": 24, "t": 64, "b": 48, "pad": 0},
        "hoverlabel": {"font": {"size": th.font_size}},
        "legend": {
            "orientation": "h",
            "x": 1.0,
            "xanchor": "right",
            "y": 1.02,
            "yanchor": "bottom",
            "bgcolor": "rgba(0,0,0,0)",
            "font": {"color": th.text},
        },
        "showlegend": False,
        "uirevision": ctx.view,
    }
