"""engine/explain.py: the position table (MATH §2) and the chain-rule decomposition of each
weight's gradient (MATH §3), checked against the engine's gradients and central differences."""

import math

import numpy as np
import pytest

from engine import explain as ex
from engine import network
from engine.config import make_config
from engine.errors import ParamError, PhaseError
from engine.gradcheck import relative_error
from engine.stepper import Stepper

RESOLVABLE = 1e-5  # below this |∂E/∂w| central differences resolve only ~1e-11 absolute


def _stepper(overrides=None, seed=0, to="backward.conv"):
    stepper = Stepper.create(make_config("seed", overrides or {}), seed)
    stepper.step_to(to)
    return stepper


def _off(i):
    """MATH §3: offset of kernel weight i in the 14×14 input."""
    return (i // 5) * 14 + i % 5


# ------------------------------------------------------------------------ position table


def _article_stepper():
    """A kernel that copies x[u+2, v+2] and a single lit pixel x[10, 9]: conv.z is 1 at (8, 7)
    only, so cell (8, 7) wins window (r=4, c=3) at offset (dr, dc) = (0, 1)."""
    stepper = Stepper.create(make_config("seed"), 0)
    kernel = np.zeros((1, 5, 5))
    kernel[0, 2, 2] = 1.0
    stepper.set_params({"conv.w": kernel})
    pixels = np.zeros((14, 14))
    pixels[10, 9] = 1.0
    stepper.set_input(pixels, 3)
    stepper.step_to("forward.pool")
    return stepper


def test_pool_table_reproduces_article_example():
    stepper = _article_stepper()
    z = stepper.tensors()["conv.z"][0]
    assert z[8, 7] == 1.0 and np.count_nonzero(z) == 1
    row = next(r for r in stepper.pool_table() if r["seed_j"] == 4 and r["seed_i"] == 3)
    assert (row["row"], row["col"], row["kernel"]) == (4, 3, 0)
    assert row["winner"] == [0, 1]
    assert row["seed_winner"] == [1, 0]  # the article writes (dx, dy) = (dc, dr)
    assert row["index_10"] == 87 == (4 * 2 + 0) * 10 + 3 * 2 + 1
    assert row["start_14"] == [8, 7]
    assert row["start_14_index"] == 119 == (4 * 2 + 0) * 14 + 3 * 2 + 1
    assert row["value"] == 1.0
    assert row["delta"] is None
    # every other window is all zeros: a four-way tie, won by its first cell
    assert all(r["winner"] == [0, 0] for r in stepper.pool_table() if r is not row
               and (r["row"], r["col"]) != (4, 3))


def test_pool_table_function_on_hand_made_tensors():
    config = make_config("seed")
    pooled = np.zeros((1, 5, 5))
    pooled[0, 4, 3] = 0.75
    winners = np.zeros((1, 5, 5, 2), dtype=int)
    winners[0, 4, 3] = (0, 1)
    rows = ex.pool_table(config, {"pool.out": pooled, "pool.winners": winners})
    row = rows[4 * 5 + 3]
    assert (row["index_10"], row["start_14_index"], row["value"]) == (87, 119, 0.75)
    assert ex.pool_table(config, {"x": np.zeros((14, 14))}) == []  # before forward.pool


def test_pool_table_has_one_row_per_pooled_cell_matching_the_pass():
    stepper = _stepper(to="forward.pool")
    t = stepper.tensors()
    rows = stepper.pool_table()
    assert len(rows) == 25
    assert [(r["row"], r["col"]) for r in rows] == [(r, c) for r in range(5) for c in range(5)]
    for j, row in enumerate(rows):
        r, c = row["row"], row["col"]
        dr, dc = row["winner"]
        assert row["j"] == j and (row["seed_i"], row["seed_j"]) == (c, r)
        assert row["seed_winner"] == [dc, dr]
        assert list(t["pool.winners"][0, r, c]) == [dr, dc]
        u, v = 2 * r + dr, 2 * c + dc
        assert row["index_10"] == u * 10 + v and row["start_14"] == [u, v]
        assert row["start_14_index"] == u * 14 + v
        assert row["value"] == t["pool.out"][0, r, c] == t["conv.z"][0, u, v]
        assert row["delta"] is None


def test_pool_table_delta_appears_at_backward_pool_and_is_the_routed_delta():
    stepper = _stepper(to="backward.act")
    assert all(r["delta"] is None for r in stepper.pool_table())
    stepper.step()
    assert stepper.phase == "backward.pool"
    t = stepper.tensors()
    for row in stepper.pool_table():
        u, v = row["start_14"]
        assert row["delta"] == t["conv.delta"][0, u, v] == t["act.delta"][row["j"]]
        assert row["delta"] != 0.0


def test_pool_table_for_several_kernels_and_28_pixel_input():
    stepper = _stepper({"kernels": 3, "input_size": 28, "kernel_size": 3}, to="backward.pool")
    rows, t = stepper.pool_table(), stepper.tensors()
    assert len(rows) == 3 * 13 * 13
    for row in rows[::37]:
        q, (u, v) = row["kernel"], row["start_14"]
        assert row["j"] == q * 169 + row["row"] * 13 + row["col"]
        assert row["index_10"] == u * 26 + v and row["start_14_index"] == u * 28 + v
        assert row["delta"] == t["conv.delta"][q, u, v]


# ------------------------------------------------------------------ chain-rule sums


def _params_at(stepper):
    return {name[len("params."):]: v for name, v in stepper.tensors().items()
            if name.startswith("params.")}


@pytest.mark.parametrize("overrides", [{}, {"pool": "avg"}, {"bias": True},
                                       {"kernels": 2, "activation": "tanh",
                                        "output": "softmax-ce", "bias": True}],
                         ids=["seed", "avg", "bias", "tanh-ce-2k-bias"])
def test_explanation_sums_equal_gradients_for_every_weight(overrides):
    stepper = _stepper(overrides, seed=2)
    tensors, params = stepper.tensors(), stepper.params
    for name, value in params.items():
        for i in range(value.size):
            e = ex.explain(stepper.config, tensors, params, name, i)
            gradient = float(tensors[f"grads.{name}"].flat[i])
            assert e["param"] == name and e["index"] == i
            assert e["gradient"] == gradient
            assert e["sum"] == math.fsum(t["product"] for t in e["terms"])
            assert abs(e["sum"] - gradient) <= 1e-12 * abs(gradient), (name, i)
            error = abs(e["numeric"] - gradient)
            if abs(gradient) >= RESOLVABLE:
                assert relative_error(gradient, e["numeric"]) < 1e-6, (name, i)
            else:
                assert error < 1e-10, (name, i)


def test_conv_weight_terms_are_the_articles_25_products():
    stepper = _stepper(seed=1)
    table = stepper.pool_table()
    t = stepper.tensors()
    x = t["x"].ravel()
    for i in range(25):
        e = stepper.explain("conv.w", i)
        assert e["seed_name"] == f"w1cnn[{i}]"
        assert len(e["terms"]) == 25
        for term, row in zip(e["terms"], table, strict=True):
            assert term["j"] == row["j"]
            assert term["x_index"] == row["start_14_index"] + _off(i)
            assert term["x"] == x[term["x_index"]]
            assert term["delta"] == row["delta"]
            assert term["product"] == term["x"] * term["delta"]
        assert relative_error(e["gradient"], e["numeric"]) < 1e-6


def test_avg_pool_conv_terms_cover_all_four_cells_of_each_window():
    stepper = _stepper({"pool": "avg"})
    e = stepper.explain("conv.w", 7)
    assert len(e["terms"]) == 100
    t = stepper.tensors()
    for term in e["terms"]:
        u, v = term["cell"]
        assert term["delta"] == t["conv.delta"][0, u, v] == t["act.delta"][term["j"]] / 4
        assert term["x_index"] == u * 14 + v + _off(7)


def test_fc_terms_follow_the_four_layer_formula():
    stepper = _stepper(seed=4)
    t = stepper.tensors()
    j, m = 6, 17
    e = stepper.explain("fc1.w", j * 80 + m)
    assert [term["k"] for term in e["terms"]] == list(range(10))
    ds_h2o = t["fc1.out"][m] * (1 - t["fc1.out"][m])
    for term in e["terms"]:
        k = term["k"]
        yo, d = t["fc2.out"][k], t["target"][k]
        assert term["hocnn"] == t["act.out"][j] and term["ds_h2o"] == ds_h2o
        assert term["delta_y"] == t["fc2.delta"][k]
        assert term["delta_y"] == pytest.approx((yo - d) * yo * (1 - yo), rel=1e-14)
    e = stepper.explain("fc2.w", m * 10 + 3)
    assert len(e["terms"]) == 1
    assert e["terms"][0]["h2o"] == t["fc1.out"][m]
    assert e["sum"] == e["gradient"] == t["grads.fc2.w"][m, 3]


def test_explain_after_update_uses_the_parameters_the_gradient_was_taken_at():
    stepper = _stepper(to="update")
    for name, index in [("conv.w", 12), ("fc1.w", 333), ("fc2.w", 45)]:
        e = stepper.explain(name, index)
        assert abs(e["sum"] - e["gradient"]) <= 1e-12 * abs(e["gradient"])
        assert relative_error(e["gradient"], e["numeric"]) < 1e-6


def test_explain_returns_formulas_for_each_parameter():
    stepper = _stepper({"bias": True})
    for name in network.param_names(stepper.config):
        e = stepper.explain(name, 0)
        assert e["formula_latex"].startswith(r"\frac{\partial E}{\partial")
        assert e["formula_latex"].endswith(ex._num(e["sum"]))
        assert e["formula_article_latex"]


# ------------------------------------------------------------------------------ errors


@pytest.mark.parametrize("param,index,field", [
    ("conv.q", 0, "param"),
    ("conv.b", 0, "param"),  # the seed preset has no biases
    ("conv.w", 25, "index"),
    ("conv.w", -1, "index"),
    ("fc1.w", 2000, "index"),
    ("fc2.w", True, "index"),
    ("fc2.w", 1.0, "index"),
])
def test_explain_rejects_unknown_params_and_bad_indices(param, index, field):
    stepper = _stepper()
    with pytest.raises(ParamError) as err:
        stepper.explain(param, index)
    assert err.value.field == field


@pytest.mark.parametrize("phase,too_early", [
    ("loss", ["fc2.w", "fc1.w", "conv.w"]),
    ("backward.fc2", ["fc1.w", "conv.w"]),
    ("backward.pool", ["conv.w"]),
])
def test_explain_before_the_backward_phase_raises_phase_error(phase, too_early):
    stepper = _stepper(to=phase)
    for name in too_early:
        with pytest.raises(PhaseError) as err:
            stepper.explain(name, 0)
        assert f"backward.{name.split('.')[0]}" in err.value.message
    for name in {"fc2.w", "fc1.w", "conv.w"} - set(too_early):
        assert stepper.explain(name, 0)["param"] == name


@pytest.mark.parametrize("alias,name,index", [("w1cnn", "conv.w", 3), ("w12", "fc1.w", 100),
                                              ("w2", "fc2.w", 9)])
def test_explain_accepts_seed_aliases(alias, name, index):
    stepper = _stepper()
    by_alias, by_name = stepper.explain(alias, index), stepper.explain(name, index)
    assert by_alias["param"] == name
    assert by_alias["seed_name"] == f"{alias}[{index}]"
    assert by_alias == by_name
