"""engine/stepper.py: phase-by-phase stepping, history, serialisation, and the changes a
session can make (input, parameters), as API.md describes them."""

import numpy as np
import pytest

from engine import network
from engine.config import make_config
from engine.data import TRAIN, dataset_for_size
from engine.errors import DatasetError, DivergedError, HistoryError, ParamError, PhaseError
from engine.stepper import HISTORY_SAMPLES, Stepper, order_index, phases_for
from engine.train import train

# API.md, "Phases of the seed config"
API_PHASES = [
    "input", "forward.conv", "forward.pool", "forward.act", "forward.fc1", "forward.fc2",
    "loss", "backward.fc2", "backward.fc1", "backward.act", "backward.pool", "backward.conv",
    "update",
]
N_PHASES = len(API_PHASES)
SEED_PARAMS = {"params.conv.w", "params.fc1.w", "params.fc2.w"}
# The names each phase adds for the seed config (MATH §1 and §3, one row each)
SEED_NEW = {
    "input": {"x", "target"} | SEED_PARAMS,
    "forward.conv": {"conv.z"},
    "forward.pool": {"pool.out", "pool.winners"},
    "forward.act": {"act.out"},
    "forward.fc1": {"fc1.z", "fc1.out"},
    "forward.fc2": {"fc2.z", "fc2.out"},
    "loss": {"loss"},
    "backward.fc2": {"fc2.delta", "grads.fc2.w"},
    "backward.fc1": {"fc1.delta", "grads.fc1.w"},
    "backward.act": {"act.delta"},
    "backward.pool": {"conv.delta"},
    "backward.conv": {"grads.conv.w", "input.grad"},
    "update": set(),
}
# avg pooling records no winners; biases add their own gradients
BIAS_AVG_NEW = {
    **SEED_NEW,
    "input": SEED_NEW["input"] | {"params.conv.b", "params.fc1.b", "params.fc2.b"},
    "forward.pool": {"pool.out"},
    "backward.fc2": {"fc2.delta", "grads.fc2.w", "grads.fc2.b"},
    "backward.fc1": {"fc1.delta", "grads.fc1.w", "grads.fc1.b"},
    "backward.conv": {"grads.conv.w", "grads.conv.b", "input.grad"},
}


def _copy(stepper):
    """Everything a person can observe: tensors (copied), cursor, counters."""
    return ({k: np.array(v, copy=True) for k, v in stepper.tensors().items()},
            stepper.cursor, stepper.counters)


def _assert_same(observed, expected):
    tensors, cursor, counters = observed
    tensors_e, cursor_e, counters_e = expected
    assert cursor == cursor_e
    assert counters == counters_e
    assert set(tensors) == set(tensors_e)
    for name in tensors_e:
        assert tensors[name].dtype == tensors_e[name].dtype, name
        assert np.array_equal(tensors[name], tensors_e[name]), name


@pytest.fixture
def seed_stepper():
    return Stepper.create(make_config("seed"), seed=0)


# ------------------------------------------------------------------------ phases, cursor


def test_phases_are_api_md_list_in_order():
    assert list(network.PHASES) == API_PHASES
    phases = phases_for(make_config("seed"))
    assert [p["name"] for p in phases] == API_PHASES
    for p in phases:
        assert p["en"].strip() and p["zh"].strip() and p["en"] != p["zh"]


@pytest.mark.parametrize("order", ["sequential", "shuffled"])
def test_new_stepper_is_at_input_with_first_sample_of_its_order(order):
    config = make_config("seed", {"order": order})
    stepper = Stepper.create(config, seed=7)
    first = order_index(config, 7, 0)
    if order == "sequential":
        assert first == 0
    x, label = dataset_for_size(14).sample(first)
    assert stepper.cursor == {"phase": "input", "index": 0,
                              "sample": {"source": "mnist14", "index": first, "label": label}}
    assert stepper.counters == {"samples_seen": 0, "updates": 0, "position": 0}
    assert not stepper.diverged and stepper.history == []
    tensors = stepper.tensors()
    assert set(tensors) == SEED_NEW["input"]
    assert np.array_equal(tensors["x"], x)
    assert np.array_equal(tensors["target"], np.eye(10)[label])
    init = network.init_params(config, 7)
    for name, value in init.items():
        assert np.array_equal(tensors[f"params.{name}"], value)


