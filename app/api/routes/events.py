"""Server-Sent Events: `cursor` on every change, `train.progress`, `train.done`, `train.error`."""

import json

import anyio
from fastapi import APIRouter, Request
from fastapi.responses import StreamingResponse

from app.api.deps import SessionsDep, SettingsDep

router = APIRouter(prefix="/sessions", tags=["events"])

# Each open stream waits for its next event in a worker thread. Those waits get their own
# limit, so a classroom of followers never takes the threads that run steps and reads.
STREAM_THREADS = anyio.CapacityLimiter(400)


def _sse(event: str, data: dict) -> str:
    return f"event: {event}\ndata: {json.dumps(data)}\n\n"


@router.get("/{session_id}/events", response_class=StreamingResponse,
            responses={200: {"content": {"text/event-stream": {}}}})
async def events(session_id: str, request: Request, sessions: SessionsDep,
                 settings: SettingsDep):
    """An event stream for one session. The first event is the current `cursor`, so a
    client that reconnects catches up; a `ping` event every few seconds keeps it alive and
    lets the client notice a connection that hangs without closing."""
    await anyio.to_thread.run_sync(sessions.record, session_id)  # 404 for an unknown id
    subscription = sessions.store.subscribe(session_id)  # before reading: no change is missed
    try:
        _, stepper = await anyio.to_thread.run_sync(sessions.read, session_id)
    except BaseException:
        subscription.close()
        raise
    first = {"session": session_id, "cursor": stepper.cursor, "counters": stepper.counters}

    async def stream():
        try:
            yield "retry: 1000\n\n"
            yield _sse("cursor", first)
            idle = 0.0
            while not await request.is_disconnected():
                item = await anyio.to_thread.run_sync(subscription.get, 0.5,
                                                      limiter=STREAM_THREADS)
                if item is None:
                    idle += 0.5
                    if idle >= settings.sse_ping_seconds:
                        idle = 0.0
                        # a named event (not a comment) so a page can tell a hung connection
                        yield _sse("ping", {"session": session_id})
                    continue
                idle = 0.0
                event, data = item
                yield _sse(event, data)
                if event == "deleted":
                    break
        finally:
            subscription.close()

    return StreamingResponse(stream(), media_type="text/event-stream",
                             headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})
