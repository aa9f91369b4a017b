"""engine/layers.py: the vectorised layers equal the articles' loops, and the local rules of
MATH.md §2–§4 (ties, routing, δ/4, rot180, output deltas) hold on hand-made numbers."""

import warnings

import numpy as np
import pytest

from engine import layers

RNG_SEED = 1234

# (kernels K, kernel size k, input size S): the seed case, both dataset sizes, odd conv maps,
# a kernel as large as the input (a 1×1 conv map)
CONV_CASES = [(1, 5, 14), (3, 3, 14), (2, 7, 28), (4, 4, 9), (2, 6, 11), (1, 3, 3)]


def _rng():
    return np.random.default_rng(RNG_SEED)


# -------------------------------------------------------------------------- convolution


def test_window_view_equals_numpy_sliding_window_view():
    a = _rng().normal(size=(2, 3, 9, 9))
    expected = np.lib.stride_tricks.sliding_window_view(a, (4, 4), axis=(-2, -1))
    assert np.array_equal(layers.window_view(a, 4), expected)


@pytest.mark.parametrize("kernels,k,s", CONV_CASES)
def test_conv_forward_equals_article_loop(kernels, k, s):
    rng = _rng()
    x, w = rng.uniform(0, 1, (s, s)), rng.normal(size=(kernels, k, k))
    z, _ = layers.conv_forward(x[None], w)
    c = s - k + 1
    assert z.shape == (1, kernels, c, c)
    np.testing.assert_allclose(z[0], layers.conv_forward_naive(x, w), rtol=1e-12, atol=1e-13)


