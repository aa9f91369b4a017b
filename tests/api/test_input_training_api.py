"""The API behind the input and training panels (UI.md "Input and training"):
thumbnails, input by label / random / pixels / picture, training with progress events,
stopping, evaluation, and metrics that survive a restart of the server."""

from __future__ import annotations

import base64
import io
import time

import httpx
import numpy as np
import pytest
from PIL import Image, ImageDraw

from engine.image import image_to_input
from tests.api.helpers import (
    API,
    assert_error,
    new_session,
    sse_events,
    url,
    wait_until,
)
from tests.api.server import Server

HELDOUT = 2000


def x_of(client, session_id) -> np.ndarray:
    x = client.get(url(session_id, "/state?names=x")).json()["tensors"]["x"]
    return np.asarray(x["data"]).reshape(x["shape"])


def job(client, session_id) -> dict:
    return client.get(url(session_id, "/metrics")).json()["job"]


def wait_for_end(client, session_id, timeout=60.0) -> dict:
    return wait_until(lambda: (j := job(client, session_id))["state"] != "running" and j,
                      timeout=timeout)


def drawing(transparent: bool = False) -> bytes:
    """A 7 as the page's canvas sends it: black ink on white (or on nothing)."""
    im = Image.new("RGBA", (280, 280), (255, 255, 255, 0 if transparent else 255))
    ImageDraw.Draw(im).line([(70, 56), (210, 56), (126, 238)], fill=(0, 0, 0, 255), width=21)
    out = io.BytesIO()
    im.save(out, format="PNG")
    return out.getvalue()


