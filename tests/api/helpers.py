"""Helpers for the API tests: sessions, strict JSON, Server-Sent Events."""

from __future__ import annotations

import json
import time
from collections.abc import Iterable, Iterator

from app.settings import Settings

API = "/api/v1"

PHASES = [
    "input", "forward.conv", "forward.pool", "forward.act", "forward.fc1", "forward.fc2",
    "loss", "backward.fc2", "backward.fc1", "backward.act", "backward.pool",
    "backward.conv", "update",
]

SEED_CONFIG = {
    "input_size": 14, "kernels": 1, "kernel_size": 5, "pool": "max", "activation": "sigmoid",
    "hidden": 80, "output": "sigmoid-mse", "bias": False, "learning_rate": 0.5,
    "order": "shuffled",
}


def make_settings(**overrides) -> Settings:
    """Test settings: memory store, quick SSE pings (so stream readers can time out)."""
    return Settings(**{"store": "memory", "sse_ping_seconds": 0.5, **overrides})


def new_session(client, seed: int = 0, **config) -> tuple[str, str, dict]:
    """Create a seed session with `config` overrides: (id, owner_token, auth headers)."""
    response = client.post(f"{API}/sessions", json={"preset": "seed", "config": config,
                                                     "seed": seed})
    assert response.status_code == 201, response.text
    body = response.json()
    return body["id"], body["owner_token"], {"Authorization": f"Bearer {body['owner_token']}"}


def url(session_id: str, rest: str = "") -> str:
    return f"{API}/sessions/{session_id}{rest}"


def strict_json(text: str):
    """Parse JSON, refusing NaN and ±Infinity (which the standard does not allow)."""

    def refuse(constant):
        raise ValueError(f"non-finite number {constant} in JSON")

    return json.loads(text, parse_constant=refuse)


def assert_error(response, status: int, field: str | None = "", code: str | None = None):
    """The response is `status` with the API's error body; `field` (if given) is named."""
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert set(error) == {"code", "message", "field"}
    assert error["code"] and error["message"]
    if field != "":
        assert error["field"] == field, error
    if code is not None:
        assert error["code"] == code, error
    return error


def sse_events(lines: Iterable[str], deadline: float) -> Iterator[tuple[str, dict]]:
    """(event, data) pairs from the lines of an event stream until it ends; TimeoutError
    after `deadline` (time.monotonic()). The server's ping comments keep lines coming, so
    the clock is checked even while no event arrives."""
    event, data = None, []
    for line in lines:
        if time.monotonic() > deadline:
            raise TimeoutError("no matching event before the deadline")
        if line == "":
            if event is not None or data:
                yield event or "message", json.loads("\n".join(data))
            event, data = None, []
        elif line.startswith(":"):
            continue
        elif line.startswith("event:"):
            event = line[len("event:"):].strip()
        elif line.startswith("data:"):
            data.append(line[len("data:"):].strip())


def wait_for_event(events: Iterator[tuple[str, dict]], predicate) -> tuple[str, dict]:
    """The first event satisfying predicate(event, data)."""
    for event, data in events:
        if predicate(event, data):
            return event, data
    raise AssertionError("the stream ended without the expected event")


def wait_until(condition, timeout: float = 10.0, every: float = 0.05):
    """Poll `condition()` until it returns something truthy; that value."""
    end = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > end:
            raise TimeoutError("condition not met in time")
        time.sleep(every)
