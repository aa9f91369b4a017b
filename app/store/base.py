"""The session store contract: what the server may ask of any backend.

A store keeps one `SessionRecord` per session (the engine's state as opaque
bytes plus a small JSON-able `meta` dict), forgets sessions left idle longer
than `idle_seconds`, keeps at most `max_sessions`, hands out an exclusive
per-session lock, and carries events from whoever changes a session to whoever
follows it.

Three backends implement `Store`:

- `MemoryStore` (`memory://`): one process, nothing survives a restart; tests.
- `SQLiteStore` (`sqlite:///path.db`): the default. Durable; its lock holds
  across processes; events reach subscribers *in the same process only*.
- `RedisStore` (`redis://host:port/db`): for several server processes; locks and
  events span every process connected to the same Redis.

Stores know nothing of HTTP: they raise the `StoreError` types below, and the
API maps those to responses in one place.

The building blocks at the end of this module (`KeyedLocks`, `LocalHub`, the
event encoding) are shared by the backends.
"""

from __future__ import annotations

import functools
import json
import queue
import threading
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from typing import Any, ParamSpec, Protocol, TypeVar, runtime_checkable

Clock = Callable[[], float]
"""Where a store reads "now" (unix seconds); `time.time` except in tests."""


@dataclass
class SessionRecord:
    """One session as the store keeps it.

    The store never interprets `state` or `meta`; it only keeps them.
    """

    id: str
    owner_hash: str  # sha256 hex of the owner token; the store never sees the token
    state: bytes  # engine state blob, opaque, up to a few hundred KB
    meta: dict  # small JSON-able dict (config, cursor summary, metrics)
    created: float  # unix time
    updated: float  # unix time of the last write or touch, stamped by the store


class StoreError(Exception):
    """The store could not do what was asked (including: its backend failed)."""


class SessionNotFound(StoreError):
    """No live session has this id: it never existed, was deleted, or expired."""

    def __init__(self, session_id: str) -> None:
        super().__init__(f"session {session_id!r} not found (it may have expired)")
        self.session_id = session_id


class SessionExists(StoreError):
    """`create` was given an id that is already in use."""

    def __init__(self, session_id: str) -> None:
        super().__init__(f"session {session_id!r} already exists")
        self.session_id = session_id


class LockTimeout(StoreError):
    """The session's lock was still held by someone else when the timeout ran out."""

    def __init__(self, session_id: str, timeout: float) -> None:
        super().__init__(f"session {session_id!r} is busy: lock not acquired within {timeout:g} s")
        self.session_id = session_id
        self.timeout = timeout


class Subscription(ABC):
    """A follower's view of one session's events.

    Thread-safe; close it (or use it as a context manager) when done.
    """

    @abstractmethod
    def get(self, timeout: float) -> tuple[str, dict] | None:
        """Wait up to `timeout` seconds for the next event; `(event, data)` or None.

        Returns None at once when the subscription is closed.
        """

    @abstractmethod
    def close(self) -> None:
        """Stop receiving; wakes a `get` blocked in another thread. Idempotent."""

    @property
    @abstractmethod
    def closed(self) -> bool:
        """True once closed (by `close`, by the store closing, or by the backend)."""

    def __enter__(self) -> Subscription:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


@runtime_checkable
class Store(Protocol):
    """What the server codes against. Every method is thread-safe.

    A session is *live* while `now - updated <= idle_seconds`; an expired
    session behaves as missing everywhere (`SessionNotFound`, not counted)
    even before `expire()` removes it.
    """

    idle_seconds: float
    max_sessions: int

    def create(self, record: SessionRecord) -> None:
        """Store a new session; stamps `record.updated` with the store's clock.

        When `max_sessions` live sessions already exist, expired sessions are
        dropped first; if the store is still full, the least recently updated
        session is evicted (LRU). `create` never refuses for lack of room.
        Raises `SessionExists` if the id is taken.
        """

    def get(self, session_id: str) -> SessionRecord:
        """The session's record (a copy). Raises `SessionNotFound`, also for expired ones.

        Reading does not keep a session alive; call `touch` for that.
        """

    def put(self, record: SessionRecord) -> None:
        """Overwrite `state` and `meta` and bump `updated` (also stamped on `record`).

        `owner_hash` and `created` are kept from `create`. Durable when it
        returns (for SQLite: survives the process being killed). Raises
        `SessionNotFound` rather than bringing back a deleted or expired session.
        """

    def delete(self, session_id: str) -> None:
        """Remove the session. Raises `SessionNotFound`."""

    def touch(self, session_id: str) -> None:
        """Bump `updated` so the session stays alive. Raises `SessionNotFound`."""

    def lock(self, session_id: str, timeout: float = 30.0) -> AbstractContextManager[None]:
        """Exclusive lock on one session, for read-modify-write.

        Excludes other threads, and for SQLite and Redis other processes using
        the same database. Not reentrant. Raises `LockTimeout` if not acquired
        within `timeout` seconds. Does not require the session to exist.
        """

    def publish(self, session_id: str, event: str, data: dict) -> None:
        """Deliver `(event, data)` to every current subscriber of the session.

        `data` must be JSON-able; subscribers receive a JSON round-tripped copy.
        Redis delivers to subscribers in every process; memory and SQLite only
        to subscribers in this process.
        """

    def subscribe(self, session_id: str) -> Subscription:
        """Follow a session: every event published after this returns arrives, in order."""

    def count(self) -> int:
        """How many live sessions the store holds."""

    def expire(self) -> int:
        """Delete sessions idle longer than `idle_seconds`; returns how many."""

    def close(self) -> None:
        """Release connections and close open subscriptions. Idempotent."""