def data_url(png: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(png).decode()


# ---------------------------------------------------------------- thumbnails


def test_thumbnails_are_the_digits_from_start_on(client):
    body = client.get(f"{API}/datasets/mnist14/thumbnails?start=40&count=10").json()
    items = body["items"]
    assert body["dataset"] == "mnist14"
    assert [item["index"] for item in items] == list(range(40, 50))
    for item in items:
        assert item["x"]["shape"] == [14, 14] and len(item["x"]["data"]) == 196
        assert item["split"] == "train"
        one = client.get(f"{API}/datasets/mnist14/samples/{item['index']}").json()
        assert one["label"] == item["label"] and one["x"] == item["x"]


def test_thumbnails_with_a_label_show_only_that_digit(client):
    items = client.get(f"{API}/datasets/mnist14/thumbnails?start=8000&count=12&label=3"
                       ).json()["items"]
    indexes = [item["index"] for item in items]
    assert len(items) == 12 and indexes == sorted(indexes) and indexes[0] >= 8000
    assert {item["label"] for item in items} == {3}
    assert {item["split"] for item in items} == {"heldout"}


def test_thumbnails_of_28x28_digits_and_the_end_of_the_data(client):
    items = client.get(f"{API}/datasets/mnist28/thumbnails?start=9995&count=12").json()["items"]
    assert [item["index"] for item in items] == list(range(9995, 10000))
    assert items[0]["x"]["shape"] == [28, 28]


@pytest.mark.parametrize("query, field", [
    ("start=-1", "start"), ("start=10000", "start"), ("count=0", "count"),
    ("count=49", "count"), ("label=10", "label"),
])
def test_bad_thumbnail_queries_are_422(client, query, field):
    response = client.get(f"{API}/datasets/mnist14/thumbnails?{query}")
    assert response.status_code == 422, response.text
    assert field in response.text


# ---------------------------------------------------------------- input


@pytest.mark.parametrize("label", [0, 3, 9])
def test_input_by_label_loads_the_next_such_digit(client, session, label):
    session_id, _, headers = session
    client.post(url(session_id, "/input"), json={"dataset": "mnist14", "index": 100},
                headers=headers)
    response = client.post(url(session_id, "/input"), json={"dataset": "mnist14", "label": label},
                           headers=headers)
    assert response.status_code == 200, response.text
    sample = response.json()["cursor"]["sample"]
    assert sample["label"] == label and sample["index"] >= 100
    first = client.get(f"{API}/datasets/mnist14/thumbnails?start=100&count=1&label={label}"
                       ).json()["items"][0]
    assert sample["index"] == first["index"]


def test_random_input_keeps_the_label_filter(client, session):
    session_id, _, headers = session
    seen = set()
    for _ in range(5):
        response = client.post(url(session_id, "/input"),
                               json={"dataset": "mnist14", "random": True, "label": 4},
                               headers=headers)
        sample = response.json()["cursor"]["sample"]
        assert sample["label"] == 4 and 0 <= sample["index"] < 10000
        seen.add(sample["index"])
    assert len(seen) > 1
    response = client.post(url(session_id, "/input"), json={"dataset": "mnist14", "random": True},
                           headers=headers)
    assert response.json()["cursor"]["phase"] == "input"


def test_pixels_of_the_input_size_are_the_input_as_given(client, session):
    session_id, _, headers = session
    pixels = np.zeros((14, 14))
    pixels[3:11, 6:8] = 1.0
    response = client.post(url(session_id, "/input"),
                           json={"pixels": pixels.tolist(), "label": 1}, headers=headers)
    assert response.status_code == 200, response.text
    assert response.json()["x28"] is None
    assert np.array_equal(x_of(client, session_id), pixels)
    assert response.json()["cursor"]["sample"] == {"source": "custom", "index": None, "label": 1}


@pytest.mark.parametrize("transparent", [False, True])
def test_a_canvas_drawing_is_converted_exactly_like_the_engine(client, session, transparent):
    session_id, _, headers = session
    png = drawing(transparent)
    response = client.post(url(session_id, "/input"),
                           json={"png_base64": data_url(png), "label": 7}, headers=headers)
    assert response.status_code == 200, response.text
    x, x28 = image_to_input(png, 14)
    assert np.array_equal(np.asarray(response.json()["x28"]), x28)
    assert np.array_equal(x_of(client, session_id), x)
    # the 14×14 is the 2×2 mean of the 28×28 the page shows beside it
    assert np.allclose(x, x28.reshape(14, 2, 14, 2).mean(axis=(1, 3)))
    # MNIST style: bright digit on black, centred
    assert x28[0].max() == 0 and x28.max() == pytest.approx(1.0)


def test_a_28x28_session_reads_the_28x28_conversion(client):
    session_id, _, headers = new_session(client, input_size=28)
    png = drawing()
    response = client.post(url(session_id, "/input"),
                           json={"png_base64": data_url(png), "label": 7}, headers=headers)
    assert response.status_code == 200, response.text
    assert np.array_equal(x_of(client, session_id), image_to_input(png, 28)[0])


def test_a_jpeg_upload_is_converted_too(client, session):
    session_id, _, headers = session
    jpeg = io.BytesIO()
    Image.open(io.BytesIO(drawing())).convert("RGB").save(jpeg, format="JPEG", quality=90)
    body = {"png_base64": base64.b64encode(jpeg.getvalue()).decode(), "label": 7}
    response = client.post(url(session_id, "/input"), json=body, headers=headers)
    assert response.status_code == 200, response.text
    assert np.array_equal(x_of(client, session_id), image_to_input(jpeg.getvalue(), 14)[0])


def test_a_drawing_needs_its_label(client, session):
    session_id, _, headers = session
    response = client.post(url(session_id, "/input"), json={"png_base64": data_url(drawing())},
                           headers=headers)
    assert_error(response, 422, "label")


def test_a_decompression_bomb_is_refused_before_decoding(client, session):
    session_id, _, headers = session
    bomb = io.BytesIO()
    Image.new("1", (5000, 5000)).save(bomb, format="PNG")  # 25 Mpx in a few kB
    assert len(bomb.getvalue()) < 100_000
    response = client.post(url(session_id, "/input"),
                           json={"png_base64": data_url(bomb.getvalue()), "label": 1},
                           headers=headers)
    error = assert_error(response, 422, "png_base64")
    assert "5000×5000" in error["message"] or "bomb" in error["message"]


@pytest.mark.parametrize("payload, words", [
    (b"not a picture at all", "could not be read as an image"),
    (b"", "empty"),
])
def test_what_is_not_a_picture_is_refused_with_a_reason(client, session, payload, words):
    session_id, _, headers = session
    body = {"png_base64": base64.b64encode(payload).decode(), "label": 1}
    response = client.post(url(session_id, "/input"), json=body, headers=headers)
    assert words in assert_error(response, 422, "png_base64")["message"]


def test_a_blank_drawing_is_refused(client, session):
    session_id, _, headers = session
    blank = io.BytesIO()
    Image.new("RGB", (280, 280), "white").save(blank, format="PNG")
    response = client.post(url(session_id, "/input"),
                           json={"png_base64": data_url(blank.getvalue()), "label": 1},
                           headers=headers)
    assert "empty" in assert_error(response, 422, "png_base64")["message"]


def test_input_needs_the_owner_token(client, session):
    session_id, _, _ = session
    response = client.post(url(session_id, "/input"), json={"dataset": "mnist14", "index": 1})
    assert response.status_code in (401, 403)


# ---------------------------------------------------------------- training


def test_training_500_samples_streams_progress_with_rate_and_time_left(client, session):
    session_id, _, headers = session
    with client.stream("GET", url(session_id, "/events")) as stream:
        events = sse_events(stream.iter_lines(), time.monotonic() + 60)
        assert next(events)[0] == "cursor"
        response = client.post(url(session_id, "/train"),
                               json={"samples": 500, "batch_size": 1}, headers=headers)
        assert response.status_code == 202, response.text
        progress, finished = [], None
        for event, data in events:
            assert event != "train.error", data
            if event == "train.progress":
                progress.append(data)
            elif event == "train.done":
                finished = data
                break
    assert len(progress) >= 2
    assert {"done", "total", "loss", "samples_per_s", "eta_s"} <= set(progress[-1])
    moving = [p for p in progress if p["done"] > 0]
    assert moving and all(p["samples_per_s"] > 0 and p["eta_s"] >= 0 for p in moving)
    assert all(p["loss"] is None or p["loss"] >= 0 for p in progress)
    assert finished["state"] == "done" and finished["done"] == finished["total"] == 500


def test_metrics_after_training_feed_every_training_view(client, session):
    session_id, _, headers = session
    client.post(url(session_id, "/train"), json={"samples": 500}, headers=headers)
    assert wait_for_end(client, session_id)["state"] == "done"
    metrics = client.get(url(session_id, "/metrics")).json()
    assert sum(map(sum, metrics["confusion"])) == HELDOUT
    assert len(metrics["worst"]) == 12
    for item in metrics["worst"]:
        assert 8000 <= item["index"] < 10000
        assert {"label", "predicted", "score"} <= set(item)
        sample = client.get(f"{API}/datasets/mnist14/samples/{item['index']}").json()
        assert sample["label"] == item["label"] and sample["split"] == "heldout"
    scores = [item["score"] for item in metrics["worst"]]
    assert scores == sorted(scores)
    snaps = [s["samples_seen"] for s in metrics["kernels"]]
    assert snaps[0] == 0 and snaps[-1] == 500 and len(snaps) >= 3
    for view in ("training", "confusion", "kernels-history"):
        figure = client.get(url(session_id, f"/figures/{view}")).json()
        assert figure["data"] and not figure["layout"]["meta"].get("missing"), view


def test_stop_ends_a_long_job_early_and_keeps_what_it_learned(client, session):
    session_id, _, headers = session
    response = client.post(url(session_id, "/train"), json={"epochs": 5, "batch_size": 32},
                           headers=headers)
    assert response.status_code == 202 and response.json()["total"] == 40000
    wait_until(lambda: job(client, session_id)["done"] > 0)
    assert client.post(url(session_id, "/train/stop"), headers=headers).status_code == 200
    final = wait_for_end(client, session_id)
    assert final["state"] == "stopped" and 0 < final["done"] < 40000
    info = client.get(url(session_id)).json()
    assert info["counters"]["samples_seen"] == final["done"]
    metrics = client.get(url(session_id, "/metrics")).json()
    assert sum(map(sum, metrics["confusion"])) == HELDOUT


def test_stop_needs_the_owner_token(client, session):
    session_id, _, _ = session
    response = client.post(url(session_id, "/train/stop"))
    assert response.status_code in (401, 403)


def test_evaluate_on_demand_records_accuracy_confusion_and_worst(client, session):
    session_id, _, headers = session
    assert client.get(url(session_id, "/metrics")).json()["confusion"] is None
    response = client.post(url(session_id, "/evaluate"), headers=headers)
    assert response.status_code == 200, response.text
    metrics = response.json()
    assert sum(map(sum, metrics["confusion"])) == HELDOUT
    diagonal = sum(metrics["confusion"][d][d] for d in range(10))
    assert metrics["accuracy"] == [{"samples_seen": 0, "value": diagonal / HELDOUT}]
    assert len(metrics["worst"]) == 12
    again = client.post(url(session_id, "/evaluate"), headers=headers).json()
    assert len(again["accuracy"]) == 2 and again["confusion"] == metrics["confusion"]
    assert client.get(url(session_id)).json()["metrics"]["accuracy"] == again["accuracy"][-1]


def test_evaluate_needs_the_owner_token(client, session):
    session_id, _, _ = session
    assert client.post(url(session_id, "/evaluate")).status_code in (401, 403)


def test_metrics_survive_a_restart_of_a_sqlite_server(tmp_path):
    store = f"sqlite:///{tmp_path / 'sessions.db'}"
    server = Server(store, tmp_path, "first").start()
    try:
        with httpx.Client(base_url=server.url, timeout=30) as http:
            created = http.post(f"{API}/sessions", json={"preset": "seed", "seed": 3}).json()
            session_id = created["id"]
            headers = {"Authorization": f"Bearer {created['owner_token']}"}
            response = http.post(url(session_id, "/train"), json={"samples": 500},
                                 headers=headers)
            assert response.status_code == 202, response.text
            wait_until(lambda: http.get(url(session_id, "/metrics")).json()["job"]["state"]
                       == "done", timeout=60)
            before = http.get(url(session_id, "/metrics")).json()
            figure = http.get(url(session_id, "/figures/confusion")).json()
    finally:
        server.stop()
    assert sum(map(sum, before["confusion"])) == HELDOUT

    again = Server(store, tmp_path, "second").start()
    try:
        with httpx.Client(base_url=again.url, timeout=30) as http:
            after = http.get(url(session_id, "/metrics")).json()
            assert after == before
            assert http.get(url(session_id, "/figures/confusion")).json() == figure
            info = http.get(url(session_id)).json()
            assert info["counters"]["samples_seen"] == 500
            assert info["metrics"]["accuracy"] == before["accuracy"][-1]
            # and training goes on from there
            response = http.post(url(session_id, "/train"), json={"samples": 100},
                                 headers=headers)
            assert response.status_code == 202, response.text
            wait_until(lambda: http.get(url(session_id, "/metrics")).json()["job"]["state"]
                       == "done", timeout=60)
            later = http.get(url(session_id, "/metrics")).json()
            assert [a["samples_seen"] for a in later["accuracy"]] == [500, 600]
    finally:
        again.stop()
