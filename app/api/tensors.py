"""Tensors as JSON: `{"shape": [...], "data": [...]}`, flat, row-major, plain lists."""

import json

import numpy as np
from fastapi.responses import Response

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


def fast_json(payload: dict, status_code: int = 200) -> Response:
    """JSON without FastAPI's per-value re-encoding (hot routes carry thousands of floats).
    `allow_nan=False`: a NaN or Inf can never leave the server."""
    body = json.dumps(payload, allow_nan=False, separators=(",", ":"))
    return Response(body, status_code=status_code, media_type="application/json")
