"""A real server process for tests: `python -m app serve --port N --store URL`.

    with running_server("sqlite:////tmp/x/s.db", log_dir) as server:
        httpx.get(server.url + "/healthz")
        server.kill()                     # SIGKILL, as a crash would
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Server:
    """One `app serve` process; `url` is its base URL once `start` returns."""

    def __init__(self, store: str, log_dir: Path, name: str = "server"):
        self.store, self.log_path = store, Path(log_dir) / f"{name}.log"
        self.proc: subprocess.Popen | None = None
        self.port = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def launch(self) -> Server:
        """Start the process on a free port (without waiting for it)."""
        env = {**os.environ, "BACKPROP_LENS_SSE_PING_SECONDS": "0.5",
               "PYTHONUNBUFFERED": "1"}
        self.port = free_port()
        with self.log_path.open("ab") as log:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "app", "serve", "--port", str(self.port),
                 "--store", self.store],
                cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
        return self

    def start(self, timeout: float = 60.0) -> Server:
        """Launch (if not yet) and wait until /healthz answers; retried on a port clash."""
        for attempt in range(3):
            if self.proc is None or attempt:
                self.launch()
            if self._wait_healthy(timeout):
                return self
            self.stop()
        raise RuntimeError(f"the server did not start; its log ends with:\n{self.log()[-3000:]}")

    def _wait_healthy(self, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and self.proc.poll() is None:
            try:
                if httpx.get(self.url + "/healthz", timeout=1.0).status_code == 200:
                    return True
            except httpx.HTTPError:
                pass
            time.sleep(0.05)
        return False

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def kill(self) -> None:
        """SIGKILL: no shutdown code runs, as when the machine loses the process."""
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(timeout=10)

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.kill()


@contextmanager
def running_servers(store: str, log_dir: Path, count: int) -> Iterator[list[Server]]:
    """`count` server processes on one store, started side by side."""
    servers = [Server(store, log_dir, f"server-{i}").launch() for i in range(count)]
    try:
        for server in servers:
            server.start()
        yield servers
    finally:
        for server in servers:
            server.stop()


@contextmanager
def running_server(store: str, log_dir: Path) -> Iterator[Server]:
    with running_servers(store, log_dir, 1) as (server,):
        yield server
