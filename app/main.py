"""The FastAPI application: `create_app(settings=None)`."""

import logging
import threading
from contextlib import asynccontextmanager

import plotly
from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from app.api import errors
from app.api.routes import datasets, events, sessions, share, training
from app.jobs import Jobs
from app.middleware import AccessLog, BodyLimit, SecurityHeaders
from app.sessions import Sessions
from app.settings import Settings, get_settings
from app.store import open_store
from engine.data import dataset_for_size

log = logging.getLogger("backprop_lens")

DESCRIPTION = """Backpropagation through a small CNN, one phase at a time.

Create a session (`POST /api/v1/sessions`), keep its `owner_token`, and step it
(`POST /api/v1/sessions/{id}/step` with `Authorization: Bearer <owner_token>`).
Tensor names are MATH.md's standard names (`conv.z`, `pool.out`, …); the seed
articles' names (`temphicnn`, `hicnn`, …) are accepted too, and `?alias=seed`
returns them."""


def _expiry_loop(store, stop: threading.Event, every: float = 60.0) -> None:
    while not stop.wait(every):
        try:
            store.expire()
        except Exception:
            log.warning("session expiry failed", exc_info=True)


def _offline_docs(app: FastAPI) -> None:
    """Swagger UI at /docs from the installed swagger-ui-bundle package (no CDN)."""
    import swagger_ui_bundle
    from fastapi.openapi.docs import get_swagger_ui_html

    app.mount("/static/swagger", StaticFiles(directory=swagger_ui_bundle.swagger_ui_path),
              name="swagger")

    @app.get("/docs", include_in_schema=False)
    def docs():
        return get_swagger_ui_html(
            openapi_url="/openapi.json", title="backprop-lens API",
            swagger_js_url="/static/swagger/swagger-ui-bundle.js",
            swagger_css_url="/static/swagger/swagger-ui.css",
            swagger_favicon_url="/static/swagger/favicon-32x32.png")


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        store = open_store(settings.store, idle_seconds=settings.idle_seconds,
                           max_sessions=settings.max_sessions)
        app.state.store = store
        app.state.sessions = Sessions(store, settings.lock_timeout)
        app.state.jobs = Jobs(app.state.sessions, settings.train_workers)
        dataset_for_size(14)  # load the bundled digits once, before the first request
        stop = threading.Event()
        threading.Thread(target=_expiry_loop, args=(store, stop), daemon=True).start()
        log.info("serving with store %s", settings.store)
        try:
            yield
        finally:
            stop.set()
            app.state.jobs.shutdown()
            store.close()

    app = FastAPI(title="backprop-lens", version="1.0.0", description=DESCRIPTION,
                  lifespan=lifespan, docs_url=None, redoc_url=None)
    app.state.settings = settings
    errors.install(app)
    for module in (share, sessions, training, events, datasets):
        app.include_router(module.router, prefix="/api/v1")

    @app.get("/healthz", tags=["health"])
    def healthz():
        """Liveness."""
        return {"status": "ok"}

    _offline_docs(app)
    from app import pages

    app.include_router(pages.router)
    app.mount("/static", StaticFiles(directory=settings.static_dir, check_dir=False),
              name="static")
    app.state.plotly_version = plotly.__version__
    app.add_middleware(AccessLog)
    app.add_middleware(BodyLimit, max_bytes=settings.max_body_bytes)
    app.add_middleware(SecurityHeaders)  # outermost, so a 413 carries the headers too
    return app
