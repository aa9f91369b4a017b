"""Errors are types; this is the one place they become HTTP responses.

Every error body is `{"error": {"code", "message", "field"}}`; no stack trace
ever leaves the server.
"""

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from app.store import LockTimeout, SessionNotFound
from engine.errors import (
    ConfigError,
    DatasetError,
    DivergedError,
    EngineError,
    HistoryError,
    ImageError,
    ParamError,
    PhaseError,
)

log = logging.getLogger("backprop_lens")


class ApiError(Exception):
    """An error raised by a route: status, code, message, field."""

    def __init__(self, status: int, code: str, message: str, field: str | None = None):
        super().__init__(message)
        self.status, self.code, self.message, self.field = status, code, message, field


class Unauthorized(ApiError):
    def __init__(self, message="this needs the session's owner token: "
                               "send 'Authorization: Bearer <owner_token>'"):
        super().__init__(401, "unauthorized", message, "Authorization")


class Forbidden(ApiError):
    def __init__(self):
        super().__init__(403, "forbidden", "the owner token does not match this session; "
                         "fork it to get a copy of your own", "Authorization")


class Busy(ApiError):
    def __init__(self, message="a training job is running on this session; "
                               "stop it or wait until it ends"):
        super().__init__(409, "training_running", message)


ENGINE_STATUS = {
    ConfigError: 422,
    ImageError: 422,
    DatasetError: 422,
    ParamError: 422,
    PhaseError: 409,
    HistoryError: 409,
    DivergedError: 409,
}


def error_body(code: str, message: str, field: str | None = None) -> dict:
    return {"error": {"code": code, "message": message, "field": field}}


def _json(status: int, code: str, message: str, field: str | None = None, headers=None):
    return JSONResponse(error_body(code, message, field), status_code=status, headers=headers)


def _validation_message(exc: RequestValidationError) -> tuple[str, str | None]:
    errors = exc.errors()
    if not errors:
        return "the request is not valid", None
    first = errors[0]
    loc = [str(p) for p in first.get("loc", ()) if p not in ("body", "query", "path")]
    field = ".".join(loc) or None
    message = first.get("msg", "invalid value")
    return (f"{field}: {message}" if field else message), field


def install(app: FastAPI) -> None:
    @app.exception_handler(ApiError)
    async def api_error(request: Request, exc: ApiError):
        headers = {"WWW-Authenticate": "Bearer"} if exc.status == 401 else None
        return _json(exc.status, exc.code, exc.message, exc.field, headers)

    @app.exception_handler(EngineError)
    async def engine_error(request: Request, exc: EngineError):
        status = next((s for t, s in ENGINE_STATUS.items() if isinstance(exc, t)), 422)
        return _json(status, exc.code, exc.message, exc.field)

    @app.exception_handler(SessionNotFound)
    async def not_found(request: Request, exc: SessionNotFound):
        return _json(404, "session_not_found", "no such session (it may have expired); "
                     "create one with POST /api/v1/sessions", "id")

    @app.exception_handler(LockTimeout)
    async def lock_timeout(request: Request, exc: LockTimeout):
        return _json(503, "busy", "the session is busy; try again in a moment", None,
                     {"Retry-After": "1"})

    @app.exception_handler(RequestValidationError)
    async def validation(request: Request, exc: RequestValidationError):
        message, field = _validation_message(exc)
        return _json(422, "invalid_request", message, field)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException):
        code = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, "http_error")
        message = exc.detail if isinstance(exc.detail, str) else "request failed"
        if exc.status_code == 404 and message == "Not Found":
            message = f"nothing at {request.url.path}; see /docs for the API"
        return _json(exc.status_code, code, message, None, getattr(exc, "headers", None))

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception):
        log.exception("unexpected error on %s %s", request.method, request.url.path)
        return _json(500, "internal_error", "something went wrong on the server; "
                     "the session was not changed")
