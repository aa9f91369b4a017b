"""The classroom (UI.md "Classroom") as a teacher and students use it: a presenter and two
followers in separate browsers, presenter mode measured at 1280×720, every theme and
both languages with no missing translation, export, import, share links and fork.

Screenshots of every mode, theme and language go to screenshots/classroom/ for review.
"""

from __future__ import annotations

import io
import json
import re
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from urllib.parse import urlsplit

import numpy as np
import pytest

from app.i18n import SEED_FMT, TEXTS
from tests.e2e.pages import wait_ready

ROOT = Path(__file__).resolve().parents[2]
PHASES = [
    "input", "forward.conv", "forward.pool", "forward.act", "forward.fc1", "forward.fc2",
    "loss", "backward.fc2", "backward.fc1", "backward.act", "backward.pool",
    "backward.conv", "update",
]
THEMES = ("light", "dark", "contrast")
PAPER = {"light": "#ffffff", "dark": "#15171c", "contrast": "#000000"}
KEY_LIKE = re.compile(r"^(ui|view|phase|label|msg|theme|lang|error)\.[a-z0-9_.-]+$")
# Two English words in a row on a Chinese page are an untranslated label. Names are not
# words: tensor and phase names (forward.conv, conv.z, fc1.out, mnist14), config values.
ENGLISH_RUN = re.compile(r"(?<![\w.\-])[A-Za-z]{2,}(?: [A-Za-z]{2,})+(?![\w.\-])")


@pytest.fixture(scope="session")
def shots(screenshots) -> Path:
    folder = screenshots / "classroom"
    folder.mkdir(exist_ok=True)
    return folder


# ---------------------------------------------------------------- helpers


def open_new(page, query: str = ""):
    """A fresh seed session owned by this browser: (id, token)."""
    page.goto("/")
    wait_ready(page)
    session = page.get_attribute("body", "data-session")
    if query:
        page.goto(f"/s/{session}{query}")
        wait_ready(page)
    return session, page.get_attribute("body", "data-token")


def api(page, path: str, method: str = "GET", token: str | None = None, body=None):
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    response = page.request.fetch(f"/api/v1{path}", method=method, headers=headers, data=body)
    assert response.ok, f"{method} {path}: {response.status} {response.text()}"
    return response.json()


def jump(page, session: str, token: str, phase: str) -> None:
    api(page, f"/sessions/{session}/step", "POST", token, {"to": phase})
    page.reload()
    wait_ready(page, phase)


def shown_phase(page) -> str:
    return page.text_content('[data-testid="phase"]')


def record_phase_changes(page) -> None:
    """From now on, window.__phases lists [phase, Date.now()] at each change of the label."""
    page.evaluate(
        """() => {
            window.__phases = [];
            const el = document.querySelector('[data-testid="phase"]');
            new MutationObserver(() => window.__phases.push([el.textContent, Date.now()]))
                .observe(el, { childList: true, characterData: true, subtree: true });
        }"""
    )


def first_seen(page, phase: str) -> int:
    return page.evaluate("(p) => (window.__phases.find(([q]) => q === p) || [null, 0])[1]", phase)


def px(page, selector: str) -> float:
    return page.evaluate(
        "(s) => parseFloat(getComputedStyle(document.querySelector(s)).fontSize)", selector
    )


def presented(page) -> list[str]:
    """The views presenter mode shows, in their order, with their size on screen."""
    return page.evaluate(
        """() => [...document.querySelectorAll('[data-view][data-present]')]
            .sort((a, b) => a.dataset.present - b.dataset.present)
            .map((card) => card.dataset.view)"""
    )


