"""Owner tokens, body limits, security headers, no stack traces, no NaN on the wire."""

from __future__ import annotations

import time
import warnings

import pytest

from app.figures import VIEWS
from app.main import create_app
from tests.api.helpers import (
    API,
    assert_error,
    make_settings,
    new_session,
    sse_events,
    strict_json,
    url,
    wait_until,
)

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient


def _prepare_back(client, session_id, headers):
    client.post(url(session_id, "/step"), json={"count": 2}, headers=headers)


def _params_body(client, session_id, headers):
    return {"params": client.get(url(session_id, "/params")).json()["params"]}


# (method, path after /sessions/{id}, body or a function making it, success status, prepare)
MUTATING = {
    "step": ("POST", "/step", {"count": 1}, 200, None),
    "back": ("POST", "/back", {"count": 1}, 200, _prepare_back),
    "input": ("POST", "/input", {"dataset": "mnist14", "index": 3}, 200, None),
    "params": ("PUT", "/params", _params_body, 200, None),
    "train": ("POST", "/train", {"samples": 20}, 202, None),
    "train-stop": ("POST", "/train/stop", None, 200, None),
    "delete": ("DELETE", "", None, 204, None),
    "config": ("PATCH", "/config", {"learning_rate": 0.2}, 200, None),
    "evaluate": ("POST", "/evaluate", None, 200, None),
}


def _call(client, name, session_id, headers, owner_headers):
    method, rest, body, _, _ = MUTATING[name]
    if callable(body):
        body = body(client, session_id, owner_headers)
    return client.request(method, url(session_id, rest), json=body, headers=headers)


def _snapshot(client, session_id):
    info = client.get(url(session_id)).json()
    return info["cursor"], info["counters"], info["config"], info["job"]["state"], \
        client.get(url(session_id, "/params")).json()


@pytest.mark.parametrize("name", MUTATING)
def test_mutating_route_without_a_token_is_401(client, name):
    session_id, _, headers = new_session(client)
    before = _snapshot(client, session_id)
    response = _call(client, name, session_id, {}, headers)
    assert_error(response, 401, "Authorization", code="unauthorized")
    assert response.headers["www-authenticate"] == "Bearer"
    assert _snapshot(client, session_id) == before


@pytest.mark.parametrize("name", MUTATING)
def test_mutating_route_with_a_wrong_token_is_403(client, name):
    session_id, _, headers = new_session(client)
    _, _, other_headers = new_session(client)  # a real token, of another session
    before = _snapshot(client, session_id)
    for wrong in ({"Authorization": "Bearer not-the-token"}, other_headers):
        response = _call(client, name, session_id, wrong, headers)
        assert_error(response, 403, "Authorization", code="forbidden")
    assert _snapshot(client, session_id) == before


@pytest.mark.parametrize("name", MUTATING)
def test_mutating_route_needs_the_bearer_scheme(client, name):
    session_id, token, headers = new_session(client)
    before = _snapshot(client, session_id)
    for value in (f"Basic {token}", token, f"Token {token}", "Bearer", "Bearer  "):
        response = _call(client, name, session_id, {"Authorization": value}, headers)
        assert_error(response, 401, "Authorization")
    assert _snapshot(client, session_id) == before


@pytest.mark.parametrize("name", MUTATING)
def test_mutating_route_with_the_owner_token_succeeds(client, name):
    session_id, _, headers = new_session(client)
    _, _, _, status, prepare = MUTATING[name]
    if prepare:
        prepare(client, session_id, headers)
    response = _call(client, name, session_id, headers, headers)
    assert response.status_code == status, response.text
    if name == "train":
        wait_until(lambda: client.get(url(session_id, "/metrics")).json()["job"]["state"]
                   == "done")


def test_the_bearer_scheme_is_case_insensitive(client):
    session_id, token, _ = new_session(client)
    response = client.post(url(session_id, "/step"), json={"count": 1},
                           headers={"Authorization": f"bearer {token}"})
    assert response.status_code == 200


@pytest.mark.parametrize("method, rest", [
    ("GET", ""), ("GET", "/state"), ("GET", "/params"), ("GET", "/phases"),
    ("GET", "/pool-table"), ("GET", "/gradcheck"), ("GET", "/figures/conv"),
    ("GET", "/export"), ("GET", "/metrics"), ("GET", "/explain/fc2.w/0"),
    ("GET", "/state?alias=seed"), ("POST", "/fork"),
])
def test_reading_routes_need_no_token(client, method, rest):
    session_id, _, headers = new_session(client)
    client.post(url(session_id, "/step"), json={"to": "backward.fc2"}, headers=headers)
    response = client.request(method, url(session_id, rest))
    assert response.status_code in (200, 201), response.text
    # a bogus token does not get in the way of reading either
    response = client.request(method, url(session_id, rest),
                              headers={"Authorization": "Bearer whatever"})
    assert response.status_code in (200, 201), response.text


