"""The layers of the seed network, each `forward` beside its `backward`.

Convention (CS231n's `layers.py`): `*_forward(...) -> (out, cache)` and
`*_backward(dout, cache) -> (dx, grads)`, where `dout` = ∂E/∂out. Every array
has a leading batch axis N (the stepper uses N = 1, training uses mini-batches);
the shapes below are MATH.md's with that axis in front. Gradients are summed
over the batch; the update divides by N.

The fast (vectorised) versions are the ones the network runs; the articles' own
loops are kept beside them as `*_naive` for one sample, and tests compare them.
"""

from dataclasses import dataclass

import numpy as np
from numpy.lib.stride_tricks import as_strided

# ---------------------------------------------------------------- convolution


def window_view(a, k):
    """All k×k windows of the last two axes, as a read-only view: (..., H, W) ->
    (..., H−k+1, W−k+1, k, k). (`sliding_window_view` without its per-call overhead.)"""
    *lead, h, w = a.shape
    strides = a.strides
    return as_strided(a, (*lead, h - k + 1, w - k + 1, k, k),
                      (*strides[:-2], strides[-2], strides[-1], strides[-2], strides[-1]),
                      writeable=False)


@dataclass(frozen=True)
class ConvCache:
    cols: np.ndarray  # (N·C·C, k·k) im2col matrix: every k×k window of x, one per row
    x_shape: tuple
    w: np.ndarray  # (K, k, k)


def conv_forward(x, w, b=None):
    """Valid cross-correlation, stride 1 (MATH §1 `temphicnn`).

    x (N, S, S), w (K, k, k), b (K,) or None -> z (N, K, C, C) with C = S − k + 1:
    z[n, q, u, v] = Σ_{a,b} x[n, u+a, v+b] · w[q, a, b] (+ b[q]).
    """
    n, s, _ = x.shape
    kernels, k, _ = w.shape
    c = s - k + 1
    # im2col: each row holds the k×k input window that produced one output cell
    cols = window_view(x, k).reshape(n * c * c, k * k)
    z = (cols @ w.reshape(kernels, k * k).T).reshape(n, c, c, kernels).transpose(0, 3, 1, 2)
    if b is not None:
        z = z + b[None, :, None, None]
    return np.ascontiguousarray(z), ConvCache(cols, x.shape, w)


def conv_backward(dz, cache: ConvCache, input_grad: bool = True):
    """dz (N, K, C, C) = conv.delta -> dx (N, S, S) or None, {"w": (K, k, k), "b": (K,)}.

    MATH §3: ∂E/∂w[q,a,b] = Σ_{u,v} δ[q,u,v] · x[u+a, v+b];
    MATH §4: ∂E/∂x = full convolution of δ with rot180(w). The update does not need
    ∂E/∂x (x is not a parameter), so training skips it with `input_grad=False`.
    """
    kernels, k, _ = cache.w.shape
    dz_rows = dz.transpose(0, 2, 3, 1).reshape(-1, kernels)  # (N·C·C, K), same order as cols
    dw = (dz_rows.T @ cache.cols).reshape(kernels, k, k)
    db = dz.sum(axis=(0, 2, 3))
    dx = full_conv_rot180(dz, cache.w) if input_grad else None
    return dx, {"w": dw, "b": db}


def full_conv_rot180(dz, w):
    """MATH §4: dx = Σ_q full_conv(δ[q], rot180(w[q])), i.e. pad δ by k−1 and cross-correlate.

    dz (N, K, C, C), w (K, k, k) -> dx (N, S, S) with S = C + k − 1.
    """
    n, kernels, c, _ = dz.shape
    k = w.shape[-1]
    s = c + k - 1
    rot = np.flip(w, axis=(1, 2))  # rot180: flip up-down, then left-right
    padded = np.zeros((n, s + k - 1, s + k - 1, kernels))  # δ with a border of k−1 zeros
    padded[:, k - 1 : k - 1 + c, k - 1 : k - 1 + c, :] = dz.transpose(0, 2, 3, 1)
    # every k×k window of the padded δ (all kernels), against rot180(w): (N·S·S, K·k·k) @ (K·k·k)
    windows = window_view(padded.transpose(0, 3, 1, 2), k)  # (N, K, S, S, k, k)
    rows = windows.transpose(0, 2, 3, 1, 4, 5).reshape(n * s * s, kernels * k * k)
    return (rows @ rot.reshape(-1)).reshape(n, s, s)


