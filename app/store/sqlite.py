"""`SQLiteStore`: the default store, one database file on local disk.

- Durability: WAL journal with `synchronous=FULL`, so a write that returned
  has been fsynced to the WAL and survives the process being killed.
- Threads: a small pool of connections; each call borrows one, so FastAPI's
  thread pool never shares a connection between threads.
- Lock: a per-session lock file under `<db>.locks/`, held with `fcntl.flock`
  (the kernel releases it if the holder dies), behind a per-session
  `threading.Lock` because flock does not exclude threads sharing a process.
  POSIX only.
- Events: fan-out inside this process only. Run one server process with
  SQLite, or use Redis, if followers may reach another process.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import random
import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

from app.store.base import (
    Clock,
    KeyedLocks,
    LocalHub,
    LockTimeout,
    SessionExists,
    SessionNotFound,
    SessionRecord,
    StoreError,
    Subscription,
    backend_errors,
    check_limits,
)

_SCHEMA = """
CREATE TABLE IF NOT EXISTS sessions (
    id         TEXT PRIMARY KEY,
    owner_hash TEXT NOT NULL,
    state      BLOB NOT NULL,
    meta       TEXT NOT NULL,
    created    REAL NOT NULL,
    updated    REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS sessions_by_updated ON sessions (updated);
"""

_BUSY_TIMEOUT_MS = 10_000
_IDLE_CONNECTIONS = 8  # connections kept open between calls; more are made on demand
_LOCK_POLL = (0.002, 0.02)  # seconds between flock attempts, randomised to avoid lockstep

_sqlite_errors = backend_errors(sqlite3.Error, OSError)


class SQLiteStore:
    """The `Store` contract on one SQLite file; see the module docstring."""

    def __init__(
        self,
        path: str | os.PathLike[str],
        idle_seconds: float = 86400,
        max_sessions: int = 1000,
        *,
        clock: Clock = time.time,
    ) -> None:
        check_limits(idle_seconds, max_sessions)
        self.idle_seconds = idle_seconds
        self.max_sessions = max_sessions
        self.path = Path(path)
        self._clock = clock
        self._pool_lock = threading.Lock()
        self._idle: list[sqlite3.Connection] = []
        self._closed = False
        self._locks = KeyedLocks()
        self._hub = LocalHub()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock_dir = self.path.with_name(self.path.name + ".locks")
        self._lock_dir.mkdir(exist_ok=True)
        with self._connection() as conn:
            conn.execute("PRAGMA journal_mode=WAL")  # persistent: stored in the file
            conn.executescript(_SCHEMA)

    # --- connections ---------------------------------------------------------

    def _connect(self) -> sqlite3.Connection:
        # isolation_level=None: autocommit, so each statement is its own durable
        # transaction and multi-statement ones are opened explicitly.
        conn = sqlite3.connect(
            self.path,
            isolation_level=None,
            check_same_thread=False,
            timeout=_BUSY_TIMEOUT_MS / 1000,
        )
        conn.execute(f"PRAGMA busy_timeout={_BUSY_TIMEOUT_MS}")
        conn.execute("PRAGMA synchronous=FULL")
        return conn

    @contextmanager
    def _connection(self) -> Iterator[sqlite3.Connection]:
        """Borrow a connection for the calling thread; it goes back to the pool after."""
        with self._pool_lock:
            if self._closed:
                raise StoreError("the session store is closed")
            conn = self._idle.pop() if self._idle else None
        if conn is None:
            conn = self._connect()
        try:
            yield conn
        finally:
            if conn.in_transaction:
                conn.rollback()
            with self._pool_lock:
                keep = not self._closed and len(self._idle) < _IDLE_CONNECTIONS
                if keep:
                    self._idle.append(conn)
            if not keep:
                conn.close()

    @contextmanager
    def _write_transaction(self) -> Iterator[sqlite3.Connection]:
        """A transaction that holds the database's write lock from its start."""
        with self._connection() as conn:
            conn.execute("BEGIN IMMEDIATE")
            try:
                yield conn
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")

    def _cutoff(self) -> tuple[float, float]:
        now = self._clock()
        return now, now - self.idle_seconds

    # --- records -------------------------------------------------------------

    @_sqlite_errors
    def create(self, record: SessionRecord) -> None:
        meta_json = json.dumps(record.meta)
        now, cutoff = self._cutoff()
        with self._write_transaction() as conn:
            conn.execute("DELETE FROM sessions WHERE updated < ?", (cutoff,))
            (held,) = conn.execute("SELECT COUNT(*) FROM sessions").fetchone()
            if held >= self.max_sessions:
                conn.execute(
                    "DELETE FROM sessions WHERE id IN "
                    "(SELECT id FROM sessions ORDER BY updated ASC LIMIT ?)",
                    (held - self.max_sessions + 1,),
                )
            try:
                conn.execute(
                    "INSERT INTO sessions (id, owner_hash, state, meta, created, updated) "
                    "VALUES (?, ?, ?, ?, ?, ?)",
                    (
                        record.id,
                        record.owner_hash,
                        bytes(record.state),
                        meta_json,
                        record.created,
                        now,
                    ),
                )
            except sqlite3.IntegrityError:
                raise SessionExists(record.id) from None
        record.updated = now

    @_sqlite_errors
    def get(self, session_id: str) -> SessionRecord:
        _, cutoff = self._cutoff()
        with self._connection() as conn:
            row = conn.execute(
                "SELECT owner_hash, state, meta, created, updated FROM sessions "
                "WHERE id = ? AND updated >= ?",
                (session_id, cutoff),
            ).fetchone()
        if row is None:
            raise SessionNotFound(session_id)
        owner_hash, state, meta_json, created, updated = row
        return SessionRecord(
            session_id, owner_hash, bytes(state), json.loads(meta_json), created, updated
        )

    @_sqlite_errors
    def put(self, record: SessionRecord) -> None:
        meta_json = json.dumps(record.meta)
        now, cutoff = self._cutoff()
        with self._connection() as conn:
            cursor = conn.execute(
                "UPDATE sessions SET state = ?, meta = ?, updated = ? "
                "WHERE id = ? AND updated >= ?",
                (bytes(record.state), meta_json, now, record.id, cutoff),
            )
        if cursor.rowcount == 0:
            raise SessionNotFound(record.id)
        record.updated = now

    @_sqlite_errors
    def delete(self, session_id: str) -> None:
        _, cutoff = self._cutoff()
        with self._connection() as conn:
            cursor = conn.execute(
                "DELETE FROM sessions WHERE id = ? AND updated >= ?", (session_id, cutoff)
            )
        if cursor.rowcount == 0:
            raise SessionNotFound(session_id)

    @_sqlite_errors
    def touch(self, session_id: str) -> None:
        now, cutoff = self._cutoff()
        with self._connection() as conn:
            cursor = conn.execute(
                "UPDATE sessions SET updated = ? WHERE id = ? AND updated >= ?",
                (now, session_id, cutoff),
            )
        if cursor.rowcount == 0:
            raise SessionNotFound(session_id)

    @_sqlite_errors
    def count(self) -> int:
        _, cutoff = self._cutoff()
        with self._connection() as conn:
            (n,) = conn.execute(
                "SELECT COUNT(*) FROM sessions WHERE updated >= ?", (cutoff,)
            ).fetchone()
        return n

    @_sqlite_errors
    def expire(self) -> int:
        _, cutoff = self._cutoff()
        with self._connection() as conn:
            return conn.execute("DELETE FROM sessions WHERE updated < ?", (cutoff,)).rowcount

    # --- lock ----------------------------------------------------------------

    @contextmanager
    def lock(self, session_id: str, timeout: float = 30.0) -> Iterator[None]:
        deadline = time.monotonic() + timeout
        with self._locks.hold(session_id, timeout), self._file_lock(session_id, deadline, timeout):
            yield

    @contextmanager
    def _file_lock(self, session_id: str, deadline: float, timeout: float) -> Iterator[None]:
        # Hashing the id keeps any id a safe file name.
        name = hashlib.sha256(session_id.encode()).hexdigest()[:32] + ".lock"
        path = self._lock_dir / name
        while True:
            fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                # The previous holder unlinks the file before releasing it; if
                # the name now points elsewhere, we locked an orphan: try again.
                if _same_file(fd, path):
                    break
            except BlockingIOError:
                pass
            except BaseException:
                os.close(fd)
                raise
            os.close(fd)
            if time.monotonic() >= deadline:
                raise LockTimeout(session_id, timeout)
            time.sleep(random.uniform(*_LOCK_POLL))
        try:
            yield
        finally:
            # Unlink while still holding, so lock files do not pile up and the
            # next holder starts from a fresh file (checked by _same_file).
            with suppress(FileNotFoundError):
                os.unlink(path)
            os.close(fd)

    # --- events --------------------------------------------------------------

    def publish(self, session_id: str, event: str, data: dict) -> None:
        self._hub.publish(session_id, event, data)

    def subscribe(self, session_id: str) -> Subscription:
        return self._hub.subscribe(session_id)

    def close(self) -> None:
        self._hub.close()
        with self._pool_lock:
            self._closed = True
            idle, self._idle = self._idle, []
        for conn in idle:
            conn.close()


def _same_file(fd: int, path: Path) -> bool:
    try:
        named = os.stat(path)
    except FileNotFoundError:
        return False
    held = os.fstat(fd)
    return (named.st_dev, named.st_ino) == (held.st_dev, held.st_ino)