@pytest.mark.parametrize("overrides,expected_new", [({}, SEED_NEW),
                                                    ({"bias": True, "pool": "avg"}, BIAS_AVG_NEW)],
                         ids=["seed", "bias-avg"])
def test_each_step_adds_exactly_the_tensors_of_its_phase(overrides, expected_new):
    stepper = Stepper.create(make_config("seed", overrides), seed=0)
    seen = set(stepper.tensors())
    assert seen == expected_new["input"]
    for phase in API_PHASES[1:]:
        changed = stepper.step()
        assert stepper.phase == phase
        now = set(stepper.tensors())
        assert now - seen == expected_new[phase], phase
        assert now == seen | expected_new[phase], f"{phase} shows something of a later phase"
        params = {n for n in now if n.startswith("params.")}
        assert set(changed) == (params if phase == "update" else expected_new[phase])
        seen = now


def test_update_changes_the_parameters_only_by_the_sgd_step(seed_stepper):
    seed_stepper.step_to("backward.conv")
    before, _, _ = _copy(seed_stepper)
    seed_stepper.step()
    after, _, _ = _copy(seed_stepper)
    assert set(after) == set(before)
    lr = seed_stepper.config.learning_rate
    for name in before:
        if name.startswith("params."):
            grad = before["grads." + name[len("params."):]]
            assert not np.array_equal(after[name], before[name]), name
            assert np.array_equal(after[name], before[name] - lr * grad), name
        else:
            assert np.array_equal(after[name], before[name]), name


def test_step_over_update_loads_next_sample_and_counts_the_update(seed_stepper):
    config = seed_stepper.config
    seed_stepper.step_to("update")
    assert seed_stepper.counters == {"samples_seen": 1, "updates": 1, "position": 0}
    updated = {k: v for k, v in seed_stepper.tensors().items() if k.startswith("params.")}
    changed = seed_stepper.step()
    assert seed_stepper.phase == "input"
    assert seed_stepper.counters == {"samples_seen": 1, "updates": 1, "position": 1}
    second = order_index(config, 0, 1)
    assert seed_stepper.sample.index == second
    assert np.array_equal(seed_stepper.sample.x, dataset_for_size(14).sample(second)[0])
    tensors = seed_stepper.tensors()
    assert set(changed) == set(tensors) == SEED_NEW["input"]
    for name, value in updated.items():
        assert np.array_equal(tensors[name], value)


# ------------------------------------------------------------------------------- history


def test_back_over_update_restores_parameters_bit_for_bit(seed_stepper):
    recorded = [_copy(seed_stepper)]
    for _ in range(N_PHASES - 1):
        seed_stepper.step()
        recorded.append(_copy(seed_stepper))
    seed_stepper.step(5)  # into the next sample, with its new parameters
    assert seed_stepper.sample.index == order_index(seed_stepper.config, 0, 1)
    seed_stepper.back(5)
    assert seed_stepper.phase == "update"
    for expected in reversed(recorded):
        _assert_same(_copy(seed_stepper), expected)
        if seed_stepper.phase_index or seed_stepper.history:
            seed_stepper.back()
    assert seed_stepper.phase == "input" and seed_stepper.counters["samples_seen"] == 0


def test_back_over_update_uncounts_it_so_redoing_it_counts_once(seed_stepper):
    seed_stepper.step_to("update")
    assert seed_stepper.counters["updates"] == 1
    seed_stepper.back()
    assert seed_stepper.counters == {"samples_seen": 0, "updates": 0, "position": 0}
    seed_stepper.step()
    assert seed_stepper.counters == {"samples_seen": 1, "updates": 1, "position": 0}
    seed_stepper.step(N_PHASES)  # update of the second sample
    seed_stepper.back(N_PHASES + 1)  # back to backward.conv of the first
    assert seed_stepper.phase == "backward.conv"
    assert seed_stepper.counters == {"samples_seen": 0, "updates": 0, "position": 0}


