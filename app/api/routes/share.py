"""Export and share: import an exported session, parameters as .npz, a QR code for followers."""

import io
from typing import Annotated, Any

import numpy as np
import segno
from fastapi import APIRouter, Query, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from app.api import schemas as s
from app.api.deps import SessionsDep
from app.api.errors import ApiError
from engine.config import make_config
from engine.network import PHASES
from engine.stepper import Stepper, empty_metrics

router = APIRouter(prefix="/sessions", tags=["share"], responses=s.ERRORS)


class ImportSample(BaseModel):
    source: str
    index: int | None = None
    label: int = Field(ge=0, le=9)
    x: s.Tensor


class ImportCursor(BaseModel):
    phase: str


class ImportCounters(BaseModel):
    samples_seen: int = Field(0, ge=0)
    updates: int = Field(0, ge=0)
    position: int = Field(0, ge=0)


class ImportBody(BaseModel):
    """The JSON of `GET /sessions/{id}/export`."""

    model_config = ConfigDict(extra="ignore")

    format: str = "backprop-lens/1"
    config: s.ConfigIn
    seed: int = Field(0, ge=0, le=2**32 - 1)
    cursor: ImportCursor
    counters: ImportCounters = Field(default_factory=ImportCounters)
    sample: ImportSample
    params: dict[str, s.Tensor]
    metrics: dict[str, Any] | None = None


def _array(name: str, tensor: s.Tensor) -> np.ndarray:
    if int(np.prod(tensor.shape)) != len(tensor.data):
        raise ApiError(422, "invalid_param", f"'{name}': shape {tensor.shape} needs "
                       f"{int(np.prod(tensor.shape))} values, got {len(tensor.data)}", name)
    return np.asarray(tensor.data, dtype=np.float64).reshape(tensor.shape)


@router.post("/import", status_code=201, response_model=s.SessionCreated)
def import_session(body: ImportBody, sessions: SessionsDep):
    """A new session with exactly the state of an exported one (config, seed, parameters,
    sample, phase, counters, metrics)."""
    if body.format != "backprop-lens/1":
        raise ApiError(422, "invalid_import", "unknown export format", "format")
    if body.cursor.phase not in PHASES:
        raise ApiError(422, "invalid_import", f"unknown phase '{body.cursor.phase}'",
                       "cursor.phase")
    config = make_config("seed", body.config.model_dump(exclude_none=True))
    stepper = Stepper.create(config, body.seed)
    stepper.set_params({name: _array(name, t) for name, t in body.params.items()})
    if set(body.params) != set(stepper.params):
        raise ApiError(422, "invalid_import", "the export must hold every parameter: "
                       + ", ".join(stepper.params), "params")
    x = _array("sample.x", body.sample.x)
    stepper.set_input(x, body.sample.label, body.sample.source, body.sample.index)
    stepper.position = body.counters.position
    stepper.samples_seen, stepper.updates = body.counters.samples_seen, body.counters.updates
    stepper.metrics = {**empty_metrics(), **(body.metrics or {})}
    if body.cursor.phase != "input":
        stepper.step_to(body.cursor.phase)
    session_id, token, stepper = sessions.add(stepper)
    return {"id": session_id, "owner_token": token, "config": stepper.config.to_dict(),
            "cursor": stepper.cursor, "seed": stepper.seed}


@router.get("/{session_id}/params.npz", response_class=Response,
            responses={200: {"content": {"application/octet-stream": {}}}})
def params_npz(session_id: str, sessions: SessionsDep):
    """The parameters as of the cursor, as a NumPy `.npz` (`np.load` reads it)."""
    _, stepper = sessions.read(session_id)
    buffer = io.BytesIO()
    np.savez(buffer, **stepper.current_params())
    return Response(buffer.getvalue(), media_type="application/octet-stream", headers={
        "Content-Disposition": f'attachment; filename="backprop-lens-{session_id}.npz"'})


@router.get("/{session_id}/qr.svg", response_class=Response,
            responses={200: {"content": {"image/svg+xml": {}}}})
def follow_qr(session_id: str, request: Request, sessions: SessionsDep,
              base: Annotated[str | None, Query(max_length=200)] = None):
    """A QR code (made locally) of the follow link `/s/{id}/follow`; `base` overrides the
    scheme and host the followers should use (e.g. the presenter's LAN address)."""
    sessions.record(session_id)
    root = (base or str(request.base_url)).rstrip("/")
    if not root.startswith(("http://", "https://")):
        raise ApiError(422, "invalid_base", "base must start with http:// or https://", "base")
    qr = segno.make(f"{root}/s/{session_id}/follow", error="m")
    buffer = io.BytesIO()
    qr.save(buffer, kind="svg", scale=6, border=2, dark="#000", light="#fff")
    return Response(buffer.getvalue(), media_type="image/svg+xml")

