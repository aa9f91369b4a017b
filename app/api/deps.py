"""Typed dependencies: the settings, the session service, the job runner, the owner token.

They are `async def` on purpose: they do no blocking work, and a plain `def` dependency
would cost every request an extra hop through the thread pool (and a wait in its queue)."""

from typing import Annotated

from fastapi import Depends, Header, Request

from app.jobs import Jobs
from app.sessions import Sessions
from app.settings import Settings


async def get_sessions(request: Request) -> Sessions:
    return request.app.state.sessions


async def get_jobs(request: Request) -> Jobs:
    return request.app.state.jobs


async def get_app_settings(request: Request) -> Settings:
    return request.app.state.settings


async def get_token(authorization: Annotated[str | None, Header(include_in_schema=False)] = None
              ) -> str | None:
    """The owner token from `Authorization: Bearer <token>`, or None."""
    if not authorization:
        return None
    scheme, _, token = authorization.partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


SessionsDep = Annotated[Sessions, Depends(get_sessions)]
JobsDep = Annotated[Jobs, Depends(get_jobs)]
SettingsDep = Annotated[Settings, Depends(get_app_settings)]
TokenDep = Annotated[str | None, Depends(get_token)]