def test_back_returns_the_names_that_changed(seed_stepper):
    seed_stepper.step_to("forward.pool")
    assert seed_stepper.back() == ["pool.out", "pool.winners"]
    seed_stepper.step_to("update")
    assert seed_stepper.back() == sorted(SEED_PARAMS)


def test_back_reaches_the_start_of_the_previous_sample_then_history_runs_out(seed_stepper):
    assert HISTORY_SAMPLES == 1
    start = _copy(seed_stepper)
    seed_stepper.step(N_PHASES + 3)  # sample 1, phase forward.pool
    assert seed_stepper.counters == {"samples_seen": 1, "updates": 1, "position": 1}
    assert seed_stepper.max_back() == N_PHASES + 3
    seed_stepper.back(N_PHASES + 3)
    _assert_same(_copy(seed_stepper), start)
    with pytest.raises(HistoryError):
        seed_stepper.back()


def test_history_keeps_only_the_previous_sample(seed_stepper):
    seed_stepper.step(5 * N_PHASES + 1)
    assert seed_stepper.max_back() == 1 + N_PHASES
    before = _copy(seed_stepper)
    with pytest.raises(HistoryError) as err:
        seed_stepper.back(2 + N_PHASES)
    assert str(1 + N_PHASES) in err.value.message and err.value.field == "count"
    _assert_same(_copy(seed_stepper), before)  # a refused back changes nothing
    seed_stepper.back(1 + N_PHASES)
    assert seed_stepper.cursor["phase"] == "input" and seed_stepper.position == 4


def test_back_from_a_new_session_raises_history_error(seed_stepper):
    with pytest.raises(HistoryError):
        seed_stepper.back()
    assert seed_stepper.phase == "input"


def test_step_to_moves_forward_to_the_named_phase(seed_stepper):
    seed_stepper.step_to("loss")
    assert seed_stepper.phase == "loss" and seed_stepper.position == 0
    seed_stepper.step_to("forward.conv")  # before the cursor: in the next sample
    assert seed_stepper.phase == "forward.conv" and seed_stepper.position == 1
    seed_stepper.step_to("forward.conv")  # the cursor's own phase: a whole sample on
    assert seed_stepper.phase == "forward.conv" and seed_stepper.position == 2
    seed_stepper.step_to("input")
    assert seed_stepper.phase == "input" and seed_stepper.position == 3
    with pytest.raises(PhaseError) as err:
        seed_stepper.step_to("backward.everything")
    assert err.value.field == "to" and "backward.conv" in err.value.message
    assert seed_stepper.phase == "input" and seed_stepper.position == 3


# ------------------------------------------------------------------- order, determinism


def _script(stepper):
    stepper.step(4)
    stepper.back(2)
    stepper.step_to("update")
    stepper.step(N_PHASES + 6)
    stepper.load_sample("mnist14", 42)
    stepper.step_to("backward.act")
    stepper.back(N_PHASES)
    stepper.step(9)


def test_same_config_seed_and_actions_give_identical_state():
    a, b = Stepper.create(make_config("seed"), 3), Stepper.create(make_config("seed"), 3)
    _script(a)
    _script(b)
    assert a.to_bytes() == b.to_bytes()
    _assert_same(_copy(a), _copy(b))
    c = Stepper.create(make_config("seed"), 4)
    _script(c)
    assert not np.array_equal(a.params["conv.w"], c.params["conv.w"])


def test_sequential_order_walks_the_training_digits_in_order():
    config = make_config("seed", {"order": "sequential"})
    assert [order_index(config, 5, i) for i in range(6)] == [0, 1, 2, 3, 4, 5]
    assert order_index(config, 5, len(TRAIN) + 2) == 2  # the second epoch starts over
    stepper = Stepper.create(config, seed=5)
    indices = [stepper.sample.index]
    for _ in range(3):
        stepper.step(N_PHASES)
        indices.append(stepper.sample.index)
    assert indices == [0, 1, 2, 3]


