"""Real server processes: sessions survive SIGKILL on SQLite, two processes share Redis,
parallel steps on one session are serialised."""

from __future__ import annotations

import threading
import time
import warnings
from concurrent.futures import ThreadPoolExecutor

import httpx

from app.main import create_app
from tests.api.helpers import API, PHASES, make_settings, sse_events, url, wait_for_event
from tests.api.server import Server, running_server, running_servers
from tests.redis_server import redis_server

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

# Each session: the create body and the steps taken, ending at different phases.
PLANS = [
    ({"seed": 0}, [{"to": "forward.pool"}]),
    ({"seed": 1, "config": {"kernels": 2, "bias": True}}, [{"to": "update"}, {"count": 10}]),
    ({"seed": 2, "config": {"pool": "avg"}}, [{"to": "loss"}, {"count": 1}]),
]


def create(http, body) -> tuple[str, dict]:
    response = http.post(f"{API}/sessions", json=body)
    assert response.status_code == 201, response.text
    created = response.json()
    return created["id"], {"Authorization": f"Bearer {created['owner_token']}"}


def step(http, session_id, headers, body) -> dict:
    response = http.post(url(session_id, "/step"), json=body, headers=headers)
    assert response.status_code == 200, response.text
    return response.json()


def snapshot(http, session_id) -> dict:
    info = http.get(url(session_id))
    assert info.status_code == 200, info.text
    tensors = http.get(url(session_id, "/state")).json()
    body = info.json()
    return {"cursor": body["cursor"], "counters": body["counters"], "config": body["config"],
            "state": tensors}


def reference_snapshot(body, steps) -> dict:
    """The same session replayed in-process on a memory store (the engine is deterministic)."""
    with TestClient(create_app(make_settings())) as client:
        session_id, headers = create(client, body)
        for step_body in steps:
            step(client, session_id, headers, step_body)
        return snapshot(client, session_id)


def test_sessions_survive_a_sigkill_of_a_sqlite_server(tmp_path):
    store = f"sqlite:///{tmp_path / 's.db'}"
    sessions = []
    server = Server(store, tmp_path, "before-kill").start()
    try:
        with httpx.Client(base_url=server.url, timeout=30) as http:
            for body, steps in PLANS:
                session_id, headers = create(http, body)
                for step_body in steps[:-1]:
                    step(http, session_id, headers, step_body)
                sessions.append((session_id, headers))
            # every session but the last takes its last step; their state is read back
            expected = []
            for (session_id, headers), (_, steps) in zip(sessions[:-1], PLANS[:-1],
                                                         strict=True):
                step(http, session_id, headers, steps[-1])
                expected.append(snapshot(http, session_id))
            # the last session's last step is acknowledged, then the process dies at once
            session_id, headers = sessions[-1]
            last = step(http, session_id, headers, PLANS[-1][1][-1])
        server.kill()
    finally:
        server.stop()
    assert server.proc.returncode == -9
    expected.append(reference_snapshot(*PLANS[-1]))
    assert expected[-1]["cursor"] == last["cursor"]

    with running_server(store, tmp_path) as restarted, \
            httpx.Client(base_url=restarted.url, timeout=30) as http:
        for (session_id, _), before in zip(sessions, expected, strict=True):
            assert snapshot(http, session_id) == before
        # owners keep their tokens across the restart, others still cannot change anything
        session_id, headers = sessions[0]
        assert http.post(url(session_id, "/step"), json={"count": 1},
                         headers=sessions[1][1]).status_code == 403
        assert step(http, session_id, headers, {"count": 1})["cursor"]["phase"] == "forward.act"


def test_two_server_processes_share_sessions_and_events_through_redis(tmp_path):
    with redis_server() as redis_url, running_servers(redis_url, tmp_path, 2) as (a, b), \
            httpx.Client(base_url=a.url, timeout=30) as http_a, \
            httpx.Client(base_url=b.url, timeout=30) as http_b:
        session_id, headers = create(http_a, {"seed": 0})
        assert http_b.get(url(session_id)).json()["cursor"]["phase"] == "input"
        with http_b.stream("GET", url(session_id, "/events")) as follower:
            assert follower.status_code == 200
            events = sse_events(follower.iter_lines(), time.monotonic() + 30)
            assert next(events)[1]["cursor"]["phase"] == "input"
            for count in range(1, 7):
                here, there = (http_a, http_b) if count % 2 else (http_b, http_a)
                body = step(here, session_id, headers, {"count": 1})
                phase = PHASES[count]
                assert body["cursor"]["phase"] == phase
                # the other process sees the step at once
                assert there.get(url(session_id)).json()["cursor"]["phase"] == phase
                # and B's follower hears of it, whichever process made it
                _, data = wait_for_event(events, lambda event, _: event == "cursor")
                assert data["cursor"]["phase"] == phase
        assert http_b.get(url(session_id, "/state")).json() == \
            http_a.get(url(session_id, "/state")).json()
        assert http_b.post(url(session_id, "/step"), json={"count": 1},
                           headers={"Authorization": "Bearer wrong"}).status_code == 403


def test_parallel_steps_on_one_session_are_serialised(tmp_path):
    threads = 20
    with running_server(f"sqlite:///{tmp_path / 's.db'}", tmp_path) as server, \
            httpx.Client(base_url=server.url, timeout=60,
                         limits=httpx.Limits(max_connections=threads)) as http:
        session_id, headers = create(http, {"seed": 0})
        start = threading.Barrier(threads)

        def one_step(_):
            start.wait()
            return http.post(url(session_id, "/step"), json={"count": 1}, headers=headers)

        with ThreadPoolExecutor(threads) as pool:
            responses = list(pool.map(one_step, range(threads)))
        assert [r.status_code for r in responses if r.status_code >= 500] == []
        assert all(r.status_code == 200 for r in responses), [r.text for r in responses]
        # each step saw a different state: positions 1..20 along the phases, none lost
        reached = sorted(r.json()["counters"]["position"] * len(PHASES)
                         + r.json()["cursor"]["index"] for r in responses)
        assert reached == list(range(1, threads + 1))
        info = http.get(url(session_id)).json()
        assert info["counters"]["position"] * len(PHASES) + info["cursor"]["index"] == threads
        assert info["counters"]["updates"] == threads // len(PHASES)
