"""Input and training as a student uses them (UI.md "Input and training").

Draw a digit and see it become exactly the engine's conversion of the same picture,
upload one, pick dataset digits by index, label and at random, train and watch the
progress and the curves, stop a long job, evaluate, and load a badly classified digit.
"""

from __future__ import annotations

import base64
import io
import json

import numpy as np
from PIL import Image, ImageDraw

from engine.image import image_to_input
from tests.e2e.pages import wait_ready

HELDOUT = 2000  # digits 8000–9999 (engine/data.py HELDOUT)

# ---------------------------------------------------------------- helpers


def open_new(page, path: str = "/") -> tuple[str, str]:
    page.goto(path)
    wait_ready(page)
    return page.get_attribute("body", "data-session"), page.get_attribute("body", "data-token")


def api(page, path: str, method: str = "GET", token: str | None = None, body=None):
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    response = page.request.fetch(f"/api/v1{path}", method=method, headers=headers, data=body)
    assert response.ok, f"{method} {path}: {response.status} {response.text()}"
    return response.json()


def current_x(page, session: str) -> np.ndarray:
    x = api(page, f"/sessions/{session}/state?names=x")["tensors"]["x"]
    return np.asarray(x["data"], dtype=np.float64).reshape(x["shape"])


def sample(page, session: str) -> dict:
    return api(page, f"/sessions/{session}")["cursor"]["sample"]


def open_input_panel(page) -> None:
    if not page.get_by_test_id("input-panel").evaluate("(el) => el.open"):
        page.get_by_test_id("input-toggle").click()
    page.get_by_test_id("canvas").wait_for(state="visible")


def inputs(page) -> int:
    """How many POST /input the input panel has finished (answered and drawn, or failed)."""
    return int(page.get_by_test_id("input-panel").get_attribute("data-loads") or 0)


def wait_for_input(page, before: int) -> None:
    page.wait_for_function(
        """(before) => Number(document.querySelector('[data-input-panel]').dataset.loads || 0) > before
            && document.body.dataset.state === 'ready'""",
        arg=before,
    )


def settled(page, session: str) -> dict:
    """The sample, once the page shows it everywhere (status line, previews, views)."""
    page.wait_for_function("() => document.body.dataset.state === 'ready'")
    return sample(page, session)


def draw(page, points: list[tuple[float, float]]) -> None:
    """One stroke with the mouse through `points` given as fractions of the pad."""
    box = page.get_by_test_id("canvas").bounding_box()

    def at(p):
        return box["x"] + p[0] * box["width"], box["y"] + p[1] * box["height"]

    page.mouse.move(*at(points[0]))
    page.mouse.down()
    for p in points[1:]:
        page.mouse.move(*at(p), steps=6)
    page.mouse.up()


def preview_pixels(page, hook: str) -> np.ndarray:
    """Grey levels (0..255) of a preview canvas."""
    data = page.evaluate(
        """(hook) => {
            const c = document.querySelector(`[data-testid="${hook}"]`);
            const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
            return { size: c.width, grey: Array.from(d.filter((_, i) => i % 4 === 0)) };
        }""",
        hook,
    )
    return np.asarray(data["grey"], dtype=np.float64).reshape(data["size"], data["size"])


def ink(x: np.ndarray) -> np.ndarray:
    """How the page paints values in [0, 1]: 1 black, 0 white."""
    return np.round(255 * (1 - x))


def digit_png(label_shape: str = "seven", size: int = 200) -> bytes:
    """A black digit drawn on white paper, as a phone photo of a page would be."""
    im = Image.new("L", (size, size), 255)
    d = ImageDraw.Draw(im)
    if label_shape == "seven":
        d.line([(50, 40), (150, 40), (90, 170)], fill=0, width=16)
    else:
        d.line([(100, 30), (100, 170)], fill=0, width=16)
    out = io.BytesIO()
    im.save(out, format="PNG")
    return out.getvalue()


def show_training(page) -> None:
    """Scroll the training section's heading to just below the sticky header."""
    page.locator("#h-training").evaluate("(el) => el.scrollIntoView({ block: 'start' })")


def progress(page) -> dict:
    return page.get_by_test_id("train-progress").evaluate(
        "(el) => ({ ...el.dataset, value: el.value, max: el.max })"
    )