def test_shuffled_order_is_a_seeded_permutation_of_the_training_digits():
    config = make_config("seed")
    assert config.order == "shuffled"
    epoch = [order_index(config, 0, i) for i in range(len(TRAIN))]
    assert sorted(epoch) == list(TRAIN)
    assert epoch != list(TRAIN)
    assert epoch[:20] == [order_index(config, 0, i) for i in range(20)]  # reproducible
    assert epoch[:20] != [order_index(config, 1, i) for i in range(20)]
    assert epoch[:20] != [order_index(config, 0, len(TRAIN) + i) for i in range(20)]
    stepper = Stepper.create(config, seed=0)
    stepper.step(N_PHASES)
    assert stepper.sample.index == epoch[1]


# ------------------------------------------------------------------------ serialisation


def test_serialisation_round_trip_is_exact_at_every_phase(seed_stepper):
    seed_stepper.metrics["loss"].append({"samples_seen": 0, "value": 0.25})
    for _ in range(2 * N_PHASES + 2):
        blob = seed_stepper.to_bytes()
        restored = Stepper.from_bytes(blob)
        _assert_same(_copy(restored), _copy(seed_stepper))
        assert restored.to_bytes() == blob
        assert restored.config == seed_stepper.config and restored.seed == seed_stepper.seed
        assert restored.metrics == seed_stepper.metrics
        assert restored.diverged == seed_stepper.diverged
        assert restored.max_back() == seed_stepper.max_back()
        if restored.max_back():
            restored.back(restored.max_back())
            original = Stepper.from_bytes(blob)
            original.back(original.max_back())
            _assert_same(_copy(restored), _copy(original))
        seed_stepper.step()


def test_restored_state_steps_on_like_the_original(seed_stepper):
    seed_stepper.step(N_PHASES + 4)
    restored = Stepper.from_bytes(seed_stepper.to_bytes())
    seed_stepper.step(N_PHASES)
    restored.step(N_PHASES)
    assert restored.to_bytes() == seed_stepper.to_bytes()


def test_seed_state_fits_in_64_kb_with_full_history_and_training_metrics(seed_stepper):
    for _ in range(3 * N_PHASES):
        assert len(seed_stepper.to_bytes()) <= 64 * 1024, seed_stepper.phase
        seed_stepper.step()
    train(seed_stepper, samples=2000, batch_size=4, evaluate_at_end=True)
    train(seed_stepper, samples=2000, batch_size=4, evaluate_at_end=True)
    seed_stepper.step(N_PHASES + 2)  # history full again
    assert len(seed_stepper.history) == HISTORY_SAMPLES
    assert len(seed_stepper.to_bytes()) <= 64 * 1024


def test_state_stops_growing_once_the_history_is_full(seed_stepper):
    sizes = [len(seed_stepper.to_bytes())]  # fresh: no history yet
    for _ in range(6):
        seed_stepper.step(N_PHASES)
        sizes.append(len(seed_stepper.to_bytes()))
    assert sizes[0] < sizes[1]
    assert max(sizes[1:]) - min(sizes[1:]) < 64  # only the header's numbers change length


# ----------------------------------------------------------------------- set_params


def test_set_params_rejects_unknown_names_wrong_shapes_and_non_finite_values(seed_stepper):
    seed_stepper.step_to("loss")
    before = _copy(seed_stepper)
    good = np.zeros((1, 5, 5))
    cases = [
        ({"conv.b": np.zeros(1)}, "conv.b"),
        ({"w1cnn_typo": good}, "w1cnn_typo"),
        ({"conv.w": np.zeros((5, 5))}, "conv.w"),
        ({"fc1.w": np.zeros((80, 25))}, "fc1.w"),
        ({"conv.w": good, "fc2.w": np.full((80, 10), np.nan)}, "fc2.w"),
        ({"fc2.w": np.full((80, 10), np.inf)}, "fc2.w"),
    ]
    for values, field in cases:
        with pytest.raises(ParamError) as err:
            seed_stepper.set_params(values)
        assert err.value.field == field and field in err.value.message
        _assert_same(_copy(seed_stepper), before)  # nothing was set, not even `good`
    with pytest.raises(ParamError) as err:
        seed_stepper.set_params({"conv.w": np.zeros((5, 5))})
    assert "[1, 5, 5]" in err.value.message and "[5, 5]" in err.value.message


