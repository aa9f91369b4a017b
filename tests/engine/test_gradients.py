"""The engine's gradients are right: central differences (MATH §6, engine.gradcheck) and an
independent autodiff of MATH.md's forward pass (HIPS autograd, no engine.layers) agree with
`grads.*` over a covering grid of configs; the stepper shows the same tensors as `network.run`."""

import itertools

import autograd.numpy as anp
import numpy as np
import pytest
from autograd import grad

from engine import network
from engine.config import make_config
from engine.data import dataset_for_size
from engine.gradcheck import entries_to_check, gradcheck
from engine.stepper import Stepper

KEYS = ("input_size", "kernels", "kernel_size", "pool", "activation", "output", "bias")
GRID_VALUES = {
    "input_size": (14, 28), "kernels": (1, 4), "kernel_size": (3, 5, 7), "pool": ("max", "avg"),
    "activation": ("sigmoid", "tanh", "relu"), "output": ("sigmoid-mse", "softmax-ce"),
    "bias": (False, True),
}
# Every pool × activation × output combination, once without and once with biases, the other
# keys chosen so that every pair of values of any two keys occurs (checked below).
GRID = [
    (28, 4, 3, "max", "sigmoid", "sigmoid-mse", False),
    (28, 4, 5, "max", "sigmoid", "softmax-ce", False),
    (28, 4, 5, "max", "tanh", "sigmoid-mse", False),
    (14, 1, 5, "max", "tanh", "softmax-ce", False),
    (14, 1, 7, "max", "relu", "sigmoid-mse", False),
    (28, 1, 5, "max", "relu", "softmax-ce", False),
    (14, 1, 7, "avg", "sigmoid", "sigmoid-mse", False),
    (28, 4, 7, "avg", "sigmoid", "softmax-ce", False),
    (14, 4, 5, "avg", "tanh", "sigmoid-mse", False),
    (28, 1, 7, "avg", "tanh", "softmax-ce", False),
    (28, 4, 7, "avg", "relu", "sigmoid-mse", False),
    (28, 1, 7, "avg", "relu", "softmax-ce", False),
    (14, 1, 7, "max", "sigmoid", "sigmoid-mse", True),
    (28, 1, 7, "max", "sigmoid", "softmax-ce", True),
    (28, 4, 3, "max", "tanh", "sigmoid-mse", True),
    (28, 1, 3, "max", "tanh", "softmax-ce", True),
    (14, 1, 3, "max", "relu", "sigmoid-mse", True),
    (28, 1, 3, "max", "relu", "softmax-ce", True),
    (28, 4, 3, "avg", "sigmoid", "sigmoid-mse", True),
    (28, 4, 7, "avg", "sigmoid", "softmax-ce", True),
    (14, 4, 7, "avg", "tanh", "sigmoid-mse", True),
    (14, 4, 5, "avg", "tanh", "softmax-ce", True),
    (14, 4, 5, "avg", "relu", "sigmoid-mse", True),
    (14, 4, 3, "avg", "relu", "softmax-ce", True),
]
# Beyond the grid: even kernel sizes (odd conv maps, whose last row/column no window reads),
# a single hidden unit, many kernels and a wide hidden layer, and the seed preset itself.
EXTRA = [
    {"input_size": 14, "kernels": 2, "kernel_size": 4, "pool": "max", "activation": "relu",
     "output": "sigmoid-mse", "bias": True, "hidden": 16},
    {"input_size": 28, "kernels": 3, "kernel_size": 6, "pool": "avg", "activation": "sigmoid",
     "output": "softmax-ce", "bias": False, "hidden": 1},
    {"input_size": 14, "kernels": 16, "kernel_size": 5, "pool": "max", "activation": "tanh",
     "output": "softmax-ce", "bias": True, "hidden": 256},
]
CONFIGS = [dict(zip(KEYS, row, strict=True)) for row in GRID] + EXTRA + [{}]
IDS = ["-".join(str(v) for v in c.values()) or "seed" for c in CONFIGS]

