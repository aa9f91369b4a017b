"""Property test over the OpenAPI document: no generated request gets a server error.

Schemathesis generates requests for every operation from the app's own
`/openapi.json`. Random session ids only reach the 404 path, so most examples
aim at a real session (stepped to a random phase), half of them with its owner
token, so that the generated bodies reach the engine.
"""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error

from app.figures import THEMES, VIEWS
from app.main import create_app
from tests.api.helpers import PHASES, make_settings

# Half the time a path or query parameter takes a known good value, so the examples get
# past "no such view" and reach the engine.
KNOWN = {
    "view": st.sampled_from(VIEWS),
    "param": st.sampled_from(["conv.w", "fc1.w", "fc2.w", "w1cnn", "w12", "w2"]),
    "index": st.one_of(st.integers(0, 24), st.integers(-1, 2001)),
    "name": st.sampled_from(["mnist14", "mnist28"]),
    "theme": st.sampled_from(THEMES),
    "lang": st.sampled_from(["en", "zh"]),
    "alias": st.sampled_from(["seed", "standard"]),
    "names": st.sampled_from(["conv.z,pool.out", "temphicnn", "loss,grads.conv.w"]),
}
# Training jobs stay tiny however large the generated request.
SETTINGS = make_settings(max_train_samples=64, train_workers=1)
METHODS = ("get", "put", "post", "delete", "patch")
OPERATIONS = sorted((path, method.upper())
                    for path, item in create_app(SETTINGS).openapi()["paths"].items()
                    for method in item if method in METHODS)


@pytest.fixture(scope="module")
def schema():
    app = create_app(SETTINGS)
    loaded = schemathesis.openapi.from_asgi("/openapi.json", app)
    yield loaded
    from schemathesis.python import asgi

    # stop the app's lifespan (and its training pool) now rather than at exit
    getattr(asgi, "shutdown_lifespans", lambda: None)()


def make_session(schema, phase: str) -> tuple[str, str]:
    created = schema["/api/v1/sessions"]["POST"].Case(body={"seed": 0}).call()
    assert created.status_code == 201, created.text
    body = created.json()
    if phase != "input":
        stepped = schema["/api/v1/sessions/{session_id}/step"]["POST"].Case(
            path_parameters={"session_id": body["id"]}, body={"to": phase},
            headers={"Authorization": f"Bearer {body['owner_token']}"}).call()
        assert stepped.status_code == 200, stepped.text
    return body["id"], body["owner_token"]


def test_the_schema_covers_every_route_of_api_md():
    paths = {path for path, _ in OPERATIONS}
    for rest in ("", "/{session_id}", "/{session_id}/fork", "/{session_id}/phases",
                 "/{session_id}/step", "/{session_id}/back", "/{session_id}/input",
                 "/{session_id}/state", "/{session_id}/params", "/{session_id}/pool-table",
                 "/{session_id}/explain/{param}/{index}", "/{session_id}/gradcheck",
                 "/{session_id}/figures/{view}", "/{session_id}/train",
                 "/{session_id}/train/stop", "/{session_id}/metrics", "/{session_id}/events"):
        assert "/api/v1/sessions" + rest in paths, rest
    assert {"/api/v1/datasets", "/api/v1/datasets/{name}/samples/{index}",
            "/healthz"} <= paths


@pytest.mark.parametrize("path, method", OPERATIONS, ids=[f"{m} {p}" for p, m in OPERATIONS])
def test_no_generated_request_gets_a_server_error(schema, path, method):
    operation = schema[path][method]
    # an event stream of a real session never ends: that route gets generated ids only
    on_a_session = "{session_id}" in path and not path.endswith("/events")

    @settings(max_examples=10, deadline=None, database=None,
              suppress_health_check=list(HealthCheck))
    @given(case=operation.as_strategy(),
           target=st.sampled_from(["generated id", "session", "owned session"]),
           phase=st.sampled_from(PHASES), data=st.data())
    def run(case, target, phase, data):
        for container in ("path_parameters", "query"):
            values = dict(getattr(case, container) or {})
            for name in values:
                if name in KNOWN and data.draw(st.booleans(), label=f"known {name}"):
                    values[name] = data.draw(KNOWN[name], label=name)
            if values:
                setattr(case, container, values)
        if on_a_session and target != "generated id":
            session_id, token = make_session(schema, phase)
            case.path_parameters = {**case.path_parameters, "session_id": session_id}
            if target == "owned session":
                case.headers = {**(case.headers or {}), "Authorization": f"Bearer {token}"}
        response = case.call()
        case.validate_response(response, checks=[not_a_server_error])
        assert b"Traceback" not in response.content

    run()
