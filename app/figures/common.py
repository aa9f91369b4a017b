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
from engine import network
from engine.notation import label

# API.md "Phases of the seed config", in order: the engine's own list.
PHASES = network.PHASES

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

# Plotly.js's own stops of the named sequential scales (plotly.js colorscales), so a
# marker drawn over a cell can pick the ring colour that contrasts with that cell.
NAMED_SCALES = {
    "Viridis": [
        [0.0, "#440154"],
        [0.0627, "#48186a"],
        [0.1255, "#472d7b"],
        [0.1882, "#424086"],
        [0.2510, "#3b528b"],
        [0.3137, "#33638d"],
        [0.3765, "#2c728e"],
        [0.4392, "#26828e"],
        [0.5020, "#21918c"],
        [0.5647, "#1fa088"],
        [0.6275, "#28ae80"],
        [0.6902, "#3fbc73"],
        [0.7529, "#5ec962"],
        [0.8157, "#84d44b"],
        [0.8784, "#addc30"],
        [0.9412, "#d8e219"],
        [1.0, "#fde725"],
    ],
    "Cividis": [
        [0.0, "#00204c"],
        [0.1176, "#00346e"],
        [0.2353, "#3c4a6b"],
        [0.3529, "#5b5f6d"],
        [0.4706, "#757575"],
        [0.5882, "#928c78"],
        [0.7059, "#b0a572"],
        [0.8235, "#d1bf66"],
        [0.9412, "#f3db4f"],
        [1.0, "#ffe945"],
    ],
}


@dataclass(frozen=True)
class Theme:
    """Colours and sizes of one page theme.

    `pool_line` draws the 2×2 pool windows over a sequential map, `pool_line_div`
    over a diverging map (white at zero, so the lines must be dark). `cell_gap` is
    the colour between the cells of a small map (the plot background of map views).
    Winner rings are black on light cells and white on dark ones (`ring_dark`,
    `ring_light`), so every ring contrasts with the cell it marks.
    """

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
    pool_line_div: str
    cell_gap: str
    ring_dark: str = "#000000"
    ring_light: str = "#ffffff"


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
        pool_line_div="#5a5a5a",
        cell_gap="#d4d4d4",
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
        pool_line_div="#8c8c8c",
        cell_gap="#15171c",
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
        pool_line_div="#000000",
        cell_gap="#000000",
    ),
}


@dataclass(frozen=True)
class Panel:
    """One subplot: its axis ids ("x2", "y2"), paper domains and place in its grid."""

    x: str
    y: str
    xdomain: tuple[float, float]
    ydomain: tuple[float, float]
    row: int = 0
    col: int = 0
    below: bool = False  # another panel of the same grid sits below this one

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


def grid_shape(n: int) -> tuple[int, int]:
    """(rows, cols) of a near-square grid of `n` panels: 2 → 1×2, 3–4 → 2×2, 5–6 → 2×3,
    7–9 → 3×3, 10–12 → 3×4, 13–16 → 4×4."""
    cols = max(1, math.ceil(math.sqrt(n)))
    return math.ceil(n / cols), cols


def grid(
    n: int,
    *,
    first: int = 1,
    region: tuple[float, float, float, float] = (0.0, 1.0, 0.0, 1.0),
    cols: int | None = None,
    titled: bool = False,
    hgap: float = 0.04,
    vgap: float | None = None,
) -> list[Panel]:
    """`n` equal panels in a near-square grid (or `cols` columns) inside `region`.

    `region` is (x0, x1, y0, y1) in paper coordinates; panel i gets axis ids
    number `first + i`, filled left to right, top to bottom. Every panel has the
    same width and height, so maps of one shape come out the same size. `titled`
    leaves room between rows for a title above each panel.
    """
    rows, cols = grid_shape(n) if cols is None else (math.ceil(n / cols), cols)
    x0, x1, y0, y1 = region
    hgap = hgap if cols > 1 else 0.0
    if vgap is None:
        vgap = (0.11 if titled else 0.05) if rows > 1 else 0.0
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
                row=r,
                col=c,
                below=i + cols < n,
            )
        )
    return panels


def _clamp(v: float) -> float:
    return min(1.0, max(0.0, v))


def integer_ticks(n: int, most: int = 6) -> dict:
    """Ticks on whole cell indices 0, d, 2d, … with at most `most` labels (d in 1, 2, 5, 10, …)."""
    step = 1
    for scale in (1, 10, 100, 1000, 10000):
        for d in (1, 2, 5):
            if math.ceil(n / (d * scale)) <= most:
                step = d * scale
                break
        else:
            continue
        break
    return {"tickmode": "linear", "tick0": 0, "dtick": step}