def test_events_need_no_token(client):
    session_id, _, _ = new_session(client)
    with client.stream("GET", url(session_id, "/events")) as response:
        assert response.status_code == 200
        event, data = next(sse_events(response.iter_lines(), time.monotonic() + 10))
    assert event == "cursor" and data["session"] == session_id


# ------------------------------------------------------------------ body limit


@pytest.fixture
def small_body_client():
    with TestClient(create_app(make_settings(max_body_bytes=1000))) as test_client:
        yield test_client


def _big_params_body() -> bytes:
    return (b'{"params": {"conv.w": {"shape": [1, 5, 5], "data": ['
            + b", ".join([b"0.1234567890123"] * 25) + b"]}}}" + b" " * 1000)


def test_a_body_over_the_limit_is_413_with_the_error_body(small_body_client):
    client = small_body_client
    session_id, _, headers = new_session(client)
    before = client.get(url(session_id, "/params")).json()
    response = client.put(url(session_id, "/params"), content=_big_params_body(),
                          headers={**headers, "Content-Type": "application/json"})
    assert_error(response, 413, code="body_too_large")
    assert "1000" in response.json()["error"]["message"]
    assert client.get(url(session_id, "/params")).json() == before


def test_a_streamed_body_without_length_over_the_limit_is_413(small_body_client):
    client = small_body_client
    session_id, _, headers = new_session(client)
    body = _big_params_body()

    def chunks():
        for start in range(0, len(body), 128):
            yield body[start:start + 128]

    response = client.put(url(session_id, "/params"), content=chunks(),
                          headers={**headers, "Content-Type": "application/json"})
    assert "content-length" not in response.request.headers
    assert_error(response, 413, code="body_too_large")


def test_a_body_under_the_limit_is_accepted(small_body_client):
    body = b'{"config": {"kernels": 2}}' + b" " * 900
    response = small_body_client.post(f"{API}/sessions", content=body,
                                      headers={"Content-Type": "application/json"})
    assert response.status_code == 201, response.text


# ------------------------------------------------------------------ headers


def _csp(response) -> dict[str, str]:
    policy = response.headers["content-security-policy"]
    directives = (part.strip().split(None, 1) for part in policy.split(";") if part.strip())
    return {d[0]: d[1] if len(d) > 1 else "" for d in directives}


def _assert_security_headers(response, strict_scripts=True):
    assert response.headers["x-content-type-options"] == "nosniff"
    csp = _csp(response)
    assert csp["frame-ancestors"] == "'self'"
    if strict_scripts:
        assert csp["script-src"] == "'self'"
    assert "'unsafe-eval'" not in response.headers["content-security-policy"]


@pytest.mark.parametrize("method, path", [
    ("GET", "/healthz"), ("POST", f"{API}/sessions"), ("GET", f"{API}/sessions/{{id}}"),
    ("GET", f"{API}/sessions/{{id}}/figures/input"), ("GET", f"{API}/sessions/missing"),
    ("GET", f"{API}/datasets/nope/samples/0"), ("GET", "/openapi.json"),
])
def test_api_responses_carry_the_security_headers(client, method, path):
    session_id, _, _ = new_session(client)
    response = client.request(method, path.replace("{id}", session_id),
                              json={} if method == "POST" else None)
    _assert_security_headers(response)


def test_page_responses_carry_the_security_headers(client):
    response = client.get("/", follow_redirects=False)
    assert response.status_code == 303
    _assert_security_headers(response)
    response = client.get("/static/vendor/plotly.min.js")
    assert response.status_code == 200
    _assert_security_headers(response)
    response = client.get("/docs")  # Swagger UI needs its inline bootstrap script
    assert response.status_code == 200
    _assert_security_headers(response, strict_scripts=False)


def test_a_413_carries_the_security_headers(small_body_client):
    response = small_body_client.post(f"{API}/sessions", content=b"{" + b" " * 2000 + b"}",
                                      headers={"Content-Type": "application/json"})
    assert response.status_code == 413
    _assert_security_headers(response)


# ------------------------------------------------------------------ bad bodies


JSON_ROUTES = [("POST", "/step"), ("POST", "/back"), ("POST", "/input"), ("PUT", "/params"),
               ("POST", "/train"), ("PATCH", "/config")]


@pytest.mark.parametrize("method, rest", JSON_ROUTES + [("POST", "")])
def test_garbage_json_is_422_not_500(client, method, rest):
    session_id, _, headers = new_session(client)
    path = url(session_id, rest) if rest else f"{API}/sessions"
    response = client.request(method, path, content=b'{"count": 1,, garbage',
                              headers={**headers, "Content-Type": "application/json"})
    assert_error(response, 422)


ODD_BODIES = [
    b"", b"null", b"[]", b'"text"', b"42", b"{", b'{"a": 1}', b"\xff\xfe\x00",
    b"[" * 5000 + b"]" * 5000, b'{"count": 1e999}', b'{"count": 99999999999999999999999}',
    b'{"to": null, "count": null}', b'{"pixels": [[1e999]], "label": 1}',
    b'{"params": {"conv.w": {"shape": [99999999999999999999], "data": []}}}',
    b'{"learning_rate": NaN}', b'{"samples": -1}', b'{"epochs": 1e-12}',
]


