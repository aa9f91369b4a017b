"""Fixtures running the store contract tests against every backend.

`store_url` is parametrised over memory, SQLite (in tmp_path) and Redis (a real
redis-server started once for the test session, flushed before each test).
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

# Make `app` and `tests.redis_server` importable however pytest was started
# (and in the spawned worker processes, which inherit sys.path).
ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

BACKENDS = ["memory", "sqlite", "redis"]


class FakeClock:
    """A clock the test moves by hand: `clock.advance(seconds)`."""

    def __init__(self, start: float = 1_700_000_000.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture(scope="session")
def redis_url() -> Iterator[str]:
    from tests.redis_server import redis_server

    with redis_server() as url:
        yield url


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture
def store_url(backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> str:
    """A URL naming an empty store of the backend under test."""
    if backend == "memory":
        return "memory://"
    if backend == "sqlite":
        return f"sqlite:///{tmp_path / 'sessions.db'}"
    import redis

    url = request.getfixturevalue("redis_url")
    client = redis.Redis.from_url(url)
    client.flushdb()
    client.close()
    return url


@pytest.fixture
def make_store(store_url: str) -> Iterator[Callable[..., object]]:
    """`make_store(idle_seconds=..., max_sessions=..., clock=...)`, closed after the test."""
    from app.store import open_store

    made = []

    def make(**options: object):
        store = open_store(store_url, **options)
        made.append(store)
        return store

    yield make
    for store in made:
        store.close()


@pytest.fixture
def store(make_store: Callable[..., object]) -> object:
    return make_store()
