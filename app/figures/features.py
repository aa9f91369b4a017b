"""The forward pass, one view each (MATH §1): x, the kernel, conv.z, pool.out, act.out,
the hidden units and the outputs against the target."""

from __future__ import annotations

import numpy as np

from app.figures.common import (
    Ctx,
    Parts,
    axes_layout,
    grid,
    heatmap,
    kernel_maps,
    kernel_subtitles,
    not_yet,
    param_hover,
    plot_axes,
    pool_overlay,
    seq_range,
    short,
    sym_range,
)


def input_view(ctx: Ctx) -> Parts:
    """x as a grey image, row 0 on top."""
    title = ctx.t("view.input.title", name=ctx.name("x"))
    (panel,) = grid(1)
    x = ctx.arr("x")
    trace = heatmap(
        x,
        panel,
        ctx.theme,
        colorscale=ctx.theme.grey,
        zmin=0.0,
        zmax=1.0,
        hover=param_hover(ctx, "x"),
        meta={"tensor": "x"},
        name=ctx.name("x"),
        customdata=np.arange(x.size).reshape(x.shape),
        showscale=True,
    )
    layout = axes_layout(panel, ctx.theme, shape=x.shape)
    layout["plot_bgcolor"] = ctx.theme.cell_gap
    return Parts(title=title, data=[trace], layout=layout)


def kernel_view(ctx: Ctx) -> Parts:
    """Each kernel's k×k weights on one diverging scale centred on 0."""
    title = ctx.t("view.kernel.title", name=ctx.name("conv.w"))
    w = ctx.arr("params.conv.w")
    m = sym_range(w)
    data, layout, panels = kernel_maps(
        ctx,
        w,
        tensor="params.conv.w",
        param="conv.w",
        colorscale=ctx.theme.diverging,
        zrange=(-m, m),
        zmid=0.0,
        subtitles=kernel_subtitles(ctx, "params.conv.b"),
    )
    layout["plot_bgcolor"] = ctx.theme.cell_gap
    return Parts(title=title, data=data, layout=layout, axes=[p.pair for p in panels])


def conv_view(ctx: Ctx) -> Parts:
    """conv.z per kernel, the 2×2 pool windows drawn, and (max pool) each window's winner."""
    title = ctx.t("view.conv.title", name=ctx.name("conv.z"))
    if not ctx.has("conv.z"):
        return not_yet(ctx, title, "conv.z")
    z = ctx.arr("conv.z")
    zrange = seq_range(z)
    data, layout, panels = kernel_maps(
        ctx,
        z,
        tensor="conv.z",
        colorscale=ctx.theme.sequential,
        zrange=zrange,
        subtitles=kernel_subtitles(ctx),
    )
    layout["shapes"], markers = pool_overlay(
        ctx, panels, z, colorscale=ctx.theme.sequential, zrange=zrange, diverging=False
    )
    layout["plot_bgcolor"] = ctx.theme.cell_gap
    data += markers
    return Parts(title=title, data=data, layout=layout, axes=[p.pair for p in panels])


def pool_view(ctx: Ctx) -> Parts:
    """pool.out per kernel (P×P)."""
    title = ctx.t(
        "view.pool.title",
        pool=ctx.t(f"label.pool.{ctx.config['pool']}"),
        name=ctx.name("pool.out"),
    )
    if not ctx.has("pool.out"):
        return not_yet(ctx, title, "pool.out")
    p = ctx.arr("pool.out")
    data, layout, panels = kernel_maps(
        ctx,
        p,
        tensor="pool.out",
        colorscale=ctx.theme.sequential,
        zrange=seq_range(p),
        subtitles=kernel_subtitles(ctx),
    )
    layout["plot_bgcolor"] = ctx.theme.cell_gap
    return Parts(title=title, data=data, layout=layout, axes=[p.pair for p in panels])


# The activation's value range, so colours mean the same from sample to sample.
ACT_RANGE = {"sigmoid": (0.0, 1.0), "tanh": (-1.0, 1.0)}
ACT_SYMBOL = {"sigmoid": "σ", "tanh": "tanh", "relu": "relu"}