def test_set_params_goes_to_input_and_recomputes_with_the_new_values(seed_stepper):
    seed_stepper.step_to("backward.fc1")
    kernel = np.arange(25.0).reshape(1, 5, 5) / 100
    changed = seed_stepper.set_params({"conv.w": kernel.tolist()})  # nested lists are fine
    assert changed == ["params.conv.w"]
    assert seed_stepper.phase == "input"
    seed_stepper.step_to("loss")
    t = seed_stepper.tensors()
    assert np.array_equal(t["params.conv.w"], kernel)
    params = {name[len("params."):]: v for name, v in t.items() if name.startswith("params.")}
    expected = network.loss_of(seed_stepper.config, params, t["x"][None], t["target"][None])
    assert float(t["loss"]) == expected
    kernel[0, 0, 0] = 99.0  # the stepper keeps its own copy
    assert seed_stepper.tensors()["params.conv.w"][0, 0, 0] == 0.0


# ---------------------------------------------------------------- set_input, load_sample


def test_set_input_with_custom_pixels_goes_to_input(seed_stepper):
    seed_stepper.step_to("loss")
    pixels = np.zeros((14, 14))
    pixels[3:11, 6:8] = 1.0
    seed_stepper.set_input(pixels, 1)
    assert seed_stepper.cursor == {"phase": "input", "index": 0,
                                   "sample": {"source": "custom", "index": None, "label": 1}}
    assert np.array_equal(seed_stepper.tensors()["x"], pixels)
    assert seed_stepper.tensors()["target"].tolist() == np.eye(10)[1].tolist()
    pixels[0, 0] = 0.5  # the stepper keeps its own copy
    assert seed_stepper.tensors()["x"][0, 0] == 0.0
    seed_stepper.step_to("backward.conv")
    assert np.isfinite(seed_stepper.tensors()["input.grad"]).all()


@pytest.mark.parametrize("pixels,label,field", [
    (np.zeros((28, 28)), 3, "pixels"),
    (np.zeros((14, 13)), 3, "pixels"),
    (np.full((14, 14), np.nan), 3, "pixels"),
    (np.zeros((14, 14)), 10, "label"),
    (np.zeros((14, 14)), -1, "label"),
    (np.zeros((14, 14)), True, "label"),
    (np.zeros((14, 14)), 3.0, "label"),
    (np.zeros((14, 14)), "3", "label"),
])
def test_set_input_rejects_bad_pixels_and_labels(seed_stepper, pixels, label, field):
    seed_stepper.step_to("loss")
    before = _copy(seed_stepper)
    with pytest.raises(DatasetError) as err:
        seed_stepper.set_input(pixels, label)
    assert err.value.field == field
    _assert_same(_copy(seed_stepper), before)


def test_set_input_after_update_starts_a_new_sample_with_updated_params(seed_stepper):
    seed_stepper.step_to("update")
    at_update = _copy(seed_stepper)
    updated = seed_stepper.current_params()
    seed_stepper.set_input(np.zeros((14, 14)), 4)
    for name, value in updated.items():
        assert np.array_equal(seed_stepper.tensors()[f"params.{name}"], value)
    seed_stepper.back()
    _assert_same(_copy(seed_stepper), at_update)


def test_load_sample_takes_a_dataset_digit(seed_stepper):
    seed_stepper.step_to("forward.fc1")
    seed_stepper.load_sample("mnist14", 42)
    x, label = dataset_for_size(14).sample(42)
    assert seed_stepper.cursor["sample"] == {"source": "mnist14", "index": 42, "label": label}
    assert seed_stepper.phase == "input"
    assert np.array_equal(seed_stepper.tensors()["x"], x)


@pytest.mark.parametrize("dataset,index,field", [("mnist28", 1, "dataset"),
                                                 ("mnist14", 10000, "index"),
                                                 ("mnist14", -1, "index"),
                                                 ("fashion", 1, "dataset")])
