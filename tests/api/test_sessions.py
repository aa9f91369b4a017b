"""Every route of API.md, success and error paths, against the real app and engine."""

from __future__ import annotations

import base64
import io
import math

import numpy as np
import pytest
from PIL import Image

from app.figures import VIEWS
from tests.api.helpers import (
    API,
    PHASES,
    SEED_CONFIG,
    assert_error,
    new_session,
    strict_json,
    url,
)

# The phase at which each tensor is first computed (MATH.md §1 and §3).
FIRST_COMPUTED = {
    "x": "input", "target": "input",
    "conv.z": "forward.conv",
    "pool.out": "forward.pool", "pool.winners": "forward.pool",
    "act.out": "forward.act",
    "fc1.z": "forward.fc1", "fc1.out": "forward.fc1",
    "fc2.z": "forward.fc2", "fc2.out": "forward.fc2",
    "loss": "loss",
    "fc2.delta": "backward.fc2", "grads.fc2.w": "backward.fc2",
    "fc1.delta": "backward.fc1", "grads.fc1.w": "backward.fc1",
    "act.delta": "backward.act",
    "conv.delta": "backward.pool",
    "grads.conv.w": "backward.conv", "input.grad": "backward.conv",
}
PARAMS = ("params.conv.w", "params.fc1.w", "params.fc2.w")


def step_to(client, session_id, headers, phase):
    response = client.post(url(session_id, "/step"), json={"to": phase}, headers=headers)
    assert response.status_code == 200, response.text
    return response.json()


def state(client, session_id, query=""):
    response = client.get(url(session_id, "/state" + query))
    assert response.status_code == 200, response.text
    return response.json()


def params(client, session_id, query=""):
    response = client.get(url(session_id, "/params" + query))
    assert response.status_code == 200, response.text
    return response.json()["params"]


def array(tensor) -> np.ndarray:
    return np.asarray(tensor["data"], dtype=np.float64).reshape(tensor["shape"])


def has_chinese(text: str) -> bool:
    return any("\u4e00" <= ch <= "\u9fff" for ch in text)


def digit_png(size=(40, 56)) -> str:
    """A white '1' on black, as a base64 PNG of an odd size."""
    image = Image.new("L", size, 0)
    width, height = size
    for row in range(height // 6, height - height // 6):
        for col in range(width // 2 - 3, width // 2 + 3):
            image.putpixel((col, row), 255)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return base64.b64encode(buffer.getvalue()).decode()


# ------------------------------------------------------------------ create


def test_create_session_echoes_the_full_seed_config(client):
    response = client.post(f"{API}/sessions", json={"preset": "seed", "config": {}, "seed": 0})
    assert response.status_code == 201
    body = response.json()
    assert body["config"] == SEED_CONFIG
    assert body["cursor"]["phase"] == "input"
    assert body["cursor"]["index"] == 0
    assert body["cursor"]["sample"]["source"] == "mnist14"
    assert 0 <= body["cursor"]["sample"]["label"] <= 9


def test_create_session_with_empty_body_uses_the_seed_preset(client):
    response = client.post(f"{API}/sessions", json={})
    assert response.status_code == 201
    assert response.json()["config"] == SEED_CONFIG


def test_session_ids_and_tokens_carry_at_least_128_bits(client):
    ids, tokens = set(), set()
    for _ in range(5):
        body = client.post(f"{API}/sessions", json={}).json()
        for value in (body["id"], body["owner_token"]):
            raw = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))
            assert len(raw) * 8 >= 128, value
        ids.add(body["id"])
        tokens.add(body["owner_token"])
    assert len(ids) == len(tokens) == 5
    assert not ids & tokens


def test_create_session_applies_config_overrides(client):
    session_id, _, _ = new_session(client, kernels=3, kernel_size=3, bias=True, hidden=16,
                                   pool="avg", activation="tanh", output="softmax-ce",
                                   learning_rate=0.1, order="sequential")
    info = client.get(url(session_id)).json()
    assert info["config"] == {**SEED_CONFIG, "kernels": 3, "kernel_size": 3, "bias": True,
                              "hidden": 16, "pool": "avg", "activation": "tanh",
                              "output": "softmax-ce", "learning_rate": 0.1,
                              "order": "sequential"}
    shapes = {name: t["shape"] for name, t in params(client, session_id).items()}
    # conv map 12×12, pooled 6×6: fc1 has 3·6·6 = 108 inputs
    assert shapes == {"conv.w": [3, 3, 3], "conv.b": [3], "fc1.w": [108, 16], "fc1.b": [16],
                      "fc2.w": [16, 10], "fc2.b": [10]}


def test_same_seed_gives_the_same_initial_parameters(client):
    a, _, _ = new_session(client, seed=7)
    b, _, _ = new_session(client, seed=7)
    c, _, _ = new_session(client, seed=8)
    assert params(client, a) == params(client, b)
    assert params(client, a)["conv.w"] != params(client, c)["conv.w"]


@pytest.mark.parametrize("key, value", [
    ("kernels", 17), ("kernels", 0), ("pool", "min"), ("learning_rate", 0),
    ("learning_rate", 11), ("hidden", 0), ("hidden", 257), ("kernel_size", 8),
    ("input_size", 20), ("activation", "gelu"), ("output", "hinge"), ("order", "random"),
])
def test_bad_config_value_is_422_naming_the_key(client, key, value):
    response = client.post(f"{API}/sessions", json={"config": {key: value}})
    error = assert_error(response, 422)
    assert error["field"] == key
    assert key in error["message"]