def conv_forward_naive(x, w):
    """The article's loop for one sample: temphicnn[u,v] += x[u+a, v+b] · w1cnn[a,b].

    x (S, S), w (K, k, k) -> z (K, C, C).
    """
    kernels, k, _ = w.shape
    c = x.shape[0] - k + 1
    z = np.zeros((kernels, c, c))
    for q in range(kernels):
        for u in range(c):
            for v in range(c):
                for a in range(k):
                    for b in range(k):
                        z[q, u, v] += x[u + a, v + b] * w[q, a, b]
    return z


def conv_backward_naive(dz, x, w):
    """Loops for one sample: dw[a,b] += δ[u,v]·x[u+a,v+b]; dx[u+a,v+b] += δ[u,v]·w[a,b].

    dz (K, C, C), x (S, S), w (K, k, k) -> dx (S, S), dw (K, k, k).
    """
    kernels, k, _ = w.shape
    c = dz.shape[1]
    dw, dx = np.zeros_like(w), np.zeros_like(x)
    for q in range(kernels):
        for u in range(c):
            for v in range(c):
                for a in range(k):
                    for b in range(k):
                        dw[q, a, b] += dz[q, u, v] * x[u + a, v + b]
                        dx[u + a, v + b] += dz[q, u, v] * w[q, a, b]
    return dx, dw


# -------------------------------------------------------------------- pooling


@dataclass(frozen=True)
class PoolCache:
    winners: np.ndarray | None  # (N, K, P, P, 2) winner offset (dr, dc); None for avg pooling
    conv_shape: tuple  # (N, K, C, C)


def _windows(z):
    """(N, K, C, C) -> (N, K, P, P, 4): the four cells of each 2×2 window, row-major."""
    n, kernels, c, _ = z.shape
    p = c // 2
    z = z[:, :, : 2 * p, : 2 * p]  # an odd last row/column belongs to no window
    return z.reshape(n, kernels, p, 2, p, 2).transpose(0, 1, 2, 4, 3, 5).reshape(
        n, kernels, p, p, 4
    )


def _unwindows(win, conv_shape):
    """Inverse of `_windows`: (N, K, P, P, 4) -> (N, K, C, C), zero where no window reaches."""
    n, kernels, p, _, _ = win.shape
    out = np.zeros(conv_shape)
    out[:, :, : 2 * p, : 2 * p] = (
        win.reshape(n, kernels, p, p, 2, 2).transpose(0, 1, 2, 4, 3, 5).reshape(
            n, kernels, 2 * p, 2 * p
        )
    )
    return out


