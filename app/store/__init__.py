"""Session stores: where sessions live between requests (see `base.Store`).

`open_store(url)` picks the backend from a URL:

- `memory` or `memory://`: in this process only, gone on restart.
- `sqlite:///relative/path.db` or `sqlite:////absolute/path.db`: the default;
  missing parent folders are created.
- `redis://host:port/db` (or `rediss://`): for several server processes.
"""

from __future__ import annotations

import time

from app.store.base import (
    Clock,
    LockTimeout,
    SessionExists,
    SessionNotFound,
    SessionRecord,
    Store,
    StoreError,
    Subscription,
)
from app.store.memory import MemoryStore
from app.store.sqlite import SQLiteStore

__all__ = [
    "LockTimeout",
    "MemoryStore",
    "SQLiteStore",
    "SessionExists",
    "SessionNotFound",
    "SessionRecord",
    "Store",
    "StoreError",
    "Subscription",
    "open_store",
]

_SQLITE_PREFIX = "sqlite:///"


def open_store(
    url: str,
    *,
    idle_seconds: float = 86400,
    max_sessions: int = 1000,
    clock: Clock = time.time,
) -> Store:
    """The store that `url` names; ValueError if the URL names none."""
    if url in ("memory", "memory://"):
        return MemoryStore(idle_seconds, max_sessions, clock=clock)
    if url.startswith(_SQLITE_PREFIX):
        # sqlite:///a/b.db -> "a/b.db" (relative); sqlite:////a/b.db -> "/a/b.db"
        path = url[len(_SQLITE_PREFIX) :]
        if not path:
            raise ValueError(f"store URL {url!r} has no database path: use sqlite:///path.db")
        return SQLiteStore(path, idle_seconds, max_sessions, clock=clock)
    if url.startswith(("redis://", "rediss://")):
        from app.store.redis import RedisStore

        return RedisStore(url, idle_seconds, max_sessions, clock=clock)
    raise ValueError(
        f"unknown store URL {url!r}: use 'memory', 'sqlite:///path/to/sessions.db' "
        "or 'redis://host:port/db'"
    )
