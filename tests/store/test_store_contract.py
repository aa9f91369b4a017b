"""The `Store` contract, run against memory, SQLite and Redis alike.

Backend-specific promises (cross-process locks, cross-process events, SQLite
durability, Redis's native expiry) are tested below the shared ones.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import pytest

from app.store import (
    LockTimeout,
    MemoryStore,
    SessionExists,
    SessionNotFound,
    SessionRecord,
    SQLiteStore,
    Store,
    open_store,
)

ROOT = Path(__file__).resolve().parents[2]
CROSS_PROCESS = ["sqlite", "redis"]


def record(
    session_id: str = "s1", state: bytes = b"\x00state\xff", **meta: object
) -> SessionRecord:
    return SessionRecord(session_id, "ab" * 32, state, dict(meta), time.time(), 0.0)


def spawn() -> multiprocessing.context.SpawnContext:
    return multiprocessing.get_context("spawn")


# --- workers for spawned processes (module level, so spawn can import them) ---


def _increment_under_lock(url: str, session_id: str, times: int, ready, go) -> None:
    store = open_store(url)
    try:
        ready.release()
        go.wait(30)  # all workers start together, so they really contend
        for _ in range(times):
            with store.lock(session_id, timeout=30):
                current = store.get(session_id)
                time.sleep(0.002)  # widen the window a missing lock would lose updates in
                current.state = str(int(current.state) + 1).encode()
                store.put(current)
    finally:
        store.close()


def _hold_lock(url: str, session_id: str, locked, release) -> None:
    store = open_store(url)
    try:
        with store.lock(session_id, timeout=10):
            locked.set()
            release.wait(20)
    finally:
        store.close()


def _publish_numbers(url: str, session_id: str, n: int) -> None:
    store = open_store(url)
    try:
        for i in range(n):
            store.publish(session_id, "tick", {"i": i})
    finally:
        store.close()


def _run_python(code: str, *args: str) -> subprocess.Popen[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(code), *args],
        stdout=subprocess.PIPE,
        text=True,
        env=env,
    )


# --- records ------------------------------------------------------------------


def test_every_backend_satisfies_the_store_protocol(store):
    assert isinstance(store, Store)


def test_get_returns_exactly_what_create_stored(store):
    blob = bytes(range(256)) * 1200  # ~300 KB, every byte value
    store.create(record("s1", blob, cursor={"phase": "input", "index": 0}, loss=0.25))
    got = store.get("s1")
    assert got.state == blob
    assert got.meta == {"cursor": {"phase": "input", "index": 0}, "loss": 0.25}
    assert got.owner_hash == "ab" * 32
    assert got.id == "s1"
    assert store.count() == 1


def test_put_overwrites_state_and_meta_and_bumps_updated(make_store, clock):
    store = make_store(clock=clock)
    original = record("s1", b"v0", step=0)
    store.create(original)
    assert original.updated == clock.now
    created = store.get("s1").created
    clock.advance(5)
    store.put(SessionRecord("s1", "ignored", b"v1", {"step": 1}, 0.0, 0.0))
    got = store.get("s1")
    assert (got.state, got.meta, got.updated) == (b"v1", {"step": 1}, clock.now)
    assert (got.owner_hash, got.created) == ("ab" * 32, created)


def test_mutating_a_returned_record_does_not_change_the_store(store):
    store.create(record("s1", cursor={"phase": "input"}))
    got = store.get("s1")
    got.meta["cursor"]["phase"] = "loss"
    assert store.get("s1").meta == {"cursor": {"phase": "input"}}


def test_missing_session_raises_session_not_found_with_its_id(store):
    for call in (store.get, store.delete, store.touch):
        with pytest.raises(SessionNotFound) as caught:
            call("nope")
        assert caught.value.session_id == "nope"
    with pytest.raises(SessionNotFound):
        store.put(record("nope"))


def test_deleted_session_is_gone_and_cannot_be_deleted_twice(store):
    store.create(record("s1"))
    store.create(record("s2"))
    store.delete("s1")
    with pytest.raises(SessionNotFound):
        store.get("s1")
    with pytest.raises(SessionNotFound):
        store.delete("s1")
    with pytest.raises(SessionNotFound):
        store.put(record("s1"))  # put never brings a session back
    assert store.get("s2").state == record().state
    assert store.count() == 1


def test_create_refuses_an_id_in_use(store):
    store.create(record("s1", b"first"))
    with pytest.raises(SessionExists):
        store.create(record("s1", b"second"))
    assert store.get("s1").state == b"first"


# --- expiry and eviction ------------------------------------------------------


def test_idle_session_expires_unless_touched(make_store, clock):
    store = make_store(idle_seconds=60, clock=clock)
    store.create(record("s1"))
    clock.advance(45)
    store.touch("s1")  # a read keeps the session alive
    clock.advance(45)
    assert store.get("s1").updated == clock.now - 45
    clock.advance(16)
    with pytest.raises(SessionNotFound):
        store.get("s1")
    with pytest.raises(SessionNotFound):
        store.touch("s1")
    with pytest.raises(SessionNotFound):
        store.put(record("s1"))
    assert store.count() == 0


def test_expire_deletes_only_idle_sessions_and_says_how_many(make_store, clock):
    store = make_store(idle_seconds=60, clock=clock)
    store.create(record("old1"))
    store.create(record("old2"))
    clock.advance(30)
    store.create(record("young"))
    clock.advance(31)
    assert store.expire() == 2
    assert store.expire() == 0
    assert store.count() == 1
    assert store.get("young")


def test_expired_id_can_be_created_again(make_store, clock):
    store = make_store(idle_seconds=10, clock=clock)
    store.create(record("s1", b"old"))
    clock.advance(11)
    store.create(record("s1", b"new"))
    assert store.get("s1").state == b"new"


def test_idle_session_expires_on_the_real_clock(make_store):
    store = make_store(idle_seconds=0.3)
    store.create(record("s1"))
    time.sleep(0.5)
    with pytest.raises(SessionNotFound):
        store.get("s1")


def test_full_store_evicts_the_least_recently_updated_session(make_store, clock):
    store = make_store(max_sessions=3, clock=clock)
    for sid in ("a", "b", "c"):
        store.create(record(sid))
        clock.advance(1)
    store.touch("a")  # now b is the least recently updated
    clock.advance(1)
    store.create(record("d"))
    assert store.count() == 3
    with pytest.raises(SessionNotFound):
        store.get("b")
    for sid in ("a", "c", "d"):
        assert store.get(sid)


def test_full_store_drops_expired_sessions_before_evicting_live_ones(make_store, clock):
    store = make_store(idle_seconds=10, max_sessions=3, clock=clock)
    store.create(record("a"))
    store.create(record("b"))
    clock.advance(6)
    store.create(record("c"))
    clock.advance(6)  # a and b expired, c is live
    store.create(record("d"))
    assert store.count() == 2
    assert store.get("c") and store.get("d")


# --- lock -----------------------------------------------------------------------


def test_lock_serialises_read_modify_write_across_threads(store):
    store.create(record("s1", b"0"))
    errors: list[BaseException] = []

    def work() -> None:
        try:
            for _ in range(25):
                with store.lock("s1", timeout=30):
                    current = store.get("s1")
                    time.sleep(0.0005)  # widen the window a missing lock would lose updates in
                    current.state = str(int(current.state) + 1).encode()
                    store.put(current)
        except BaseException as exc:  # surfaced below
            errors.append(exc)

    threads = [threading.Thread(target=work) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert store.get("s1").state == b"200"


def test_lock_times_out_while_another_thread_holds_it(store):
    held, release = threading.Event(), threading.Event()

    def holder() -> None:
        with store.lock("s1"):
            held.set()
            release.wait(10)

    thread = threading.Thread(target=holder)
    thread.start()
    try:
        assert held.wait(5)
        started = time.monotonic()
        with pytest.raises(LockTimeout) as caught, store.lock("s1", timeout=0.3):
            pass
        assert 0.25 <= time.monotonic() - started < 3
        assert caught.value.session_id == "s1"
        with store.lock("other", timeout=0.3):  # other sessions are not blocked
            pass
    finally:
        release.set()
        thread.join()
    with store.lock("s1", timeout=1):
        pass


def test_lock_is_released_when_the_body_raises(store):
    with pytest.raises(RuntimeError), store.lock("s1"):
        raise RuntimeError("boom")
    with store.lock("s1", timeout=0.5):
        pass


@pytest.mark.slow
@pytest.mark.parametrize("backend", CROSS_PROCESS, indirect=True)
def test_lock_serialises_read_modify_write_across_processes(store, store_url):
    store.create(record("s1", b"0"))
    ctx = spawn()
    ready, go = ctx.Semaphore(0), ctx.Event()
    workers = [
        ctx.Process(target=_increment_under_lock, args=(store_url, "s1", 20, ready, go))
        for _ in range(3)
    ]
    for w in workers:
        w.start()
    for _ in workers:
        assert ready.acquire(timeout=30)
    go.set()
    for w in workers:
        w.join(60)
    assert [w.exitcode for w in workers] == [0, 0, 0]
    assert store.get("s1").state == b"60"


@pytest.mark.slow
@pytest.mark.parametrize("backend", CROSS_PROCESS, indirect=True)
def test_lock_held_by_another_process_times_out(store, store_url):
    ctx = spawn()
    locked, release = ctx.Event(), ctx.Event()
    holder = ctx.Process(target=_hold_lock, args=(store_url, "s1", locked, release))
    holder.start()
    try:
        assert locked.wait(30)
        with pytest.raises(LockTimeout), store.lock("s1", timeout=0.3):
            pass
    finally:
        release.set()
        holder.join(30)
    assert holder.exitcode == 0
    with store.lock("s1", timeout=2):
        pass


def test_sqlite_lock_of_a_killed_process_is_released(tmp_path):
    url = f"sqlite:///{tmp_path / 'sessions.db'}"
    holder = _run_python(
        """
        import sys, time
        from app.store import open_store
        store = open_store(sys.argv[1])
        with store.lock("s1"):
            print("locked", flush=True)
            time.sleep(60)
        """,
        url,
    )
    try:
        assert holder.stdout.readline().strip() == "locked"
        store = open_store(url)
        with pytest.raises(LockTimeout), store.lock("s1", timeout=0.2):
            pass
        os.kill(holder.pid, signal.SIGKILL)
        holder.wait(10)
        with store.lock("s1", timeout=2):
            pass
        store.close()
    finally:
        holder.kill()
        holder.wait()


# --- events ---------------------------------------------------------------------


def test_every_subscriber_gets_every_event_in_order(store):
    with store.subscribe("s1") as first, store.subscribe("s1") as second:
        for i in range(50):
            store.publish("s1", "cursor", {"i": i, "phase": "input"})
        for subscription in (first, second):
            got = [subscription.get(timeout=2) for _ in range(50)]
            assert got == [("cursor", {"i": i, "phase": "input"}) for i in range(50)]
            assert subscription.get(timeout=0.05) is None


def test_events_published_from_other_threads_arrive_in_order(store):
    with store.subscribe("s1") as subscription:
        publisher = threading.Thread(
            target=lambda: [store.publish("s1", "train.progress", {"done": i}) for i in range(20)]
        )
        publisher.start()
        got = [subscription.get(timeout=2) for _ in range(20)]
        publisher.join()
    assert got == [("train.progress", {"done": i}) for i in range(20)]


def test_subscriber_hears_only_its_own_session(store):
    with store.subscribe("s1") as subscription:
        store.publish("s2", "cursor", {"who": "s2"})
        store.publish("s1", "cursor", {"who": "s1"})
        assert subscription.get(timeout=2) == ("cursor", {"who": "s1"})
        assert subscription.get(timeout=0.05) is None


def test_get_waits_for_the_timeout_then_returns_none(store):
    with store.subscribe("s1") as subscription:
        started = time.monotonic()
        assert subscription.get(timeout=0.2) is None
        assert 0.15 <= time.monotonic() - started < 2


def test_closed_subscription_gets_nothing_while_others_still_do(store):
    kept = store.subscribe("s1")
    dropped = store.subscribe("s1")
    dropped.close()
    dropped.close()  # idempotent
    store.publish("s1", "cursor", {"n": 1})
    assert dropped.closed
    assert dropped.get(timeout=0.5) is None
    assert kept.get(timeout=2) == ("cursor", {"n": 1})
    kept.close()


def test_close_wakes_a_get_blocked_in_another_thread(store):
    subscription = store.subscribe("s1")
    returned: list[object] = []
    reader = threading.Thread(target=lambda: returned.append(subscription.get(timeout=10)))
    reader.start()
    time.sleep(0.1)
    started = time.monotonic()
    subscription.close()
    reader.join(5)
    assert returned == [None]
    assert time.monotonic() - started < 1


def test_closing_the_store_closes_its_subscriptions(make_store):
    store = make_store()
    subscription = store.subscribe("s1")
    store.close()
    assert subscription.closed
    assert subscription.get(timeout=0.5) is None


@pytest.mark.slow
@pytest.mark.parametrize("backend", ["redis"], indirect=True)
def test_redis_events_reach_subscribers_in_other_processes(store, store_url):
    with store.subscribe("s1") as subscription:
        publisher = spawn().Process(target=_publish_numbers, args=(store_url, "s1", 10))
        publisher.start()
        got = [subscription.get(timeout=30) for _ in range(10)]
        publisher.join(30)
    assert got == [("tick", {"i": i}) for i in range(10)]


# --- backend specifics ----------------------------------------------------------


@pytest.mark.parametrize("backend", ["redis"], indirect=True)
def test_redis_lets_the_key_ttl_expire_idle_sessions(make_store, store_url):
    import redis

    store = make_store(idle_seconds=60)
    store.create(record("s1"))
    client = redis.Redis.from_url(store_url)
    try:
        assert 59_000 < client.pttl("bpl:s:s1") <= 60_000
        client.pexpire("bpl:s:s1", 1)
        time.sleep(0.05)
        with pytest.raises(SessionNotFound):
            store.get("s1")
    finally:
        client.close()


def test_redis_lock_outlives_its_ttl_while_held(redis_url):
    from app.store.redis import RedisStore

    store = RedisStore(redis_url, lock_ttl=0.3)
    other = RedisStore(redis_url, lock_ttl=0.3)  # as if in another process
    try:
        with store.lock("long-job"):
            time.sleep(0.8)  # well past the TTL: the holder kept renewing it
            with pytest.raises(LockTimeout), other.lock("long-job", timeout=0.2):
                pass
        with other.lock("long-job", timeout=0.5):
            pass
    finally:
        store.close()
        other.close()


def test_sqlite_acknowledged_put_survives_sigkill(tmp_path):
    url = f"sqlite:///{tmp_path / 'sessions.db'}"
    writer = _run_python(
        """
        import sys, time
        from app.store import SessionRecord, open_store
        store = open_store(sys.argv[1])
        store.create(SessionRecord("s1", "h", b"v0", {}, time.time(), 0.0))
        store.put(SessionRecord("s1", "h", b"v1" * 50_000, {"step": 1}, 0.0, 0.0))
        print("ok", flush=True)
        time.sleep(60)
        """,
        url,
    )
    try:
        assert writer.stdout.readline().strip() == "ok"
        os.kill(writer.pid, signal.SIGKILL)
        assert writer.wait(10) == -signal.SIGKILL
    finally:
        writer.kill()
        writer.wait()
    store = open_store(url)
    try:
        got = store.get("s1")
        assert (got.state, got.meta) == (b"v1" * 50_000, {"step": 1})
    finally:
        store.close()


def test_sqlite_store_is_in_wal_mode_with_full_sync(tmp_path):
    store = SQLiteStore(tmp_path / "sessions.db")
    try:
        with store._connection() as conn:
            assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
            assert conn.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL
    finally:
        store.close()


# --- open_store -----------------------------------------------------------------


def test_open_store_picks_memory():
    for url in ("memory", "memory://"):
        store = open_store(url, idle_seconds=5, max_sessions=7)
        assert isinstance(store, MemoryStore)
        assert (store.idle_seconds, store.max_sessions) == (5, 7)
        store.close()


def test_open_store_takes_relative_and_absolute_sqlite_paths(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    relative = open_store("sqlite:///var/sessions.db")
    absolute = open_store(f"sqlite:///{tmp_path}/deep/er/sessions.db")
    try:
        assert isinstance(relative, SQLiteStore) and isinstance(absolute, SQLiteStore)
        assert (tmp_path / "var" / "sessions.db").exists()
        assert (tmp_path / "deep" / "er" / "sessions.db").exists()
    finally:
        relative.close()
        absolute.close()


def test_open_store_picks_redis(redis_url):
    from app.store.redis import RedisStore

    store = open_store(redis_url)
    assert isinstance(store, RedisStore)
    store.close()


@pytest.mark.parametrize("url", ["postgres://x/y", "sqlite:///", "sessions.db", ""])
def test_open_store_rejects_unknown_urls_with_a_clear_message(url):
    with pytest.raises(ValueError, match="store URL"):
        open_store(url)


def test_store_package_imports_nothing_from_the_web_stack():
    code = (
        "import sys, app.store, app.store.redis;"
        "bad = [m for m in ('fastapi', 'starlette', 'httpx', 'uvicorn') if m in sys.modules];"
        "print(bad)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    ).stdout
    assert out.strip() == "[]"