def plot(page, view: str) -> dict:
    """Traces of a drawn view: per trace its meta, number of points and (heatmaps) z."""
    return page.evaluate(
        """(view) => {
            const gd = document.querySelector(`[data-testid="view-${view}"] .js-plotly-plot`);
            if (!gd) return null;
            return {
                traces: gd.data.map((t) => ({
                    type: t.type, meta: t.meta || {}, n: (t.x || []).length,
                    z: t.type === 'heatmap' ? t.z : null,
                })),
                missing: Boolean(gd.layout.meta && gd.layout.meta.missing),
            };
        }""",
        view,
    )


# ---------------------------------------------------------------- input


def test_a_drawn_stroke_becomes_the_input_exactly_as_the_engine_converts_it(page, screenshots):
    session, token = open_new(page)
    open_input_panel(page)
    use = page.get_by_test_id("canvas-use")
    assert use.is_disabled() and page.get_by_test_id("canvas-undo").is_disabled()

    # a 7: the bar, then the slanted stem; then a stray dot, undone
    draw(page, [(0.25, 0.2), (0.75, 0.2)])
    draw(page, [(0.75, 0.2), (0.45, 0.85)])
    draw(page, [(0.1, 0.9), (0.12, 0.92)])
    page.get_by_test_id("canvas-undo").click()
    assert not use.is_disabled()

    # without a label the page asks for one and sends nothing
    use.click()
    assert "target d" in page.get_by_test_id("status").text_content()
    assert inputs(page) == 0

    page.get_by_test_id("label-select").select_option("7")
    before = inputs(page)
    with page.expect_request(lambda r: r.method == "POST" and r.url.endswith("/input")) as sent:
        use.click()
    wait_for_input(page, before)
    body = json.loads(sent.value.post_data)
    assert body["label"] == 7 and body["png_base64"].startswith("data:image/png;base64,")
    png = base64.b64decode(body["png_base64"].split(",", 1)[1])

    # the network's input is the engine's conversion of the very PNG the page drew
    x, x28 = image_to_input(png, 14)
    assert np.array_equal(current_x(page, session), x)
    assert sample(page, session) == {"source": "custom", "index": None, "label": 7}
    # the stray dot was undone: the digit is one connected 7, not pushed aside by a speck
    assert x28[:, :4].sum() < x28[:, 10:18].sum()

    # the page shows the 28×28 and the 14×14 the network reads
    page.wait_for_function(
        "() => document.querySelector('[data-target-now]').textContent.includes('7')"
    )
    assert np.abs(preview_pixels(page, "preview-28") - ink(x28)).max() <= 1
    assert np.abs(preview_pixels(page, "preview-x") - ink(x)).max() <= 1
    assert "7" in page.text_content("[data-sample]")
    page.get_by_test_id("input-panel").screenshot(path=screenshots / "input-drawn-1280.png")
    page.screenshot(path=screenshots / "input-panel-1280.png")

    # clear empties the pad
    page.get_by_test_id("canvas-clear").click()
    assert use.is_disabled()


def test_a_pen_or_a_finger_draws_too(page):
    open_new(page)
    open_input_panel(page)
    pad = page.get_by_test_id("canvas")
    for kind in ("pen", "touch"):
        pad.evaluate(
            """(pad, kind) => {
                const box = pad.getBoundingClientRect();
                const ev = (type, fx, fy) => pad.dispatchEvent(new PointerEvent(type, {
                    pointerId: 7, pointerType: kind, isPrimary: true, bubbles: true,
                    button: 0, buttons: 1,
                    clientX: box.left + fx * box.width, clientY: box.top + fy * box.height,
                }));
                ev('pointerdown', 0.5, 0.2);
                for (let i = 1; i <= 10; i++) ev('pointermove', 0.5, 0.2 + i * 0.06);
                ev('pointerup', 0.5, 0.8);
            }""",
            kind,
        )
    assert not page.get_by_test_id("canvas-use").is_disabled()
    assert page.get_by_test_id("canvas").evaluate("(el) => getComputedStyle(el).touchAction") == "none"
    inked = pad.evaluate(
        """(pad) => {
            const d = pad.getContext('2d').getImageData(0, 0, pad.width, pad.height).data;
            let n = 0;
            for (let i = 0; i < d.length; i += 4) if (d[i] < 128) n++;
            return n;
        }"""
    )
    assert inked > 500