MARGIN = 1e-3  # a max-pool runner-up or a ReLU input this close to the kink is a "tie"
RESOLVABLE = 1e-5  # smallest |∂E/∂w| central differences resolve to 1e-6 relative (see below)


def test_grid_covers_every_pair_of_values():
    covered = {(i, row[i], j, row[j]) for row in GRID
               for i, j in itertools.combinations(range(len(KEYS)), 2)}
    for i, j in itertools.combinations(range(len(KEYS)), 2):
        for a in GRID_VALUES[KEYS[i]]:
            for b in GRID_VALUES[KEYS[j]]:
                assert (i, a, j, b) in covered, (KEYS[i], a, KEYS[j], b)
    semantic = {(row[3], row[4], row[5], row[6]) for row in GRID}
    assert len(semantic) == 2 * 3 * 2 * 2


def _params(config, seed):
    """The engine's initialisation, with small non-zero biases (zero biases put every blank
    ReLU unit exactly on its kink, and a bias of 0 tests less)."""
    params = network.init_params(config, seed)
    rng = np.random.default_rng(seed + 1000)
    for name in ("conv.b", "fc1.b", "fc2.b"):
        if name in params:
            params[name] = rng.uniform(0.01, 0.1, params[name].shape) * rng.choice(
                [-1, 1], params[name].shape)
    return params


def _away_from_kinks(config, params, x):
    """True when no max-pool window is nearly tied and no ReLU input is near zero, except
    where the cells involved read a blank (all-zero) input window: those stay exactly equal
    (to the bias, or 0) under any perturbation of the weights, so they are no kink."""
    ps = network.run(network.Pass(config, params, x[None], np.zeros((1, 10))), upto="loss")
    t = ps.tensors
    kernels, k, p = config.kernels, config.kernel_size, config.pool_size
    blank = np.lib.stride_tricks.sliding_window_view(x, (k, k)).max(axis=(-2, -1)) == 0
    blank = np.broadcast_to(_windows(blank[None]), (kernels, p, p, 4))  # per pool window
    if config.pool == "max":
        win = _windows(t["conv.z"][0])
        near = win >= win.max(axis=-1, keepdims=True) - MARGIN
        if not ((near.sum(axis=-1) == 1) | (near <= blank).all(axis=-1)).all():
            return False
        pooled_fixed = np.take_along_axis(blank, win.argmax(axis=-1)[..., None], -1)[..., 0]
    else:
        pooled_fixed = blank.all(axis=-1)
    if config.activation == "relu":
        # a blank pooled cell is exactly 0 without biases: ReLU's kink, but it never moves
        on_kink = np.abs(t["pool.out"][0]) <= MARGIN
        if (on_kink & ~(pooled_fixed & (not config.bias))).any():
            return False
        if (np.abs(t["fc1.z"][0]) <= MARGIN).any():
            return False
    return True


def _windows(z):
    """(K, C, C) -> (K, P, P, 4): the cells of each 2×2 pool window, row-major."""
    kernels, c, _ = z.shape
    p = c // 2
    z = z[:, : 2 * p, : 2 * p].reshape(kernels, p, 2, p, 2)
    return z.transpose(0, 1, 3, 2, 4).reshape(kernels, p, p, 4)


def _resolvable(config, params, x, label):
    """True when every entry the gradient check samples has |∂E/∂w| = 0 or ≥ RESOLVABLE.

    Central differences in float64 resolve ∂E/∂w only to about an ulp of E over 2h (≈1e-11
    for E ≈ 1, h = 1e-5), so a relative error below 1e-6 is out of reach for a non-zero
    gradient much smaller than 1e-5 however right it is. Such digits are skipped like ties;
    the autodiff test below checks every digit's gradients exactly.
    """
    tensors = _engine_pass(config, params, x, label)
    for name, value in params.items():
        g = np.abs(tensors[f"grads.{name}"].ravel()[entries_to_check(value.size, 0)])
        if ((g > 0) & (g < RESOLVABLE)).any():
            return False
    return True