def axes_layout(
    panel: Panel,
    theme: Theme,
    *,
    shape: tuple[int, int] | None = None,
    square: bool = True,
    reversed_y: bool = True,
    ticks: bool = True,
    xticks: bool | None = None,
    yticks: bool | None = None,
    most_ticks: int = 8,
    xtitle: str | None = None,
    ytitle: str | None = None,
) -> dict:
    """Layout entries (`xaxisN`, `yaxisN`) for one map subplot; row 0 on top.

    With `shape` = (rows, cols) the ranges are fixed to the cells, [-0.5, cols − 0.5]
    and [rows − 0.5, −0.5] (reversed), so a map never autoranges and every panel
    of one shape has the same extent; `square` keeps the cells square.
    """
    common = {
        "showgrid": False,
        "zeroline": False,
        "ticks": "",
        "color": theme.text,
        "linecolor": theme.grid,
    }
    xa = {
        **common,
        "showticklabels": ticks if xticks is None else xticks,
        "domain": list(panel.xdomain),
        "anchor": panel.y,
    }
    ya = {
        **common,
        "showticklabels": ticks if yticks is None else yticks,
        "domain": list(panel.ydomain),
        "anchor": panel.x,
    }
    if shape is not None:
        rows, cols = shape
        # a thin frame shows where a map ends when its edge cells match the paper
        for axis in (xa, ya):
            axis.update(showline=True, mirror=True, linewidth=1)
        xa.update(range=[-0.5, cols - 0.5], autorange=False, **integer_ticks(cols, most_ticks))
        ya.update(
            range=[rows - 0.5, -0.5] if reversed_y else [-0.5, rows - 0.5],
            autorange=False,
            **integer_ticks(rows, most_ticks),
        )
    elif reversed_y:
        ya["autorange"] = "reversed"
    if square:
        ya["scaleanchor"] = panel.x
        ya["scaleratio"] = 1
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


def on_paper(note: dict, panel: Panel) -> dict:
    """The same note placed in paper coordinates over `panel`'s domain.

    For a panel that may have no trace yet (Plotly draws no subplot for it, and
    a "x2 domain" reference would fall back to data coordinates of another axis).
    Only for panels whose domain is not shrunk to square cells.
    """
    (x0, x1), (y0, y1) = panel.xdomain, panel.ydomain
    return {
        **note,
        "xref": "paper",
        "yref": "paper",
        "x": x0 + note["x"] * (x1 - x0),
        "y": y0 + note["y"] * (y1 - y0),
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
    """A centred note: on the whole figure, or (a size smaller) inside one panel."""
    note = {
        "text": text,
        "x": 0.5,
        "y": 0.5,
        "xanchor": "center",
        "yanchor": "middle",
        "align": "center",
        "showarrow": False,
        "font": {"size": theme.font_size + (2 if panel is None else 0), "color": theme.text},
    }
    if panel is None:
        note.update(xref="paper", yref="paper")
    else:
        note.update(xref=f"{panel.x} domain", yref=f"{panel.y} domain")
    return note


def two_lines(text: str) -> str:
    """Break a note at its dash ("… — step forward …", "…——向前…") so it fits a narrow card."""
    if "<br>" in text:
        return text
    for dash in (" — ", "——", "—"):
        if dash in text:
            head, tail = text.split(dash, 1)
            return f"{head.rstrip()}<br>{tail.lstrip()}"
    return text


def computed_at(ctx: Ctx, phase: str, *, narrow: bool = False) -> str:
    """The note "Computed at phase …<br>step forward to see it" in the page's language;
    `narrow` (a note inside one small panel) also breaks the line before the phase."""
    if not narrow:
        return two_lines(ctx.t("msg.computed_at", phase=phase))
    head, tail = two_lines(ctx.t("msg.computed_at", phase="\0")).split("\0", 1)
    return f"{head.rstrip()}<br>{phase}{tail}"


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
    return placeholder(ctx, title, computed_at(ctx, COMPUTED_AT[tensor]))


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
    colorbar: dict | None = None,
    gaps: bool | None = None,
) -> dict:
    """One heatmap trace; `z` and `customdata` become plain nested lists.

    `gaps` (default: maps of at most 16×16) separates the cells by a pixel of the
    plot background.

    `colorbar` adds to (or overrides) the colour bar's defaults: at the far right
    of the figure, where Plotly makes room for it, so it covers no data.
    """
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
    if max(z.shape) <= 16 if gaps is None else gaps:
        # thin gaps (the plot background, `cell_gap`) show the cells of small maps
        trace["xgap"] = 1
        trace["ygap"] = 1
    if showscale:
        trace["colorbar"] = {
            "thickness": 14,
            "outlinewidth": 0,
            "tickfont": {"color": theme.text},
            **(colorbar or {}),
        }
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
    colorbar: dict | None = None,
    ticks: bool | None = None,
    most_ticks: int | None = None,
) -> tuple[list[dict], dict, list[Panel]]:
    """One heatmap per kernel of a (K, n, n) stack, sharing one colour range.

    The panels form a near-square grid of equal panels, each with the fixed
    ranges of an n×n map and square cells, so all K maps come out the same size.
    Tick labels (shown up to 4 kernels, or as `ticks` says) appear only on the
    outer panels: y on the first column, x on the lowest panel of each column.

    customdata is each cell's flat row-major index into the whole tensor
    (kernel·n·n + row·n + col), the index the API uses, unless `customdata` is
    given. With `param` set the
    trace meta is `{"param": param}` (a click opens the weight inspector);
    otherwise `{"tensor": tensor, "kernel": i}`.
    """
    n_k, n_rows, n_cols = stack.shape
    titled = subtitles is not None
    panels = grid(n_k, first=first, region=region, cols=cols, titled=titled)
    flat = customdata if customdata is not None else np.arange(stack.size).reshape(stack.shape)
    hover = hover or param_hover(ctx, param or tensor)
    shown = label_name or ctx.name(param or tensor)
    show_ticks = n_k <= 4 if ticks is None else ticks
    px = cell_pixels(n_k, max(n_rows, n_cols))
    n_cols_grid = max(p.col for p in panels) + 1
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
                colorbar=colorbar,
                gaps=max(n_rows, n_cols) <= 16 and px >= 8,
            )
        )
        layout.update(
            axes_layout(
                panel,
                ctx.theme,
                shape=(n_rows, n_cols),
                xticks=show_ticks and not panel.below,
                yticks=show_ticks and panel.col == 0,
                most_ticks=most_ticks or (8 if n_k == 1 else 5),
            )
        )
        if subtitles:
            note = panel_title(panel, subtitles[i], ctx.theme)
            note["font"]["size"] = title_size(ctx.theme, n_cols_grid)
            notes.append(note)
    if notes:
        layout["annotations"] = notes
    return data, layout, panels


