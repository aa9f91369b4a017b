"""Server benchmark: 16 concurrent clients, each stepping its own session.

Starts `backprop-lens serve` in a subprocess on a free loopback port, then for
each request kind measures round-trip latency from 16 threads at once and
reports medians and their ratio to the `/healthz` round trip.
"""

import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time

import httpx


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait(url: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if httpx.get(url, timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            time.sleep(0.1)
    raise RuntimeError(f"server did not answer at {url}")


def run(clients: int = 16, rounds: int = 40, store: str | None = None) -> dict:
    port = _free_port()
    tmp = tempfile.mkdtemp(prefix="bpl-bench-")
    store = store or f"sqlite:///{tmp}/bench.db"
    proc = subprocess.Popen([sys.executable, "-m", "app", "serve", "--port", str(port),
                             "--store", store], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, env={**os.environ})
    base = f"http://127.0.0.1:{port}"
    try:
        _wait(base + "/healthz")
        timings: dict[str, list[float]] = {"healthz": [], "step": [], "state": [], "figure": []}
        lock = threading.Lock()
        barrier = threading.Barrier(clients)

        def client():
            with httpx.Client(base_url=base, timeout=30) as http:
                created = http.post("/api/v1/sessions", json={}).json()
                sid, headers = created["id"], {"Authorization": f"Bearer {created['owner_token']}"}
                calls = {
                    "healthz": lambda: http.get("/healthz"),
                    "step": lambda: http.post(f"/api/v1/sessions/{sid}/step", json={"count": 1},
                                              headers=headers),
                    "state": lambda: http.get(f"/api/v1/sessions/{sid}/state"),
                    "figure": lambda: http.get(f"/api/v1/sessions/{sid}/figures/conv"),
                }
                barrier.wait()
                local: dict[str, list[float]] = {k: [] for k in calls}
                for _ in range(rounds):
                    for kind, call in calls.items():
                        t0 = time.perf_counter()
                        response = call()
                        local[kind].append(time.perf_counter() - t0)
                        response.raise_for_status()
                with lock:
                    for kind, values in local.items():
                        timings[kind].extend(values)

        threads = [threading.Thread(target=client) for _ in range(clients)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        medians = {k: statistics.median(v) * 1000 for k, v in timings.items()}
        base_ms = medians["healthz"]
        return {
            "clients": clients, "store": store.split(":")[0],
            **{f"{k}_ms": round(v, 2) for k, v in medians.items()},
            "step_ratio": round(medians["step"] / base_ms, 2),
            "state_ratio": round(medians["state"] / base_ms, 2),
            "figure_ratio": round(medians["figure"] / base_ms, 2),
        }
    finally:
        proc.terminate()
        proc.wait(timeout=10)