def _sample(config, params, start):
    """The first real digit at or after `start` whose pass stays away from kinks and whose
    checked gradients central differences can resolve."""
    data = dataset_for_size(config.input_size)
    for index in range(start, start + 200):
        x, label = data.sample(index)
        if _away_from_kinks(config, params, x) and _resolvable(config, params, x, label):
            return x, label
    raise AssertionError(f"no digit near {start} is away from ties for {config}")


@pytest.fixture(scope="module", params=range(len(CONFIGS)), ids=IDS)
def case(request):
    number = request.param
    config = make_config("seed", CONFIGS[number])
    params = _params(config, seed=number)
    x, label = _sample(config, params, start=17 * number)
    return config, params, x, label


# ------------------------------------------------------------ (a) central differences


def test_central_differences_agree_with_engine_gradients(case):
    config, params, x, label = case
    report = gradcheck(config, params, x[None], network.one_hot([label]), h=1e-5)
    assert report["h"] == 1e-5 and report["tolerance"] == 1e-6
    assert [r["name"] for r in report["tensors"]] == list(network.param_names(config))
    for row in report["tensors"]:
        size = params[row["name"]].size
        assert isinstance(row["kinks"], int) and row["kinks"] >= 0
        assert row["checked"] + row["kinks"] == len(entries_to_check(size, 0)) == min(size, 64)
        assert row["kinks"] == 0, f"{row['name']}: the chosen digit is away from ties"
        assert row["checked"] > 0
        assert row["max_rel_error"] < 1e-6, row
        assert row["passed"]
    assert report["passed"]


def test_gradcheck_reports_relu_kinks_instead_of_hiding_them():
    # zero biases and a blank band of input put the ReLU units of the pooled cells that read
    # only the band exactly at 0: moving conv.b by ±h crosses the kink
    config = make_config("seed", {"activation": "relu", "bias": True})
    params = network.init_params(config, 0)
    x, label = dataset_for_size(14).sample(0)
    x[:6] = 0.0
    pooled = network.run(network.Pass(config, params, x[None], np.zeros((1, 10))),
                         upto="forward.pool").tensors["pool.out"]
    assert (pooled[0, 0, 0] == 0.0).all()
    report = gradcheck(config, params, x[None], network.one_hot([label]))
    conv_b = next(r for r in report["tensors"] if r["name"] == "conv.b")
    assert conv_b["kinks"] == 1 and conv_b["checked"] == 0
    others = [r for r in report["tensors"] if r["name"] != "conv.b"]
    assert all(r["checked"] > 0 and r["passed"] for r in others)


def test_gradcheck_fails_for_a_wrong_gradient(monkeypatch):
    config = make_config("seed")
    params = network.init_params(config, 0)
    x, label = dataset_for_size(14).sample(3)
    real = network.backward_fc1

    def wrong(ps):
        real(ps)
        ps.tensors["grads.fc1.w"] = ps.tensors["grads.fc1.w"] * 1.001

    monkeypatch.setitem(network.PHASE_FUNCTIONS, "backward.fc1", wrong)
    report = gradcheck(config, params, x[None], network.one_hot([label]))
    fc1 = next(r for r in report["tensors"] if r["name"] == "fc1.w")
    assert not fc1["passed"] and fc1["max_rel_error"] > 1e-4
    assert not report["passed"]


# ------------------------------------------------------------ (b) independent autodiff


def _ag_activation(z, kind):
    if kind == "sigmoid":
        return 1.0 / (1.0 + anp.exp(-z))
    if kind == "tanh":
        return anp.tanh(z)
    return anp.where(z > 0, z, 0.0)  # ReLU; slope 0 at 0, like the engine