def test_no_response_ever_carries_a_stack_trace(lenient_client):
    client = lenient_client
    session_id, _, headers = new_session(client)
    for method, rest in JSON_ROUTES + [("POST", "/fork"), ("POST", "/evaluate")]:
        for number, body in enumerate(ODD_BODIES):
            for content_type in ("application/json", "text/plain")[: 1 + number % 2]:
                response = client.request(method, url(session_id, rest), content=body,
                                          headers={**headers, "Content-Type": content_type})
                assert response.status_code < 500, (method, rest, body[:40], response.text)
                assert "Traceback" not in response.text
                assert 'File "' not in response.text
    for path in (f"{API}/sessions/{session_id}/explain/conv.w/99999999999999999999",
                 f"{API}/sessions/{session_id}/figures/%00", f"{API}/datasets/%2e%2e/samples/0",
                 f"{API}/sessions/{session_id}/state?names=" + "x," * 2000):
        response = client.get(path)
        assert response.status_code < 500, (path, response.text)
        assert "Traceback" not in response.text


# ------------------------------------------------------------------ divergence

# the engine's own overflow warning is the point of these tests
overflow_expected = pytest.mark.filterwarnings("ignore:overflow encountered:RuntimeWarning")


def _diverging_session(client):
    """A relu session with learning rate 10 and parameters so large that the forward and
    backward passes stay finite but the update overflows to Inf."""
    session_id, _, headers = new_session(client, activation="relu", learning_rate=10)
    body = {"params": {"conv.w": {"shape": [1, 5, 5], "data": [0.1] * 25},
                       "fc2.w": {"shape": [80, 10], "data": [0.0] * 800}}}
    assert client.put(url(session_id, "/params"), json=body, headers=headers).status_code == 200
    client.post(url(session_id, "/step"), json={"to": "forward.act"}, headers=headers)
    act = client.get(url(session_id, "/state?names=act.out")).json()["tensors"]["act.out"]
    # fc1.z = Σ act.out · w ≈ 1.5e308: finite; then grads.fc2.w ≈ 1.5e308·δy and the update
    # w − 10·grad overflows
    weight = 1.5e308 / sum(act["data"])
    body = {"params": {"fc1.w": {"shape": [25, 80], "data": [weight] * 2000}}}
    assert client.put(url(session_id, "/params"), json=body, headers=headers).status_code == 200
    return session_id, headers


@overflow_expected
def test_a_diverging_update_is_409_and_the_session_reports_diverged(client):
    session_id, headers = _diverging_session(client)
    response = client.post(url(session_id, "/step"), json={"to": "backward.conv"},
                           headers=headers)
    assert response.status_code == 200, response.text
    assert client.get(url(session_id)).json()["diverged"] is False
    response = client.post(url(session_id, "/step"), json={"count": 1}, headers=headers)
    error = assert_error(response, 409, code="diverged")
    assert "learning rate" in error["message"].lower() or "diverged" in error["message"]
    info = client.get(url(session_id)).json()
    assert info["diverged"] is True
    assert info["cursor"]["phase"] == "backward.conv"  # the failed step changed nothing
    # it keeps refusing updates
    assert_error(client.post(url(session_id, "/step"), json={"count": 1}, headers=headers),
                 409, code="diverged")


@overflow_expected
def test_a_diverged_session_never_sends_nan_or_infinity(client):
    session_id, headers = _diverging_session(client)
    client.post(url(session_id, "/step"), json={"to": "backward.conv"}, headers=headers)
    client.post(url(session_id, "/step"), json={"count": 1}, headers=headers)
    paths = ["", "/state", "/state?alias=seed", "/params", "/pool-table", "/gradcheck",
             "/explain/conv.w/3", "/explain/fc1.w/3", "/explain/fc2.w/3", "/metrics",
             "/export"] + [f"/figures/{view}" for view in VIEWS]
    for rest in paths:
        response = client.get(url(session_id, rest))
        assert response.status_code == 200, (rest, response.text)
        strict_json(response.text)  # raises on NaN / Infinity


@overflow_expected
def test_setting_finite_parameters_clears_divergence(client):
    session_id, headers = _diverging_session(client)
    client.post(url(session_id, "/step"), json={"to": "backward.conv"}, headers=headers)
    client.post(url(session_id, "/step"), json={"count": 1}, headers=headers)
    fresh, _, _ = new_session(client, activation="relu", learning_rate=10)
    body = {"params": client.get(url(fresh, "/params")).json()["params"]}
    assert client.put(url(session_id, "/params"), json=body, headers=headers).status_code == 200
    assert client.get(url(session_id)).json()["diverged"] is False
    client.patch(url(session_id, "/config"), json={"learning_rate": 0.1}, headers=headers)
    response = client.post(url(session_id, "/step"), json={"to": "update"}, headers=headers)
    assert response.status_code == 200, response.text
