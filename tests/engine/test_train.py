"""engine/train.py: training runs the stepper's own phases (per-sample SGD is stepping whole
samples), mini-batches average the gradient, and a run can be watched, stopped and evaluated."""

import numpy as np
import pytest

from engine import network
from engine.config import make_config
from engine.data import HELDOUT, dataset_for_size
from engine.errors import DivergedError, EngineError
from engine.stepper import Stepper, order_index
from engine.train import evaluate, train

N_PHASES = len(network.PHASES)


def _same_params(a, b):
    assert set(a) == set(b)
    for name in a:
        assert np.array_equal(a[name], b[name]), name


@pytest.mark.parametrize("overrides", [{}, {"bias": True, "pool": "avg", "kernels": 2}],
                         ids=["seed", "bias-avg-2k"])
def test_per_sample_sgd_equals_stepping_whole_samples(overrides):
    config = make_config("seed", overrides)
    trained, stepped = Stepper.create(config, 5), Stepper.create(config, 5)
    summary = train(trained, samples=3, evaluate_at_end=False)
    stepped.step(3 * N_PHASES)
    assert summary["done"] == summary["total"] == 3 and not summary["stopped"]
    _same_params(trained.params, stepped.params)
    assert trained.cursor == stepped.cursor
    assert trained.counters == stepped.counters == {"samples_seen": 3, "updates": 3,
                                                    "position": 3}
    assert trained.history == []  # the step history does not reach across a training run


def test_training_from_mid_sample_or_after_update_continues_the_order():
    config = make_config("seed")
    mid, at_update, stepped = (Stepper.create(config, 1) for _ in range(3))
    mid.step_to("loss")  # the current sample has not been learnt yet: it is trained on
    train(mid, samples=2, evaluate_at_end=False)
    at_update.step_to("update")  # its update is done: training starts at the next sample
    train(at_update, samples=1, evaluate_at_end=False)
    stepped.step(2 * N_PHASES)
    for stepper in (mid, at_update):
        _same_params(stepper.params, stepped.params)
        assert stepper.cursor == stepped.cursor and stepper.counters == stepped.counters


def test_mini_batch_gradient_is_the_mean_of_per_sample_gradients():
    config = make_config("seed", {"bias": True, "activation": "tanh"})
    params = network.init_params(config, 2)
    data = dataset_for_size(14)
    idx = [3, 14, 15, 92, 65, 35, 89, 79]
    batch = network.run(network.Pass(config, params, data.images[idx],
                                     network.one_hot(data.labels[idx])))
    singles = [network.run(network.Pass(config, params, data.images[[i]],
                                        network.one_hot(data.labels[[i]]))) for i in idx]
    np.testing.assert_allclose(batch.tensors["loss"],
                               [s.tensors["loss"][0] for s in singles], rtol=1e-13)
    for name in params:
        mean = np.mean([s.tensors[f"grads.{name}"] for s in singles], axis=0)
        np.testing.assert_allclose(batch.tensors[f"grads.{name}"] / len(idx), mean,
                                   rtol=1e-10, atol=1e-15, err_msg=name)
        np.testing.assert_allclose(batch.new_params[name],
                                   params[name] - config.learning_rate * mean,
                                   rtol=1e-12, atol=1e-15, err_msg=name)


def test_train_with_batches_applies_one_update_per_batch():
    config = make_config("seed")
    stepper = Stepper.create(config, 0)
    summary = train(stepper, samples=10, batch_size=4, evaluate_at_end=False)
    assert summary["done"] == 10
    assert stepper.counters == {"samples_seen": 10, "updates": 3, "position": 10}
    params, data = network.init_params(config, 0), dataset_for_size(14)
    for start, n in [(0, 4), (4, 4), (8, 2)]:  # the last batch is the remainder
        idx = [order_index(config, 0, start + i) for i in range(n)]
        params = network.run(network.Pass(config, params, data.images[idx],
                                          network.one_hot(data.labels[idx]))).new_params
    _same_params(stepper.params, params)


def test_progress_reports_are_monotonic_and_end_at_the_total():
    reports = []
    stepper = Stepper.create(make_config("seed"), 0)
    train(stepper, samples=1500, batch_size=1, progress=reports.append,
          evaluate_at_end=False)
    assert reports, "at least the final report"
    done = [r.done for r in reports]
    assert done == sorted(done) and len(set(done)) == len(done)
    assert reports[-1].done == reports[-1].total == 1500
    assert all(r.total == 1500 for r in reports)
    # the loss is that of the last recorded stretch: NaN (no number yet) before the first
    # one is recorded, every 15 samples here
    assert all(r.loss >= 0 if r.done >= 15 else np.isnan(r.loss) or r.loss >= 0
               for r in reports)
    assert np.isfinite(reports[-1].loss)
    assert [r.elapsed for r in reports] == sorted(r.elapsed for r in reports)
    points = stepper.metrics["loss"]
    assert points[-1]["samples_seen"] == 1500
    assert [p["samples_seen"] for p in points] == sorted(p["samples_seen"] for p in points)


