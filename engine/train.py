"""Training: per-sample SGD (the articles' way) and vectorised mini-batch SGD.

Both run the same phase functions as the stepper (`network.run`), on a batch of
N samples: N = 1 is the articles' per-sample SGD; N > 1 averages the gradient
over the batch. The layers are vectorised (im2col, no Python loop over
positions), so a batch costs little more than one sample.
"""

import math
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from . import network
from .config import Config
from .data import HELDOUT, TRAIN, dataset_for_size
from .errors import DivergedError, EngineError
from .stepper import Stepper, order_index

MAX_LOSS_POINTS = 200  # loss curve points kept per session (older ones are merged)
MAX_KERNEL_SNAPSHOTS = 12
MAX_TRAIN_SAMPLES = 10 * len(TRAIN)


@dataclass
class Progress:
    done: int
    total: int
    loss: float  # mean loss over the last recorded stretch
    elapsed: float


def sample_count(samples: int | None, epochs: float | None,
                 limit: int = MAX_TRAIN_SAMPLES) -> int:
    """How many samples a run of `samples` or `epochs` trains; at most `limit`."""
    if (samples is None) == (epochs is None):
        raise EngineError("give either samples or epochs", "samples")
    total = samples if samples is not None else round(epochs * len(TRAIN))
    if isinstance(total, bool) or not isinstance(total, int) or not 1 <= total <= limit:
        raise EngineError(f"a training run may have 1 to {limit} samples "
                          f"(an epoch is {len(TRAIN)}); this asks for {total}",
                          "samples" if samples is not None else "epochs")
    return total


def evaluate(config: Config, params: dict, split: range = HELDOUT, worst: int = 12) -> dict:
    """Accuracy, 10×10 confusion matrix (true rows, predicted columns) and the
    worst-classified digits (lowest output for the true class)."""
    data = dataset_for_size(config.input_size)
    idx = np.asarray(split)
    outputs = np.concatenate([network.predict(config, params, data.images[chunk])
                              for chunk in np.array_split(idx, max(1, len(idx) // 500))])
    labels = data.labels[idx]
    predicted = outputs.argmax(axis=1)
    confusion = np.zeros((10, 10), dtype=np.int64)
    np.add.at(confusion, (labels, predicted), 1)
    truth_score = outputs[np.arange(len(idx)), labels]
    order = np.argsort(truth_score, kind="stable")[:worst]
    return {
        "accuracy": float((predicted == labels).mean()),
        "confusion": confusion.tolist(),
        "worst": [{"index": int(idx[i]), "label": int(labels[i]),
                   "predicted": int(predicted[i]), "score": float(truth_score[i])}
                  for i in order],
    }


def _record_loss(metrics: dict, samples_seen: int, value: float) -> None:
    points = metrics["loss"]
    # display data: 6 significant digits keep the stored session small (64 KB for the seed)
    points.append({"samples_seen": samples_seen, "value": float(f"{value:.6g}")})
    if len(points) > MAX_LOSS_POINTS:  # merge neighbouring pairs to keep the curve bounded
        merged = [{"samples_seen": b["samples_seen"],
                   "value": float(f"{(a['value'] + b['value']) / 2:.6g}")}
                  for a, b in zip(points[0::2], points[1::2], strict=False)]
        if len(points) % 2:
            merged.append(points[-1])
        metrics["loss"] = merged


def _record_kernel(metrics: dict, samples_seen: int, kernel: np.ndarray) -> None:
    snaps = metrics["kernels"]
    snaps.append({"samples_seen": samples_seen,
                  "conv.w": np.vectorize(lambda v: float(f"{v:.6g}"))(kernel).tolist()})
    if len(snaps) > MAX_KERNEL_SNAPSHOTS:
        del snaps[1]  # keep the first (the untrained kernel) and thin out the middle


def train(stepper: Stepper, *, samples: int | None = None, epochs: float | None = None,
          batch_size: int = 1, progress: Callable[[Progress], None] | None = None,
          should_stop: Callable[[], bool] | None = None, evaluate_at_end: bool = True) -> dict:
    """Train the stepper's network from its current parameters on the next samples of its
    order. Afterwards the cursor is at `input` of the next sample; the step history is
    cleared (it cannot reach across a training run). Returns a summary."""
    total = sample_count(samples, epochs)
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or not 1 <= batch_size <= 512:
        raise EngineError("batch_size must be an integer in 1..512", "batch_size")
    if stepper.diverged:
        raise DivergedError("this session diverged; it refuses further updates")
    config, data = stepper.config, dataset_for_size(stepper.config.input_size)
    params = stepper.current_params() if stepper.phase == "update" else stepper.params
    position = stepper.position + (stepper.phase == "update")
    metrics = stepper.metrics
    seen0 = stepper.samples_seen
    record_every = max(batch_size, total // 100)
    kernel_every = max(batch_size, total // 8)
    if not metrics["kernels"]:
        _record_kernel(metrics, seen0, params["conv.w"])
    done, updates, stretch, stretch_n, started = 0, 0, 0.0, 0, time.perf_counter()
    last_report, stopped, error = 0.0, False, None
    while done < total:
        if should_stop is not None and should_stop():
            stopped = True
            break
        n = min(batch_size, total - done)
        idx = [order_index(config, stepper.seed, position + i) for i in range(n)]
        ps = network.run(network.Pass(config, params, data.images[idx],
                                      network.one_hot(data.labels[idx]), input_grad=False))
        loss = ps.tensors["loss"]
        if not (np.isfinite(loss).all() and all(np.isfinite(v).all()
                                                 for v in ps.new_params.values())):
            error = "the network diverged (NaN/Inf); lower the learning rate"
            stepper.diverged = True
            break
        params, position, done, updates = ps.new_params, position + n, done + n, updates + 1
        stretch, stretch_n = stretch + float(loss.sum()), stretch_n + n
        if done % record_every < n or done == total:
            _record_loss(metrics, seen0 + done, stretch / stretch_n)
            stretch, stretch_n = 0.0, 0
        if done % kernel_every < n or done == total:
            _record_kernel(metrics, seen0 + done, params["conv.w"])
        now = time.perf_counter()
        if progress is not None and (now - last_report > 0.1 or done == total):
            last_report = now
            last = metrics["loss"][-1]["value"] if metrics["loss"] else math.nan
            progress(Progress(done, total, last, now - started))
    elapsed = time.perf_counter() - started
    _finish(stepper, params, position, done, updates)
    summary = {"done": done, "total": total, "stopped": stopped, "error": error,
               "elapsed": elapsed, "samples_per_s": done / elapsed if elapsed else 0.0}
    if evaluate_at_end and error is None:
        summary.update(evaluate_into(stepper))
    return summary


def _finish(stepper: Stepper, params: dict, position: int, done: int, updates: int) -> None:
    """Put the trained parameters into the stepper, at `input` of the next sample."""
    stepper.params = params
    stepper.position = position
    stepper.samples_seen += done
    stepper.updates += updates
    stepper.history = []
    stepper.phase_index = 0
    stepper.sample = stepper._dataset_sample(order_index(stepper.config, stepper.seed, position))
    stepper._invalidate()


def evaluate_into(stepper: Stepper) -> dict:
    """Evaluate on the held-out digits and keep the result in the session's metrics."""
    result = evaluate(stepper.config, stepper.current_params())
    metrics = stepper.metrics
    metrics["accuracy"].append({"samples_seen": stepper.samples_seen,
                                "value": result["accuracy"]})
    metrics["confusion"], metrics["worst"] = result["confusion"], result["worst"]
    return result