def test_unknown_config_key_is_422_naming_the_key(client):
    response = client.post(f"{API}/sessions", json={"config": {"dropout": 0.5}})
    error = assert_error(response, 422)
    assert error["field"].endswith("dropout")


def test_unknown_preset_is_422(client):
    assert_error(client.post(f"{API}/sessions", json={"preset": "resnet"}), 422, "preset")


# ------------------------------------------------------------------ read / 404


def test_get_session_reports_config_cursor_sample_counters_and_metrics(client, session):
    session_id, _, headers = session
    step_to(client, session_id, headers, "loss")
    info = client.get(url(session_id)).json()
    assert info["id"] == session_id
    assert info["config"] == SEED_CONFIG
    assert info["cursor"]["phase"] == "loss"
    assert set(info["cursor"]["sample"]) == {"source", "index", "label"}
    assert info["counters"] == {"samples_seen": 0, "updates": 0, "position": 0}
    assert info["diverged"] is False
    assert info["job"]["state"] == "idle"
    assert set(info["metrics"]) >= {"loss", "accuracy"}


@pytest.mark.parametrize("method, rest", [
    ("GET", ""), ("GET", "/state"), ("GET", "/phases"), ("GET", "/params"),
    ("GET", "/pool-table"), ("GET", "/explain/conv.w/0"), ("GET", "/gradcheck"),
    ("GET", "/figures/input"), ("GET", "/export"), ("GET", "/metrics"), ("GET", "/events"),
    ("POST", "/fork"),
])
def test_unknown_session_is_404_with_the_error_body(client, method, rest):
    response = client.request(method, url("no-such-session", rest))
    error = assert_error(response, 404, code="session_not_found")
    assert error["field"] == "id"


def test_unknown_route_is_404_with_the_error_body(client):
    assert_error(client.get(f"{API}/nothing-here"), 404)


# ------------------------------------------------------------------ delete and fork


def test_delete_needs_the_owner_token_then_the_session_is_gone(client, session):
    session_id, _, headers = session
    assert_error(client.delete(url(session_id)), 401, code="unauthorized")
    assert_error(client.delete(url(session_id), headers={"Authorization": "Bearer nope"}),
                 403, code="forbidden")
    assert client.get(url(session_id)).status_code == 200
    response = client.delete(url(session_id), headers=headers)
    assert response.status_code == 204
    assert response.content == b""
    assert_error(client.get(url(session_id)), 404)
    assert_error(client.delete(url(session_id), headers=headers), 404)


def test_fork_copies_the_state_under_a_new_id_and_token(client, session):
    session_id, token, headers = session
    step_to(client, session_id, headers, "backward.fc1")
    response = client.post(url(session_id, "/fork"))  # no token needed
    assert response.status_code == 201
    fork = response.json()
    assert fork["id"] != session_id and fork["owner_token"] != token
    assert fork["cursor"] == state(client, session_id)["cursor"]
    assert fork["config"] == SEED_CONFIG
    assert state(client, fork["id"])["tensors"] == state(client, session_id)["tensors"]


def test_fork_is_independent_of_its_origin(client, session):
    session_id, _, headers = session
    step_to(client, session_id, headers, "forward.pool")
    fork = client.post(url(session_id, "/fork")).json()
    fork_headers = {"Authorization": f"Bearer {fork['owner_token']}"}
    before = state(client, session_id)
    step_to(client, fork["id"], fork_headers, "update")
    client.post(url(fork["id"], "/step"), json={"count": 1}, headers=fork_headers)
    assert state(client, session_id) == before
    assert state(client, fork["id"])["cursor"]["phase"] == "input"
    # each token owns only its own session
    assert_error(client.post(url(session_id, "/step"), json={}, headers=fork_headers), 403)
    assert_error(client.post(url(fork["id"], "/step"), json={}, headers=headers), 403)


# ------------------------------------------------------------------ phases, step, back


def test_phases_are_the_thirteen_of_api_md_in_order_with_english_and_chinese(client, session):
    phases = client.get(url(session[0], "/phases")).json()["phases"]
    assert [p["name"] for p in phases] == PHASES
    for phase in phases:
        assert set(phase) == {"name", "en", "zh"}
        assert phase["en"].strip() and phase["zh"].strip()
    assert not any(has_chinese(p["en"]) for p in phases)
    # every description but a bare formula is in Chinese
    assert sum(has_chinese(p["zh"]) for p in phases) >= len(phases) - 1


def test_step_count_moves_the_cursor_and_names_what_changed(client, session):
    session_id, _, headers = session
    response = client.post(url(session_id, "/step"), json={"count": 1}, headers=headers)
    assert response.status_code == 200
    body = response.json()
    assert body["cursor"]["phase"] == "forward.conv" and body["cursor"]["index"] == 1
    assert body["changed"] == ["conv.z"]
    body = client.post(url(session_id, "/step"), json={"count": 2}, headers=headers).json()
    assert body["cursor"]["phase"] == "forward.act"
    assert set(body["changed"]) == {"pool.out", "pool.winners", "act.out"}


