"""A throwaway `redis-server` for tests.

    with redis_server() as url:   # "redis://127.0.0.1:<port>/0"
        ...

Starts the real server on a free loopback port in a temporary folder, with
persistence off, waits until it answers PING, and stops it afterwards. If
`redis-server` is not installed the calling test is skipped, except in CI
(`CI=true`), where it fails: there the Redis tests must run.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

_MISSING = (
    "redis-server is not on PATH; install it (e.g. `apt-get install redis-server`) "
    "to run the Redis tests"
)


def _in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() in ("true", "1", "yes")


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _answers_ping(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5) as sock:
            sock.sendall(b"PING\r\n")
            return sock.recv(64).startswith(b"+PONG")
    except OSError:
        return False


def _stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def _start(executable: str, workdir: Path, timeout: float) -> tuple[subprocess.Popen[bytes], int]:
    """Start redis-server on a free port; retry if another process takes the port first."""
    log = workdir / "redis.log"
    for _ in range(3):
        port = _free_port()
        with log.open("wb") as out:
            proc = subprocess.Popen(
                [
                    executable,
                    "--port",
                    str(port),
                    "--bind",
                    "127.0.0.1",
                    "--dir",
                    str(workdir),
                    "--save",
                    "",
                    "--appendonly",
                    "no",
                    "--daemonize",
                    "no",
                ],
                stdout=out,
                stderr=subprocess.STDOUT,
                cwd=workdir,
            )
        deadline = time.monotonic() + timeout
        while proc.poll() is None and time.monotonic() < deadline:
            if _answers_ping(port):
                return proc, port
            time.sleep(0.02)
        _stop(proc)
    tail = log.read_text(errors="replace")[-2000:]
    raise RuntimeError(f"redis-server did not start; its log ends with:\n{tail}")


@contextmanager
def redis_server(startup_timeout: float = 10.0) -> Iterator[str]:
    """Run a private redis-server for the duration of the block; yields its URL."""
    executable = shutil.which("redis-server")
    if executable is None:
        if _in_ci():
            pytest.fail(_MISSING, pytrace=False)
        pytest.skip(_MISSING)
    with tempfile.TemporaryDirectory(prefix="bpl-redis-") as workdir:
        proc, port = _start(executable, Path(workdir), startup_timeout)
        try:
            yield f"redis://127.0.0.1:{port}/0"
        finally:
            _stop(proc)