def untranslated(page, lang: str) -> list[str]:
    """What a person would read on this page that is a raw key or, in Chinese, English."""
    found = page.evaluate(
        """() => {
            const out = [];
            const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
            for (let n = walker.nextNode(); n; n = walker.nextNode()) {
                const tag = n.parentElement && n.parentElement.tagName;
                if (tag === 'SCRIPT' || tag === 'STYLE') continue;
                const text = n.textContent.trim();
                if (text) out.push(text);
            }
            for (const el of document.querySelectorAll('*')) {
                for (const attr of el.attributes) {
                    const name = attr.name;
                    if (['title', 'aria-label', 'alt', 'placeholder', 'data-title', 'data-desc'].includes(name)
                        || name.startsWith('data-msg-') || name.startsWith('data-label-')) {
                        if (attr.value.trim()) out.push(attr.value.trim());
                    }
                }
            }
            // what the figures say: titles (shown as the cards' headings), axes, notes
            for (const gd of document.querySelectorAll('.js-plotly-plot')) {
                const layout = gd.layout || {};
                for (const [key, value] of Object.entries(layout)) {
                    if (/^[xy]axis\\d*$/.test(key) && value && value.title) {
                        out.push(String(typeof value.title === 'string' ? value.title : value.title.text || ''));
                    }
                }
                for (const note of layout.annotations || []) out.push(String(note.text || ''));
                for (const trace of gd.data || []) {
                    if (trace.showlegend !== false && trace.name) out.push(String(trace.name));
                    if (trace.hovertemplate) out.push(String(trace.hovertemplate));
                }
            }
            return out.map((t) => t.replace(/<[^>]*>/g, ' ').replace(/%\\{[^}]*\\}/g, ' ').trim()).filter(Boolean);
        }"""
    )
    bad = [t for t in found if KEY_LIKE.match(t)]
    if lang == "zh":
        english = {re.sub(r"\{(\w+)\}", lambda m: str(SEED_FMT.get(m.group(1), m.group(0))), en)
                   for key, en in TEXTS["en"].items() if en != TEXTS["zh"][key]}
        bad += [t for t in found if t in english]
        bad += [f"{m.group(0)!r} in {t!r}" for t in found for m in ENGLISH_RUN.finditer(t)
                if m.group(0) not in ("backprop lens",)]
    return sorted(set(bad))


# ---------------------------------------------------------------- presenter and followers


def test_two_followers_track_ten_steps_live_and_cannot_step(make_page, shots):
    presenter, _ = make_page()
    session, token = open_new(presenter)
    followers = []
    for _ in range(2):
        follower, log = make_page()  # a separate browser context: another student's device
        log.expect("/step")  # the follower's own attempt below, refused
        follower.goto(f"/s/{session}/follow")
        wait_ready(follower, "input")
        follower.wait_for_function("() => document.body.dataset.live === '1'")
        assert follower.get_attribute("body", "data-mode") == "follow"
        assert follower.get_attribute("body", "data-token") == ""
        followers.append(follower)
    for page in (presenter, *followers):
        record_phase_changes(page)

    for phase in PHASES[1:11]:
        presenter.keyboard.press("ArrowRight")
        wait_ready(presenter, phase)
        for follower in followers:
            wait_ready(follower, phase)
    assert api(presenter, f"/sessions/{session}")["cursor"]["phase"] == PHASES[10]
    for follower in followers:
        for phase in PHASES[1:11]:
            lag = first_seen(follower, phase) - first_seen(presenter, phase)
            assert first_seen(follower, phase) and lag < 1000, f"{phase}: {lag} ms behind"
    # the followers draw what the presenter draws
    z = "() => document.querySelector('[data-testid=\"view-conv-delta\"] .js-plotly-plot').data[0].z"
    assert followers[0].evaluate(z) == presenter.evaluate(z) == followers[1].evaluate(z)
    followers[0].screenshot(path=shots / "follow-light-en.png")

    # nothing a follower does changes the presenter's session
    follower = followers[1]
    for hook in ("step", "back", "next-sample", "play", "reset", "presenter-toggle", "config-open"):
        assert follower.get_by_test_id(hook).count() == 0, hook
    for key in ("ArrowRight", "ArrowLeft", " ", "n", "r", "f"):
        follower.keyboard.press(key)
    follower.locator('.strip [data-phase="forward.conv"]').first.click()
    follower.wait_for_timeout(400)
    assert follower.get_attribute("body", "data-mode") == "follow"
    refused = follower.evaluate(
        """(id) => fetch(`/api/v1/sessions/${id}/step`, { method: 'POST',
            headers: { 'Content-Type': 'application/json' }, body: '{"count": 1}' }).then((r) => r.status)""",
        session,
    )
    assert refused == 401
    assert api(follower, f"/sessions/{session}")["cursor"]["phase"] == PHASES[10]
    assert shown_phase(follower) == PHASES[10]