def test_step_without_body_steps_one_phase(client, session):
    session_id, _, headers = session
    body = client.post(url(session_id, "/step"), headers=headers).json()
    assert body["cursor"]["phase"] == "forward.conv"


def test_step_to_a_phase_runs_every_phase_before_it(client, session):
    session_id, _, headers = session
    body = step_to(client, session_id, headers, "backward.conv")
    assert body["cursor"]["phase"] == "backward.conv" and body["cursor"]["index"] == 11
    assert {"grads.conv.w", "grads.fc1.w", "grads.fc2.w", "loss"} <= set(body["changed"])


def test_after_update_the_next_step_loads_the_next_sample(client, session):
    session_id, _, headers = session
    first = state(client, session_id)["cursor"]["sample"]
    step_to(client, session_id, headers, "backward.conv")
    body = step_to(client, session_id, headers, "update")
    assert set(body["changed"]) == set(PARAMS)  # the update changes only the parameters
    assert body["counters"]["updates"] == 1
    body = client.post(url(session_id, "/step"), json={"count": 1}, headers=headers).json()
    assert body["cursor"]["phase"] == "input"
    assert body["counters"]["position"] == 1
    assert body["cursor"]["sample"] != first
    # the shuffled order is the seeded one: a new session with seed 0 sees the same sample
    twin, _, twin_headers = new_session(client)
    step_to(client, twin, twin_headers, "update")
    twin_body = client.post(url(twin, "/step"), json={"count": 1}, headers=twin_headers).json()
    assert twin_body["cursor"] == body["cursor"]


def test_step_to_an_earlier_phase_crosses_into_the_next_sample(client, session):
    session_id, _, headers = session
    step_to(client, session_id, headers, "loss")
    body = step_to(client, session_id, headers, "forward.conv")
    assert body["cursor"]["phase"] == "forward.conv"
    assert body["counters"]["position"] == 1 and body["counters"]["updates"] == 1


@pytest.mark.parametrize("body, field", [
    ({"count": 1, "to": "loss"}, None),
    ({"count": 0}, "count"),
    ({"count": -3}, "count"),
    ({"count": 1001}, "count"),
    ({"count": "many"}, "count"),
    ({"to": "backward.everything"}, "to"),
    ({"steps": 1}, "steps"),
])
def test_bad_step_body_is_422(client, session, body, field):
    session_id, _, headers = session
    response = client.post(url(session_id, "/step"), json=body, headers=headers)
    error = assert_error(response, 422)
    if field is not None:
        assert error["field"] == field
    assert state(client, session_id)["cursor"]["phase"] == "input"


def test_back_returns_the_cursor_and_what_changed(client, session):
    session_id, _, headers = session
    step_to(client, session_id, headers, "forward.pool")
    response = client.post(url(session_id, "/back"), json={"count": 1}, headers=headers)
    assert response.status_code == 200
    body = response.json()
    assert body["cursor"]["phase"] == "forward.conv"
    assert set(body["changed"]) == {"pool.out", "pool.winners"}
    assert "pool.out" not in state(client, session_id)["tensors"]


def test_back_over_update_restores_the_parameters_bit_for_bit(client, session):
    session_id, _, headers = session
    start = params(client, session_id)
    step_to(client, session_id, headers, "update")
    updated = params(client, session_id)
    assert updated["conv.w"]["data"] != start["conv.w"]["data"]
    client.post(url(session_id, "/step"), json={"count": 1}, headers=headers)  # next sample
    assert params(client, session_id) == updated
    body = client.post(url(session_id, "/back"), json={"count": 2}, headers=headers).json()
    assert body["cursor"]["phase"] == "backward.conv"
    assert body["counters"] == {"samples_seen": 0, "updates": 0, "position": 0}
    assert params(client, session_id) == start
    # and forward again gives the very same update
    step_to(client, session_id, headers, "update")
    assert params(client, session_id) == updated


def test_back_then_forward_reproduces_the_same_tensors(client, session):
    session_id, _, headers = session
    step_to(client, session_id, headers, "backward.conv")
    before = state(client, session_id)
    client.post(url(session_id, "/back"), json={"count": 11}, headers=headers)
    assert set(state(client, session_id)["tensors"]) == {"x", "target", *PARAMS}
    step_to(client, session_id, headers, "backward.conv")
    assert state(client, session_id) == before


def test_history_reaches_back_to_the_start_of_the_previous_sample(client, session):
    session_id, _, headers = session
    step_to(client, session_id, headers, "update")
    client.post(url(session_id, "/step"), json={"count": 3}, headers=headers)
    body = client.post(url(session_id, "/back"), json={"count": 2 + 13}, headers=headers).json()
    assert body["cursor"]["phase"] == "input"
    assert body["counters"]["position"] == 0


def test_back_beyond_the_history_is_409(client, session):
    session_id, _, headers = session
    step_to(client, session_id, headers, "forward.act")
    before = state(client, session_id)
    response = client.post(url(session_id, "/back"), json={"count": 4}, headers=headers)
    assert_error(response, 409, "count", code="history_exhausted")
    assert state(client, session_id) == before


def test_bad_back_body_is_422(client, session):
    session_id, _, headers = session
    assert_error(client.post(url(session_id, "/back"), json={"count": 0}, headers=headers),
                 422, "count")


# ------------------------------------------------------------------ state


