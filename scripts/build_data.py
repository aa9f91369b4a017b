"""Build the bundled dataset ``engine/data/mnist.npz`` from the MNIST test set.

Usage::

    python scripts/build_data.py [SRC_DIR] [--out engine/data]

SRC_DIR holds the published IDX files (gzip) ``t10k-images-idx3-ubyte.gz`` and
``t10k-labels-idx1-ubyte.gz``; it defaults to ``../shared/data/mnist`` relative to
the repository root. The script checks that the copy is the real set (magic
numbers, counts, label counts per digit, first ten labels), then writes

- ``mnist.npz`` (``np.savez_compressed``): ``images28`` uint8 (10000, 28, 28) and
  ``labels`` uint8 (10000,), the original pixels unchanged;
- ``ATTRIBUTION.md``: credit, licence, and how the copy was made.

The 14×14 input of the seed network is not stored: ``engine/data.py`` computes it
exactly from the uint8 pixels at load time (2×2 block mean).
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import struct
import sys
from pathlib import Path

import numpy as np

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_SRC = REPO_ROOT.parent / "shared" / "data" / "mnist"
DEFAULT_OUT = REPO_ROOT / "engine" / "data"

IMAGES_FILE = "t10k-images-idx3-ubyte.gz"
LABELS_FILE = "t10k-labels-idx1-ubyte.gz"
IMAGES_MAGIC = 2051
LABELS_MAGIC = 2049
COUNT = 10_000
ROWS = COLS = 28
# The checks of data/README.md that prove a copy is the real MNIST test set.
EXPECTED_LABEL_COUNTS = [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]
EXPECTED_FIRST_LABELS = [7, 2, 1, 0, 4, 1, 4, 9, 5, 9]


def read_idx_images(path: Path) -> np.ndarray:
    """Read an IDX3 image file (gzip) into uint8 (n, rows, cols), checking its header."""
    raw = gzip.decompress(path.read_bytes())
    # IDX header: four big-endian uint32 — magic, count, rows, cols.
    magic, n, rows, cols = struct.unpack(">IIII", raw[:16])
    if magic != IMAGES_MAGIC:
        raise ValueError(f"{path}: magic {magic}, expected {IMAGES_MAGIC}")
    if (n, rows, cols) != (COUNT, ROWS, COLS):
        raise ValueError(f"{path}: header says {n}×{rows}×{cols}, expected {COUNT}×28×28")
    if len(raw) != 16 + n * rows * cols:
        raise ValueError(f"{path}: {len(raw) - 16} pixel bytes, expected {n * rows * cols}")
    return np.frombuffer(raw, dtype=np.uint8, offset=16).reshape(n, rows, cols).copy()


def read_idx_labels(path: Path) -> np.ndarray:
    """Read an IDX1 label file (gzip) into uint8 (n,), checking its header."""
    raw = gzip.decompress(path.read_bytes())
    # IDX header: two big-endian uint32 — magic, count.
    magic, n = struct.unpack(">II", raw[:8])
    if magic != LABELS_MAGIC:
        raise ValueError(f"{path}: magic {magic}, expected {LABELS_MAGIC}")
    if n != COUNT:
        raise ValueError(f"{path}: header says {n} labels, expected {COUNT}")
    if len(raw) != 8 + n:
        raise ValueError(f"{path}: {len(raw) - 8} label bytes, expected {n}")
    return np.frombuffer(raw, dtype=np.uint8, offset=8).copy()


def verify(images: np.ndarray, labels: np.ndarray) -> None:
    """Raise ValueError unless the arrays pass the checks of data/README.md."""
    if images.shape != (COUNT, ROWS, COLS) or labels.shape != (COUNT,):
        raise ValueError(f"shapes {images.shape}, {labels.shape}")
    if labels.max() > 9:
        raise ValueError(f"label {labels.max()} out of 0..9")
    counts = np.bincount(labels, minlength=10).tolist()
    if counts != EXPECTED_LABEL_COUNTS:
        raise ValueError(f"label counts {counts}, expected {EXPECTED_LABEL_COUNTS}")
    first = labels[:10].tolist()
    if first != EXPECTED_FIRST_LABELS:
        raise ValueError(f"first ten labels {first}, expected {EXPECTED_FIRST_LABELS}")


def attribution_text(src: Path, hashes: dict[str, str]) -> str:
    """The ATTRIBUTION.md shipped next to the derived copy."""
    return f"""# Data attribution

`mnist.npz` is a derived copy of the **MNIST database of handwritten digits**
by **Yann LeCun, Corinna Cortes and Christopher J.C. Burges**, licensed under
**CC BY-SA 3.0** (<https://creativecommons.org/licenses/by-sa/3.0/>). This
derived copy is distributed under the same licence.

## What it contains

The 10,000 digits of the MNIST *test set* (`t10k`), unchanged:

- `images28`: uint8, shape (10000, 28, 28), the original pixels (0 = background);
- `labels`: uint8, shape (10000,), the digit 0–9 of each image.

The 14×14 input the seed network reads (`mnist14`) is not stored: `engine/data.py`
computes it at load time as the mean of each 2×2 block of the uint8 pixels,
divided by 255. `mnist28` is the uint8 pixels divided by 255.

## Split

- digits 0–7999: training split;
- digits 8000–9999: held-out split.

## How it was built

`python scripts/build_data.py` read the published IDX files
`{IMAGES_FILE}` and `{LABELS_FILE}` (from `{src.name}/`), checked the
magic numbers ({IMAGES_MAGIC}, {LABELS_MAGIC}), the counts (10,000 images of
28×28, 10,000 labels), the label counts per digit
`{EXPECTED_LABEL_COUNTS}` and the first ten labels
`{" ".join(map(str, EXPECTED_FIRST_LABELS))}`, then saved the arrays with
`numpy.savez_compressed`.

SHA-256 of the input files and of the saved arrays' raw bytes (the npz itself
carries zip timestamps, so its own hash changes from build to build):

""" + "".join(f"- {name}: `{digest}`\n" for name, digest in hashes.items())


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def build(src: Path, out: Path) -> Path:
    """Read and verify the IDX files in ``src``; write mnist.npz and ATTRIBUTION.md to ``out``."""
    images = read_idx_images(src / IMAGES_FILE)
    labels = read_idx_labels(src / LABELS_FILE)
    verify(images, labels)
    out.mkdir(parents=True, exist_ok=True)
    npz = out / "mnist.npz"
    np.savez_compressed(npz, images28=images, labels=labels)
    hashes = {
        f"`{IMAGES_FILE}`": sha256((src / IMAGES_FILE).read_bytes()),
        f"`{LABELS_FILE}`": sha256((src / LABELS_FILE).read_bytes()),
        "`images28` array bytes": sha256(images.tobytes()),
        "`labels` array bytes": sha256(labels.tobytes()),
    }
    attribution = attribution_text(src, hashes)
    (out / "ATTRIBUTION.md").write_text(attribution, encoding="utf-8")
    return npz


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "src",
        nargs="?",
        type=Path,
        default=DEFAULT_SRC,
        help=f"folder with the IDX gzip files (default {DEFAULT_SRC})",
    )
    parser.add_argument(
        "--out", type=Path, default=DEFAULT_OUT, help=f"output folder (default {DEFAULT_OUT})"
    )
    args = parser.parse_args(argv)
    try:
        npz = build(args.src, args.out)
    except (OSError, ValueError) as exc:
        print(f"build_data: {exc}", file=sys.stderr)
        return 1
    print(f"wrote {npz} ({npz.stat().st_size:,} bytes) and {args.out / 'ATTRIBUTION.md'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