def test_a_follower_catches_up_after_going_offline(make_page):
    presenter, _ = make_page()
    session, token = open_new(presenter)
    follower, log = make_page()
    log.expect("ERR_INTERNET_DISCONNECTED")
    follower.goto(f"/s/{session}/follow")
    wait_ready(follower, "input")
    follower.wait_for_function("() => document.body.dataset.live === '1'")
    follower.context.set_offline(True)
    follower.wait_for_function("() => document.body.dataset.live === '0'")
    for _ in range(3):
        presenter.keyboard.press("ArrowRight")
        wait_ready(presenter)
    wait_ready(presenter, "forward.act")
    follower.wait_for_timeout(500)
    follower.context.set_offline(False)
    # back online: every view is drawn again at the presenter's phase, and the page is live
    follower.wait_for_function(
        """() => {
            const plots = [...document.querySelectorAll('[data-view] .js-plotly-plot')];
            return plots.length > 10 && plots.every((gd) => gd.layout.meta.phase === 'forward.act');
        }"""
    )
    wait_ready(follower, "forward.act")
    follower.wait_for_function("() => document.body.dataset.live === '1'")
    assert follower.get_by_test_id("status").get_attribute("data-kind") != "error"


class RestartableServer:
    """The app on a fixed port with a SQLite store, so it can stop and come back."""

    def __init__(self, tmp_path: Path):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self.store = f"sqlite:///{tmp_path / 'sessions.db'}"
        self.log = tmp_path / "server.log"
        self.proc = None

    def start(self) -> None:
        with self.log.open("a") as log:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "app", "serve", "--host", "127.0.0.1", "--port",
                 str(self.port), "--store", self.store],
                cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            assert self.proc.poll() is None, self.log.read_text()
            try:
                with urllib.request.urlopen(self.url + "/healthz", timeout=1):
                    return
            except OSError:
                time.sleep(0.1)
        raise RuntimeError("the app did not start")

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()


@pytest.fixture
def restartable(tmp_path):
    server = RestartableServer(tmp_path)
    server.start()
    yield server
    server.stop()


def test_a_follower_reconnects_by_itself_when_the_server_comes_back(browser, restartable, shots):
    errors: list[str] = []
    pages = []
    for _ in range(2):
        context = browser.new_context(viewport={"width": 1280, "height": 720},
                                      base_url=restartable.url)
        page = context.new_page()
        page.set_default_timeout(20_000)
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        pages.append(page)
    presenter, follower = pages
    try:
        session, token = open_new(presenter)
        follower.goto(f"/s/{session}/follow")
        wait_ready(follower, "input")
        follower.wait_for_function("() => document.body.dataset.live === '1'")

        restartable.stop()  # the server (or the classroom network) goes away
        follower.wait_for_function("() => document.body.dataset.live === '0'")
        assert follower.get_by_test_id("status").text_content() == TEXTS["en"]["ui.status.reconnecting"]
        follower.screenshot(path=shots / "follow-reconnecting.png")
        follower.wait_for_timeout(2500)  # long enough for the browser to give up retrying
        restartable.start()
        api(presenter, f"/sessions/{session}/step", "POST", token, {"to": "forward.pool"})

        wait_ready(follower, "forward.pool")
        follower.wait_for_function("() => document.body.dataset.live === '1'")
        assert follower.locator('[data-testid="pool-table"] tbody tr').count() == 25
        # and it keeps following
        api(presenter, f"/sessions/{session}/step", "POST", token, {"count": 1})
        wait_ready(follower, "forward.act")
    finally:
        for page in pages:
            page.context.close()
    assert errors == []


# ---------------------------------------------------------------- presenter mode


