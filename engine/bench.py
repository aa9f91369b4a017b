"""Benchmark figures (`backprop-lens bench`): medians over repeated timings, in process."""

import statistics
import time

import numpy as np

from . import network
from .config import make_config
from .data import TRAIN, dataset_for_size
from .stepper import Stepper
from .train import train


def _median_us(fn, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times) * 1e6


def step_us(repeats: int = 2000) -> float:
    """Median µs of one per-sample SGD step (forward, backward, update) of the seed preset."""
    config = make_config("seed")
    data = dataset_for_size(14)
    params = network.init_params(config, 0)
    x, d = data.images[:1], network.one_hot(data.labels[:1])

    def one_step():
        nonlocal params
        params = network.run(network.Pass(config, params, x, d, input_grad=False)).new_params

    one_step()
    return _median_us(one_step, repeats)


def phase_us(repeats: int = 2600) -> float:
    """Median µs of one phase step through the stepper (pool table recorded at its phase)."""
    stepper = Stepper.create(make_config("seed"), 0)

    def one_phase():
        stepper.step()
        if stepper.phase == "forward.pool":
            stepper.pool_table()

    return _median_us(one_phase, repeats)


def train_samples_per_s(batch_size: int, samples: int = len(TRAIN)) -> float:
    stepper = Stepper.create(make_config("seed"), 0)
    t0 = time.perf_counter()
    train(stepper, samples=samples, batch_size=batch_size, evaluate_at_end=False)
    return samples / (time.perf_counter() - t0)


def run(quick: bool = False) -> dict:
    """All figures; `quick` uses fewer repetitions (for tests of the command itself)."""
    scale = 20 if quick else 1
    return {
        "step_us": round(step_us(2000 // scale), 2),
        "phase_us": round(phase_us(2600 // scale), 2),
        "train_samples_per_s": round(train_samples_per_s(32, len(TRAIN) // scale), 1),
        "train_b1_samples_per_s": round(train_samples_per_s(1, len(TRAIN) // scale), 1),
        "numpy": np.__version__,
    }
