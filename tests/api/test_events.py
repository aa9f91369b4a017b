"""Server-Sent Events: the current cursor first, then one `cursor` event per change."""

from __future__ import annotations

import time

import httpx
import pytest

from tests.api.helpers import API, new_session, sse_events, url, wait_for_event
from tests.api.server import running_server


def open_events(client, session_id):
    return client.stream("GET", url(session_id, "/events"))


def cursor_at(phase):
    return lambda event, data: event == "cursor" and data["cursor"]["phase"] == phase


def test_the_stream_is_an_uncached_event_stream(client, session):
    with open_events(client, session[0]) as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        assert response.headers["cache-control"] == "no-cache"


def test_the_first_event_is_the_current_cursor(client, session):
    session_id, _, headers = session
    client.post(url(session_id, "/step"), json={"to": "forward.pool"}, headers=headers)
    current = client.get(url(session_id)).json()
    with open_events(client, session_id) as response:
        event, data = next(sse_events(response.iter_lines(), time.monotonic() + 10))
    assert event == "cursor"
    assert data["session"] == session_id
    assert data["cursor"] == current["cursor"]
    assert data["counters"] == current["counters"]


def test_a_step_through_the_api_sends_a_cursor_event_with_the_new_phase(client, session):
    session_id, _, headers = session
    with open_events(client, session_id) as response:
        events = sse_events(response.iter_lines(), time.monotonic() + 10)
        assert next(events)[1]["cursor"]["phase"] == "input"
        client.post(url(session_id, "/step"), json={"count": 1}, headers=headers)
        _, data = wait_for_event(events, lambda event, _: event == "cursor")
        assert data["session"] == session_id
        assert data["cursor"]["phase"] == "forward.conv"
        client.post(url(session_id, "/step"), json={"to": "loss"}, headers=headers)
        _, data = wait_for_event(events, lambda event, _: event == "cursor")
        assert data["cursor"]["phase"] == "loss"


@pytest.mark.parametrize("method, rest, body, phase", [
    ("POST", "/back", {"count": 1}, "forward.act"),
    ("POST", "/input", {"dataset": "mnist14", "index": 7}, "input"),
    ("PUT", "/params", {"params": {"fc2.w": {"shape": [80, 10], "data": [0.0] * 800}}},
     "input"),
    ("PATCH", "/config", {"learning_rate": 0.25}, "forward.fc1"),
])
def test_every_change_sends_a_cursor_event(client, session, method, rest, body, phase):
    session_id, _, headers = session
    client.post(url(session_id, "/step"), json={"to": "forward.fc1"}, headers=headers)
    with open_events(client, session_id) as response:
        events = sse_events(response.iter_lines(), time.monotonic() + 10)
        next(events)
        response = client.request(method, url(session_id, rest), json=body, headers=headers)
        assert response.status_code == 200, response.text
        _, data = wait_for_event(events, lambda event, _: event == "cursor")
    assert data["cursor"]["phase"] == phase


def test_a_refused_change_sends_no_event(client, session):
    session_id, _, headers = session
    with open_events(client, session_id) as response:
        events = sse_events(response.iter_lines(), time.monotonic() + 10)
        next(events)
        client.post(url(session_id, "/step"), json={"count": 1})  # no token: 401
        client.post(url(session_id, "/back"), json={"count": 5}, headers=headers)  # 409
        client.post(url(session_id, "/step"), json={"count": 1}, headers=headers)
        _, data = wait_for_event(events, lambda event, _: event == "cursor")
    assert data["cursor"]["phase"] == "forward.conv"  # the first event is the real step's


def test_deleting_the_session_ends_its_stream(client, session):
    session_id, _, headers = session
    with open_events(client, session_id) as response:
        events = sse_events(response.iter_lines(), time.monotonic() + 10)
        next(events)
        assert client.delete(url(session_id), headers=headers).status_code == 204
        event, data = wait_for_event(events, lambda event, _: event == "deleted")
        assert data["session"] == session_id
        assert list(events) == []  # and the stream ends


def test_followers_of_one_session_do_not_see_another_sessions_events(client, session):
    session_id, _, _ = session
    other, _, other_headers = new_session(client)
    with open_events(client, session_id) as response:
        events = sse_events(response.iter_lines(), time.monotonic() + 1.5)
        next(events)
        client.post(url(other, "/step"), json={"count": 1}, headers=other_headers)
        with pytest.raises(TimeoutError):
            wait_for_event(events, lambda event, _: event == "cursor")


def test_a_follower_of_a_real_server_sees_each_step(tmp_path):
    with running_server("memory", tmp_path) as server, httpx.Client(base_url=server.url,
                                                                     timeout=10) as http:
        created = http.post(f"{API}/sessions", json={}).json()
        session_id = created["id"]
        headers = {"Authorization": f"Bearer {created['owner_token']}"}
        with http.stream("GET", url(session_id, "/events")) as response:
            assert response.status_code == 200
            events = sse_events(response.iter_lines(), time.monotonic() + 15)
            assert next(events)[1]["cursor"]["phase"] == "input"
            for phase in ("forward.conv", "forward.pool", "forward.act"):
                http.post(url(session_id, "/step"), json={"count": 1}, headers=headers)
                wait_for_event(events, cursor_at(phase))


def test_sixty_followers_each_see_every_step_of_the_presenter(tmp_path):
    """A classroom: sixty open streams, and the presenter's steps still answer and reach
    every follower (streams wait in threads of their own, not the request thread pool)."""
    import threading

    with running_server("memory", tmp_path) as server:
        created = httpx.post(f"{server.url}{API}/sessions", json={}).json()
        sid, token = created["id"], created["owner_token"]
        done = threading.Event()
        received = []

        def follow():
            with httpx.stream("GET", f"{server.url}{API}/sessions/{sid}/events",
                              timeout=30) as response:
                for line in response.iter_lines():
                    if line.startswith("event: cursor"):
                        received.append(line)
                    if done.is_set():
                        break

        followers = [threading.Thread(target=follow, daemon=True) for _ in range(60)]
        for thread in followers:
            thread.start()
        deadline = time.monotonic() + 20
        while len(received) < 60 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert len(received) == 60  # every follower got its first cursor event
        for _ in range(3):
            response = httpx.post(f"{server.url}{API}/sessions/{sid}/step", json={"count": 1},
                                  headers={"Authorization": f"Bearer {token}"}, timeout=5)
            assert response.status_code == 200
        deadline = time.monotonic() + 20
        while len(received) < 4 * 60 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert len(received) == 4 * 60  # the first cursor and three steps, for everyone
        done.set()
