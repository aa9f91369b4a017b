"""`RedisStore`: sessions in Redis, for several server processes.

Keys (with the default prefix `bpl`):

- `bpl:s:<id>`: hash with fields owner_hash, state, meta, created, updated.
  Every write and touch resets its TTL to `idle_seconds`, so Redis itself
  forgets idle sessions.
- `bpl:index`: sorted set of ids scored by `updated`, for `count`, `expire`
  and LRU eviction.
- `bpl:lock:<id>`: the session lock, `SET NX PX` with a random token, renewed
  while held and released by a compare-and-delete script.
- `bpl:ev:<id>`: the pub/sub channel of the session's events, JSON
  `{"event": ..., "data": ...}`.

Writes that touch several keys run as Lua scripts, so they are atomic across
processes. The scripts name keys they compute (the evicted sessions), which a
single Redis allows and Redis Cluster does not.

Durability is Redis's: configure AOF or RDB on the server if sessions must
survive a Redis restart.
"""

from __future__ import annotations

import json
import random
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager, suppress

import redis

from app.store.base import (
    Clock,
    KeyedLocks,
    LockTimeout,
    SessionExists,
    SessionNotFound,
    SessionRecord,
    StoreError,
    Subscription,
    backend_errors,
    check_limits,
    decode_event,
    encode_event,
)

_redis_errors = backend_errors(redis.RedisError)

_LOCK_POLL = (0.002, 0.02)  # seconds between SET NX attempts, randomised
_READ_SLICE = 0.1  # a blocked Subscription.get checks for close() this often

# KEYS: session hash, index. ARGV: id, owner_hash, state, meta, created, now,
# ttl_ms, max_sessions, cutoff, session key prefix.
# Returns -1 if the id is live, else how many sessions were dropped to make room.
_CREATE = """
local cutoff = tonumber(ARGV[9])
local stale = redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', '(' .. ARGV[9])
for _, sid in ipairs(stale) do
  redis.call('DEL', ARGV[10] .. sid)
  redis.call('ZREM', KEYS[2], sid)
end
if redis.call('EXISTS', KEYS[1]) == 1 then
  local updated = tonumber(redis.call('HGET', KEYS[1], 'updated'))
  if updated and updated >= cutoff then return -1 end
end
local dropped = #stale
while redis.call('ZCARD', KEYS[2]) >= tonumber(ARGV[8]) do
  local oldest = redis.call('ZPOPMIN', KEYS[2])
  redis.call('DEL', ARGV[10] .. oldest[1])
  dropped = dropped + 1
end
redis.call('DEL', KEYS[1])
redis.call('HSET', KEYS[1], 'owner_hash', ARGV[2], 'state', ARGV[3], 'meta', ARGV[4],
           'created', ARGV[5], 'updated', ARGV[6])
redis.call('PEXPIRE', KEYS[1], ARGV[7])
redis.call('ZADD', KEYS[2], ARGV[6], ARGV[1])
return dropped
"""

# KEYS: session hash, index. ARGV: id, now, ttl_ms, cutoff[, state, meta].
# Bumps `updated` (and writes state and meta if given) of a live session.
# Returns 1, or 0 if the session is missing or expired.
_BUMP = """
local updated = tonumber(redis.call('HGET', KEYS[1], 'updated'))
if not updated or updated < tonumber(ARGV[4]) then return 0 end
if #ARGV >= 6 then
  redis.call('HSET', KEYS[1], 'state', ARGV[5], 'meta', ARGV[6])
end
redis.call('HSET', KEYS[1], 'updated', ARGV[2])
redis.call('PEXPIRE', KEYS[1], ARGV[3])
redis.call('ZADD', KEYS[2], ARGV[2], ARGV[1])
return 1
"""

# KEYS: session hash, index. ARGV: id, cutoff. Returns 1 if a live session was deleted.
_DELETE = """
local updated = tonumber(redis.call('HGET', KEYS[1], 'updated'))
redis.call('DEL', KEYS[1])
redis.call('ZREM', KEYS[2], ARGV[1])
if not updated or updated < tonumber(ARGV[2]) then return 0 end
return 1
"""

# KEYS: index. ARGV: cutoff, session key prefix. Returns how many sessions expired
# (Redis may already have dropped their hashes through the TTL).
_EXPIRE = """
local stale = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', '(' .. ARGV[1])
for _, sid in ipairs(stale) do
  redis.call('DEL', ARGV[2] .. sid)
  redis.call('ZREM', KEYS[1], sid)
end
return #stale
"""

