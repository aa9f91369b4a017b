"""Session routes: create, read, step, back, input, params, explanations, figures."""

import base64
import binascii
import math
from typing import Annotated

import numpy as np
from fastapi import APIRouter, Query, Response
from latex2mathml.converter import convert as latex_to_mathml

from app.api import schemas as s
from app.api.deps import SessionsDep, TokenDep
from app.api.errors import ApiError
from app.api.tensors import fast_json, select, tensor_json
from app.figures import build_figure
from app.sessions import job_view
from engine.config import make_config
from engine.data import dataset_for_size
from engine.errors import DatasetError
from engine.image import image_to_input, pixels_to_input
from engine.notation import to_standard
from engine.stepper import phases_for

router = APIRouter(prefix="/sessions", tags=["sessions"], responses=s.ERRORS)

TIE_RULE = ("ties go to the first maximum in row-major window order: "
            "(0,0), (0,1), (1,0), (1,1)")


def _created(session_id, token, stepper) -> dict:
    return {"id": session_id, "owner_token": token, "config": stepper.config.to_dict(),
            "cursor": stepper.cursor, "seed": stepper.seed}


def _step_out(stepper, changed) -> dict:
    return {"cursor": stepper.cursor, "counters": stepper.counters, "changed": changed}


def _documented(model) -> dict:
    """For routes answering with `fast_json`: the model documents the body in OpenAPI."""
    return {"response_model": None, "responses": {200: {"model": model}}}


@router.post("", status_code=201, response_model=s.SessionCreated)
def create_session(body: s.CreateSession, sessions: SessionsDep):
    """Create a session at phase `input` with the first sample of its order loaded.
    Keep the `owner_token`: it is needed for every change."""
    overrides = body.config.model_dump(exclude_none=True)
    config = make_config(body.preset, overrides)
    return _created(*sessions.create(config, body.seed))


@router.get("/{session_id}", response_model=s.SessionInfo)
def get_session(session_id: str, sessions: SessionsDep):
    record, stepper = sessions.read(session_id)
    return {"id": session_id, "config": stepper.config.to_dict(), "seed": stepper.seed,
            "cursor": stepper.cursor, "counters": stepper.counters,
            "diverged": stepper.diverged, "job": job_view(record.meta.get("job")),
            "metrics": _latest_metrics(stepper.metrics)}


def _latest_metrics(metrics: dict) -> dict:
    return {"loss": metrics["loss"][-1] if metrics["loss"] else None,
            "accuracy": metrics["accuracy"][-1] if metrics["accuracy"] else None}


@router.delete("/{session_id}", status_code=204)
def delete_session(session_id: str, sessions: SessionsDep, token: TokenDep):
    sessions.delete(session_id, token)
    return Response(status_code=204)


@router.post("/{session_id}/fork", status_code=201, response_model=s.SessionCreated)
def fork_session(session_id: str, sessions: SessionsDep):
    """A new session with a copy of this one's state and a new owner token
    (anyone may fork: a follower experiments on their own copy)."""
    _, stepper = sessions.read(session_id)
    return _created(*sessions.add(stepper.fork()))


@router.get("/{session_id}/phases", response_model=s.PhasesOut)
def get_phases(session_id: str, sessions: SessionsDep):
    _, stepper = sessions.read(session_id)
    return {"phases": phases_for(stepper.config)}


@router.post("/{session_id}/step", **_documented(s.StepOut))
def step(session_id: str, sessions: SessionsDep, token: TokenDep, body: s.StepIn | None = None):
    """`{"count": n}` or `{"to": "backward.conv"}`; after `update` the next step loads the
    next sample (phase `input`)."""
    body = body or s.StepIn()
    with sessions.modify(session_id, token) as (_, stepper):
        changed = stepper.step_to(body.to) if body.to else stepper.step(body.count or 1)
    return fast_json(_step_out(stepper, changed))


@router.post("/{session_id}/back", **_documented(s.StepOut))
def back(session_id: str, sessions: SessionsDep, token: TokenDep, body: s.BackIn | None = None):
    """Step back; over `update` the parameters are restored exactly."""
    body = body or s.BackIn()
    with sessions.modify(session_id, token) as (_, stepper):
        changed = stepper.back(body.count)
    return fast_json(_step_out(stepper, changed))


def _decode_png(text: str) -> bytes:
    if "," in text[:100] and text.startswith("data:"):
        text = text.split(",", 1)[1]  # accept a data: URL as well
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise ApiError(422, "invalid_image", "png_base64 is not valid base64",
                       "png_base64") from exc


@router.post("/{session_id}/input", response_model=s.InputOut)
def set_input(session_id: str, body: s.InputIn, sessions: SessionsDep, token: TokenDep):
    """Load a dataset digit (by index, by label, or at random), a pixel grid, or a PNG/JPEG
    (any size, converted like the dataset). The cursor goes to `input`."""
    if body.dataset is None and body.label is None:
        raise ApiError(422, "invalid_request", "a drawn or uploaded digit needs its label (0..9)",
                       "label")
    with sessions.modify(session_id, token) as (_, stepper):
        size = stepper.config.input_size
        x28 = None
        if body.dataset is not None:
            data = dataset_for_size(size)
            if body.dataset != data.name:
                raise DatasetError(f"this session's input is {size}×{size}: use dataset "
                                   f"'{data.name}'", "dataset")
            index = body.index
            if index is None and body.random:
                rng = np.random.default_rng()
                index = int(rng.integers(len(data)))
                if body.label is not None:
                    index = data.find(body.label, index)
            elif index is None and body.label is not None:
                index = data.find(body.label, stepper.sample.index or 0)
            if index is None:
                raise DatasetError("give an index, a label or random: true", "index")
            stepper.load_sample(data.name, index)
        elif body.pixels is not None:
            stepper.set_input(pixels_to_input(body.pixels, size), body.label, "custom")
        else:
            x, x28 = image_to_input(_decode_png(body.png_base64), size)
            stepper.set_input(x, body.label, "custom")
            x28 = x28.tolist()
        out = _step_out(stepper, sorted(stepper.tensors()))
    return {**out, "x28": x28}


