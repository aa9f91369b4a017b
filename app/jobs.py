"""Background training jobs: one per session, on a thread pool.

The job trains a copy of the session's Stepper (mutating routes answer 409
while it runs), publishes `train.progress` events, and at the end writes the
trained state back under the session lock and publishes `train.done` (or
`train.error`). Job status lives in the session's meta, so every process sees it.
"""

import logging
import threading
import time
from concurrent.futures import ThreadPoolExecutor

from app.sessions import Sessions
from engine.errors import DivergedError, EngineError
from engine.stepper import Stepper
from engine.train import MAX_TRAIN_SAMPLES, Progress, evaluate_into, sample_count, train

log = logging.getLogger("backprop_lens")
HEARTBEAT_SECONDS = 1.0


class Jobs:
    def __init__(self, sessions: Sessions, workers: int = 2):
        self.sessions = sessions
        self.pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="train")
        self._stops: dict[str, threading.Event] = {}

    def start(self, session_id: str, token: str | None, *, samples=None, epochs=None,
              batch_size: int = 1, limit: int = MAX_TRAIN_SAMPLES) -> dict:
        total = sample_count(samples, epochs, limit)  # a bad request is a 4xx, not a failed job
        with self.sessions.modify(session_id, token, publish=False) as (record, stepper):
            if stepper.diverged:
                raise DivergedError("this session diverged (NaN/Inf); it refuses further "
                                    "updates. Fork it and set finite parameters, or start anew")
            copy = stepper.fork()
            job = {"state": "running", "done": 0, "total": total, "batch_size": batch_size,
                   "started": time.time(), "heartbeat": time.time(), "samples_per_s": 0.0,
                   "eta_s": None, "loss": None, "error": None}
            record.meta = {**record.meta, "job": job}
        stop = threading.Event()
        self._stops[session_id] = stop
        # published before the job starts, so it cannot overtake the job's own progress
        self.sessions.store.publish(session_id, "train.progress",
                                    {"session": session_id, **_public(job)})
        self.pool.submit(self._run, session_id, copy, stop, samples, epochs, batch_size)
        return job

    def stop(self, session_id: str, token: str | None) -> dict:
        record = self.sessions.record(session_id)
        self.sessions.authorize(record, token)
        job = record.meta.get("job") or {}
        if session_id in self._stops:
            self._stops[session_id].set()
        elif job.get("state") == "running":  # started by another process
            self.sessions.save_meta(session_id, stop_requested=True)
        return job

    def _should_stop(self, session_id: str, stop: threading.Event):
        last_check = [time.monotonic()]

        def check() -> bool:
            if stop.is_set():
                return True
            if time.monotonic() - last_check[0] > 0.5:
                last_check[0] = time.monotonic()
                return bool(self.sessions.record(session_id).meta.get("stop_requested"))
            return False

        return check

    def _run(self, session_id: str, stepper: Stepper, stop: threading.Event, samples, epochs,
             batch_size: int) -> None:
        last_beat = [0.0]

        def progress(p: Progress) -> None:
            rate = p.done / p.elapsed if p.elapsed else 0.0
            info = {"state": "running", "done": p.done, "total": p.total,
                    "loss": p.loss if p.loss == p.loss else None, "samples_per_s": rate,
                    "eta_s": (p.total - p.done) / rate if rate else None}
            self.sessions.store.publish(session_id, "train.progress",
                                        {"session": session_id, **info})
            if time.monotonic() - last_beat[0] > HEARTBEAT_SECONDS:
                last_beat[0] = time.monotonic()
                self._update_job(session_id, **info, heartbeat=time.time())

        try:
            result = train(stepper, samples=samples, epochs=epochs, batch_size=batch_size,
                           progress=progress, should_stop=self._should_stop(session_id, stop),
                           evaluate_at_end=False)
            if result["error"] is None:
                evaluate_into(stepper)
            state = "error" if result["error"] else ("stopped" if result["stopped"] else "done")
            self._finish(session_id, stepper, state, result)
        except EngineError as exc:
            self._finish(session_id, None, "error", {"error": exc.message})
        except Exception as exc:  # reported to the client, never lost
            log.exception("training job failed")
            self._finish(session_id, None, "error", {"error": f"training failed: {exc}"})
        finally:
            self._stops.pop(session_id, None)

    def _update_job(self, session_id: str, **changes) -> None:
        try:
            with self.sessions.store.lock(session_id, self.sessions.lock_timeout):
                record = self.sessions.store.get(session_id)
                record.meta = {**record.meta, "job": {**(record.meta.get("job") or {}),
                                                       **changes}}
                self.sessions.store.put(record)
        except Exception:  # the session may have been deleted meanwhile
            log.warning("could not record progress of session %s", session_id)

    def _finish(self, session_id: str, stepper: Stepper | None, state: str, result: dict):
        store = self.sessions.store
        try:
            with store.lock(session_id, self.sessions.lock_timeout):
                record = store.get(session_id)
                job = {**(record.meta.get("job") or {}), "state": state,
                       "done": result.get("done", 0), "error": result.get("error"),
                       "heartbeat": time.time(), "elapsed": result.get("elapsed"),
                       "samples_per_s": result.get("samples_per_s")}
                record.meta = {**record.meta, "job": job, "stop_requested": False}
                if stepper is not None:
                    self.sessions.save(record, stepper)
                else:
                    store.put(record)
        except Exception:
            log.warning("training job of session %s ended after the session was deleted",
                        session_id)
            return
        event = "train.error" if state == "error" else "train.done"
        store.publish(session_id, event, {"session": session_id, **_public(job)})
        if stepper is not None:
            self.sessions.publish_cursor(session_id, stepper)

    def shutdown(self) -> None:
        for stop in list(self._stops.values()):
            stop.set()
        self.pool.shutdown(wait=True, cancel_futures=True)


def _public(job: dict) -> dict:
    return {k: v for k, v in job.items() if k != "heartbeat"}