def test_load_sample_rejects_other_sizes_and_bad_indices(seed_stepper, dataset, index, field):
    with pytest.raises(DatasetError) as err:
        seed_stepper.load_sample(dataset, index)
    assert err.value.field == field


def test_load_sample_of_28_pixel_digits_for_input_28():
    stepper = Stepper.create(make_config("seed", {"input_size": 28}), seed=0)
    assert stepper.sample.source == "mnist28" and stepper.sample.x.shape == (28, 28)
    stepper.load_sample("mnist28", 9)
    assert np.array_equal(stepper.tensors()["x"], dataset_for_size(28).sample(9)[0])


# ---------------------------------------------------------------------------- diverged


def _diverging_stepper():
    """ReLU, η = 10, and weights so large that ∂E/∂w2 ≈ 1e308: the update overflows."""
    config = make_config("seed", {"activation": "relu", "output": "softmax-ce",
                                  "learning_rate": 10})
    stepper = Stepper.create(config, seed=0)
    stepper.set_params({"conv.w": np.ones((1, 5, 5))})
    stepper.step_to("forward.act")
    total = float(stepper.tensors()["act.out"].sum())
    stepper.set_params({"fc1.w": np.full((25, 80), 1e308 / total),
                        "fc2.w": np.full((80, 10), 1e-10)})
    stepper.step_to("backward.conv")
    assert all(np.isfinite(v).all() for v in stepper.tensors().values())  # forward is fine
    return stepper


@pytest.mark.filterwarnings("ignore:overflow encountered:RuntimeWarning")
def test_divergence_raises_marks_the_session_and_refuses_further_updates():
    stepper = _diverging_stepper()
    with pytest.raises(DivergedError):
        stepper.step()
    assert stepper.diverged
    assert stepper.phase == "backward.conv" and stepper.counters["updates"] == 0
    tensors = stepper.tensors()
    assert all(np.isfinite(v).all() for v in tensors.values())
    with pytest.raises(DivergedError) as err:
        stepper.step()
    assert "diverged" in err.value.message
    restored = Stepper.from_bytes(stepper.to_bytes())
    assert restored.diverged
    with pytest.raises(DivergedError):
        restored.step_to("update")
    stepper.back(3)  # looking back is still allowed
    assert stepper.phase == "backward.fc1"


@pytest.mark.filterwarnings("ignore:overflow encountered:RuntimeWarning")
def test_setting_finite_parameters_clears_divergence():
    stepper = _diverging_stepper()
    with pytest.raises(DivergedError):
        stepper.step()
    stepper.set_params(network.init_params(stepper.config, 0))
    assert not stepper.diverged
    stepper.step_to("update")
    assert stepper.counters["updates"] == 1


# -------------------------------------------------------------------------------- fork


def test_fork_is_an_equal_independent_copy(seed_stepper):
    seed_stepper.step(N_PHASES + 5)
    fork = seed_stepper.fork()
    assert fork is not seed_stepper
    assert fork.to_bytes() == seed_stepper.to_bytes()
    _assert_same(_copy(fork), _copy(seed_stepper))
    before = _copy(seed_stepper)
    fork.step(N_PHASES)
    fork.set_params({"conv.w": np.zeros((1, 5, 5))})
    fork.metrics["loss"].append({"samples_seen": 1, "value": 1.0})
    _assert_same(_copy(seed_stepper), before)
    assert seed_stepper.metrics["loss"] == []


def test_copy_is_independent_and_steps_like_the_original(seed_stepper):
    seed_stepper.step_to("forward.fc2")
    seed_stepper.tensors()  # the current pass is computed and carried into the copy
    before = seed_stepper.to_bytes()
    twin = seed_stepper.copy()
    twin.step(N_PHASES + 2)
    assert seed_stepper.to_bytes() == before
    assert set(seed_stepper.tensors()) == set(Stepper.from_bytes(before).tensors())
    seed_stepper.step(N_PHASES + 2)
    assert twin.to_bytes() == seed_stepper.to_bytes()
    for name, value in seed_stepper.tensors().items():
        assert np.array_equal(twin.tensors()[name], value)
