"""The bundled data: MNIST test-set digits, as 14×14 and 28×28 inputs."""

from typing import Annotated

import numpy as np
from fastapi import APIRouter, Query

from app.api import schemas as s
from app.api.tensors import tensor_json
from engine.data import DATASETS, HELDOUT, TRAIN, load_dataset

router = APIRouter(prefix="/datasets", tags=["datasets"], responses=s.ERRORS)

CREDIT = ("MNIST by Yann LeCun, Corinna Cortes and Christopher J.C. Burges (CC BY-SA 3.0); "
          "the 10,000 test-set digits")


@router.get("", response_model=s.DatasetsOut)
def datasets():
    out = []
    for name in DATASETS:
        data = load_dataset(name)
        out.append({"name": name, "size": data.size, "count": len(data),
                    "train": [TRAIN.start, TRAIN.stop - 1],
                    "heldout": [HELDOUT.start, HELDOUT.stop - 1],
                    "label_counts": np.bincount(data.labels, minlength=10).tolist(),
                    "credit": CREDIT})
    return {"datasets": out}


@router.get("/{name}/samples/{index}", response_model=s.DatasetSample)
def sample(name: str, index: int):
    data = load_dataset(name)
    x, label = data.sample(index)
    return {"dataset": name, "index": index, "label": label,
            "split": "train" if index in TRAIN else "heldout", "x": tensor_json(x)}


@router.get("/{name}/thumbnails")
def thumbnails(name: str, start: Annotated[int, Query(ge=0, le=9999)] = 0,
               count: Annotated[int, Query(ge=1, le=48)] = 12,
               label: Annotated[int | None, Query(ge=0, le=9)] = None):
    """`count` digits from `start` on (only those with `label`, if given), for a picker
    showing the digits near the current one. Pixels are 14×14 (or 28×28) in [0, 1]."""
    data = load_dataset(name)
    items, index = [], start
    while len(items) < count and index < len(data):
        if label is None or data.labels[index] == label:
            x, digit = data.sample(index)
            items.append({"index": index, "label": digit,
                          "split": "train" if index in TRAIN else "heldout",
                          "x": tensor_json(x)})
        index += 1
    return {"dataset": name, "items": items}
