"""Background training: jobs, progress events, metrics, stopping, refusing changes meanwhile."""

from __future__ import annotations

import time
import warnings

import pytest

from app.main import create_app
from tests.api.helpers import (
    API,
    assert_error,
    make_settings,
    new_session,
    sse_events,
    url,
    wait_for_event,
    wait_until,
)

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient


def job(client, session_id) -> dict:
    return client.get(url(session_id, "/metrics")).json()["job"]


def wait_for_end(client, session_id, timeout=30.0) -> dict:
    return wait_until(lambda: (j := job(client, session_id))["state"] != "running" and j,
                      timeout=timeout)


def test_training_runs_in_the_background_and_streams_progress_events(client, session):
    session_id, _, headers = session
    with client.stream("GET", url(session_id, "/events")) as stream:
        events = sse_events(stream.iter_lines(), time.monotonic() + 60)
        assert next(events)[0] == "cursor"
        response = client.post(url(session_id, "/train"), json={"samples": 500},
                               headers=headers)
        assert response.status_code == 202, response.text
        started = response.json()
        assert started["state"] == "running"
        assert started["total"] == 500 and started["done"] == 0
        progress, finished = [], None
        for event, data in events:
            assert event != "train.error", data
            if event == "train.progress":
                progress.append(data)
            if event == "train.done":
                finished = data
                break
        _, cursor = wait_for_event(events, lambda event, _: event == "cursor")
    assert progress and finished
    assert all(p["session"] == session_id and p["total"] == 500 for p in progress)
    counts = [p["done"] for p in progress]
    assert counts == sorted(counts) and counts[-1] <= 500
    assert finished["state"] == "done" and finished["done"] == 500
    assert cursor["cursor"]["phase"] == "input"
    assert cursor["counters"]["samples_seen"] == 500


def test_metrics_after_training_hold_loss_accuracy_and_confusion(client, session):
    session_id, _, headers = session
    assert client.post(url(session_id, "/train"), json={"samples": 500},
                       headers=headers).status_code == 202
    assert wait_for_end(client, session_id)["state"] == "done"
    metrics = client.get(url(session_id, "/metrics")).json()
    assert metrics["job"]["done"] == metrics["job"]["total"] == 500
    loss = metrics["loss"]
    assert loss and all(set(point) >= {"samples_seen", "value"} for point in loss)
    seen = [point["samples_seen"] for point in loss]
    assert seen == sorted(seen) and 0 < seen[-1] <= 500
    assert all(point["value"] >= 0 for point in loss)
    assert len(metrics["accuracy"]) == 1  # evaluated once, at the end of the job
    accuracy = metrics["accuracy"][0]
    assert accuracy["samples_seen"] == 500 and 0 <= accuracy["value"] <= 1
    confusion = metrics["confusion"]
    assert len(confusion) == 10 and all(len(row) == 10 for row in confusion)
    assert sum(map(sum, confusion)) == 2000  # the held-out digits 8000–9999
    assert sum(confusion[d][d] for d in range(10)) / 2000 == pytest.approx(accuracy["value"])
    info = client.get(url(session_id)).json()
    assert info["counters"]["samples_seen"] == 500
    assert info["cursor"]["phase"] == "input" and info["job"]["state"] == "done"
    assert info["metrics"]["accuracy"] == accuracy


def test_mini_batches_make_one_update_per_batch(client, session):
    session_id, _, headers = session
    response = client.post(url(session_id, "/train"), json={"samples": 256, "batch_size": 32},
                           headers=headers)
    assert response.status_code == 202
    assert wait_for_end(client, session_id)["state"] == "done"
    counters = client.get(url(session_id)).json()["counters"]
    assert counters == {"samples_seen": 256, "updates": 8, "position": 256}


