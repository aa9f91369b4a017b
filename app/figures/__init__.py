"""Plotly figures of the network's state, one pure function per view.

    build_figure(view, tensors, config, phase=..., theme=..., lang=...) -> {"data", "layout"}

`tensors` holds what the engine has computed up to the cursor `phase`
(standard names of MATH.md); a view whose tensors a later phase computes
returns empty axes and a note naming that phase, so the page never breaks.

What the page's JavaScript may rely on:

- `layout.meta = {"view", "phase", "kernels", "axes", ...}`: `axes` lists the
  axis ids (`["x2", "y2"]`) of each kernel's subplot in kernel order
  (`[["x", "y"]]` for single-panel views); multi-panel views add `panels`
  (tensor name -> axis ids).
- Heatmaps of a parameter or its gradient carry `meta = {"param": "conv.w" |
  "fc1.w" | "fc2.w"}` and `customdata` = each cell's flat parameter index, so a
  click opens `/explain/{param}/{index}`. Other maps carry
  `meta = {"tensor": name, "kernel": i}` and `customdata` = the flat index into
  that tensor.
- Winner markers of `conv` and `conv-delta` are one scatter trace per kernel with
  `meta = {"tensor": "pool.winners", "kernel": k}` and `customdata` = the pooled
  cell j; hollow rings (`circle-open`), black or white by the cell beneath.
- Every map panel has fixed ranges on its cells (`[-0.5, n − 0.5]`, y reversed,
  `autorange: false`) and square cells; the K panels of a view form a near-square
  grid of equal slots (2 → 1×2, 3–4 → 2×2, 5–6 → 2×3, 7–9 → 3×3, 10–16 → 4 columns).
- `layout.uirevision` is the view name (Plotly.react keeps zoom).

To add a view: write `def my_view(ctx: Ctx) -> Parts` in one of the modules and
add it to `_VIEW_FUNCTIONS` and the i18n titles.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from app.figures import features, gradients, training
from app.figures.common import PHASES, THEME_STYLES, Ctx, Parts, base_layout
from app.i18n import LANGS
from engine.errors import EngineError

_VIEW_FUNCTIONS: dict[str, Callable[[Ctx], Parts]] = {
    "input": features.input_view,
    "kernel": features.kernel_view,
    "conv": features.conv_view,
    "pool": features.pool_view,
    "activations": features.activations_view,
    "hidden": features.hidden_view,
    "output": features.output_view,
    "gradients.conv": gradients.grad_conv_view,
    "gradients.fc1": gradients.grad_fc1_view,
    "gradients.fc2": gradients.grad_fc2_view,
    "deltas": gradients.deltas_view,
    "conv-delta": gradients.conv_delta_view,
    "input-grad": gradients.input_grad_view,
    "training": training.training_view,
    "confusion": training.confusion_view,
    "kernels-history": training.kernels_history_view,
}

VIEWS: tuple[str, ...] = tuple(_VIEW_FUNCTIONS)
THEMES: tuple[str, ...] = tuple(THEME_STYLES)

__all__ = ["LANGS", "PHASES", "THEMES", "VIEWS", "ViewError", "build_figure"]


class ViewError(EngineError, ValueError):
    """Unknown view, theme, language or phase; `.field` names which."""

    code = "invalid_figure"


def _check(field: str, value: str, allowed: tuple[str, ...]) -> None:
    if value not in allowed:
        raise ViewError(
            f"{field} {value!r} is not known; use one of {', '.join(allowed)}", field=field
        )


def build_figure(
    view: str,
    tensors: dict[str, np.ndarray],
    config: dict,
    *,
    phase: str,
    theme: str = "light",
    lang: str = "en",
    seed_notation: bool = False,
    metrics: dict | None = None,
) -> dict:
    """The Plotly figure (`{"data": [...], "layout": {...}}`) of one view, as plain JSON types."""
    _check("view", view, VIEWS)
    _check("theme", theme, THEMES)
    _check("lang", lang, LANGS)
    _check("phase", phase, PHASES)
    ctx = Ctx(
        view=view,
        phase=phase,
        tensors=tensors,
        config=config,
        theme=THEME_STYLES[theme],
        lang=lang,
        seed=seed_notation,
        metrics=metrics,
    )
    parts = _VIEW_FUNCTIONS[view](ctx)
    layout = base_layout(ctx, parts.title)
    layout.update(parts.layout)
    layout["meta"] = {
        "view": view,
        "phase": phase,
        "kernels": int(config["kernels"]),
        "axes": parts.axes,
        **parts.meta,
    }
    return {"data": parts.data, "layout": layout}