def activations_view(ctx: Ctx) -> Parts:
    """act.out (flat, kernel-major) shown as K P×P maps."""
    act = ctx.config["activation"]
    title = ctx.t(
        "view.activations.title",
        name=ctx.name("act.out"),
        act=ACT_SYMBOL.get(act, act),
        pooled=ctx.name("pool.out"),
    )
    if not ctx.has("act.out"):
        return not_yet(ctx, title, "act.out")
    fmt = ctx.fmt
    a = ctx.arr("act.out").reshape(fmt["K"], fmt["P"], fmt["P"])
    zrange = ACT_RANGE.get(act) or (0.0, max(1.0, float(np.max(a))))
    data, layout, panels = kernel_maps(
        ctx,
        a,
        tensor="act.out",
        colorscale=ctx.theme.sequential,
        zrange=zrange,
        subtitles=kernel_subtitles(ctx),
    )
    layout["plot_bgcolor"] = ctx.theme.cell_gap
    return Parts(title=title, data=data, layout=layout, axes=[p.pair for p in panels])


def hidden_view(ctx: Ctx) -> Parts:
    """One bar per hidden unit: fc1.out, with fc1.z in the hover."""
    title = ctx.t("view.hidden.title", name=ctx.name("fc1.out"))
    if not ctx.has("fc1.out"):
        return not_yet(ctx, title, "fc1.out")
    out = ctx.arr("fc1.out")
    trace = {
        "type": "bar",
        "name": ctx.name("fc1.out"),
        "x": list(range(out.size)),
        "y": out.tolist(),
        "marker": {"color": ctx.theme.bar, "line": {"width": 0}},
        "hovertemplate": f"{ctx.name('fc1.out')}[%{{x}}] = %{{y}}<extra></extra>",
        "meta": {"tensor": "fc1.out"},
    }
    if ctx.has("fc1.z"):
        trace["customdata"] = ctx.arr("fc1.z").tolist()
        trace["hovertemplate"] = (
            f"{ctx.name('fc1.out')}[%{{x}}] = %{{y}}<br>"
            f"{ctx.name('fc1.z')}[%{{x}}] = %{{customdata}}<extra></extra>"
        )
    th = ctx.theme
    layout = {
        "xaxis": plot_axes(th, title={"text": ctx.t("label.hidden_unit")}, zeroline=False),
        "yaxis": plot_axes(th),
        "bargap": 0.15,
    }
    return Parts(title=title, data=[trace], layout=layout)


def output_view(ctx: Ctx) -> Parts:
    """fc2.out beside the target d, one pair of bars per digit; E in the title once computed."""
    title = ctx.t("view.output.title", name=ctx.name("fc2.out"), target=ctx.name("target"))
    if not ctx.has("fc2.out"):
        return not_yet(ctx, title, "fc2.out")
    if ctx.has("loss"):
        loss = float(np.asarray(ctx.tensors["loss"]))
        title += " · " + ctx.t("msg.loss", name=ctx.name("loss"), value=short(loss))
    th = ctx.theme
    digits = list(range(10))
    data = [
        {
            "type": "bar",
            "name": ctx.name("fc2.out"),
            "x": digits,
            "y": ctx.arr("fc2.out").tolist(),
            "marker": {"color": th.bar, "line": {"width": 0}},
            "hovertemplate": f"{ctx.name('fc2.out')}[%{{x}}] = %{{y}}<extra></extra>",
            "meta": {"tensor": "fc2.out"},
        },
        {
            "type": "bar",
            "name": ctx.name("target"),
            "x": digits,
            "y": ctx.arr("target").tolist(),
            "marker": {"color": th.target, "line": {"width": 0}},
            "hovertemplate": f"{ctx.name('target')}[%{{x}}] = %{{y}}<extra></extra>",
            "meta": {"tensor": "target"},
        },
    ]
    layout = {
        "barmode": "group",
        "showlegend": True,
        "xaxis": plot_axes(
            th, title={"text": ctx.t("label.digit")}, tickmode="linear", dtick=1, zeroline=False
        ),
        "yaxis": plot_axes(th, range=[0.0, 1.05]),
    }
    return Parts(title=title, data=data, layout=layout)