def test_an_uploaded_picture_is_converted_like_the_dataset(make_page):
    page, log = make_page()
    session, _ = open_new(page)
    open_input_panel(page)
    png = digit_png("seven")

    # chosen before its label: the page waits for the label, then sends it
    page.get_by_test_id("upload").set_input_files(
        files=[{"name": "seven.png", "mimeType": "image/png", "buffer": png}])
    assert "target d" in page.get_by_test_id("status").text_content()
    before = inputs(page)
    page.get_by_test_id("label-select").select_option("7")
    wait_for_input(page, before)
    x, x28 = image_to_input(png, 14)
    assert np.array_equal(current_x(page, session), x)
    assert sample(page, session)["label"] == 7
    page.wait_for_function(
        "() => document.querySelector('[data-target-now]').textContent.includes('7')"
    )
    assert np.abs(preview_pixels(page, "preview-28") - ink(x28)).max() <= 1

    # a JPEG too
    im = Image.open(io.BytesIO(digit_png("one"))).convert("RGB")
    jpeg = io.BytesIO()
    im.save(jpeg, format="JPEG", quality=90)
    page.get_by_test_id("label-select").select_option("1")
    before = inputs(page)
    page.get_by_test_id("upload").set_input_files(
        files=[{"name": "one.jpg", "mimeType": "image/jpeg", "buffer": jpeg.getvalue()}])
    wait_for_input(page, before)
    assert np.array_equal(current_x(page, session), image_to_input(jpeg.getvalue(), 14)[0])

    # not an image: the server's reason shows in the status line, the input stays
    log.expect("/input")
    before = inputs(page)
    page.get_by_test_id("upload").set_input_files(
        files=[{"name": "notes.png", "mimeType": "image/png", "buffer": b"not a picture at all"}])
    wait_for_input(page, before)
    status = page.get_by_test_id("status")
    page.wait_for_function(
        "() => document.querySelector('[data-testid=\"status\"]').dataset.kind === 'error'")
    assert "could not be read as an image" in status.text_content()
    assert sample(page, session)["label"] == 1

    # too large: refused in the page before anything is sent
    page.get_by_test_id("upload").set_input_files(
        files=[{"name": "huge.png", "mimeType": "image/png", "buffer": b"\0" * 5_000_001}])
    assert "5 MB" in status.text_content()


def test_pick_dataset_digits_by_index_label_random_and_thumbnails(page, screenshots):
    session, _ = open_new(page)
    open_input_panel(page)
    thumbs = page.get_by_test_id("thumbnails").locator("button")

    # by index (typed, then Enter)
    before = inputs(page)
    page.get_by_test_id("dataset-index").fill("42")
    page.get_by_test_id("dataset-index").press("Enter")
    wait_for_input(page, before)
    assert settled(page, session)["index"] == 42
    page.wait_for_function(
        """() => document.querySelector('[data-testid="thumbnails"] .current')?.dataset.index === '42'""")
    indexes = [int(i) for i in thumbs.evaluate_all("(els) => els.map((e) => e.dataset.index)")]
    assert len(indexes) == 10 and 42 in indexes and indexes == sorted(indexes)

    # next and previous
    before = inputs(page)
    page.get_by_test_id("dataset-next").click()
    wait_for_input(page, before)
    assert settled(page, session)["index"] == 43
    before = inputs(page)
    page.get_by_test_id("dataset-prev").click()
    wait_for_input(page, before)
    assert settled(page, session)["index"] == 42

    # by label: the next 3 from here on, and the thumbnails show only 3s
    before = inputs(page)
    page.get_by_test_id("dataset-label").select_option("3")
    wait_for_input(page, before)
    picked = settled(page, session)
    assert picked["label"] == 3 and picked["index"] >= 42
    page.wait_for_function(
        """(i) => document.querySelector('[data-testid="thumbnails"] .current')?.dataset.index === String(i)""",
        arg=picked["index"])
    labels = thumbs.evaluate_all("(els) => els.map((e) => e.title.split(' · ')[1])")
    assert labels and set(labels) == {"3"}
    before = inputs(page)
    page.get_by_test_id("dataset-next").click()
    wait_for_input(page, before)
    following = settled(page, session)
    assert following["label"] == 3 and following["index"] > picked["index"]

    # random, keeping the label filter
    before = inputs(page)
    page.get_by_test_id("dataset-random").click()
    wait_for_input(page, before)
    assert settled(page, session)["label"] == 3

    # a thumbnail loads its digit
    target = int(thumbs.nth(4).get_attribute("data-index"))
    before = inputs(page)
    thumbs.nth(4).click()
    wait_for_input(page, before)
    assert settled(page, session)["index"] == target
    x = current_x(page, session)
    page.wait_for_function(
        """(i) => document.querySelector('[data-testid="dataset-index"]').value === String(i)""",
        arg=target)
    assert np.abs(preview_pixels(page, "preview-x") - ink(x)).max() <= 1
    data28 = api(page, f"/datasets/mnist28/samples/{target}")["x"]
    x28 = np.asarray(data28["data"]).reshape(28, 28)
    assert np.abs(preview_pixels(page, "preview-28") - ink(x28)).max() <= 1
    page.get_by_test_id("input-panel").screenshot(path=screenshots / "input-dataset-1280.png")


