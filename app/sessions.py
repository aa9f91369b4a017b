"""Sessions: the engine's Stepper kept in a store, one lock per session.

Routes stay thin: they call `read` (no lock) or `modify` (lock, load, change,
save, publish). A change that raises leaves the stored session untouched.
"""

import hashlib
import hmac
import secrets
import threading
import time
from collections import OrderedDict
from collections.abc import Iterator
from contextlib import contextmanager

from app.api.errors import Busy, Forbidden, Unauthorized
from app.store import SessionRecord, Store
from engine.config import Config
from engine.errors import DivergedError
from engine.stepper import Stepper

CACHE_SIZE = 256
JOB_STALE_SECONDS = 30.0  # a "running" job without a heartbeat this long was interrupted


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def summary(stepper: Stepper) -> dict:
    return {"config": stepper.config.to_dict(), "cursor": stepper.cursor,
            "counters": stepper.counters, "diverged": stepper.diverged}


class Sessions:
    def __init__(self, store: Store, lock_timeout: float = 30.0):
        self.store = store
        self.lock_timeout = lock_timeout
        self._cache: OrderedDict[str, tuple[int, Stepper]] = OrderedDict()
        self._cache_lock = threading.Lock()

    # ------------------------------------------------------------ cache

    def _cached(self, record: SessionRecord) -> Stepper:
        """The record's Stepper, deserialised once per version."""
        version = record.meta.get("version", 0)
        with self._cache_lock:
            hit = self._cache.get(record.id)
            if hit and hit[0] == version:
                self._cache.move_to_end(record.id)
                return hit[1]
        stepper = Stepper.from_bytes(record.state)
        self._remember(record.id, version, stepper)
        return stepper

    def _remember(self, session_id: str, version: int, stepper: Stepper) -> None:
        with self._cache_lock:
            self._cache[session_id] = (version, stepper)
            self._cache.move_to_end(session_id)
            while len(self._cache) > CACHE_SIZE:
                self._cache.popitem(last=False)

    def _forget(self, session_id: str) -> None:
        with self._cache_lock:
            self._cache.pop(session_id, None)

    # ------------------------------------------------------------ lifecycle

    def create(self, config: Config, seed: int) -> tuple[str, str, Stepper]:
        return self.add(Stepper.create(config, seed))

    def add(self, stepper: Stepper) -> tuple[str, str, Stepper]:
        """Store a new session for `stepper`; returns (id, owner_token, stepper)."""
        session_id, token = secrets.token_urlsafe(16), secrets.token_urlsafe(32)
        now = time.time()
        meta = {"version": 1, **summary(stepper), "job": None}
        self.store.create(SessionRecord(session_id, hash_token(token), stepper.to_bytes(),
                                        meta, now, now))
        self._remember(session_id, 1, stepper)
        return session_id, token, stepper

    def delete(self, session_id: str, token: str | None) -> None:
        with self.store.lock(session_id, self.lock_timeout):
            self.authorize(self.store.get(session_id), token)
            self.store.delete(session_id)
        self._forget(session_id)
        self.store.publish(session_id, "deleted", {"session": session_id})

    # ------------------------------------------------------------ access

    @staticmethod
    def authorize(record: SessionRecord, token: str | None) -> None:
        if not token:
            raise Unauthorized()
        if not hmac.compare_digest(hash_token(token), record.owner_hash):
            raise Forbidden()

    def record(self, session_id: str) -> SessionRecord:
        return self.store.get(session_id)

    def read(self, session_id: str) -> tuple[SessionRecord, Stepper]:
        """A session for reading (no lock). Callers must not change the Stepper."""
        record = self.store.get(session_id)
        return record, self._cached(record)

    @contextmanager
    def modify(self, session_id: str, token: str | None, *, allow_during_job: bool = False,
               publish: bool = True) -> Iterator[tuple[SessionRecord, Stepper]]:
        """Lock the session, check the owner, yield (record, stepper) to change, then save
        and publish a `cursor` event. If the body raises, nothing is saved."""
        with self.store.lock(session_id, self.lock_timeout):
            record = self.store.get(session_id)
            self.authorize(record, token)
            if not allow_during_job and job_running(record.meta.get("job")):
                raise Busy()
            # change a private copy: readers in other threads keep the cached one intact
            stepper = self._cached(record).copy()
            try:
                yield record, stepper
            except DivergedError:
                self._save_diverged(record)
                raise
            self.save(record, stepper)
        if publish:
            self.publish_cursor(session_id, stepper)

    def _save_diverged(self, record: SessionRecord) -> None:
        """Keep everything as stored, but remember that this session diverged."""
        stepper = Stepper.from_bytes(record.state)
        stepper.diverged = True
        self.save(record, stepper)

    def save(self, record: SessionRecord, stepper: Stepper) -> None:
        """Write the stepper back (call with the session lock held)."""
        version = record.meta.get("version", 0) + 1
        record.state = stepper.to_bytes()
        record.meta = {**record.meta, **summary(stepper), "version": version}
        self.store.put(record)
        self._remember(record.id, version, stepper)

    def save_meta(self, session_id: str, **changes) -> None:
        """Change only meta fields (e.g. a job's progress), under the lock."""
        with self.store.lock(session_id, self.lock_timeout):
            record = self.store.get(session_id)
            record.meta = {**record.meta, **changes}
            self.store.put(record)

    def publish_cursor(self, session_id: str, stepper: Stepper, changed=None) -> None:
        data = {"session": session_id, "cursor": stepper.cursor, "counters": stepper.counters}
        if changed is not None:
            data["changed"] = changed
        self.store.publish(session_id, "cursor", data)


def job_running(job: dict | None) -> bool:
    """A job counts as running until it ends, or until its heartbeat goes stale
    (its process was killed)."""
    if not job or job.get("state") != "running":
        return False
    return time.time() - job.get("heartbeat", 0) < JOB_STALE_SECONDS


def job_view(job: dict | None) -> dict:
    """The job as the API shows it; an interrupted one is reported as an error."""
    if not job:
        return {"state": "idle", "done": 0, "total": 0}
    if job.get("state") == "running" and not job_running(job):
        return {**job, "state": "error", "error": "the training job was interrupted "
                "(the server restarted); start it again"}
    return job