def test_presenter_mode_is_large_keyboard_only_and_shows_the_follow_code(page, shots):
    session, token = open_new(page)
    jump(page, session, token, "forward.pool")
    toggle = page.get_by_test_id("presenter-toggle")
    toggle.click()
    assert page.get_attribute("body", "data-mode") == "presenter"
    assert toggle.get_attribute("aria-pressed") == "true"
    wait_ready(page, "forward.pool")
    page.wait_for_timeout(300)  # the plots follow their new size

    # large type, measured as the browser draws it
    assert px(page, '[data-testid="phase"]') >= 24
    assert px(page, "[data-phase-title]") >= 24
    assert px(page, "[data-sample]") >= 18
    assert px(page, ".layer-size") >= 18
    assert px(page, '[data-testid="follow-link"]') >= 18
    assert presented(page) == ["conv", "pool"]
    sizes = page.evaluate(
        """() => [...document.querySelectorAll('[data-view][data-present] .main-svg text')]
            .filter((t) => /\\d/.test(t.textContent) && t.getBoundingClientRect().width > 0)
            .map((t) => [t.textContent, parseFloat(getComputedStyle(t).fontSize)])"""
    )
    assert len(sizes) > 10
    assert [s for s in sizes if s[1] < 18] == []
    # one pair fills the screen; the side panels and the buttons are gone
    boxes = page.evaluate(
        """() => [...document.querySelectorAll('[data-view][data-present] .js-plotly-plot')]
            .map((gd) => { const r = gd.getBoundingClientRect(); return [r.width, r.height, r.bottom]; })"""
    )
    assert all(w > 380 and h > 330 and bottom <= 720 for w, h, bottom in boxes), boxes
    for hidden in ('[data-testid="step"]', '[data-testid="pool-table"]', '[data-testid="inspector"]',
                   '[data-testid="view-input"]', '[data-testid="theme-select"]'):
        assert not page.locator(hidden).is_visible(), hidden
    assert page.evaluate("() => document.documentElement.scrollHeight") <= 720
    # the follow code and short link, made by this server
    qr = page.get_by_test_id("follow-qr")
    assert qr.is_visible()
    assert page.evaluate("() => document.querySelector('[data-testid=\"follow-qr\"]').naturalWidth") > 0
    assert f"/qr.svg?base={page.evaluate('() => encodeURIComponent(location.origin)')}" in qr.get_attribute("src")
    link = page.get_by_test_id("follow-link")
    assert link.is_visible() and link.text_content().endswith(f"/f/{session}")
    page.screenshot(path=shots / "presenter-forward-pool.png")

    # keyboard only: step, pick views, the QR code large, leave
    page.keyboard.press("ArrowRight")
    wait_ready(page, "forward.act")
    assert presented(page) == ["pool", "activations"]
    select = page.get_by_test_id("presenter-view-select")
    page.keyboard.press("v")
    assert select.input_value() != "auto" and len(presented(page)) == 2
    select.select_option("input-grad")
    assert presented(page) == ["input-grad"]
    page.wait_for_timeout(300)
    assert page.evaluate(
        "() => document.querySelector('[data-view=\"input-grad\"] .js-plotly-plot').getBoundingClientRect().width"
    ) > 700
    page.keyboard.press("Shift+V")
    assert select.input_value() != "input-grad"
    select.select_option("auto")
    page.keyboard.press("q")
    assert page.evaluate("() => document.body.classList.contains('qr-large')")
    assert qr.bounding_box()["height"] > 400
    page.screenshot(path=shots / "presenter-qr.png")
    page.keyboard.press("Escape")
    assert not page.evaluate("() => document.body.classList.contains('qr-large')")
    assert page.get_attribute("body", "data-mode") == "presenter"
    page.keyboard.press("Escape")
    assert page.get_attribute("body", "data-mode") == "normal"
    wait_ready(page, "forward.act")
    assert page.locator('[data-testid="step"]').is_visible()
    assert presented(page) == []
    page.keyboard.press("f")
    assert page.get_attribute("body", "data-mode") == "presenter"
    page.keyboard.press("f")
    assert page.get_attribute("body", "data-mode") == "normal"
    # normal type again in the figures
    wait_ready(page)
    assert page.evaluate(
        "() => document.querySelector('[data-view=\"input\"] .js-plotly-plot').layout.font.size"
    ) < 18


# ---------------------------------------------------------------- themes and languages


@pytest.mark.parametrize("lang", ["en", "zh"])
@pytest.mark.parametrize("theme", THEMES)
def test_every_mode_theme_and_language_renders_with_no_missing_translation(
        make_page, shots, theme, lang):
    page, _ = make_page()
    session, token = open_new(page)
    api(page, f"/sessions/{session}/step", "POST", token, {"to": "backward.pool"})
    page.goto(f"/s/{session}?theme={theme}&lang={lang}")
    wait_ready(page, "backward.pool")
    assert page.evaluate("(t) => document.body.classList.contains('theme-' + t)", theme)
    assert page.get_attribute("html", "lang") == ("zh-Hans" if lang == "zh" else "en")
    paper = page.evaluate(
        "() => document.querySelector('[data-view=\"conv\"] .js-plotly-plot').layout.paper_bgcolor"
    )
    assert paper.lower() == PAPER[theme]
    page.screenshot(path=shots / f"normal-{theme}-{lang}.png")
    page.screenshot(path=shots / f"normal-{theme}-{lang}-full.png", full_page=True)
    page.get_by_test_id("view-kernel").locator(".js-plotly-plot").hover()  # its toolbar too
    assert untranslated(page, lang) == []
    page.evaluate("() => window.scrollTo(0, 0)")

    page.keyboard.press("f")
    wait_ready(page, "backward.pool")
    page.wait_for_timeout(300)
    assert untranslated(page, lang) == []
    page.screenshot(path=shots / f"presenter-{theme}-{lang}.png")

    follower, _ = make_page()
    follower.goto(f"/s/{session}/follow?theme={theme}&lang={lang}")
    wait_ready(follower, "backward.pool")
    follower.wait_for_function("() => document.body.dataset.live === '1'")
    assert untranslated(follower, lang) == []
    follower.screenshot(path=shots / f"follow-{theme}-{lang}.png")