# --- building blocks shared by the backends ---------------------------------

P = ParamSpec("P")
R = TypeVar("R")


def check_limits(idle_seconds: float, max_sessions: int) -> None:
    """Reject settings that would make a store useless."""
    if not idle_seconds > 0:
        raise ValueError(f"idle_seconds must be > 0, got {idle_seconds!r}")
    if max_sessions < 1:
        raise ValueError(f"max_sessions must be >= 1, got {max_sessions!r}")


def backend_errors(
    *errors: type[BaseException],
) -> Callable[[Callable[P, R]], Callable[P, R]]:
    """Decorator: re-raise the backend's own exceptions as `StoreError`.

    The server then handles one family of errors whatever the backend.
    """

    def decorate(method: Callable[P, R]) -> Callable[P, R]:
        @functools.wraps(method)
        def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
            try:
                return method(*args, **kwargs)
            except StoreError:
                raise
            except errors as exc:
                raise StoreError(f"session store failed: {exc}") from exc

        return wrapper

    return decorate


def encode_event(event: str, data: dict) -> str:
    """The wire form of an event, the same for every backend."""
    return json.dumps({"event": event, "data": data})


def decode_event(payload: str | bytes) -> tuple[str, dict]:
    message = json.loads(payload)
    return message["event"], message["data"]


class KeyedLocks:
    """One `threading.Lock` per key, made on first use and dropped when unused.

    Gives in-process exclusion per session id; the SQLite and Redis stores take
    it before their cross-process lock, so threads of one process queue here
    instead of polling the database.
    """

    def __init__(self) -> None:
        self._guard = threading.Lock()
        self._entries: dict[str, list[Any]] = {}  # key -> [lock, number of users]

    @contextmanager
    def hold(self, key: str, timeout: float) -> Iterator[None]:
        with self._guard:
            entry = self._entries.setdefault(key, [threading.Lock(), 0])
            entry[1] += 1
        try:
            if not entry[0].acquire(timeout=max(timeout, 0.0)):
                raise LockTimeout(key, timeout)
            try:
                yield
            finally:
                entry[0].release()
        finally:
            with self._guard:
                entry[1] -= 1
                if entry[1] == 0:
                    del self._entries[key]


class LocalSubscription(Subscription):
    """A subscription fed by a `LocalHub` through a queue."""

    _CLOSE = object()  # wakes a blocked `get` when the subscription closes

    def __init__(self, hub: LocalHub, session_id: str) -> None:
        self._hub = hub
        self._session_id = session_id
        self._queue: queue.Queue[Any] = queue.Queue()
        self._closed = threading.Event()

    def get(self, timeout: float) -> tuple[str, dict] | None:
        if self._closed.is_set():
            return None
        try:
            item = self._queue.get(timeout=max(timeout, 0.0))
        except queue.Empty:
            return None
        if item is self._CLOSE:
            self._queue.put(item)  # keep waking any other thread waiting here
            return None
        return decode_event(item)

    def close(self) -> None:
        if not self._closed.is_set():
            self._closed.set()
            self._hub.remove(self._session_id, self)
            self._queue.put(self._CLOSE)

    @property
    def closed(self) -> bool:
        return self._closed.is_set()

    def deliver(self, payload: str) -> None:
        self._queue.put(payload)


class LocalHub:
    """In-process fan-out of events: one queue per subscriber."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._subscribers: dict[str, list[LocalSubscription]] = {}

    def publish(self, session_id: str, event: str, data: dict) -> None:
        payload = encode_event(event, data)
        # Delivering under the lock gives every subscriber the same order.
        with self._lock:
            for subscription in self._subscribers.get(session_id, ()):
                subscription.deliver(payload)

    def subscribe(self, session_id: str) -> LocalSubscription:
        subscription = LocalSubscription(self, session_id)
        with self._lock:
            self._subscribers.setdefault(session_id, []).append(subscription)
        return subscription

    def remove(self, session_id: str, subscription: LocalSubscription) -> None:
        with self._lock:
            subscribers = self._subscribers.get(session_id, [])
            if subscription in subscribers:
                subscribers.remove(subscription)
            if not subscribers:
                self._subscribers.pop(session_id, None)

    def close(self) -> None:
        with self._lock:
            subscriptions = [s for subs in self._subscribers.values() for s in subs]
        for subscription in subscriptions:
            subscription.close()
