"""Gradient check (MATH §6): analytic gradients against central differences.

Every entry of a tensor is checked, or a seeded sample of 64 entries when it is
larger. Max pooling and ReLU are not differentiable where a window's maximum is
tied or a unit sits at zero: a perturbation that changes a winner or a ReLU
pattern is reported as a kink and left out of the error (and counted), never
hidden silently.

Central differences cannot resolve a gradient much smaller than their own
rounding noise: E(w±h) are each rounded to about ε·|E|, so the quotient carries
an absolute error of about ε·|E|/h (≈ 1e-11 here). An entry whose analytic and
numeric values differ by less than a generous multiple of that noise agrees as
well as float64 can tell; it passes and is counted as `noise_limited`, and its
relative error still shows in `max_rel_error`.
"""

import numpy as np

from . import network
from .config import Config

H = 1e-5
TOLERANCE = 1e-6
SAMPLE = 64
NOISE_ULPS = 64  # multiples of ε·|E| allowed for rounding in E(w+h) − E(w−h)


def relative_error(analytic, numeric):
    """|a − n| / max(1e-8, |a| + |n|)."""
    return np.abs(analytic - numeric) / np.maximum(1e-8, np.abs(analytic) + np.abs(numeric))


def _pattern(config: Config, params: dict, x, target):
    """Loss and the discrete choices of a forward pass: pool winners and ReLU signs."""
    ps = network.run(network.Pass(config, params, x, target), upto="loss")
    t = ps.tensors
    parts = [t.get("pool.winners", np.zeros(0)).ravel()]
    if config.activation == "relu":
        parts += [(t["pool.out"] > 0).ravel(), (t["fc1.z"] > 0).ravel()]
    return float(t["loss"].sum()), np.concatenate([p.astype(np.int64) for p in parts])


def entries_to_check(size: int, seed: int) -> np.ndarray:
    if size <= SAMPLE:
        return np.arange(size)
    return np.sort(np.random.default_rng(seed).choice(size, SAMPLE, replace=False))


def gradcheck(config: Config, params: dict, x, target, *, h: float = H, seed: int = 0) -> dict:
    """Per parameter tensor: entries checked, kinks skipped, max relative error, pass/fail."""
    analytic = network.run(network.Pass(config, params, x, target), upto="backward.conv").tensors
    _, base = _pattern(config, params, x, target)
    report = []
    for name in params:
        grad = analytic[f"grads.{name}"]
        errors, kinks, noise_limited, passed = [], 0, 0, True
        for flat in entries_to_check(grad.size, seed):
            shifted = {k: v.copy() for k, v in params.items()}
            shifted[name].flat[flat] += h
            plus, plus_pattern = _pattern(config, shifted, x, target)
            shifted[name].flat[flat] -= 2 * h
            minus, minus_pattern = _pattern(config, shifted, x, target)
            if not (np.array_equal(plus_pattern, base) and np.array_equal(minus_pattern, base)):
                kinks += 1  # the perturbation crossed a tie or ReLU zero: not differentiable here
                continue
            numeric = (plus - minus) / (2 * h)
            error = relative_error(grad.flat[flat], numeric)
            errors.append(error)
            noise = NOISE_ULPS * np.finfo(float).eps * max(abs(plus), abs(minus)) / (2 * h)
            if error >= TOLERANCE:
                within_noise = abs(grad.flat[flat] - numeric) <= noise
                noise_limited += bool(within_noise)
                passed = passed and bool(within_noise)
        worst = float(max(errors)) if errors else 0.0
        report.append({
            "name": name, "checked": len(errors), "kinks": kinks,
            "noise_limited": noise_limited, "max_rel_error": worst, "passed": passed,
        })
    return {"tolerance": TOLERANCE, "h": h, "tensors": report,
            "passed": all(r["passed"] for r in report)}
