"""Typed dependencies: the settings, the session service, the job runner, the owner token."""

from typing import Annotated

from fastapi import Depends, Header, Request

from app.jobs import Jobs
from app.sessions import Sessions
from app.settings import Settings


def get_sessions(request: Request) -> Sessions:
    return request.app.state.sessions


def get_jobs(request: Request) -> Jobs:
    return request.app.state.jobs


def get_app_settings(request: Request) -> Settings:
    return request.app.state.settings


def get_token(authorization: Annotated[str | None, Header(include_in_schema=False)] = None
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
