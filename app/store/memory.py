"""`MemoryStore`: sessions in a dict, for tests and single-process demos.

Nothing survives a restart and the lock is in-process only. `meta` is kept as
JSON text so that a caller mutating a record it got cannot change the stored
one, and so every backend accepts and returns the same values.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from app.store.base import (
    Clock,
    KeyedLocks,
    LocalHub,
    SessionExists,
    SessionNotFound,
    SessionRecord,
    Subscription,
    check_limits,
)


@dataclass
class _Row:
    owner_hash: str
    state: bytes
    meta_json: str
    created: float
    updated: float


class MemoryStore:
    """The `Store` contract on plain dicts guarded by one mutex."""

    def __init__(
        self,
        idle_seconds: float = 86400,
        max_sessions: int = 1000,
        *,
        clock: Clock = time.time,
    ) -> None:
        check_limits(idle_seconds, max_sessions)
        self.idle_seconds = idle_seconds
        self.max_sessions = max_sessions
        self._clock = clock
        self._rows: dict[str, _Row] = {}
        self._mutex = threading.Lock()
        self._locks = KeyedLocks()
        self._hub = LocalHub()

    def _live_row(self, session_id: str, now: float) -> _Row:
        """The row of a live session; call with the mutex held."""
        row = self._rows.get(session_id)
        if row is None or row.updated < now - self.idle_seconds:
            raise SessionNotFound(session_id)
        return row

    def _drop_expired(self, now: float) -> int:
        """Delete idle sessions; call with the mutex held."""
        cutoff = now - self.idle_seconds
        stale = [sid for sid, row in self._rows.items() if row.updated < cutoff]
        for sid in stale:
            del self._rows[sid]
        return len(stale)

    def create(self, record: SessionRecord) -> None:
        meta_json = json.dumps(record.meta)
        with self._mutex:
            now = self._clock()
            self._drop_expired(now)  # also frees the id of an expired session
            if record.id in self._rows:
                raise SessionExists(record.id)
            while len(self._rows) >= self.max_sessions:
                oldest = min(self._rows, key=lambda sid: self._rows[sid].updated)
                del self._rows[oldest]
            self._rows[record.id] = _Row(
                record.owner_hash, bytes(record.state), meta_json, record.created, now
            )
            record.updated = now

    def get(self, session_id: str) -> SessionRecord:
        with self._mutex:
            row = self._live_row(session_id, self._clock())
            return SessionRecord(
                session_id,
                row.owner_hash,
                row.state,
                json.loads(row.meta_json),
                row.created,
                row.updated,
            )

    def put(self, record: SessionRecord) -> None:
        meta_json = json.dumps(record.meta)
        with self._mutex:
            now = self._clock()
            row = self._live_row(record.id, now)
            row.state, row.meta_json, row.updated = bytes(record.state), meta_json, now
            record.updated = now

    def delete(self, session_id: str) -> None:
        with self._mutex:
            self._live_row(session_id, self._clock())
            del self._rows[session_id]

    def touch(self, session_id: str) -> None:
        with self._mutex:
            now = self._clock()
            self._live_row(session_id, now).updated = now

    @contextmanager
    def lock(self, session_id: str, timeout: float = 30.0) -> Iterator[None]:
        with self._locks.hold(session_id, timeout):
            yield

    def publish(self, session_id: str, event: str, data: dict) -> None:
        self._hub.publish(session_id, event, data)

    def subscribe(self, session_id: str) -> Subscription:
        return self._hub.subscribe(session_id)

    def count(self) -> int:
        with self._mutex:
            cutoff = self._clock() - self.idle_seconds
            return sum(1 for row in self._rows.values() if row.updated >= cutoff)

    def expire(self) -> int:
        with self._mutex:
            return self._drop_expired(self._clock())

    def close(self) -> None:
        self._hub.close()