def test_a_long_job_can_be_stopped(client, session):
    session_id, _, headers = session
    response = client.post(url(session_id, "/train"), json={"epochs": 5}, headers=headers)
    assert response.status_code == 202
    assert response.json()["total"] == 40000
    wait_until(lambda: job(client, session_id)["done"] > 0)
    response = client.post(url(session_id, "/train/stop"), headers=headers)
    assert response.status_code == 200
    final = wait_for_end(client, session_id)
    assert final["state"] == "stopped"
    assert 0 < final["done"] < final["total"] == 40000
    info = client.get(url(session_id)).json()
    assert info["counters"]["samples_seen"] == final["done"]
    assert len(client.get(url(session_id, "/metrics")).json()["accuracy"]) == 1


MUTATIONS = [
    ("POST", "/step", {"count": 1}),
    ("POST", "/back", {"count": 1}),
    ("POST", "/input", {"dataset": "mnist14", "index": 1}),
    ("PUT", "/params", {"params": {"fc2.w": {"shape": [80, 10], "data": [0.0] * 800}}}),
    ("PATCH", "/config", {"learning_rate": 0.1}),
    ("POST", "/evaluate", None),
    ("POST", "/train", {"samples": 10}),
]


def test_changes_are_refused_with_409_while_a_job_runs(client, session):
    session_id, _, headers = session
    client.post(url(session_id, "/step"), json={"count": 2}, headers=headers)
    assert client.post(url(session_id, "/train"), json={"epochs": 5},
                       headers=headers).status_code == 202
    try:
        for method, rest, body in MUTATIONS:
            response = client.request(method, url(session_id, rest), json=body, headers=headers)
            assert_error(response, 409, code="training_running")
        # reading goes on as usual
        assert client.get(url(session_id)).json()["job"]["state"] == "running"
        for rest in ("/state", "/metrics", "/figures/training", "/params"):
            assert client.get(url(session_id, rest)).status_code == 200
        assert client.post(url(session_id, "/fork")).status_code == 201
    finally:
        client.post(url(session_id, "/train/stop"), headers=headers)
    assert wait_for_end(client, session_id)["state"] == "stopped"
    response = client.post(url(session_id, "/step"), json={"count": 1}, headers=headers)
    assert response.status_code == 200


@pytest.mark.parametrize("body, field", [
    ({"samples": 0}, "samples"),
    ({"samples": -5}, "samples"),
    ({"samples": 5, "epochs": 1}, None),
    ({}, None),
    ({"samples": 5, "batch_size": 0}, "batch_size"),
    ({"samples": 5, "batch_size": 513}, "batch_size"),
    ({"epochs": 0}, "epochs"),
    ({"epochs": 11}, "epochs"),
    ({"samples": "all"}, "samples"),
    ({"samples": 5, "learning_rate": 1}, "learning_rate"),
])
def test_bad_training_request_is_422_and_starts_nothing(client, session, body, field):
    session_id, _, headers = session
    response = client.post(url(session_id, "/train"), json=body, headers=headers)
    error = assert_error(response, 422)
    if field is not None:
        assert error["field"] == field
    assert job(client, session_id)["state"] == "idle"


def test_the_samples_per_job_limit_is_a_setting():
    with TestClient(create_app(make_settings(max_train_samples=1000))) as client:
        session_id, _, headers = new_session(client)
        for body, field in (({"samples": 1001}, "samples"), ({"epochs": 0.5}, "epochs")):
            response = client.post(url(session_id, "/train"), json=body, headers=headers)
            error = assert_error(response, 422, field)
            assert "1000" in error["message"]
        assert job(client, session_id)["state"] == "idle"
        response = client.post(url(session_id, "/train"), json={"samples": 1000},
                               headers=headers)
        assert response.status_code == 202
        assert wait_for_end(client, session_id)["state"] == "done"


def test_training_an_unknown_session_is_404(client):
    response = client.post(f"{API}/sessions/nope/train", json={"samples": 5},
                           headers={"Authorization": "Bearer x"})
    assert_error(response, 404)