# KEYS: lock. ARGV: token[, ttl_ms]. Acts only if we still hold the lock.
_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""
_RENEW = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return 0
"""


def _num(value: float) -> str:
    """A float as Redis and Lua parse it back exactly."""
    return repr(float(value))


class RedisStore:
    """The `Store` contract on one Redis database; see the module docstring."""

    def __init__(
        self,
        url: str,
        idle_seconds: float = 86400,
        max_sessions: int = 1000,
        *,
        clock: Clock = time.time,
        prefix: str = "bpl",
        lock_ttl: float = 15.0,
    ) -> None:
        """`lock_ttl`: how long a lock outlives a holder that died without releasing it.

        A live holder renews its lock every `lock_ttl / 3` seconds, so a long
        critical section (a training job) keeps it.
        """
        check_limits(idle_seconds, max_sessions)
        self.idle_seconds = idle_seconds
        self.max_sessions = max_sessions
        self._clock = clock
        self._prefix = prefix
        self._ttl_ms = max(1, int(idle_seconds * 1000))
        self._lock_ttl = lock_ttl
        self._redis = redis.Redis.from_url(url)
        self._locks = KeyedLocks()
        self._subscriptions: set[RedisSubscription] = set()
        self._subscriptions_lock = threading.Lock()
        self._create = self._redis.register_script(_CREATE)
        self._bump = self._redis.register_script(_BUMP)
        self._delete = self._redis.register_script(_DELETE)
        self._expire = self._redis.register_script(_EXPIRE)
        self._release = self._redis.register_script(_RELEASE)
        self._renew = self._redis.register_script(_RENEW)
        try:
            self._redis.ping()
        except redis.RedisError as exc:
            where = self._redis.connection_pool.connection_kwargs
            raise StoreError(
                f"cannot reach Redis at {where.get('host')}:{where.get('port')}: {exc}"
            ) from exc

    def _key(self, session_id: str) -> str:
        return f"{self._prefix}:s:{session_id}"

    @property
    def _index(self) -> str:
        return f"{self._prefix}:index"

    def _cutoff(self) -> tuple[float, float]:
        now = self._clock()
        return now, now - self.idle_seconds

    # --- records -------------------------------------------------------------

    @_redis_errors
    def create(self, record: SessionRecord) -> None:
        meta_json = json.dumps(record.meta)
        now, cutoff = self._cutoff()
        result = self._create(
            keys=[self._key(record.id), self._index],
            args=[
                record.id,
                record.owner_hash,
                bytes(record.state),
                meta_json,
                _num(record.created),
                _num(now),
                self._ttl_ms,
                self.max_sessions,
                _num(cutoff),
                f"{self._prefix}:s:",
            ],
        )
        if result == -1:
            raise SessionExists(record.id)
        record.updated = now

    @_redis_errors
    def get(self, session_id: str) -> SessionRecord:
        _, cutoff = self._cutoff()
        owner_hash, state, meta, created, updated = self._redis.hmget(
            self._key(session_id), ["owner_hash", "state", "meta", "created", "updated"]
        )
        if updated is None or float(updated) < cutoff:
            raise SessionNotFound(session_id)
        return SessionRecord(
            session_id,
            owner_hash.decode(),
            bytes(state),
            json.loads(meta),
            float(created),
            float(updated),
        )

    @_redis_errors
    def put(self, record: SessionRecord) -> None:
        meta_json = json.dumps(record.meta)
        now, cutoff = self._cutoff()
        done = self._bump(
            keys=[self._key(record.id), self._index],
            args=[record.id, _num(now), self._ttl_ms, _num(cutoff), bytes(record.state), meta_json],
        )
        if not done:
            raise SessionNotFound(record.id)
        record.updated = now

    @_redis_errors
    def delete(self, session_id: str) -> None:
        _, cutoff = self._cutoff()
        if not self._delete(
            keys=[self._key(session_id), self._index], args=[session_id, _num(cutoff)]
        ):
            raise SessionNotFound(session_id)

    @_redis_errors
    def touch(self, session_id: str) -> None:
        now, cutoff = self._cutoff()
        if not self._bump(
            keys=[self._key(session_id), self._index],
            args=[session_id, _num(now), self._ttl_ms, _num(cutoff)],
        ):
            raise SessionNotFound(session_id)

    @_redis_errors
    def count(self) -> int:
        _, cutoff = self._cutoff()
        return int(self._redis.zcount(self._index, _num(cutoff), "+inf"))

    @_redis_errors
    def expire(self) -> int:
        _, cutoff = self._cutoff()
        return int(self._expire(keys=[self._index], args=[_num(cutoff), f"{self._prefix}:s:"]))

    # --- lock ----------------------------------------------------------------

    @contextmanager
    def lock(self, session_id: str, timeout: float = 30.0) -> Iterator[None]:
        deadline = time.monotonic() + timeout
        with self._locks.hold(session_id, timeout), self._redis_lock(session_id, deadline, timeout):
            yield

    @contextmanager
    def _redis_lock(self, session_id: str, deadline: float, timeout: float) -> Iterator[None]:
        key = f"{self._prefix}:lock:{session_id}"
        token = uuid.uuid4().hex
        ttl_ms = max(1, int(self._lock_ttl * 1000))
        try:
            while not self._redis.set(key, token, nx=True, px=ttl_ms):
                if time.monotonic() >= deadline:
                    raise LockTimeout(session_id, timeout)
                time.sleep(random.uniform(*_LOCK_POLL))
        except redis.RedisError as exc:
            raise StoreError(f"session store failed: {exc}") from exc
        stop = threading.Event()
        renewer = threading.Thread(
            target=self._keep_renewing,
            args=(key, token, ttl_ms, stop),
            name=f"lock-renew-{session_id[:8]}",
            daemon=True,
        )
        renewer.start()
        try:
            yield
        finally:
            stop.set()
            renewer.join()
            # If Redis is unreachable now, the lock's TTL frees it within lock_ttl;
            # raising here would hide the body's own exception.
            with suppress(redis.RedisError):
                self._release(keys=[key], args=[token])

    def _keep_renewing(self, key: str, token: str, ttl_ms: int, stop: threading.Event) -> None:
        while not stop.wait(self._lock_ttl / 3):
            try:
                self._renew(keys=[key], args=[token, ttl_ms])
            except redis.RedisError:
                continue  # try again next period; the TTL leaves room for two misses

    # --- events --------------------------------------------------------------

    @_redis_errors
    def publish(self, session_id: str, event: str, data: dict) -> None:
        self._redis.publish(f"{self._prefix}:ev:{session_id}", encode_event(event, data))

    @_redis_errors
    def subscribe(self, session_id: str) -> Subscription:
        subscription = RedisSubscription(self, f"{self._prefix}:ev:{session_id}")
        with self._subscriptions_lock:
            self._subscriptions.add(subscription)
        return subscription

    def _forget(self, subscription: RedisSubscription) -> None:
        with self._subscriptions_lock:
            self._subscriptions.discard(subscription)

    def close(self) -> None:
        with self._subscriptions_lock:
            subscriptions = list(self._subscriptions)
        for subscription in subscriptions:
            subscription.close()
        self._redis.close()


class RedisSubscription(Subscription):
    """One pub/sub connection listening to one session's channel."""

    def __init__(self, store: RedisStore, channel: str, confirm_timeout: float = 10.0) -> None:
        self._store = store
        self._lock = threading.Lock()  # one reader of the connection at a time
        self._closed = threading.Event()
        self._released = False  # the pub/sub connection is closed; guarded by _lock
        self._pubsub = store._redis.pubsub()
        self._pubsub.subscribe(channel)
        # Wait for Redis to confirm: only then are later PUBLISHes sure to reach us.
        deadline = time.monotonic() + confirm_timeout
        while True:
            message = self._pubsub.get_message(timeout=max(0.0, deadline - time.monotonic()))
            if message is not None and message["type"] == "subscribe":
                break
            if time.monotonic() >= deadline:
                self._pubsub.close()
                raise StoreError(f"Redis did not confirm the subscription to {channel}")

    def get(self, timeout: float) -> tuple[str, dict] | None:
        deadline = time.monotonic() + timeout
        while not self._closed.is_set():
            with self._lock:
                if self._released:
                    break
                remaining = deadline - time.monotonic()
                # Read in short slices, so a close() from another thread waits at most one.
                try:
                    message = self._pubsub.get_message(
                        ignore_subscribe_messages=True,
                        timeout=min(max(remaining, 0.0), _READ_SLICE),
                    )
                except redis.RedisError:
                    self._closed.set()
                    self._release_locked()
                    break
            if message is not None and message["type"] == "message":
                return decode_event(message["data"])
            if remaining <= 0:
                break
        return None

    def close(self) -> None:
        self._closed.set()  # a get() in another thread leaves its loop after its slice
        with self._lock:
            self._release_locked()

    def _release_locked(self) -> None:
        if self._released:
            return
        self._released = True
        try:
            self._pubsub.close()
        finally:
            self._store._forget(self)

    @property
    def closed(self) -> bool:
        return self._closed.is_set()
