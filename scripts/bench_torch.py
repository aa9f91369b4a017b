"""The same seed network in PyTorch (CPU), for the benchmark comparison in the README.

Not part of the app or its tests; run it in an environment that has torch:
    python scripts/bench_torch.py --json
It prints the same keys as `backprop-lens bench --json` (step_us, train_samples_per_s,
train_b1_samples_per_s), measured the same way: float64, plain SGD, lr 0.5.
"""

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from engine.data import dataset_for_size  # noqa: E402

torch.set_default_dtype(torch.float64)


class Seed(torch.nn.Module):
    """conv 5×5 (1 kernel, no bias) → max pool 2×2 → sigmoid → 25 → 80 (σ) → 10 (σ)."""

    def __init__(self):
        super().__init__()
        self.conv = torch.nn.Conv2d(1, 1, 5, bias=False)
        self.fc1 = torch.nn.Linear(25, 80, bias=False)
        self.fc2 = torch.nn.Linear(80, 10, bias=False)

    def forward(self, x):
        h = torch.sigmoid(torch.nn.functional.max_pool2d(self.conv(x), 2)).flatten(1)
        return torch.sigmoid(self.fc2(torch.sigmoid(self.fc1(h))))


def run(threads: int) -> dict:
    torch.set_num_threads(threads)
    data = dataset_for_size(14)
    images = torch.tensor(data.images[:8000, None])
    targets = torch.nn.functional.one_hot(torch.tensor(data.labels[:8000]), 10).double()
    net = Seed()
    opt = torch.optim.SGD(net.parameters(), lr=0.5)

    def step(x, d):
        opt.zero_grad()
        loss = 0.5 * ((net(x) - d) ** 2).sum() / x.shape[0]
        loss.backward()
        opt.step()

    x1, d1 = images[:1], targets[:1]
    for _ in range(50):
        step(x1, d1)
    times = []
    for _ in range(2000):
        t0 = time.perf_counter()
        step(x1, d1)
        times.append(time.perf_counter() - t0)

    def epoch(batch):
        t0 = time.perf_counter()
        for i in range(0, 8000, batch):
            step(images[i:i + batch], targets[i:i + batch])
        return 8000 / (time.perf_counter() - t0)

    return {"step_us": round(statistics.median(times) * 1e6, 2),
            "train_samples_per_s": round(epoch(32), 1),
            "train_b1_samples_per_s": round(epoch(1), 1),
            "torch": torch.__version__, "threads": threads, "numpy": np.__version__}


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--threads", type=int, default=torch.get_num_threads())
    result = run(parser.parse_args().threads)
    print(json.dumps(result))