# ---------------------------------------------------------------- training


def test_training_500_samples_shows_progress_curves_confusion_and_kernels(page, screenshots):
    session, _ = open_new(page)
    first = sample(page, session)
    show_training(page)
    assert plot(page, "training")["missing"]

    page.get_by_test_id("train-samples").fill("500")
    page.get_by_test_id("train-batch").select_option("1")
    page.get_by_test_id("train-start").click()
    page.wait_for_function(
        """() => {
            const p = document.querySelector('[data-testid="train-progress"]').dataset;
            return p.state === 'done' && document.body.dataset.state === 'ready';
        }""",
        timeout=60_000,
    )
    shown = progress(page)
    assert shown["done"] == shown["total"] == "500"
    assert shown["value"] == shown["max"] == 500
    assert int(shown["events"]) >= 2  # progress events arrived while it ran
    assert "500" in page.locator("[data-train-text]").text_content()

    # the step-through views moved to the next sample with the trained weights
    info = api(page, f"/sessions/{session}")
    assert info["counters"]["samples_seen"] == 500
    assert info["cursor"]["phase"] == "input" and info["cursor"]["sample"] != first
    assert page.get_attribute("body", "data-rendered-phase") == "input"
    assert str(info["cursor"]["sample"]["index"]) in page.text_content("[data-sample]")

    # the curves: loss points and one held-out accuracy point
    page.wait_for_function(
        """() => {
            const gd = document.querySelector('[data-testid="view-training"] .js-plotly-plot');
            return gd && gd.data.some((t) => t.meta && t.meta.metric === 'accuracy');
        }""")
    curves = plot(page, "training")
    metrics = {t["meta"].get("metric"): t["n"] for t in curves["traces"]}
    assert metrics["loss"] > 10 and metrics["loss.ema"] == metrics["loss"]
    assert metrics["accuracy"] == 1

    # the confusion matrix counts every held-out digit once
    confusion = plot(page, "confusion")
    counts = np.asarray(confusion["traces"][0]["z"], dtype=float)
    assert counts.shape == (10, 10) and counts.sum() == HELDOUT
    api_counts = np.asarray(api(page, f"/sessions/{session}/metrics")["confusion"])
    assert np.array_equal(counts, api_counts)

    # the kernel over time: several snapshots, the first the untrained kernel
    kernels = plot(page, "kernels-history")
    snaps = [t["meta"]["samples_seen"] for t in kernels["traces"]]
    assert snaps[0] == 0 and snaps[-1] == 500 and len(snaps) >= 3

    summary = page.get_by_test_id("train-summary").text_content()
    assert "500" in summary and "%" in summary
    show_training(page)
    page.screenshot(path=screenshots / "training-500-1280.png")

    # a worst-classified held-out digit loads as the input
    worst = page.get_by_test_id("worst-digits").locator("button")
    assert worst.count() == len(api(page, f"/sessions/{session}/metrics")["worst"]) > 0
    index = int(worst.first.get_attribute("data-index"))
    assert index >= 8000
    worst.first.click()
    page.wait_for_function(
        """(i) => document.querySelector('[data-sample]').textContent.includes('#' + i)""",
        arg=index)
    assert sample(page, session)["index"] == index


def test_mini_batch_training_from_the_page(page):
    session, _ = open_new(page)
    page.get_by_test_id("train-samples").fill("256")
    page.get_by_test_id("train-batch").select_option("32")
    page.get_by_test_id("train-start").click()
    page.wait_for_function(
        "() => document.querySelector('[data-testid=\"train-progress\"]').dataset.state === 'done'",
        timeout=60_000)
    counters = api(page, f"/sessions/{session}")["counters"]
    assert counters["samples_seen"] == 256 and counters["updates"] == 8


