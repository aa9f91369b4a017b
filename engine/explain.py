"""Explanations computed by the engine: the position table (MATH §2) and the
chain-rule decomposition of one weight's gradient (MATH §3), with live numbers.

Everything takes the per-sample tensors of `Stepper.tensors()`.
"""

import math
import re

import numpy as np

from . import network
from .config import Config
from .errors import ParamError, PhaseError
from .notation import to_seed, to_standard

H = 1e-5  # MATH §6: central-difference step


def pool_table(config: Config, tensors: dict) -> list[dict]:
    """One row per pooled cell (MATH §2), kernel-major then row-major.

    Row (r, c) of kernel q with winner offset (dr, dc) won at conv cell
    (2r+dr, 2c+dc): index `(2r+dr)·C + (2c+dc)` in the conv map, and the conv
    window that produced it starts at input row 2r+dr, column 2c+dc, index
    `(2r+dr)·S + (2c+dc)`. The article's convention is i = column, j = row and
    the offset written (dx, dy) = (dc, dr). Average pooling has no winner: the
    row then describes the window's top-left cell.
    """
    if "pool.out" not in tensors:
        return []
    s, c, p = config.input_size, config.conv_size, config.pool_size
    pooled, winners = tensors["pool.out"], tensors.get("pool.winners")
    routed = tensors.get("conv.delta")
    rows = []
    for q in range(config.kernels):
        for r in range(p):
            for col in range(p):
                dr, dc = (int(v) for v in winners[q, r, col]) if winners is not None else (0, 0)
                u, v = 2 * r + dr, 2 * col + dc
                rows.append({
                    "kernel": q, "row": r, "col": col, "seed_i": col, "seed_j": r,
                    "j": q * p * p + r * p + col,
                    "winner": [dr, dc] if winners is not None else None,
                    "seed_winner": [dc, dr] if winners is not None else None,
                    "value": float(pooled[q, r, col]),
                    "index_10": u * c + v,
                    "start_14": [u, v],
                    "start_14_index": u * s + v,
                    "delta": None if routed is None else float(routed[q, u, v]),
                })
    return rows


def _numeric(config, params, tensors, name, flat_index) -> float:
    """MATH §6: (E(w+h) − E(w−h)) / 2h for one parameter entry."""
    x, target = tensors["x"][None], tensors["target"][None]

    def loss_with(delta):
        shifted = {k: v.copy() for k, v in params.items()}
        shifted[name].flat[flat_index] += delta
        return network.loss_of(config, shifted, x, target)

    return (loss_with(H) - loss_with(-H)) / (2 * H)


_NAMES = re.compile(r"(?<![\\a-zA-Z])(w1cnn|b1cnn|hocnn|h2o|w12|b12|w2|b2|yo|start|off|ds|dt|dr)"
                    r"(?![a-zA-Z0-9])")


def _upright(latex: str) -> str:
    """Typeset the article's multi-letter names upright (w1cnn, not w·1·c·n·n)."""
    return _NAMES.sub(r"\\mathrm{\1}", latex)


def _num(v: float) -> str:
    return f"{v:.6g}"


def explain(config: Config, tensors: dict, params: dict, param: str, index: int) -> dict:
    """The chain-rule decomposition of ∂E/∂param[index]: terms, their sum, the engine's
    gradient and the central-difference value. `params` are those the gradient was taken at
    (the start of the current sample)."""
    name = to_standard(param)
    shapes = network.param_shapes(config)
    if name not in shapes:
        raise ParamError(f"unknown parameter '{param}'; this config has {', '.join(shapes)}",
                         "param")
    size = math.prod(shapes[name])
    if isinstance(index, bool) or not isinstance(index, int) or not 0 <= index < size:
        raise ParamError(f"index must be an integer in 0..{size - 1} for '{name}'", "index")
    if f"grads.{name}" not in tensors:
        layer = name.split(".")[0]
        raise PhaseError(f"the gradient of {name} is computed at phase backward.{layer}; "
                         "step there first", "phase")
    builder = {"conv": _explain_conv, "fc1": _explain_fc1, "fc2": _explain_fc2}[name.split(".")[0]]
    result = builder(config, tensors, params, name, index)
    gradient = float(tensors[f"grads.{name}"].flat[index])
    total = math.fsum(term["product"] for term in result["terms"])
    result.update({
        "param": name, "index": index,
        "seed_name": f"{to_seed(name)}[{index}]",
        "sum": total, "gradient": gradient,
        "numeric": _numeric(config, params, tensors, name, index),
    })
    result["formula_latex"] = _upright(result["formula_latex"] + f" = {_num(total)}")
    result["formula_article_latex"] = _upright(result["formula_article_latex"])
    return result


def _act_symbol(config: Config) -> str:
    return {"sigmoid": "ds", "tanh": "dt", "relu": "dr"}[config.activation]