def test_state_at_each_phase_shows_exactly_what_that_phase_and_earlier_ones_computed(
        client, session):
    session_id, _, headers = session
    for index, phase in enumerate(PHASES):
        if index:
            client.post(url(session_id, "/step"), json={"count": 1}, headers=headers)
        body = state(client, session_id)
        assert body["cursor"]["phase"] == phase
        expected = {name for name, first in FIRST_COMPUTED.items()
                    if PHASES.index(first) <= index}
        assert set(body["tensors"]) == expected | set(PARAMS), phase


def test_state_at_forward_conv_has_no_pooling_and_no_gradients(client, session):
    session_id, _, headers = session
    step_to(client, session_id, headers, "forward.conv")
    names = set(state(client, session_id)["tensors"])
    assert "conv.z" in names
    assert "pool.out" not in names
    assert not [n for n in names if n.startswith("grads.") or n.endswith(".delta")]


def test_state_tensors_are_flat_row_major_with_their_shapes(client, session):
    session_id, _, headers = session
    step_to(client, session_id, headers, "backward.conv")
    tensors = state(client, session_id)["tensors"]
    for name, tensor in tensors.items():
        assert len(tensor["data"]) == math.prod(tensor["shape"]), name
    shapes = {name: tensors[name]["shape"] for name in
              ("x", "target", "conv.z", "pool.out", "act.out", "fc1.out", "fc2.out", "loss",
               "grads.conv.w", "grads.fc1.w", "grads.fc2.w", "input.grad", "conv.delta")}
    assert shapes == {"x": [14, 14], "target": [10], "conv.z": [1, 10, 10],
                      "pool.out": [1, 5, 5], "act.out": [25], "fc1.out": [80],
                      "fc2.out": [10], "loss": [], "grads.conv.w": [1, 5, 5],
                      "grads.fc1.w": [25, 80], "grads.fc2.w": [80, 10],
                      "input.grad": [14, 14], "conv.delta": [1, 10, 10]}
    assert len(tensors["loss"]["data"]) == 1


def test_state_follows_math_md_for_the_forward_pass(client, session):
    session_id, _, headers = session
    step_to(client, session_id, headers, "loss")
    t = {name: array(v) for name, v in state(client, session_id)["tensors"].items()}
    x, w = t["x"], t["params.conv.w"][0]
    z = np.array([[np.sum(x[u:u + 5, v:v + 5] * w) for v in range(10)] for u in range(10)])
    np.testing.assert_allclose(t["conv.z"][0], z, rtol=1e-12, atol=1e-15)
    pooled = z.reshape(5, 2, 5, 2).max(axis=(1, 3))
    np.testing.assert_allclose(t["pool.out"][0], pooled, rtol=1e-12, atol=1e-15)
    hocnn = 1 / (1 + np.exp(-pooled.ravel()))
    h2o = 1 / (1 + np.exp(-(hocnn @ t["params.fc1.w"])))
    yo = 1 / (1 + np.exp(-(h2o @ t["params.fc2.w"])))
    np.testing.assert_allclose(t["fc2.out"], yo, rtol=1e-12)
    assert t["target"].argmax() == state(client, session_id)["cursor"]["sample"]["label"]
    np.testing.assert_allclose(t["loss"], 0.5 * np.sum((yo - t["target"]) ** 2), rtol=1e-12)


def test_state_names_filter_returns_only_the_named_tensors(client, session):
    session_id, _, headers = session
    step_to(client, session_id, headers, "forward.pool")
    body = state(client, session_id, "?names=conv.z,pool.out")
    assert set(body["tensors"]) == {"conv.z", "pool.out"}
    assert body["cursor"]["phase"] == "forward.pool"
    # a seed alias is accepted as a name; a tensor not computed yet is simply absent
    body = state(client, session_id, "?names=temphicnn,loss")
    assert set(body["tensors"]) == {"conv.z"}


def test_state_with_seed_aliases_uses_the_articles_names(client, session):
    session_id, _, headers = session
    step_to(client, session_id, headers, "backward.conv")
    standard = state(client, session_id)["tensors"]
    seed = state(client, session_id, "?alias=seed")["tensors"]
    assert {"temphicnn", "hicnn", "hocnn", "h2o", "yo", "E", "d", "params.w1cnn",
            "params.w12", "params.w2", "grads.w1cnn"} <= set(seed)
    assert seed["temphicnn"] == standard["conv.z"]
    assert seed["E"] == standard["loss"]
    assert seed["params.w1cnn"] == standard["params.conv.w"]
    assert len(seed) == len(standard)
    named = state(client, session_id, "?names=conv.z,w2&alias=seed")["tensors"]
    assert set(named) == {"temphicnn"}  # w2 is a parameter: state has it as params.w2
    assert_error(client.get(url(session_id, "/state?alias=klingon")), 422, "alias")


# ------------------------------------------------------------------ params


def test_params_use_standard_names_or_seed_aliases(client, session):
    session_id = session[0]
    standard = params(client, session_id)
    assert {name: t["shape"] for name, t in standard.items()} == {
        "conv.w": [1, 5, 5], "fc1.w": [25, 80], "fc2.w": [80, 10]}
    seed = params(client, session_id, "?alias=seed")
    assert set(seed) == {"w1cnn", "w12", "w2"}
    assert seed["w1cnn"] == standard["conv.w"]


