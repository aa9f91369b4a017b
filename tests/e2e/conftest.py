"""Browser tests of the real page (UI.md "Tested as a person would").

The app runs in a subprocess (`python -m app serve --store memory`) on a free port;
Playwright drives the system Chromium (an offline machine cannot download
Playwright's own browser). Every page records console errors, failed requests and
every URL it asked for; the test fails at teardown if there was an error or if a
request left 127.0.0.1.
"""

from __future__ import annotations

import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from urllib.parse import urlsplit

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / "screenshots"



def pytest_collection_modifyitems(config, items):
    """Every test in this folder is a browser test (`-m "not e2e"` skips them)."""
    here = Path(__file__).parent
    for item in items:
        if here in Path(str(item.fspath)).parents:
            item.add_marker(pytest.mark.e2e)



def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_healthy(url: str, proc: subprocess.Popen, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"the app exited with code {proc.returncode}")
        try:
            with urllib.request.urlopen(url + "/healthz", timeout=1) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"the app did not answer {url}/healthz within {timeout} s")


@pytest.fixture(scope="session")
def server(tmp_path_factory) -> str:
    """Base URL of the real app, served by uvicorn in a subprocess."""
    port = _free_port()
    log = (tmp_path_factory.mktemp("server") / "server.log").open("w")
    proc = subprocess.Popen(
        [sys.executable, "-m", "app", "serve", "--host", "127.0.0.1", "--port", str(port),
         "--store", "memory"],
        cwd=ROOT,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_healthy(url, proc)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


class PageLog:
    """What a page did that a test may assert on."""

    def __init__(self) -> None:
        self.console_errors: list[str] = []
        self.failed: list[str] = []
        self.requests: list[str] = []
        self.outside: list[str] = []
        self.expected: list[str] = []

    def expect(self, fragment: str) -> None:
        """A test that provokes an API error on purpose names the URL fragment it expects."""
        self.expected.append(fragment)

    def unexpected(self, lines: list[str]) -> list[str]:
        return [line for line in lines if not any(f in line for f in self.expected)]


def _watch(page, log: PageLog) -> None:
    def on_console(msg):
        if msg.type == "error":
            log.console_errors.append(f"{msg.text} @ {msg.location}")

    def on_failed(request):
        failure = request.failure or ""
        # navigating away (a new session, another theme) cancels what is still loading
        if "ERR_ABORTED" in failure:
            return
        log.failed.append(f"{request.method} {request.url}: {failure}")

    def on_response(response):
        if response.status >= 400:
            log.failed.append(f"{response.request.method} {response.url}: HTTP {response.status}")

    def route(route):
        url = route.request.url
        log.requests.append(url)
        parts = urlsplit(url)
        if parts.scheme in ("http", "https", "ws", "wss") and parts.hostname != "127.0.0.1":
            log.outside.append(url)
            route.abort()
        else:
            route.continue_()

    page.on("console", on_console)
    page.on("pageerror", lambda exc: log.console_errors.append(f"uncaught: {exc}"))
    page.on("requestfailed", on_failed)
    page.on("response", on_response)
    page.route("**/*", route)


@pytest.fixture
def make_page(browser, server):
    """make_page(width, height) -> (page, log); each page is checked at teardown."""
    opened = []

    def make(width: int = 1280, height: int = 720):
        context = browser.new_context(viewport={"width": width, "height": height}, base_url=server)
        page = context.new_page()
        page.set_default_timeout(15_000)
        log = PageLog()
        _watch(page, log)
        opened.append((context, log))
        return page, log

    yield make
    problems = []
    for context, log in opened:
        context.close()
        problems += [f"console error: {e}" for e in log.unexpected(log.console_errors)]
        problems += [f"failed request: {f}" for f in log.unexpected(log.failed)]
        problems += [f"request off 127.0.0.1: {u}" for u in log.outside]
    assert not problems, "\n".join(problems)


@pytest.fixture
def page(make_page):
    """A 1280×720 page (a classroom projector)."""
    return make_page()[0]


@pytest.fixture(scope="session")
def screenshots() -> Path:
    SCREENSHOTS.mkdir(exist_ok=True)
    return SCREENSHOTS
