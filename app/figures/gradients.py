"""The backward pass, one view each (MATH §3 and §4): the weight gradients, the deltas,
the routed delta and ∂E/∂x beside rot180(w).

Signed quantities use the theme's diverging scale with zmid 0 and a symmetric
range ±max|value| shared by all panels of a figure, so colours compare.
"""

from __future__ import annotations

import math

import numpy as np

from app.figures.common import (
    COMPUTED_AT,
    Ctx,
    Panel,
    Parts,
    axes_layout,
    cell_hover,
    grid,
    header,
    heatmap,
    kernel_maps,
    kernel_subtitles,
    layout_key,
    message,
    not_yet,
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
    layout = axes_layout(panel, ctx.theme, square=False, xtitle=xtitle, ytitle=ytitle)
    return Parts(title=title, data=[trace], layout=layout)


def grad_fc1_view(ctx: Ctx) -> Parts:
    """∂E/∂fc1.w, rows j = pooled cells (K·P·P), columns m = hidden units; index j·H + m."""
    title = ctx.t("view.gradients.fc1.title", name=ctx.name("grads.fc1.w"))
    return _matrix_grad(ctx, "fc1.w", title, ctx.t("label.hidden_unit"), ctx.t("label.pooled_cell"))


def grad_fc2_view(ctx: Ctx) -> Parts:
    """∂E/∂fc2.w, rows m = hidden units, columns k = outputs; index m·10 + k."""
    title = ctx.t("view.gradients.fc2.title", name=ctx.name("grads.fc2.w"))
    return _matrix_grad(ctx, "fc2.w", title, ctx.t("label.output_unit"), ctx.t("label.hidden_unit"))


def deltas_view(ctx: Ctx) -> Parts:
    """fc2.delta and fc1.delta as bars on top, act.delta as K P×P maps below.

    The panels keep fixed axis ids (fc2.delta x/y, fc1.delta x2/y2, act.delta
    x3…) so zoom survives stepping; a panel whose delta a later phase computes
    shows that phase instead.
    """
    title = ctx.t("view.deltas.title")
    if not ctx.has("fc2.delta"):
        return not_yet(ctx, title, "fc2.delta")
    th = ctx.theme
    bars = {
        "fc2.delta": Panel("x", "y", (0.0, 0.3), (0.64, 1.0)),
        "fc1.delta": Panel("x2", "y2", (0.38, 1.0), (0.64, 1.0)),
    }
    data, layout, notes = [], {}, []
    for tensor, panel in bars.items():
        layout[layout_key(panel.x)] = plot_axes(
            th, domain=list(panel.xdomain), anchor=panel.y, zeroline=False
        )
        layout[layout_key(panel.y)] = plot_axes(th, domain=list(panel.ydomain), anchor=panel.x)
        notes.append(panel_title(panel, ctx.name(tensor), th))
        if ctx.has(tensor):
            data.append(signed_bars(ctx, ctx.arr(tensor), panel, tensor))
        else:
            notes.append(_later(ctx, tensor, panel))
    axes = [["x", "y"]]
    meta = {"panels": {t: p.pair for t, p in bars.items()}}
    region = (0.0, 1.0, 0.0, 0.44)
    if ctx.has("act.delta"):
        fmt = ctx.fmt
        a = ctx.arr("act.delta").reshape(fmt["K"], fmt["P"], fmt["P"])
        m = sym_range(a)
        subtitles = kernel_subtitles(ctx)
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
        )
        notes += map_layout.pop("annotations", [])
        notes.append(header(ctx.name("act.delta"), th, x=0.0, y=0.5, xanchor="left"))
        data += maps
        layout.update(map_layout)
        axes = [p.pair for p in panels]
        meta["panels"]["act.delta"] = axes[0]
    else:
        note = message(ctx.t("msg.computed_at", phase="backward.act"), th)
        note["y"] = 0.25
        notes.append(note)
    layout["annotations"] = notes
    return Parts(title=title, data=data, layout=layout, axes=axes, meta=meta)


def _later(ctx: Ctx, tensor: str, panel: Panel) -> dict:
    return message(ctx.t("msg.computed_at", phase=COMPUTED_AT[tensor]), ctx.theme, panel)


def conv_delta_view(ctx: Ctx) -> Parts:
    """conv.delta per kernel (MATH §3 routed delta), pool grid drawn, winners marked."""
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
    data, layout, panels = kernel_maps(
        ctx,
        d,
        tensor="conv.delta",
        colorscale=ctx.theme.diverging,
        zrange=(-m, m),
        zmid=0.0,
        subtitles=kernel_subtitles(ctx),
    )
    layout["shapes"], markers = pool_overlay(ctx, panels, d.shape[-1])
    data += markers
    return Parts(title=title, data=data, layout=layout, axes=[p.pair for p in panels])


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
    (left,) = grid(1, region=(0.0, 0.5, 0.0, 0.94))
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
            colorbar_x=0.52,
        )
    ]
    layout = axes_layout(left, th)
    notes = [panel_title(left, ctx.name("input.grad"), th)]

    w = ctx.arr("params.conv.w")
    n_k = w.shape[0]
    rot = np.flip(w, (-2, -1))
    original = np.flip(np.arange(w.size).reshape(w.shape), (-2, -1))
    rot_name = ctx.t("label.rot180", name=ctx.name("conv.w"))
    if n_k == 1:
        subtitles, top = [rot_name], 0.94
    else:
        subtitles, top = [ctx.t("label.kernel", i=i) for i in range(n_k)], 0.84
        notes.append(header(rot_name, th, x=0.82, y=0.92, xanchor="center"))
    wm = sym_range(w)
    maps, map_layout, panels = kernel_maps(
        ctx,
        rot,
        tensor="rot180(conv.w)",
        colorscale=th.diverging,
        zrange=(-wm, wm),
        zmid=0.0,
        subtitles=subtitles if n_k <= 9 else None,
        first=2,
        region=(0.64, 1.0, 0.0, top),
        cols=max(1, math.ceil(math.sqrt(n_k))),
        customdata=original,
        hover=cell_hover(ctx, f"{rot_name}<br>= {ctx.name('conv.w')}[%{{customdata}}]"),
        label_name=rot_name,
    )
    for trace in maps:
        trace["showscale"] = False
        trace.pop("colorbar", None)
    data += maps
    notes += map_layout.pop("annotations", [])
    layout.update(map_layout)
    layout["annotations"] = notes
    meta = {"panels": {"input.grad": left.pair, "rot180(conv.w)": panels[0].pair}}
    return Parts(title=title, data=data, layout=layout, axes=[p.pair for p in panels], meta=meta)