def test_put_params_sets_them_and_recomputes_from_input(client, session):
    session_id, _, headers = session
    step_to(client, session_id, headers, "forward.fc1")
    kernel = np.arange(25, dtype=float).reshape(1, 5, 5) / 100 - 0.12
    body = {"params": {"conv.w": {"shape": [1, 5, 5], "data": kernel.ravel().tolist()}}}
    response = client.put(url(session_id, "/params"), json=body, headers=headers)
    assert response.status_code == 200, response.text
    assert response.json()["cursor"]["phase"] == "input"
    assert response.json()["changed"] == ["params.conv.w"]
    assert params(client, session_id)["conv.w"]["data"] == kernel.ravel().tolist()
    assert set(state(client, session_id)["tensors"]) == {"x", "target", *PARAMS}
    step_to(client, session_id, headers, "forward.conv")
    t = state(client, session_id)["tensors"]
    x = array(t["x"])
    z = np.array([[np.sum(x[u:u + 5, v:v + 5] * kernel[0]) for v in range(10)]
                  for u in range(10)])
    np.testing.assert_allclose(array(t["conv.z"])[0], z, rtol=1e-12, atol=1e-15)


def test_put_params_accepts_seed_aliases_and_leaves_other_params_alone(client, session):
    session_id, _, headers = session
    before = params(client, session_id)
    body = {"params": {"w2": {"shape": [80, 10], "data": [0.01] * 800}}}
    assert client.put(url(session_id, "/params"), json=body, headers=headers).status_code == 200
    after = params(client, session_id)
    assert after["fc2.w"]["data"] == [0.01] * 800
    assert after["conv.w"] == before["conv.w"] and after["fc1.w"] == before["fc1.w"]


@pytest.mark.parametrize("tensor, field", [
    ({"conv.w": {"shape": [1, 5, 4], "data": [0.0] * 20}}, "conv.w"),     # wrong shape
    ({"conv.w": {"shape": [1, 5, 5], "data": [0.0] * 24}}, "conv.w"),     # too few values
    ({"conv.w": {"shape": [-1, -1], "data": [0.0]}}, "conv.w"),           # negative sides
    ({"conv.w": {"shape": [2**32, 2**32], "data": []}}, "conv.w"),        # overflowing size
    ({"conv.b": {"shape": [1], "data": [0.0]}}, "conv.b"),                # no biases here
    ({"fc3.w": {"shape": [1], "data": [0.0]}}, "fc3.w"),                  # unknown name
])
def test_bad_params_are_422_naming_the_tensor(client, session, tensor, field):
    session_id, _, headers = session
    before = params(client, session_id)
    response = client.put(url(session_id, "/params"), json={"params": tensor}, headers=headers)
    assert_error(response, 422, field)
    assert params(client, session_id) == before


@pytest.mark.parametrize("literal", [b"1e400", b"-1e400", b"NaN", b"Infinity"])
def test_non_finite_params_are_refused(client, session, literal):
    session_id, _, headers = session
    data = b",".join([literal] + [b"0.0"] * 24)
    body = b'{"params": {"conv.w": {"shape": [1, 5, 5], "data": [' + data + b"]}}}"
    response = client.put(url(session_id, "/params"), content=body,
                          headers={**headers, "Content-Type": "application/json"})
    assert_error(response, 422, "conv.w")


# ------------------------------------------------------------------ input


def dataset_sample(client, index, name="mnist14"):
    response = client.get(f"{API}/datasets/{name}/samples/{index}")
    assert response.status_code == 200
    return response.json()


def test_input_by_dataset_index_loads_that_digit(client, session):
    session_id, _, headers = session
    step_to(client, session_id, headers, "loss")
    response = client.post(url(session_id, "/input"), json={"dataset": "mnist14", "index": 42},
                           headers=headers)
    assert response.status_code == 200, response.text
    sample = dataset_sample(client, 42)
    cursor = response.json()["cursor"]
    assert cursor["phase"] == "input"
    assert cursor["sample"] == {"source": "mnist14", "index": 42, "label": sample["label"]}
    tensors = state(client, session_id)["tensors"]
    assert tensors["x"] == sample["x"]
    assert tensors["target"]["data"] == [float(d == sample["label"]) for d in range(10)]


@pytest.mark.parametrize("label", [0, 3, 9])
def test_input_by_label_loads_a_digit_with_that_label(client, session, label):
    session_id, _, headers = session
    response = client.post(url(session_id, "/input"),
                           json={"dataset": "mnist14", "label": label}, headers=headers)
    assert response.status_code == 200, response.text
    sample = response.json()["cursor"]["sample"]
    assert sample["label"] == label
    assert dataset_sample(client, sample["index"])["label"] == label


def test_input_at_random_loads_some_dataset_digit(client, session):
    session_id, _, headers = session
    seen = set()
    for _ in range(4):
        body = client.post(url(session_id, "/input"), json={"dataset": "mnist14", "random": True},
                           headers=headers).json()
        assert body["cursor"]["sample"]["source"] == "mnist14"
        seen.add(body["cursor"]["sample"]["index"])
    assert len(seen) > 1
    body = client.post(url(session_id, "/input"),
                       json={"dataset": "mnist14", "random": True, "label": 5},
                       headers=headers).json()
    assert body["cursor"]["sample"]["label"] == 5


