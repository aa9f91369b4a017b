"""Tensors as JSON: `{"shape": [...], "data": [...]}`, flat, row-major, plain lists."""

import numpy as np

from engine.notation import to_seed, to_standard


def tensor_json(value: np.ndarray) -> dict:
    array = np.asarray(value)
    return {"shape": list(array.shape), "data": array.ravel().tolist()}


def select(tensors: dict, names: str | None, alias: str | None) -> dict:
    """Pick tensors by name (standard or seed alias); rename to aliases for `alias=seed`."""
    if names:
        wanted = [to_standard(n.strip()) for n in names.split(",") if n.strip()]
        tensors = {n: tensors[n] for n in wanted if n in tensors}
    rename = to_seed if alias == "seed" else (lambda n: n)
    return {rename(name): tensor_json(value) for name, value in tensors.items()}
