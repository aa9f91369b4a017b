"""The bundled MNIST digits, as network inputs (MATH.md §1, row "input").

``engine/data/mnist.npz`` holds the 10,000 digits of the MNIST test set as
uint8 28×28 images with their labels (built by ``scripts/build_data.py``; see
``engine/data/ATTRIBUTION.md``). Two datasets are derived from it at load time:

- ``mnist14``: the seed network's input. Each 2×2 block of the 28×28 uint8 image
  is averaged and scaled to [0, 1]: ``x14[r, c] = (u[2r,2c] + u[2r,2c+1] +
  u[2r+1,2c] + u[2r+1,2c+1]) / 4 / 255``, computed from the integers so the value
  is exact (one rounding).
- ``mnist28``: the original pixels scaled to [0, 1]: ``x28 = u / 255``.

Digits 0–7999 are the training split (``TRAIN``), 8000–9999 the held-out split
(``HELDOUT``).

Usage::

    ds = load_dataset("mnist14")
    x, label = ds.sample(0)        # x: float64 (14, 14), label: 7
    i = ds.find(3)                 # index of the first 3
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from engine.errors import DatasetError

DATASETS = ("mnist14", "mnist28")
TRAIN = range(0, 8000)
HELDOUT = range(8000, 10000)
SPLITS = {"train": TRAIN, "heldout": HELDOUT, "all": range(0, 10000)}

DATA_FILE = Path(__file__).resolve().parent / "data" / "mnist.npz"
_SIZES = {"mnist14": 14, "mnist28": 28}


@dataclass(frozen=True, eq=False)
class Dataset:
    """One input size of the bundled digits.

    Attributes:
        name: ``"mnist14"`` or ``"mnist28"``.
        size: side of each image, 14 or 28.
        images: float64 (10000, size, size), values in [0, 1], read-only.
        labels: int64 (10000,), digits 0–9, read-only.
    """

    name: str
    size: int
    images: np.ndarray
    labels: np.ndarray

    def __len__(self) -> int:
        return len(self.labels)

    def _check_index(self, index, field: str = "index") -> int:
        # bool is an int subclass; True as an index is a mistake, not digit 1.
        if isinstance(index, bool) or not isinstance(index, int | np.integer):
            raise DatasetError(
                f"{field} must be an integer, got {type(index).__name__} {index!r}", field=field
            )
        if not 0 <= index < len(self):
            raise DatasetError(
                f"{field} {index} is out of range; use 0 to {len(self) - 1}", field=field
            )
        return int(index)

    def sample(self, index: int) -> tuple[np.ndarray, int]:
        """Return digit ``index`` as ``(x, label)``: x float64 (size, size) copy, label int."""
        i = self._check_index(index)
        return self.images[i].copy(), int(self.labels[i])

    def indices(self, split: str) -> range:
        """The indices of a split: ``"train"`` (0–7999), ``"heldout"`` (8000–9999) or ``"all"``."""
        if split not in SPLITS:
            raise DatasetError(
                f"unknown split {split!r}; use one of {', '.join(SPLITS)}", field="split"
            )
        return SPLITS[split]

    def find(self, label: int, start: int = 0) -> int:
        """Index of the next digit ``label`` at or after ``start``, wrapping past the end.

        ``start`` may be any integer; it is taken modulo the dataset length, so
        ``find(label, i + 1)`` steps to the next one even from the last index.
        """
        if (
            isinstance(label, bool)
            or not isinstance(label, int | np.integer)
            or not (0 <= label <= 9)
        ):
            raise DatasetError(f"label must be an integer 0 to 9, got {label!r}", field="label")
        if isinstance(start, bool) or not isinstance(start, int | np.integer):
            raise DatasetError(f"start must be an integer, got {start!r}", field="start")
        n = len(self)
        start = int(start) % n
        # Search [start, n) then wrap to [0, start); every digit occurs, so one hit exists.
        order = np.concatenate([self.labels[start:], self.labels[:start]])
        return (start + int(np.argmax(order == label))) % n


@lru_cache(maxsize=1)
def _load_raw() -> tuple[np.ndarray, np.ndarray]:
    """The uint8 images (10000, 28, 28) and labels (10000,) from ``mnist.npz``."""
    if not DATA_FILE.exists():
        raise FileNotFoundError(
            f"{DATA_FILE} is missing; build it with `python scripts/build_data.py`"
        )
    with np.load(DATA_FILE) as npz:
        return npz["images28"], npz["labels"]


def _read_only(a: np.ndarray) -> np.ndarray:
    a.setflags(write=False)
    return a


_LOADED: dict[str, Dataset] = {}
_LOAD_LOCK = threading.Lock()


def load_dataset(name: str) -> Dataset:
    """Load dataset ``name`` (one of ``DATASETS``); cached, so every caller shares one copy
    (and threads asking at once wait for one load instead of each loading it)."""
    if name not in _SIZES:
        raise DatasetError(
            f"unknown dataset {name!r}; use one of {', '.join(DATASETS)}", field="dataset"
        )
    if name not in _LOADED:
        with _LOAD_LOCK:
            if name not in _LOADED:
                _LOADED[name] = _load(name)
    return _LOADED[name]


def _load(name: str) -> Dataset:
    u8, labels = _load_raw()
    size = _SIZES[name]
    if size == 28:
        images = u8.astype(np.float64) / 255.0
    else:
        # MATH §1: sum each 2×2 block as integers, then /4/255 — exact up to one rounding.
        sums = u8.reshape(-1, 14, 2, 14, 2).sum(axis=(2, 4), dtype=np.int64)
        images = sums / 4.0 / 255.0
    return Dataset(
        name=name,
        size=size,
        images=_read_only(images),
        labels=_read_only(labels.astype(np.int64)),
    )


def dataset_for_size(size: int) -> Dataset:
    """The dataset whose images are ``size``×``size``: 14 → mnist14, 28 → mnist28."""
    for name, s in _SIZES.items():
        if s == size and not isinstance(size, bool):
            return load_dataset(name)
    raise DatasetError(
        f"no dataset of input size {size!r}; use one of {', '.join(map(str, _SIZES.values()))}",
        field="size",
    )