def test_input_from_pixels_becomes_a_custom_14x14_sample(client, session):
    session_id, _, headers = session
    pixels = [[1.0 if 3 <= r <= 10 and 6 <= c <= 7 else 0.0 for c in range(14)]
              for r in range(14)]
    response = client.post(url(session_id, "/input"), json={"pixels": pixels, "label": 1},
                           headers=headers)
    assert response.status_code == 200, response.text
    assert response.json()["cursor"]["sample"] == {"source": "custom", "index": None,
                                                    "label": 1}
    x = state(client, session_id)["tensors"]["x"]
    assert x["shape"] == [14, 14]
    assert all(0.0 <= v <= 1.0 for v in x["data"]) and max(x["data"]) > 0.5


def test_input_from_a_png_of_any_size_is_converted_like_the_dataset(client, session):
    session_id, _, headers = session
    response = client.post(url(session_id, "/input"),
                           json={"png_base64": digit_png(), "label": 1}, headers=headers)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["cursor"]["sample"]["source"] == "custom"
    assert len(body["x28"]) == 28 and all(len(row) == 28 for row in body["x28"])
    x = state(client, session_id)["tensors"]["x"]
    assert x["shape"] == [14, 14] and max(x["data"]) > 0.5
    # a data: URL is accepted too
    response = client.post(url(session_id, "/input"), headers=headers, json={
        "png_base64": "data:image/png;base64," + digit_png((28, 28)), "label": 1})
    assert response.status_code == 200, response.text


@pytest.mark.parametrize("body, status, field", [
    ({"png_base64": "!!! not base64 !!!", "label": 1}, 422, "png_base64"),
    ({"png_base64": base64.b64encode(b"GIF89a? no").decode(), "label": 1}, 422, "png_base64"),
    ({"dataset": "cifar10", "index": 1}, 422, "dataset"),
    ({"dataset": "mnist28", "index": 1}, 422, "dataset"),  # a 14×14 session
    ({"dataset": "mnist14", "index": 10000}, 422, "index"),
    ({"dataset": "mnist14", "index": -1}, 422, "index"),
    ({"dataset": "mnist14"}, 422, "index"),
    ({"dataset": "mnist14", "label": 10}, 422, "label"),
    ({"pixels": [[0.0, 1.0] * 7] * 14}, 422, "label"),   # a drawing needs its label
    ({"png_base64": "aGVsbG8="}, 422, "label"),
    ({"pixels": [[0.5, 1.0]], "label": 3}, 422, "pixels"),
    ({"pixels": [], "label": 3}, 422, "pixels"),
])
def test_bad_input_is_4xx_naming_the_field(client, session, body, status, field):
    session_id, _, headers = session
    step_to(client, session_id, headers, "forward.conv")
    before = state(client, session_id)
    response = client.post(url(session_id, "/input"), json=body, headers=headers)
    assert_error(response, status, field)
    assert state(client, session_id) == before


def test_input_with_two_sources_is_422(client, session):
    session_id, _, headers = session
    response = client.post(url(session_id, "/input"), headers=headers,
                           json={"dataset": "mnist14", "index": 1, "png_base64": "aGVsbG8="})
    assert_error(response, 422)


# ------------------------------------------------------------------ pool table


def test_pool_table_is_empty_before_forward_pool(client, session):
    session_id, _, headers = session
    body = client.get(url(session_id, "/pool-table")).json()
    assert body["rows"] == []
    step_to(client, session_id, headers, "forward.conv")
    assert client.get(url(session_id, "/pool-table")).json()["rows"] == []