# Plot width of a small card (420 px wide, less margins and a colour bar): subplot
# titles must fit their panel's slot there.
SMALL_PLOT_WIDTH = 285


def text_width(text: str, size: float) -> float:
    """Rough width in px of `text` at font `size`: ~0.55 em a Latin glyph, 1 em a CJK one."""
    return size * sum(1.0 if ord(ch) >= 0x2E80 else 0.55 for ch in text)


def title_size(theme: Theme, cols: int) -> int:
    """Font size of subplot titles: a size smaller with four or more side by side."""
    return theme.font_size - 2 if cols >= 4 else theme.font_size


def kernel_subtitles(
    ctx: Ctx, bias: str | None = None, *, cols: int | None = None, width: float = 1.0
) -> list[str] | None:
    """Subplot titles "kernel i" (K > 1) and the bias value when there is one.

    The titles must fit their panel's slot in a small card (`cols` columns over
    `width` of the plot): the longest that fits of "kernel i · b = v",
    "i · b = v" (v to 3 digits, all 6 for a single kernel), "kernel i" and "i".
    """
    n_k = int(ctx.config["kernels"])
    biases = ctx.arr(bias) if bias and ctx.has(bias) else None
    if n_k == 1 and biases is None:
        return None
    if n_k == 1:
        return [ctx.t("label.bias", value=short(biases[0]))]
    cols = cols or grid_shape(n_k)[1]
    room = SMALL_PLOT_WIDTH * width / cols - 8
    size = title_size(ctx.theme, cols)
    forms = []
    if biases is not None:
        values = [ctx.t("label.bias", value=format(float(v), ".3g")) for v in biases]
        forms.append([f"{ctx.t('label.kernel', i=i)} · {b}" for i, b in enumerate(values)])
        forms.append([f"{i} · {b}" for i, b in enumerate(values)])
    forms.append([ctx.t("label.kernel", i=i) for i in range(n_k)])
    for titles in forms:
        if max(text_width(t, size) for t in titles) <= room:
            return titles
    return [str(i) for i in range(n_k)]


# Below this many pixels per cell (in a small card) the pool grid and the winner rings
# would hide the map itself: the grid is left out and the rings made invisible (they
# still answer hover, so the position table keeps its link).
MIN_OVERLAY_PX = 4.0


def cell_pixels(n_panels: int, cells: int) -> float:
    """Rough on-screen size of one map cell in a small card (~300×240 px of plot), to size
    overlays so they stay inside their cells."""
    rows, cols = grid_shape(n_panels)
    return min(300 / cols, 240 / rows) / cells