def test_an_error_shows_in_the_page_language(make_page):
    page, log = make_page()
    log.expect("/config")
    open_new(page, "?lang=zh")
    lr = page.get_by_test_id("learning-rate")
    lr.fill("50")
    lr.press("Enter")
    page.wait_for_function("() => document.querySelector('[data-testid=\"status\"]').dataset.kind === 'error'")
    shown = page.get_by_test_id("status").text_content()
    assert shown == f"{TEXTS['zh']['error.invalid_config']}（learning_rate）"
    assert untranslated(page, "zh") == []


# ---------------------------------------------------------------- preferences


def test_theme_and_notation_switch_live_and_persist_with_the_language(make_page):
    page, _ = make_page()
    session, token = open_new(page)
    page.evaluate("() => { window.__same = true; }")
    page.get_by_test_id("theme-select").select_option("dark")
    page.wait_for_function(
        "() => document.querySelector('[data-view=\"conv\"] .js-plotly-plot').layout.paper_bgcolor === '#15171c'"
    )
    assert page.evaluate("() => window.__same === true"), "the theme switched without a reload"
    assert page.evaluate("() => document.body.classList.contains('theme-dark')")
    assert page.evaluate("() => localStorage.getItem('bpl.theme')") == "dark"

    page.get_by_test_id("seed-notation").check()
    page.wait_for_function(
        "() => document.querySelector('[data-testid=\"view-conv\"] [data-view-title]').textContent.includes('temphicnn')"
        " && !document.querySelector('[data-testid=\"view-conv\"] [data-view-title]').textContent.includes('conv.z')"
    )
    assert page.evaluate("() => window.__same === true")
    assert not page.locator(".strip .layer-names:not(.seed)").first.is_visible()

    page.get_by_test_id("lang-select").select_option("zh")
    page.wait_for_url(re.compile(r"lang=zh"))
    wait_ready(page)
    assert page.get_attribute("html", "lang") == "zh-Hans"

    # a new page in the same browser: the server renders the stored choices
    page.goto(f"/s/{session}")
    wait_ready(page)
    assert page.get_attribute("html", "lang") == "zh-Hans"
    assert page.evaluate("() => document.body.classList.contains('theme-dark')")
    assert page.get_attribute("body", "data-seed-notation") == "1"
    assert page.get_by_test_id("seed-notation").is_checked()
    assert page.get_by_test_id("theme-select").input_value() == "dark"

    # a fresh browser that only kept localStorage (cookies cleared) gets them back too
    page.context.clear_cookies()
    page.context.add_cookies([{"name": f"bpl_owner_{session}", "value": token,
                               "url": page.url}])
    page.goto(f"/s/{session}")
    page.wait_for_function("() => document.documentElement.lang === 'zh-Hans'")
    wait_ready(page)
    assert page.evaluate("() => document.body.classList.contains('theme-dark')")


# ---------------------------------------------------------------- export, import, share, fork