def test_pool_table_has_one_row_per_pooled_cell_matching_the_conv_map(client, session):
    session_id, _, headers = session
    step_to(client, session_id, headers, "forward.pool")
    body = client.get(url(session_id, "/pool-table")).json()
    assert "first" in body["tie_rule"]
    rows = body["rows"]
    assert len(rows) == 25
    tensors = state(client, session_id)["tensors"]
    conv = tensors["conv.z"]["data"]
    for j, row in enumerate(rows):
        assert (row["kernel"], row["row"], row["col"]) == (0, j // 5, j % 5)
        assert (row["seed_i"], row["seed_j"]) == (row["col"], row["row"])
        dr, dc = row["winner"]
        u, v = 2 * row["row"] + dr, 2 * row["col"] + dc
        assert row["index_10"] == u * 10 + v
        assert row["start_14"] == [u, v] and row["start_14_index"] == u * 14 + v
        assert row["value"] == tensors["pool.out"]["data"][j] == conv[row["index_10"]]
        window = [conv[(2 * row["row"] + a) * 10 + 2 * row["col"] + b]
                  for a in (0, 1) for b in (0, 1)]
        assert row["value"] == max(window)
        assert row["delta"] is None


def test_pool_table_delta_appears_at_backward_pool(client, session):
    session_id, _, headers = session
    step_to(client, session_id, headers, "backward.act")
    assert all(r["delta"] is None for r in client.get(url(session_id, "/pool-table")).json()["rows"])
    step_to(client, session_id, headers, "backward.pool")
    rows = client.get(url(session_id, "/pool-table")).json()["rows"]
    act_delta = state(client, session_id)["tensors"]["act.delta"]["data"]
    assert [r["delta"] for r in rows] == act_delta  # max pool routes δ to the winner unchanged


# ------------------------------------------------------------------ explain and gradcheck


def test_explain_conv_weight_decomposes_the_gradient_into_25_terms(client, session):
    session_id, _, headers = session
    step_to(client, session_id, headers, "backward.conv")
    response = client.get(url(session_id, "/explain/conv.w/7"))
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["param"] == "conv.w" and body["index"] == 7
    assert body["seed_name"] == "w1cnn[7]"
    assert body["formula_mathml"].startswith("<math")
    assert body["formula_latex"]
    terms = body["terms"]
    assert len(terms) == 25
    gradient = state(client, session_id)["tensors"]["grads.conv.w"]["data"][7]
    assert body["gradient"] == gradient
    assert math.isclose(body["sum"], gradient, rel_tol=1e-12, abs_tol=1e-300)
    assert math.isclose(body["numeric"], gradient, rel_tol=1e-6)
    rows = client.get(url(session_id, "/pool-table")).json()["rows"]
    x = state(client, session_id)["tensors"]["x"]["data"]
    offset = (7 // 5) * 14 + 7 % 5  # MATH §3: off(i)
    for term, row in zip(terms, rows, strict=True):
        assert term["x_index"] == row["start_14_index"] + offset
        assert term["x"] == x[term["x_index"]]
        assert term["delta"] == row["delta"]
        assert term["product"] == term["x"] * term["delta"]
    assert math.isclose(math.fsum(t["product"] for t in terms), body["sum"], rel_tol=1e-15)


@pytest.mark.parametrize("param, index, n_terms", [("fc1.w", 123, 10), ("fc2.w", 57, 1),
                                                     ("w12", 0, 10), ("w2", 799, 1)])
def test_explain_dense_weights_matches_the_engine_gradient(client, session, param, index,
                                                           n_terms):
    session_id, _, headers = session
    step_to(client, session_id, headers, "backward.conv")
    body = client.get(url(session_id, f"/explain/{param}/{index}")).json()
    standard = {"w12": "fc1.w", "w2": "fc2.w"}.get(param, param)
    assert body["param"] == standard
    assert len(body["terms"]) == n_terms
    gradient = state(client, session_id)["tensors"][f"grads.{standard}"]["data"][index]
    assert body["gradient"] == gradient
    assert math.isclose(body["sum"], gradient, rel_tol=1e-12, abs_tol=1e-300)
    assert math.isclose(body["numeric"], gradient, rel_tol=1e-6, abs_tol=1e-12)
    assert body["formula_mathml"].startswith("<math")


def test_explain_accepts_the_seed_alias(client, session):
    session_id, _, headers = session
    step_to(client, session_id, headers, "backward.conv")
    alias = client.get(url(session_id, "/explain/w1cnn/7")).json()
    standard = client.get(url(session_id, "/explain/conv.w/7")).json()
    assert alias == standard


def test_explain_before_the_gradient_exists_is_409(client, session):
    session_id, _, headers = session
    step_to(client, session_id, headers, "backward.fc2")
    assert client.get(url(session_id, "/explain/fc2.w/0")).status_code == 200
    assert_error(client.get(url(session_id, "/explain/conv.w/7")), 409)
    assert_error(client.get(url(session_id, "/explain/fc1.w/7")), 409)


@pytest.mark.parametrize("rest, field", [("/explain/conv.w/25", "index"),
                                          ("/explain/conv.w/-1", "index"),
                                          ("/explain/fc2.w/800", "index"),
                                          ("/explain/fc9.w/0", "param"),
                                          ("/explain/conv.w/seven", "index")])
def test_explain_bad_parameter_or_index_is_422(client, session, rest, field):
    session_id, _, headers = session
    step_to(client, session_id, headers, "backward.conv")
    assert_error(client.get(url(session_id, rest)), 422, field)


def test_gradcheck_passes_with_one_row_per_parameter_tensor(client, session):
    session_id = session[0]
    body = client.get(url(session_id, "/gradcheck")).json()
    assert body["passed"] is True
    assert [t["name"] for t in body["tensors"]] == ["conv.w", "fc1.w", "fc2.w"]
    for tensor in body["tensors"]:
        assert tensor["passed"] is True
        assert tensor["checked"] > 0
        assert tensor["max_rel_error"] < body["tolerance"] <= 1e-6


def test_gradcheck_covers_biases_when_they_are_on(client):
    session_id, _, _ = new_session(client, bias=True, activation="tanh", kernels=2)
    body = client.get(url(session_id, "/gradcheck")).json()
    assert {t["name"] for t in body["tensors"]} == {"conv.w", "conv.b", "fc1.w", "fc1.b",
                                                    "fc2.w", "fc2.b"}
    assert body["passed"] is True


# ------------------------------------------------------------------ figures


@pytest.mark.parametrize("view", VIEWS)
def test_every_view_is_a_plain_json_plotly_figure_in_every_theme_and_language(client, view):
    session_id, _, headers = new_session(client)
    for phase in ("input", "backward.conv"):
        if phase != "input":
            step_to(client, session_id, headers, phase)
            # held-out accuracy and a confusion matrix for the training views
            assert client.post(url(session_id, "/evaluate"), headers=headers).status_code == 200
        for theme, lang in (("light", "en"), ("dark", "zh"), ("contrast", "en")):
            response = client.get(url(session_id, f"/figures/{view}?theme={theme}&lang={lang}"))
            assert response.status_code == 200, response.text
            assert "bdata" not in response.text  # plain lists, readable by a student
            figure = strict_json(response.text)
            assert isinstance(figure["data"], list)
            assert isinstance(figure["layout"], dict)
            assert figure["layout"]["meta"]["view"] == view


def test_figures_differ_by_theme_and_language(client, session):
    session_id = session[0]
    light = client.get(url(session_id, "/figures/input?theme=light")).json()
    dark = client.get(url(session_id, "/figures/input?theme=dark")).json()
    zh = client.get(url(session_id, "/figures/input?lang=zh")).json()
    assert light["layout"] != dark["layout"]
    assert light["layout"] != zh["layout"]


def test_unknown_view_is_404_and_bad_theme_or_language_is_422(client, session):
    session_id = session[0]
    assert_error(client.get(url(session_id, "/figures/hologram")), 404, "view")
    assert_error(client.get(url(session_id, "/figures/input?theme=neon")), 422, "theme")
    assert_error(client.get(url(session_id, "/figures/input?lang=fr")), 422, "lang")


# ------------------------------------------------------------------ export, datasets, health


def test_export_holds_config_cursor_parameters_and_sample(client, session):
    session_id, _, headers = session
    step_to(client, session_id, headers, "loss")
    body = strict_json(client.get(url(session_id, "/export")).text)
    assert body["format"] == "backprop-lens/1"
    assert body["config"] == SEED_CONFIG and body["seed"] == 0
    assert body["cursor"] == state(client, session_id)["cursor"]
    assert body["params"] == params(client, session_id)
    assert body["sample"]["x"] == state(client, session_id)["tensors"]["x"]


def test_datasets_lists_both_sizes_with_label_counts(client):
    response = client.get(f"{API}/datasets")
    assert response.status_code == 200
    datasets = {d["name"]: d for d in response.json()["datasets"]}
    assert set(datasets) == {"mnist14", "mnist28"}
    for name, size in (("mnist14", 14), ("mnist28", 28)):
        info = datasets[name]
        assert info["size"] == size and info["count"] == 10000
        assert len(info["label_counts"]) == 10 and sum(info["label_counts"]) == 10000
        assert info["train"] == [0, 7999] and info["heldout"] == [8000, 9999]
        assert "MNIST" in info["credit"]


def test_dataset_sample_returns_the_digit_and_its_split(client):
    small, large = dataset_sample(client, 42), dataset_sample(client, 42, "mnist28")
    assert small["x"]["shape"] == [14, 14] and large["x"]["shape"] == [28, 28]
    assert small["label"] == large["label"]
    assert small["split"] == "train"
    assert dataset_sample(client, 9000)["split"] == "heldout"
    # MATH §1: each 14×14 pixel is the mean of a 2×2 block of the 28×28 digit
    x28 = np.asarray(large["x"]["data"]).reshape(28, 28)
    np.testing.assert_allclose(np.asarray(small["x"]["data"]).reshape(14, 14),
                               x28.reshape(14, 2, 14, 2).mean(axis=(1, 3)), atol=1e-12)


@pytest.mark.parametrize("path, status, field", [
    ("/datasets/cifar10/samples/0", 422, "dataset"),
    ("/datasets/mnist14/samples/10000", 422, "index"),
    ("/datasets/mnist14/samples/-5", 422, "index"),
    ("/datasets/mnist14/samples/first", 422, "index"),
])
def test_bad_dataset_name_or_index_is_4xx(client, path, status, field):
    assert_error(client.get(API + path), status, field)


def test_healthz_answers_ok(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


# ------------------------------------------------------------------ config


def test_patch_learning_rate_changes_the_next_update(client, session):
    session_id, _, headers = session
    response = client.patch(url(session_id, "/config"), json={"learning_rate": 0.1},
                            headers=headers)
    assert response.status_code == 200, response.text
    assert response.json()["config"] == {**SEED_CONFIG, "learning_rate": 0.1}
    assert client.get(url(session_id)).json()["config"]["learning_rate"] == 0.1
    step_to(client, session_id, headers, "backward.conv")
    tensors = state(client, session_id)["tensors"]
    step_to(client, session_id, headers, "update")
    after = params(client, session_id)
    for name in ("conv.w", "fc1.w", "fc2.w"):
        expected = (np.asarray(tensors[f"params.{name}"]["data"])
                    - 0.1 * np.asarray(tensors[f"grads.{name}"]["data"]))
        assert after[name]["data"] == expected.tolist()


@pytest.mark.parametrize("value", [0, -1, 11, "fast"])
def test_patch_bad_learning_rate_is_422(client, session, value):
    session_id, _, headers = session
    response = client.patch(url(session_id, "/config"), json={"learning_rate": value},
                            headers=headers)
    assert_error(response, 422, "learning_rate")
    assert client.get(url(session_id)).json()["config"]["learning_rate"] == 0.5


def test_patch_other_config_keys_is_422(client, session):
    session_id, _, headers = session
    response = client.patch(url(session_id, "/config"),
                            json={"learning_rate": 0.2, "kernels": 4}, headers=headers)
    assert_error(response, 422, "kernels")