def test_a_long_job_shows_rate_and_time_left_and_stops(page, screenshots):
    session, _ = open_new(page)
    show_training(page)
    page.get_by_test_id("train-epochs").fill("10")  # typing an amount chooses it
    page.get_by_test_id("train-start").click()
    running = page.wait_for_function(
        """() => {
            const p = document.querySelector('[data-testid="train-progress"]').dataset;
            const text = document.querySelector('[data-train-text]').textContent;
            return p.state === 'running' && Number(p.done) > 0 && text;
        }""").json_value()
    assert progress(page)["total"] == "80000"
    assert "/ 80,000 samples" in running and "samples/s" in running and "left" in running
    assert page.get_by_test_id("train-start").is_disabled()
    # the live loss curve grows while the job runs
    page.wait_for_function(
        "() => Number(document.querySelector('[data-testid=\"view-training\"]').dataset.livePoints) > 1")
    show_training(page)
    page.screenshot(path=screenshots / "training-running-1280.png")

    page.get_by_test_id("train-stop").click()
    page.wait_for_function(
        "() => document.querySelector('[data-testid=\"train-progress\"]').dataset.state === 'stopped'",
        timeout=30_000)
    shown = progress(page)
    assert 0 < int(shown["done"]) < int(shown["total"]) == 80000
    assert "Stopped" in page.locator("[data-train-text]").text_content()
    assert not page.get_by_test_id("train-start").is_disabled()
    job = api(page, f"/sessions/{session}/metrics")["job"]
    assert job["state"] == "stopped" and job["done"] == int(shown["done"])
    wait_ready(page)


def test_evaluate_on_demand_fills_the_confusion_matrix(page):
    session, _ = open_new(page)
    assert "not evaluated" in page.get_by_test_id("train-summary").text_content()
    page.get_by_test_id("evaluate").click()
    page.wait_for_function(
        "() => document.querySelector('[data-testid=\"train-summary\"]').textContent.includes('%')")
    page.wait_for_function(
        """() => {
            const gd = document.querySelector('[data-testid="view-confusion"] .js-plotly-plot');
            return gd && gd.data.length > 0;
        }""")
    counts = np.asarray(plot(page, "confusion")["traces"][0]["z"], dtype=float)
    assert counts.sum() == HELDOUT
    accuracy = api(page, f"/sessions/{session}/metrics")["accuracy"]
    assert len(accuracy) == 1 and accuracy[0]["samples_seen"] == 0
    page.get_by_test_id("worst-digits").locator("button").first.wait_for()
    assert page.get_by_test_id("worst-digits").locator("button").count() == 12


def test_someone_elses_page_watches_a_job_live_without_controls(make_page, screenshots):
    owner, _ = make_page()
    session, token = open_new(owner)
    watcher, _ = make_page()
    watcher.goto(f"/s/{session}")
    wait_ready(watcher)
    for hook in ("train-start", "train-stop", "evaluate", "canvas", "dataset-index", "upload"):
        assert watcher.get_by_test_id(hook).count() == 0, hook
    assert watcher.get_by_test_id("view-training").count() == 1
    watcher.wait_for_timeout(500)  # its event stream is open
    api(watcher, f"/sessions/{session}/train", "POST", token, {"samples": 500})
    watcher.wait_for_function(
        "() => document.querySelector('[data-testid=\"train-progress\"]').dataset.state === 'done'",
        timeout=60_000)
    assert progress(watcher)["done"] == "500"
    watcher.wait_for_function(
        """() => {
            const gd = document.querySelector('[data-testid="view-confusion"] .js-plotly-plot');
            return gd && gd.data.length > 0 && document.body.dataset.state === 'ready';
        }""")
    # the worst digits are shown, but only the owner can load them
    watcher.get_by_test_id("worst-digits").locator(".worst-digit").first.wait_for()
    assert watcher.get_by_test_id("worst-digits").locator("button").count() == 0
    show_training(watcher)
    watcher.screenshot(path=screenshots / "training-watcher-1280.png")


def test_chinese_input_and_training_render(make_page, screenshots):
    page, _ = make_page()
    session, _ = open_new(page)
    page.goto(f"/s/{session}?lang=zh")
    wait_ready(page)
    open_input_panel(page)
    assert "画一个数字" in page.get_by_test_id("input-panel").text_content()
    assert "训练" in page.locator("[data-training] h2").text_content()
    page.screenshot(path=screenshots / "input-zh-1280.png")