@pytest.mark.parametrize("kernels,k,s", CONV_CASES)
def test_conv_backward_equals_article_loop(kernels, k, s):
    rng = _rng()
    c = s - k + 1
    x, w = rng.uniform(0, 1, (s, s)), rng.normal(size=(kernels, k, k))
    dz = rng.normal(size=(kernels, c, c))
    _, cache = layers.conv_forward(x[None], w)
    dx, grads = layers.conv_backward(dz[None], cache)
    dx_naive, dw_naive = layers.conv_backward_naive(dz, x, w)
    assert dx.shape == (1, s, s) and grads["w"].shape == (kernels, k, k)
    np.testing.assert_allclose(grads["w"], dw_naive, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(dx[0], dx_naive, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(grads["b"], dz.sum(axis=(1, 2)), rtol=1e-12)


def test_conv_bias_adds_one_constant_per_kernel():
    rng = _rng()
    x, w, b = rng.uniform(0, 1, (1, 14, 14)), rng.normal(size=(3, 5, 5)), np.array([1.0, -2, 0.5])
    with_bias, _ = layers.conv_forward(x, w, b)
    without, _ = layers.conv_forward(x, w)
    np.testing.assert_allclose(with_bias - without, np.broadcast_to(b[None, :, None, None],
                                                                    without.shape), atol=1e-14)


def test_conv_on_a_batch_equals_conv_of_each_sample_and_sums_weight_gradients():
    rng = _rng()
    x, w = rng.uniform(0, 1, (3, 14, 14)), rng.normal(size=(2, 5, 5))
    dz = rng.normal(size=(3, 2, 10, 10))
    z, cache = layers.conv_forward(x, w)
    dx, grads = layers.conv_backward(dz, cache)
    dw_sum = np.zeros_like(w)
    for n in range(3):
        np.testing.assert_allclose(z[n], layers.conv_forward_naive(x[n], w), rtol=1e-12)
        dx_n, dw_n = layers.conv_backward_naive(dz[n], x[n], w)
        np.testing.assert_allclose(dx[n], dx_n, rtol=1e-12, atol=1e-12)
        dw_sum += dw_n
    np.testing.assert_allclose(grads["w"], dw_sum, rtol=1e-12)


def test_conv_backward_skips_input_gradient_when_not_asked():
    rng = _rng()
    _, cache = layers.conv_forward(rng.uniform(0, 1, (1, 14, 14)), rng.normal(size=(1, 5, 5)))
    dx, grads = layers.conv_backward(rng.normal(size=(1, 1, 10, 10)), cache, input_grad=False)
    assert dx is None and grads["w"].shape == (1, 5, 5)


def _direct_full_conv(dz, w):
    """dx[u+a, v+b] += δ[q,u,v]·w[q,a,b], written out."""
    kernels, c, _ = dz.shape
    k = w.shape[-1]
    dx = np.zeros((c + k - 1, c + k - 1))
    for q in range(kernels):
        for u in range(c):
            for v in range(c):
                for a in range(k):
                    for b in range(k):
                        dx[u + a, v + b] += dz[q, u, v] * w[q, a, b]
    return dx


@pytest.mark.parametrize("kernels,k,c", [(1, 5, 10), (3, 3, 12), (2, 7, 22), (1, 2, 3)])
def test_full_conv_rot180_equals_direct_scatter_loop(kernels, k, c):
    rng = _rng()
    dz, w = rng.normal(size=(kernels, c, c)), rng.normal(size=(kernels, k, k))
    dx = layers.full_conv_rot180(dz[None], w)
    assert dx.shape == (1, c + k - 1, c + k - 1)
    np.testing.assert_allclose(dx[0], _direct_full_conv(dz, w), rtol=1e-12, atol=1e-12)


def test_full_conv_rot180_places_the_kernel_where_delta_is_one():
    # MATH §4 by hand: δ (3×3) is 1 at (1,1) only; the full convolution with rot180(w)
    # puts w itself (not rotated) at rows 1..2, columns 1..2 of the 4×4 result
    dz = np.zeros((1, 1, 3, 3))
    dz[0, 0, 1, 1] = 1.0
    w = np.array([[[1.0, 2.0], [3.0, 4.0]]])
    expected = np.array([[0, 0, 0, 0], [0, 1, 2, 0], [0, 3, 4, 0], [0, 0, 0, 0]], dtype=float)
    assert np.array_equal(layers.full_conv_rot180(dz, w)[0], expected)
    dz[0, 0, 1, 1], dz[0, 0, 2, 0] = 0.0, -2.0
    expected = np.zeros((4, 4))
    expected[2:4, 0:2] = [[-2, -4], [-6, -8]]
    assert np.array_equal(layers.full_conv_rot180(dz, w)[0], expected)


# ------------------------------------------------------------------------------ pooling


@pytest.mark.parametrize("kernels,c", [(1, 10), (3, 12), (2, 11), (1, 2)])
def test_maxpool_forward_equals_article_loop(kernels, c):
    z = _rng().normal(size=(kernels, c, c))
    p, cache = layers.maxpool_forward(z[None])
    p_naive, winners_naive = layers.maxpool_forward_naive(z)
    assert p.shape == (1, kernels, c // 2, c // 2)
    assert np.array_equal(p[0], p_naive)
    assert np.array_equal(cache.winners[0], winners_naive)


@pytest.mark.parametrize("window,winner", [
    ([[1, 1], [1, 1]], (0, 0)),
    ([[0, 2], [2, 0]], (0, 1)),
    ([[0, 0], [3, 3]], (1, 0)),
    ([[-1, -5], [-5, -1]], (0, 0)),
    ([[0, 0], [0, 0]], (0, 0)),
])
def test_maxpool_tie_goes_to_first_maximum_in_row_major_order(window, winner):
    z = np.array(window, dtype=float).reshape(1, 1, 2, 2)
    p, cache = layers.maxpool_forward(z)
    assert p[0, 0, 0, 0] == np.max(window)
    assert tuple(cache.winners[0, 0, 0, 0]) == winner
    _, winners_naive = layers.maxpool_forward_naive(z[0])
    assert tuple(winners_naive[0, 0, 0]) == winner


@pytest.mark.parametrize("kernels,c", [(1, 10), (3, 12), (2, 11)])
def test_maxpool_backward_routes_only_to_winners(kernels, c):
    rng = _rng()
    z = rng.normal(size=(1, kernels, c, c))
    p = c // 2
    dp = rng.uniform(0.5, 2.0, (1, kernels, p, p)) * rng.choice([-1, 1], (1, kernels, p, p))
    _, cache = layers.maxpool_forward(z)
    dz = layers.maxpool_backward(dp, cache)
    assert dz.shape == z.shape
    for q in range(kernels):
        assert np.count_nonzero(dz[0, q]) == p * p
        for r in range(p):
            for col in range(p):
                dr, dc = cache.winners[0, q, r, col]
                assert dz[0, q, 2 * r + dr, 2 * col + dc] == dp[0, q, r, col]
    if c % 2:  # the odd last row and column belong to no window
        assert not dz[..., -1, :].any() and not dz[..., :, -1].any()


def test_avgpool_forward_is_the_window_mean():
    z = _rng().normal(size=(1, 2, 10, 10))
    p, cache = layers.avgpool_forward(z)
    assert cache.winners is None
    expected = z.reshape(1, 2, 5, 2, 5, 2).mean(axis=(3, 5))
    np.testing.assert_allclose(p, expected, rtol=1e-14)


@pytest.mark.parametrize("c", [10, 11])
def test_avgpool_backward_gives_a_quarter_to_each_cell_and_keeps_the_sum(c):
    rng = _rng()
    p = c // 2
    dp = rng.normal(size=(1, 2, p, p))
    _, cache = layers.avgpool_forward(rng.normal(size=(1, 2, c, c)))
    dz = layers.avgpool_backward(dp, cache)
    for r in range(p):
        for col in range(p):
            window = dz[0, :, 2 * r : 2 * r + 2, 2 * col : 2 * col + 2]
            assert np.array_equal(window, np.broadcast_to(dp[0, :, r, col, None, None] / 4,
                                                          window.shape))
    np.testing.assert_allclose(dz.sum(axis=(2, 3)), dp.sum(axis=(2, 3)), rtol=1e-13)
    if c % 2:
        assert not dz[..., -1, :].any() and not dz[..., :, -1].any()


# -------------------------------------------------------------------------- activations


@pytest.mark.parametrize("kind", ["sigmoid", "tanh", "relu"])
def test_activation_derivative_from_output_matches_numerical_derivative(kind):
    x = np.array([-3.0, -0.7, -0.1, 0.2, 0.9, 4.0])
    h = 1e-6
    numeric = (layers.activation_forward(x + h, kind) - layers.activation_forward(x - h, kind)) / (
        2 * h)
    analytic = layers.activation_derivative(layers.activation_forward(x, kind), kind)
    np.testing.assert_allclose(analytic, numeric, rtol=1e-7, atol=1e-9)
    dout = np.linspace(-1, 1, x.size)
    np.testing.assert_allclose(layers.activation_backward(dout, layers.activation_forward(x, kind),
                                                          kind), dout * analytic, rtol=1e-15)


def test_relu_derivative_is_zero_at_and_below_zero():
    out = layers.activation_forward(np.array([-2.0, 0.0, 3.0]), "relu")
    assert out.tolist() == [0.0, 0.0, 3.0]
    assert layers.activation_derivative(out, "relu").tolist() == [0.0, 0.0, 1.0]


def test_sigmoid_is_finite_and_silent_for_huge_inputs():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with np.errstate(over="raise", divide="raise", invalid="raise"):
            s = layers.sigmoid(np.array([-1000.0, -40.0, 0.0, 40.0, 1000.0]))
            yo, loss = layers.output_forward(np.array([[-1000.0] * 5 + [1000.0] * 5]),
                                             np.eye(10)[[0]], "sigmoid-mse")
            yo_ce, loss_ce = layers.output_forward(np.array([[-1000.0] * 5 + [1000.0] * 5]),
                                                   np.eye(10)[[0]], "softmax-ce")
    assert np.isfinite(s).all() and s[0] == 0.0 and s[-1] == 1.0 and s[2] == 0.5
    assert np.isfinite(yo).all() and np.isfinite(loss).all()
    assert np.isfinite(yo_ce).all() and np.isfinite(loss_ce).all()
    assert loss_ce[0] == pytest.approx(2000.0 + np.log(5.0))


def test_sigmoid_equals_the_textbook_formula():
    x = np.linspace(-20, 20, 81)
    np.testing.assert_allclose(layers.sigmoid(x), 1 / (1 + np.exp(-x)), rtol=1e-13, atol=1e-16)


# ----------------------------------------------------------------------- dense, output


def test_dense_forward_and_backward_follow_their_formulas():
    rng = _rng()
    h, w, b, dz = (rng.normal(size=(4, 6)), rng.normal(size=(6, 3)), rng.normal(size=3),
                   rng.normal(size=(4, 3)))
    np.testing.assert_allclose(layers.dense_forward(h, w, b),
                               np.einsum("nd,dm->nm", h, w) + b, rtol=1e-13)
    dh, grads = layers.dense_backward(dz, h, w)
    np.testing.assert_allclose(dh, np.einsum("nm,dm->nd", dz, w), rtol=1e-13)
    np.testing.assert_allclose(grads["w"], np.einsum("nd,nm->dm", h, dz), rtol=1e-13)
    np.testing.assert_allclose(grads["b"], dz.sum(axis=0), rtol=1e-13)


@pytest.mark.parametrize("kind", ["sigmoid-mse", "softmax-ce"])
def test_output_delta_matches_numerical_derivative_of_the_loss(kind):
    rng = _rng()
    yi = rng.normal(scale=2.0, size=(3, 10))
    target = np.eye(10)[[3, 0, 9]]
    yo, _ = layers.output_forward(yi, target, kind)
    analytic = layers.output_delta(yo, target, kind)
    h = 1e-6
    numeric = np.zeros_like(yi)
    for n in range(3):
        for k in range(10):
            plus, minus = yi.copy(), yi.copy()
            plus[n, k] += h
            minus[n, k] -= h
            numeric[n, k] = (layers.output_forward(plus, target, kind)[1][n]
                             - layers.output_forward(minus, target, kind)[1][n]) / (2 * h)
    np.testing.assert_allclose(analytic, numeric, rtol=1e-6, atol=1e-9)


def test_output_forward_gives_the_seed_loss_and_a_normalised_softmax():
    yi = np.array([[0.3, -1.2, 2.0, 0.0, 0.5, -0.5, 1.0, 0.1, -2.0, 0.7]])
    d = np.eye(10)[[2]]
    yo, loss = layers.output_forward(yi, d, "sigmoid-mse")
    assert loss[0] == pytest.approx(0.5 * np.sum((1 / (1 + np.exp(-yi)) - d) ** 2), rel=1e-13)
    yo, loss = layers.output_forward(yi, d, "softmax-ce")
    assert yo.sum() == pytest.approx(1.0, rel=1e-14)
    assert loss[0] == pytest.approx(-np.log(np.exp(2.0) / np.exp(yi).sum()), rel=1e-13)