def _ag_loss(params, x, label, config):
    """MATH §1 written out in autograd.numpy: conv → pool → act → fc1 → act → fc2 → E."""
    kernels, k, s = config.kernels, config.kernel_size, config.input_size
    c = s - k + 1
    p = c // 2
    w = params["conv.w"]
    # z[q,u,v] = Σ_{a,b} x[u+a, v+b] · w[q,a,b]
    z = 0.0
    for a in range(k):
        for b in range(k):
            z = z + x[None, a : a + c, b : b + c] * w[:, a, b][:, None, None]
    if config.bias:
        z = z + params["conv.b"][:, None, None]
    # 2×2 windows, stride 2; an odd last row/column is in no window
    windows = anp.reshape(z[:, : 2 * p, : 2 * p], (kernels, p, 2, p, 2))
    windows = anp.reshape(anp.transpose(windows, (0, 1, 3, 2, 4)), (kernels, p, p, 4))
    pooled = anp.max(windows, axis=-1) if config.pool == "max" else anp.mean(windows, axis=-1)
    hocnn = _ag_activation(anp.reshape(pooled, (-1,)), config.activation)  # kernel-major
    h2i = anp.dot(hocnn, params["fc1.w"])
    if config.bias:
        h2i = h2i + params["fc1.b"]
    h2o = _ag_activation(h2i, config.activation)
    yi = anp.dot(h2o, params["fc2.w"])
    if config.bias:
        yi = yi + params["fc2.b"]
    d = anp.eye(10)[label]
    if config.output == "sigmoid-mse":
        yo = 1.0 / (1.0 + anp.exp(-yi))
        return 0.5 * anp.sum((yo - d) ** 2)
    return anp.log(anp.sum(anp.exp(yi))) - anp.sum(d * yi)


def _engine_pass(config, params, x, label):
    ps = network.Pass(config, params, x[None], network.one_hot([label]))
    return network.run(ps, upto="backward.conv").tensors


def test_autograd_of_the_math_agrees_with_engine_gradients(case):
    config, params, x, label = case
    tensors = _engine_pass(config, params, x, label)
    expected_loss = _ag_loss(params, x, label, config)
    np.testing.assert_allclose(tensors["loss"][0], expected_loss, rtol=1e-12)
    auto = grad(_ag_loss)(params, x, label, config)
    assert set(auto) == set(params)
    for name in params:
        assert auto[name].dtype == np.float64
        np.testing.assert_allclose(tensors[f"grads.{name}"], auto[name], rtol=1e-9, atol=1e-12,
                                   err_msg=name)
    if config.pool == "avg":  # max pooling's ∂E/∂x is ambiguous at blank ties; avg's is not
        auto_x = grad(_ag_loss, 1)(params, x, label, config)
        np.testing.assert_allclose(tensors["input.grad"][0], auto_x, rtol=1e-9, atol=1e-12)


def test_autograd_input_gradient_agrees_on_a_digit_without_blank_ties():
    # a digit plus a faint ramp: no two conv cells are equal, so max pooling's ∂E/∂x is defined
    config = make_config("seed", {"kernels": 2, "bias": True})
    params = _params(config, seed=5)
    x, label = dataset_for_size(14).sample(11)
    x = x + np.linspace(0.0, 0.01, 196).reshape(14, 14)
    assert _away_from_kinks(config, params, x)
    tensors = _engine_pass(config, params, x, label)
    auto_x = grad(_ag_loss, 1)(params, x, label, config)
    np.testing.assert_allclose(tensors["input.grad"][0], auto_x, rtol=1e-9, atol=1e-12)


# ------------------------------------------------------------ (c) stepper = network.run


@pytest.mark.parametrize("overrides", [{}, CONFIGS[13], CONFIGS[22], EXTRA[0]],
                         ids=["seed", "max-bias", "avg-relu-bias", "odd-conv"])
def test_stepper_tensors_at_backward_conv_equal_network_run(overrides):
    config = make_config("seed", overrides)
    stepper = Stepper.create(config, seed=3)
    stepper.step_to("backward.conv")
    shown = stepper.tensors()
    x, label = stepper.sample.x, stepper.sample.label
    ran = _engine_pass(config, stepper.params, x, label)
    expected = {name: (value if name.startswith("grads.") else value[0])
                for name, value in ran.items()}
    expected.update({f"params.{name}": value for name, value in stepper.params.items()})
    assert set(shown) == set(expected)
    for name, value in expected.items():
        assert np.array_equal(shown[name], value), name
