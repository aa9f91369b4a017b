"""Fixtures for the API tests: the real app (real engine) on an in-memory store."""

from __future__ import annotations

import warnings

import pytest

with warnings.catch_warnings():  # starlette's notice about httpx vs httpx2
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

from app.main import create_app
from app.settings import Settings
from tests.api.helpers import make_settings, new_session

__all__ = ["new_session"]


@pytest.fixture
def settings() -> Settings:
    return make_settings()


@pytest.fixture
def client(settings):
    """A TestClient on the real app; as a context manager, so the lifespan runs."""
    with TestClient(create_app(settings)) as test_client:
        yield test_client


@pytest.fixture
def lenient_client(settings):
    """Like `client`, but a server error becomes a 500 response instead of an exception."""
    with TestClient(create_app(settings), raise_server_exceptions=False) as test_client:
        yield test_client


@pytest.fixture
def session(client):
    """(id, token, headers) of a new seed session."""
    return new_session(client)