def maxpool_forward(z):
    """2×2 max pool, stride 2 (MATH §1 `hicnn`), recording the winner of each window (§2).

    z (N, K, C, C) -> p (N, K, P, P). Ties: the first maximum in row-major window
    order wins (np.argmax returns the first occurrence).
    """
    win = _windows(z)
    arg = win.argmax(axis=-1)
    winners = np.stack((arg // 2, arg % 2), axis=-1)  # flat 0..3 -> (dr, dc)
    return win.max(axis=-1), PoolCache(winners, z.shape)


def maxpool_backward(dp, cache: PoolCache):
    """MATH §4: the gradient goes only to the recorded winner; the other three get 0.

    dp (N, K, P, P) -> dz (N, K, C, C).
    """
    arg = cache.winners[..., 0] * 2 + cache.winners[..., 1]
    is_winner = arg[..., None] == np.arange(4)  # (N, K, P, P, 4): one True per window
    return _unwindows(is_winner * dp[..., None], cache.conv_shape)


def avgpool_forward(z):
    """2×2 average pool, stride 2: p = mean of the window. z (N, K, C, C) -> p (N, K, P, P)."""
    return _windows(z).mean(axis=-1), PoolCache(None, z.shape)


def avgpool_backward(dp, cache: PoolCache):
    """MATH §4: each of the four cells gets δ/4 ("the sum of gradients stays the same").

    dp (N, K, P, P) -> dz (N, K, C, C).
    """
    win = np.repeat(dp[..., None] / 4.0, 4, axis=-1)
    return _unwindows(win, cache.conv_shape)


def maxpool_forward_naive(z):
    """Loops for one sample (K, C, C): scan each window row-major, keep the first maximum."""
    kernels, c, _ = z.shape
    p = c // 2
    out, winners = np.zeros((kernels, p, p)), np.zeros((kernels, p, p, 2), dtype=int)
    for q in range(kernels):
        for r in range(p):
            for col in range(p):
                best = None
                for dr in range(2):
                    for dc in range(2):
                        value = z[q, 2 * r + dr, 2 * col + dc]
                        if best is None or value > best:  # strict: ties keep the first
                            best, winners[q, r, col] = value, (dr, dc)
                out[q, r, col] = best
    return out, winners


# ---------------------------------------------------------------- activations


def sigmoid(x):
    """σ(x) = 1 / (1 + e^−x), written as ½(1 + tanh(x/2)) so it never overflows.

    Elementwise: (...) -> (...), the same shape.
    """
    return 0.5 * (1.0 + np.tanh(0.5 * x))


def activation_forward(x, kind: str):
    """sigmoid | tanh | relu, elementwise: x (N, D) -> out (N, D) (any shape works)."""
    if kind == "sigmoid":
        return sigmoid(x)
    if kind == "tanh":
        return np.tanh(x)
    return np.maximum(x, 0.0)


def activation_derivative(out, kind: str):
    """The derivative written in terms of the output, as the article does: ds(s) = s·(1−s).

    out (N, D) -> f'(x) (N, D).
    """
    if kind == "sigmoid":
        return out * (1.0 - out)
    if kind == "tanh":
        return 1.0 - out * out
    return (out > 0).astype(out.dtype)  # relu: 1 where it passed, 0 at and below zero


def activation_backward(dout, out, kind: str):
    """dx = dout · f'(x), with f' from the output: dout (N, D), out (N, D) -> dx (N, D)."""
    return dout * activation_derivative(out, kind)


# -------------------------------------------------------------- fully connected


def dense_forward(h, w, b=None):
    """h (N, D) · w (D, M) (+ b (M,)) -> (N, M)."""
    z = h @ w
    return z if b is None else z + b


def dense_backward(dz, h, w):
    """dz (N, M) -> dh (N, D), {"w": h^T·dz (D, M), "b": Σ_n dz (M,)}."""
    return dz @ w.T, {"w": h.T @ dz, "b": dz.sum(axis=0)}


# ---------------------------------------------------------------- output, loss


def output_forward(yi, target, kind: str):
    """yi (N, 10), target d (N, 10) -> (yo (N, 10), E (N,)), E per sample.

    sigmoid-mse: yo = σ(yi), E = ½ Σ_k (yo[k] − d[k])²   (MATH §1)
    softmax-ce:  yo = softmax(yi), E = −Σ_k d[k] · log yo[k]
    """
    if kind == "sigmoid-mse":
        yo = sigmoid(yi)
        return yo, 0.5 * ((yo - target) ** 2).sum(axis=-1)
    shifted = yi - yi.max(axis=-1, keepdims=True)  # log-softmax without overflow
    log_yo = shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))
    return np.exp(log_yo), -(target * log_yo).sum(axis=-1)


def output_delta(yo, target, kind: str):
    """∂E/∂yi = fc2.delta. sigmoid-mse: (yo − d)·ds(yo) (MATH §3); softmax-ce: yo − d (MATH §5).

    yo (N, 10), target d (N, 10) -> δy (N, 10).
    """
    if kind == "sigmoid-mse":
        return (yo - target) * activation_derivative(yo, "sigmoid")
    return yo - target


# The output layer's backward (dout = ∂E/∂E = 1) is MATH §3's output delta.
output_backward = output_delta
