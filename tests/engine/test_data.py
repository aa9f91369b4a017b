"""The bundled MNIST copy and its loader (engine/data.py, scripts/build_data.py)."""

import gzip
import importlib.util
import struct
from pathlib import Path

import numpy as np
import pytest

from engine.data import (
    DATA_FILE,
    DATASETS,
    HELDOUT,
    TRAIN,
    dataset_for_size,
    load_dataset,
)
from engine.errors import DatasetError

REPO = Path(__file__).resolve().parents[2]
SHARED_MNIST = REPO.parent / "shared" / "data" / "mnist"
LABEL_COUNTS = [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]
FIRST_TEN = [7, 2, 1, 0, 4, 1, 4, 9, 5, 9]


def _build_module():
    spec = importlib.util.spec_from_file_location("build_data", REPO / "scripts" / "build_data.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def d14():
    return load_dataset("mnist14")


@pytest.fixture(scope="module")
def d28():
    return load_dataset("mnist28")


def test_bundled_file_is_small_and_credited():
    assert DATA_FILE.exists()
    assert DATA_FILE.stat().st_size < 2_100_000
    attribution = (DATA_FILE.parent / "ATTRIBUTION.md").read_text(encoding="utf-8")
    for needle in ("Yann LeCun", "Corinna Cortes", "Burges", "CC BY-SA 3.0", "0–7999", "8000–9999"):
        assert needle in attribution


@pytest.mark.parametrize("name", DATASETS)
def test_dataset_is_the_real_mnist_test_set(name):
    ds = load_dataset(name)
    assert np.bincount(ds.labels, minlength=10).tolist() == LABEL_COUNTS
    assert ds.labels[:10].tolist() == FIRST_TEN
    assert len(ds) == 10_000


@pytest.mark.parametrize(("name", "size"), [("mnist14", 14), ("mnist28", 28)])
def test_shapes_dtypes_and_value_range(name, size):
    ds = load_dataset(name)
    assert ds.name == name and ds.size == size
    assert ds.images.shape == (10_000, size, size) and ds.images.dtype == np.float64
    assert ds.labels.shape == (10_000,) and ds.labels.dtype == np.int64
    assert ds.images.min() == 0.0 and ds.images.max() == 1.0
    assert set(np.unique(ds.labels).tolist()) == set(range(10))


def test_mnist14_is_exactly_the_2x2_mean_of_the_uint8_pixels(d14, d28):
    u8 = np.rint(d28.images * 255).astype(np.int64)
    assert np.array_equal(u8 / 255.0, d28.images)  # mnist28 is u8/255 exactly
    expected = u8.reshape(-1, 14, 2, 14, 2).sum(axis=(2, 4)) / 4.0 / 255.0
    assert np.array_equal(d14.images, expected)
    float_mean = d28.images.reshape(-1, 14, 2, 14, 2).mean(axis=(2, 4))
    assert np.abs(d14.images - float_mean).max() < 1e-15


def test_splits_cover_the_set_without_overlap(d14):
    assert TRAIN == range(0, 8000) and HELDOUT == range(8000, 10000)
    assert d14.indices("train") == TRAIN
    assert d14.indices("heldout") == HELDOUT
    assert d14.indices("all") == range(10_000)
    assert len(d14.indices("train")) == 8000 and len(d14.indices("heldout")) == 2000
    assert set(TRAIN).isdisjoint(HELDOUT)


def test_unknown_split_is_refused(d14):
    with pytest.raises(DatasetError) as err:
        d14.indices("test")
    assert err.value.field == "split"
    assert "heldout" in err.value.message


def test_sample_returns_a_copy_and_an_int_label(d14):
    x, label = d14.sample(0)
    assert label == 7 and type(label) is int
    assert x.shape == (14, 14) and x.dtype == np.float64
    x[:] = -1
    assert d14.images[0].min() == 0.0


def test_sample_accepts_numpy_integers(d28):
    x, label = d28.sample(np.int64(1))
    assert label == 2 and x.shape == (28, 28)


def test_images_are_read_only(d14):
    with pytest.raises(ValueError):
        d14.images[0, 0, 0] = 1.0
    with pytest.raises(ValueError):
        d14.labels[0] = 3


@pytest.mark.parametrize("index", [-1, 10_000, 10**9])
def test_sample_out_of_range_is_refused(d14, index):
    with pytest.raises(DatasetError) as err:
        d14.sample(index)
    assert err.value.field == "index"
    assert "0 to 9999" in err.value.message


@pytest.mark.parametrize("index", [1.5, "3", None, True])
def test_sample_non_integer_is_refused(d14, index):
    with pytest.raises(DatasetError) as err:
        d14.sample(index)
    assert err.value.field == "index"


def test_unknown_dataset_names_the_valid_ones():
    with pytest.raises(DatasetError) as err:
        load_dataset("fashion")
    assert err.value.field == "dataset"
    assert "mnist14" in err.value.message and "mnist28" in err.value.message


def test_load_dataset_is_cached():
    assert load_dataset("mnist14") is load_dataset("mnist14")


def test_dataset_for_size():
    assert dataset_for_size(14) is load_dataset("mnist14")
    assert dataset_for_size(28) is load_dataset("mnist28")
    with pytest.raises(DatasetError) as err:
        dataset_for_size(20)
    assert err.value.field == "size"


def test_find_returns_next_index_with_that_label(d14):
    assert d14.find(7) == 0
    assert d14.find(2) == 1
    assert d14.find(7, 1) == 17  # next 7 after index 0
    for label in range(10):
        for start in (0, 123, 8000):
            i = d14.find(label, start)
            assert d14.labels[i] == label
            assert i >= start
            assert not (d14.labels[start:i] == label).any()


def test_find_wraps_past_the_end(d14):
    last = int(d14.labels[-1])
    other = (last + 1) % 10
    assert d14.find(other, 9999) == int(np.argmax(d14.labels == other))
    assert d14.find(last, 9999) == 9999
    assert d14.find(3, 10_000) == d14.find(3, 0)


@pytest.mark.parametrize("label", [-1, 10, 2.0, "3", True])
def test_find_refuses_bad_labels(d14, label):
    with pytest.raises(DatasetError) as err:
        d14.find(label)
    assert err.value.field == "label"


@pytest.mark.skipif(not SHARED_MNIST.exists(), reason="shared MNIST source not present")
def test_build_script_reproduces_the_bundled_arrays(tmp_path):
    build = _build_module()
    npz = build.build(SHARED_MNIST, tmp_path)
    with np.load(npz) as fresh, np.load(DATA_FILE) as bundled:
        assert fresh["images28"].dtype == np.uint8 and fresh["labels"].dtype == np.uint8
        assert np.array_equal(fresh["images28"], bundled["images28"])
        assert np.array_equal(fresh["labels"], bundled["labels"])
    assert (tmp_path / "ATTRIBUTION.md").exists()


def test_build_script_refuses_a_wrong_magic_number(tmp_path):
    build = _build_module()
    bad = tmp_path / "labels.gz"
    bad.write_bytes(gzip.compress(struct.pack(">II", 2051, 10_000) + bytes(10_000)))
    with pytest.raises(ValueError, match="magic"):
        build.read_idx_labels(bad)


def test_build_script_refuses_wrong_label_counts():
    build = _build_module()
    images = np.zeros((10_000, 28, 28), dtype=np.uint8)
    labels = np.zeros(10_000, dtype=np.uint8)
    with pytest.raises(ValueError, match="label counts"):
        build.verify(images, labels)