def pool_grid(panel: Panel, pooled: int, colour: str, width: float) -> list[dict]:
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
                    "line": {"color": colour, "width": width},
                    "layer": "above",
                }
            )
    return shapes


def _rgb(colour: str) -> tuple[float, float, float]:
    """'#rrggbb' → (r, g, b) in 0..1."""
    h = colour.lstrip("#")
    return tuple(int(h[i : i + 2], 16) / 255 for i in (0, 2, 4))  # type: ignore[return-value]


def cell_luminance(values: np.ndarray, colorscale, zmin: float, zmax: float) -> np.ndarray:
    """Relative luminance (WCAG) of the colour each value gets on `colorscale`."""
    stops = NAMED_SCALES[colorscale] if isinstance(colorscale, str) else colorscale
    pos = np.array([float(s[0]) for s in stops])
    rgb = np.array([_rgb(s[1]) for s in stops])
    t = np.clip((np.asarray(values, dtype=float) - zmin) / ((zmax - zmin) or 1.0), 0.0, 1.0)
    channels = np.stack([np.interp(t, pos, rgb[:, c]) for c in range(3)], axis=-1)
    linear = np.where(channels <= 0.04045, channels / 12.92, ((channels + 0.055) / 1.055) ** 2.4)
    return linear @ np.array([0.2126, 0.7152, 0.0722])


def winner_markers(
    ctx: Ctx,
    panels: list[Panel],
    px: float,
    z: np.ndarray,
    colorscale,
    zrange: tuple[float, float],
) -> list[dict]:
    """An open ring on each window's winning conv cell, one scatter trace per kernel.

    MATH §2: pooled cell (r, c) with winner offset (dr, dc) won at conv cell
    (2r+dr, 2c+dc). customdata is the pooled cell's flat index j (kernel-major),
    the row of the position table. The ring is hollow, so the cell's own colour
    (in conv.delta: the routed delta) stays visible, and it is black on light
    cells and white on dark ones, so it stands out on both ends of the scale.
    """
    th = ctx.theme
    winners = np.asarray(ctx.tensors["pool.winners"]).astype(int)
    pooled = winners.shape[1]
    rr, cc = np.meshgrid(np.arange(pooled), np.arange(pooled), indexing="ij")
    size = min(18.0, max(4.0, 0.6 * px))
    edge = min(3.0 if th.line_width > 2 else 2.0, max(1.0, px / 8))
    hover = (
        f"{ctx.t('label.winner')} → j = %{{customdata}}<br>"
        f"{ctx.t('label.row')} %{{y}}, {ctx.t('label.col')} %{{x}}"
    )
    traces = []
    for i, panel in enumerate(panels):
        rows = 2 * rr + winners[i, :, :, 0]
        cols = 2 * cc + winners[i, :, :, 1]
        lum = cell_luminance(z[i][rows, cols].ravel(), colorscale, *zrange)
        # black contrasts more than white above luminance 0.179 (equal WCAG ratios)
        rings = [th.ring_dark if v > 0.179 else th.ring_light for v in lum.tolist()]
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
                    "symbol": "circle-open",
                    "size": size,
                    "color": rings,
                    "opacity": 1 if px >= MIN_OVERLAY_PX else 0,
                    "line": {"color": rings, "width": edge},
                },
                "hovertemplate": hover + "<extra></extra>",
                "meta": {"tensor": "pool.winners", "kernel": i},
                "showlegend": False,
            }
        )
    return traces


def pool_overlay(
    ctx: Ctx,
    panels: list[Panel],
    z: np.ndarray,
    *,
    colorscale,
    zrange: tuple[float, float],
    diverging: bool,
) -> tuple[list[dict], list[dict]]:
    """The 2×2 window grid (shapes) and, for max pooling once known, the winners (traces).

    On a diverging map (white at zero) the grid is drawn dark (`pool_line_div`).
    """
    th = ctx.theme
    conv_size = z.shape[-1]
    px = cell_pixels(len(panels), conv_size)
    width = min(th.line_width + 0.5, max(0.75, px / 8))
    colour = th.pool_line_div if diverging else th.pool_line
    shapes = []
    if px >= MIN_OVERLAY_PX:
        shapes = [s for p in panels for s in pool_grid(p, conv_size // 2, colour, width)]
    markers = []
    if ctx.config["pool"] == "max" and ctx.has("pool.winners"):
        markers = winner_markers(ctx, panels, px, z, colorscale, zrange)
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

MARGIN = {"l": 56, "r": 24, "t": 64, "b": 48, "pad": 0}


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
        "margin": dict(MARGIN),
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