def test_should_stop_ends_training_early_in_a_consistent_state():
    calls = []

    def should_stop():
        calls.append(1)
        return len(calls) > 4

    stepper = Stepper.create(make_config("seed"), 0)
    summary = train(stepper, samples=100, should_stop=should_stop)
    assert summary["stopped"] and summary["done"] == 4 < summary["total"] == 100
    assert summary["error"] is None and 0.0 <= summary["accuracy"] <= 1.0
    assert stepper.counters == {"samples_seen": 4, "updates": 4, "position": 4}
    assert stepper.phase == "input" and stepper.history == []
    assert stepper.sample.index == order_index(stepper.config, 0, 4)
    reference = Stepper.create(make_config("seed"), 0)
    train(reference, samples=4, evaluate_at_end=False)
    _same_params(stepper.params, reference.params)
    assert stepper.metrics["accuracy"][-1]["samples_seen"] == 4
    stepper.step_to("update")  # stepping works on from there
    assert stepper.counters["updates"] == 5


def test_evaluate_confusion_counts_every_held_out_digit():
    config = make_config("seed")
    result = evaluate(config, network.init_params(config, 0))
    confusion = np.array(result["confusion"])
    assert confusion.shape == (10, 10) and confusion.sum() == len(HELDOUT) == 2000
    labels = dataset_for_size(14).labels[8000:]
    assert confusion.sum(axis=1).tolist() == np.bincount(labels, minlength=10).tolist()
    assert result["accuracy"] == np.trace(confusion) / 2000
    scores = [w["score"] for w in result["worst"]]
    assert len(scores) == 12 and scores == sorted(scores)
    assert all(w["index"] in HELDOUT and w["label"] == labels[w["index"] - 8000]
               for w in result["worst"])


def test_train_rejects_bad_amounts_and_batch_sizes():
    stepper = Stepper.create(make_config("seed"), 0)
    for kwargs in [{}, {"samples": 0}, {"samples": 10, "epochs": 1}, {"samples": 80001},
                   {"samples": True}, {"samples": 10, "batch_size": 0},
                   {"samples": 10, "batch_size": 513}, {"samples": 10, "batch_size": 2.0}]:
        with pytest.raises(EngineError):
            train(stepper, **kwargs)
    assert stepper.counters == {"samples_seen": 0, "updates": 0, "position": 0}


@pytest.mark.filterwarnings("ignore:overflow encountered:RuntimeWarning")
def test_divergence_stops_training_with_an_error_and_marks_the_session():
    config = make_config("seed", {"activation": "relu", "output": "softmax-ce",
                                  "learning_rate": 10, "order": "sequential"})
    stepper = Stepper.create(config, 0)
    stepper.set_params({"conv.w": np.ones((1, 5, 5))})
    stepper.step_to("forward.act")
    total = float(stepper.tensors()["act.out"].sum())
    huge = {"conv.w": np.ones((1, 5, 5)), "fc1.w": np.full((25, 80), 1e308 / total),
            "fc2.w": np.full((80, 10), 1e-10)}
    stepper.set_params(huge)
    summary = train(stepper, samples=50)
    assert summary["error"] and "diverged" in summary["error"]
    assert summary["done"] == 0 < summary["total"]
    assert "accuracy" not in summary
    assert stepper.diverged
    _same_params(stepper.params, huge)  # the last finite parameters are kept
    with pytest.raises(DivergedError):
        train(stepper, samples=1)
    with pytest.raises(DivergedError):
        stepper.step_to("update")


@pytest.mark.slow
def test_seed_network_learns_to_80_percent_in_one_epoch():
    # MATH §7: the seed network, per-sample SGD over the 8000 training digits in order (the
    # articles' loop), η = 0.5: 82–84% held-out accuracy after one epoch
    stepper = Stepper.create(make_config("seed", {"order": "sequential"}), 0)
    summary = train(stepper, epochs=1)
    assert summary["done"] == 8000 and summary["error"] is None
    assert summary["accuracy"] >= 0.80
    assert stepper.metrics["accuracy"][-1] == {"samples_seen": 8000,
                                               "value": summary["accuracy"]}
    assert stepper.metrics["loss"][-1]["value"] < stepper.metrics["loss"][0]["value"]
    kernels = stepper.metrics["kernels"]
    assert kernels[0]["samples_seen"] == 0 and kernels[-1]["samples_seen"] == 8000