def _explain_conv(config, tensors, params, name, index) -> dict:
    """MATH §3: ∂E/∂w1cnn[i] = Σ_j x[start(j) + off(i)] · δ_j, j over the pooled cells.

    δ_j is the routed delta at the cell (u, v) of the conv map that pooled cell j
    reads (the winner for max pooling, each of the four cells with δ/4 for average).
    For a bias the input factor is 1.
    """
    s, c, p, k = config.input_size, config.conv_size, config.pool_size, config.kernel_size
    x, routed = tensors["x"], tensors["conv.delta"]
    winners = tensors.get("pool.winners")
    if name == "conv.w":
        q, a, b = np.unravel_index(index, (config.kernels, k, k))
        off = int(a) * s + int(b)
    else:
        q, off = index, None
    terms = []
    for r in range(p):
        for col in range(p):
            j = int(q) * p * p + r * p + col
            cells = ([tuple(winners[q, r, col])] if winners is not None
                     else [(0, 0), (0, 1), (1, 0), (1, 1)])
            for dr, dc in cells:
                u, v = 2 * r + int(dr), 2 * col + int(dc)
                delta = float(routed[q, u, v])
                x_index = u * s + v + off if off is not None else None
                xv = float(x.flat[x_index]) if off is not None else 1.0
                terms.append({"j": j, "cell": [u, v], "index_10": u * c + v,
                              "x_index": x_index, "x": xv, "delta": delta,
                              "act_delta": float(tensors["act.delta"][j]),
                              "product": xv * delta})
    ds = _act_symbol(config)
    n_cells = config.kernels * p * p
    article = (
        r"\frac{\partial E}{\partial w1cnn[i]} = \sum_{j} x[start(j)+off(i)]"
        rf" \cdot {ds}(hocnn[j]) \cdot \sum_{{m}} w12[j,m] \cdot {ds}(h2o[m]) \cdot"
        r" \sum_{k} w2[m,k] \cdot \delta y[k]"
    )
    shown = " + ".join(f"({_num(t['x'])})({_num(t['delta'])})" for t in terms[:3])
    lhs = (rf"\frac{{\partial E}}{{\partial w1cnn[{index}]}}" if name == "conv.w"
           else rf"\frac{{\partial E}}{{\partial b1cnn[{index}]}}")
    rhs = (rf"\sum_{{j=0}}^{{{n_cells - 1}}} x[start(j)+{off}] \cdot \delta_j"
           if off is not None else rf"\sum_{{j=0}}^{{{n_cells - 1}}} \delta_j")
    return {
        "formula_latex": f"{lhs} = {rhs} = {shown} + \\cdots",
        "formula_article_latex": article,
        "off": off,
        "terms": terms,
    }


def _explain_fc1(config, tensors, params, name, index) -> dict:
    """MATH §3: ∂E/∂w12[j,m] = hocnn[j] · ds(h2o[m]) · Σ_k w2[m,k] · δy[k]."""
    hidden = config.hidden
    j, m = divmod(index, hidden) if name == "fc1.w" else (None, index)
    h_in = float(tensors["act.out"][j]) if j is not None else 1.0
    local = float(network.layers.activation_derivative(tensors["fc1.out"][m], config.activation))
    w2, dy = params["fc2.w"], tensors["fc2.delta"]
    terms = [{"k": k, "hocnn": h_in, "ds_h2o": local, "w2": float(w2[m, k]),
              "delta_y": float(dy[k]), "product": h_in * local * float(w2[m, k]) * float(dy[k])}
             for k in range(10)]
    ds = _act_symbol(config)
    target = rf"w12[{j},{m}]" if j is not None else rf"b12[{m}]"
    first = f"hocnn[{j}] \\cdot " if j is not None else ""
    shown = " + ".join(f"({_num(t['hocnn'])})({_num(local)})({_num(t['w2'])})({_num(t['delta_y'])})"
                       for t in terms[:2])
    return {
        "formula_latex": (rf"\frac{{\partial E}}{{\partial {target}}} = {first}{ds}(h2o[{m}])"
                          rf" \cdot \sum_{{k=0}}^{{9}} w2[{m},k] \cdot \delta y[k] = {shown}"
                          r" + \cdots"),
        "formula_article_latex": (r"\frac{\partial E}{\partial w12[j,m]} = hocnn[j] \cdot ds(h2o[m])"
                                  r" \cdot \sum_{k} w2[m,k] \cdot ds(yo[k]) \cdot (yo[k]-d[k])"),
        "terms": terms,
    }


def _explain_fc2(config, tensors, params, name, index) -> dict:
    """MATH §3: ∂E/∂w2[m,k] = h2o[m] · δy[k], δy[k] = ds(yo[k]) · (yo[k] − d[k])."""
    m, k = divmod(index, 10) if name == "fc2.w" else (None, index)
    h = float(tensors["fc1.out"][m]) if m is not None else 1.0
    yo, d = float(tensors["fc2.out"][k]), float(tensors["target"][k])
    local = yo * (1 - yo) if config.output == "sigmoid-mse" else 1.0
    term = {"k": k, "h2o": h, "ds_yo": local, "error": yo - d,
            "delta_y": float(tensors["fc2.delta"][k]), "product": h * float(tensors["fc2.delta"][k])}
    target = rf"w2[{m},{k}]" if m is not None else rf"b2[{k}]"
    first = f"h2o[{m}] \\cdot " if m is not None else ""
    dy = (rf"ds(yo[{k}]) \cdot (yo[{k}]-d[{k}])" if config.output == "sigmoid-mse"
          else rf"(yo[{k}]-d[{k}])")
    return {
        "formula_latex": (rf"\frac{{\partial E}}{{\partial {target}}} = {first}{dy}"
                          rf" = ({_num(h)})({_num(local)})({_num(yo - d)})"),
        "formula_article_latex": r"\frac{\partial E}{\partial w2[m,k]} = h2o[m] \cdot ds(yo[k])"
                                 r" \cdot (yo[k]-d[k])",
        "terms": [term],
    }