@router.get("/{session_id}/state", **_documented(s.StateOut))
def get_state(session_id: str, sessions: SessionsDep,
              names: Annotated[str | None, Query(examples=["conv.z,pool.out"])] = None,
              alias: Annotated[str | None, Query(pattern="^(seed|standard)$")] = None):
    """The cursor and every tensor computed up to it."""
    _, stepper = sessions.read(session_id)
    return fast_json({"cursor": stepper.cursor,
                      "tensors": select(stepper.tensors(), names, alias)})


@router.get("/{session_id}/params", **_documented(s.ParamsBody))
def get_params(session_id: str, sessions: SessionsDep,
               alias: Annotated[str | None, Query(pattern="^(seed|standard)$")] = None):
    _, stepper = sessions.read(session_id)
    return fast_json({"params": select(stepper.current_params(), None, alias)})


@router.put("/{session_id}/params", response_model=s.StepOut)
def put_params(session_id: str, body: s.ParamsBody, sessions: SessionsDep, token: TokenDep):
    """Set parameters by name (any subset, shape checked). They become the parameters at
    the start of the current sample; the cursor goes to `input`."""
    values = {}
    for name, tensor in body.params.items():
        shape = tuple(tensor.shape)
        if any(side < 0 for side in shape):
            raise ApiError(422, "invalid_param", f"'{name}': shape {list(shape)} has a "
                           "negative side", name)
        # math.prod on Python ints: np.prod would wrap around for huge shapes
        if math.prod(shape) != len(tensor.data):
            raise ApiError(422, "invalid_param", f"'{name}': shape {list(shape)} needs "
                           f"{math.prod(shape)} values, got {len(tensor.data)}", name)
        values[to_standard(name)] = np.asarray(tensor.data, dtype=np.float64).reshape(shape)
    with sessions.modify(session_id, token) as (_, stepper):
        changed = stepper.set_params(values)
    return _step_out(stepper, changed)


@router.patch("/{session_id}/config", response_model=s.SessionInfo)
def patch_config(session_id: str, body: s.ConfigPatch, sessions: SessionsDep,
                 token: TokenDep):
    """Change the learning rate (the only key that needs no new session)."""
    with sessions.modify(session_id, token) as (record, stepper):
        stepper.set_learning_rate(body.learning_rate)
    return get_session(session_id, sessions)


@router.get("/{session_id}/pool-table", response_model=s.PoolTableOut)
def pool_table(session_id: str, sessions: SessionsDep):
    """One row per pooled cell (MATH §2), in both conventions; empty before forward.pool."""
    _, stepper = sessions.read(session_id)
    return {"tie_rule": TIE_RULE, "rows": stepper.pool_table()}


@router.get("/{session_id}/explain/{param}/{index}", response_model=s.ExplainOut)
def explain(session_id: str, param: str, index: int, sessions: SessionsDep):
    """The chain-rule decomposition of one weight's gradient, with live numbers."""
    _, stepper = sessions.read(session_id)
    result = stepper.explain(param, index)
    return {**result, "formula_mathml": mathml(result["formula_latex"])}


def mathml(latex: str) -> str:
    try:
        return latex_to_mathml(latex, display="block")
    except Exception:  # a formula the converter cannot read is shown as text
        return f"<math display=\"block\"><mtext>{latex}</mtext></math>"


@router.get("/{session_id}/gradcheck", response_model=s.GradcheckOut)
def gradcheck(session_id: str, sessions: SessionsDep):
    """Analytic vs central-difference gradients for the current sample (MATH §6)."""
    _, stepper = sessions.read(session_id)
    return stepper.gradcheck()


@router.get("/{session_id}/figures/{view}", responses={200: {"content": {
    "application/json": {"example": {"data": [{"type": "heatmap", "z": [[0.1, 0.2]]}],
                                     "layout": {"meta": {"view": "conv"}}}}}}})
def figure(session_id: str, view: str, sessions: SessionsDep,
           theme: Annotated[str, Query()] = "light", lang: Annotated[str, Query()] = "en",
           seed_notation: Annotated[bool, Query()] = False):
    """A Plotly figure (`{"data", "layout"}`) for one view, values as plain lists."""
    _, stepper = sessions.read(session_id)
    try:
        return fast_json(build_figure(view, stepper.tensors(), stepper.config.to_dict(),
                                      phase=stepper.phase, theme=theme, lang=lang,
                                      seed_notation=seed_notation, metrics=stepper.metrics))
    except ValueError as exc:
        field = getattr(exc, "field", "view")
        status = 404 if field == "view" else 422
        raise ApiError(status, "invalid_view", str(exc), field) from exc


@router.get("/{session_id}/export")
def export_session(session_id: str, sessions: SessionsDep):
    """The whole session as JSON: config, seed, cursor, counters, parameters, sample."""
    _, stepper = sessions.read(session_id)
    return {"format": "backprop-lens/1", "config": stepper.config.to_dict(),
            "seed": stepper.seed, "cursor": stepper.cursor, "counters": stepper.counters,
            "sample": {**stepper.sample.describe(), "x": tensor_json(stepper.sample.x)},
            "params": {n: tensor_json(v) for n, v in stepper.params.items()},
            "metrics": stepper.metrics}