def test_export_json_round_trips_through_import(page, tmp_path):
    session, token = open_new(page)
    api(page, f"/sessions/{session}/step", "POST", token, {"to": "input"})  # one whole sample
    jump(page, session, token, "backward.fc1")
    with page.expect_download() as download:
        page.get_by_test_id("export-json").click()
    path = tmp_path / download.value.suggested_filename
    download.value.save_as(path)
    assert path.name == f"backprop-lens-{session}.json"
    exported = json.loads(path.read_text())
    assert exported == api(page, f"/sessions/{session}/export")
    assert exported["counters"]["samples_seen"] == 1

    with page.expect_download() as download:
        page.get_by_test_id("export-npz").click()
    npz = np.load(io.BytesIO(Path(download.value.path()).read_bytes()))
    for name, tensor in api(page, f"/sessions/{session}/params")["params"].items():
        assert npz[name].ravel().tolist() == tensor["data"]

    page.get_by_test_id("import-json").set_input_files(str(path))
    page.wait_for_url(lambda url: session not in url and "owner=" not in url)
    wait_ready(page, "backward.fc1")
    copy = page.get_attribute("body", "data-session")
    assert copy != session and page.get_attribute("body", "data-token")
    assert api(page, f"/sessions/{copy}/export") == exported
    assert api(page, f"/sessions/{copy}/state") == api(page, f"/sessions/{session}/state")
    # the copy is this browser's: it steps
    page.keyboard.press("ArrowRight")
    wait_ready(page, "backward.act")


def test_a_file_that_is_not_an_export_is_refused_in_words(page):
    open_new(page)
    page.get_by_test_id("import-json").set_input_files(
        files=[{"name": "notes.json", "mimeType": "application/json", "buffer": b"not json"}])
    page.wait_for_function("() => document.querySelector('[data-testid=\"status\"]').dataset.kind === 'error'")
    assert "notes.json" in page.get_by_test_id("status").text_content()


def test_the_share_link_rebuilds_the_session_in_another_browser(make_page):
    page, _ = make_page()
    created = page.request.post("/api/v1/sessions", data={
        "preset": "seed", "seed": 5, "config": {"kernels": 2, "pool": "avg", "bias": True}}).json()
    session, token = created["id"], created["owner_token"]
    api(page, f"/sessions/{session}/input", "POST", token, {"dataset": "mnist14", "index": 42})
    api(page, f"/sessions/{session}/step", "POST", token, {"to": "backward.pool"})
    page.goto(f"/s/{session}?owner={token}")
    wait_ready(page, "backward.pool")
    link = page.get_by_test_id("share-link").input_value()
    parts = urlsplit(link)
    assert parts.path == "/new" and "seed=5" in parts.query and "sample=42" in parts.query
    assert "phase=backward.pool" in parts.query and "kernels=2" in parts.query

    other, _ = make_page()
    other.goto(link)
    wait_ready(other, "backward.pool")
    copy = other.get_attribute("body", "data-session")
    assert copy != session and other.get_attribute("body", "data-token")
    assert api(other, f"/sessions/{copy}/state") == api(other, f"/sessions/{session}/state")
    assert api(other, f"/sessions/{copy}")["config"] == api(other, f"/sessions/{session}")["config"]


def test_a_follower_forks_an_own_copy_to_experiment_with(make_page):
    presenter, _ = make_page()
    session, token = open_new(presenter)
    jump(presenter, session, token, "forward.conv")
    follower, _ = make_page()
    follower.goto(f"/s/{session}/follow")
    wait_ready(follower, "forward.conv")
    follower.get_by_test_id("fork").click()
    follower.wait_for_url(lambda url: session not in url and "owner=" not in url)
    wait_ready(follower, "forward.conv")
    copy = follower.get_attribute("body", "data-session")
    assert follower.get_attribute("body", "data-mode") == "normal"
    assert follower.get_attribute("body", "data-token")
    follower.keyboard.press("ArrowRight")
    wait_ready(follower, "forward.pool")
    assert api(follower, f"/sessions/{copy}")["cursor"]["phase"] == "forward.pool"
    assert api(follower, f"/sessions/{session}")["cursor"]["phase"] == "forward.conv"


def test_each_figure_downloads_as_png_and_svg(page, shots):
    open_new(page)
    card = page.get_by_test_id("view-kernel")
    card.scroll_into_view_if_needed()
    card.locator(".js-plotly-plot").hover()
    for fmt, title in (("png", TEXTS["en"]["ui.plotly.png"]), ("svg", TEXTS["en"]["ui.plotly.svg"])):
        with page.expect_download() as download:
            card.locator(f'.modebar-btn[data-title="{title}"]').click()
        path = shots / f"export-kernel.{fmt}"
        download.value.save_as(path)
        assert download.value.suggested_filename == f"backprop-lens-kernel-input.{fmt}"
        head = path.read_bytes()[:200]
        assert head.startswith(b"\x89PNG") if fmt == "png" else b"<svg" in head
