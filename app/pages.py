"""The HTML pages (Jinja2): `/` creates a session, `/s/{id}` steps it, `/s/{id}/follow`
(short: `/f/{id}`) follows it read-only, `/new?…` rebuilds one from a share link;
plotly.min.js is served from the installed plotly package."""

import hmac
from functools import lru_cache
from importlib import resources

from fastapi import APIRouter, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.templating import Jinja2Templates

from app.i18n import LANGS, TEXTS
from app.sessions import hash_token
from app.store import SessionNotFound
from engine.config import make_config
from engine.data import dataset_for_size
from engine.errors import EngineError
from engine.stepper import Stepper, phases_for

router = APIRouter(include_in_schema=False)

COOKIE = "bpl_owner_"
VIEWS = ("input", "kernel", "conv", "pool", "activations", "hidden", "output",
         "gradients.conv", "gradients.fc1", "gradients.fc2", "deltas", "conv-delta",
         "input-grad", "training", "confusion", "kernels-history")


@lru_cache
def _templates(directory: str) -> Jinja2Templates:
    return Jinja2Templates(directory=directory)


@lru_cache
def _plotly_js() -> bytes:
    return resources.files("plotly").joinpath("package_data/plotly.min.js").read_bytes()


@router.get("/static/vendor/plotly.min.js")
def plotly_js():
    """Plotly.js from the installed `plotly` package (never a CDN: classrooms are offline)."""
    return Response(_plotly_js(), media_type="text/javascript",
                    headers={"Cache-Control": "public, max-age=31536000, immutable"})


def _owner_cookie(response: Response, session_id: str, token: str) -> None:
    response.set_cookie(COOKIE + session_id, token, max_age=30 * 24 * 3600, httponly=False,
                        samesite="strict", path="/")


@router.get("/")
def index(request: Request):
    """Create a seed session owned by this browser and go to it."""
    session_id, token, _ = request.app.state.sessions.create(make_config("seed"), 0)
    response = RedirectResponse(f"/s/{session_id}", status_code=303)
    _owner_cookie(response, session_id, token)
    return response


CONFIG_KEYS = ("input_size", "kernels", "kernel_size", "pool", "activation", "hidden", "output",
               "bias", "learning_rate", "order")


def _query_config(params) -> dict:
    """Config keys from a share link's query string (`?kernels=2&pool=avg&bias=true`)."""
    out = {}
    for key in CONFIG_KEYS:
        if key in params:
            value = params[key]
            if key in ("pool", "activation", "output", "order"):
                out[key] = value
            elif key == "bias":
                out[key] = value.lower() in ("1", "true", "yes", "on")
            elif key == "learning_rate":
                out[key] = float(value)
            else:
                out[key] = int(value)
    return out


@router.get("/new")
def new_from_link(request: Request):
    """A share link: `/new?kernels=1&...&seed=0&sample=42&phase=backward.conv` reproduces a
    session (config, seed, sample, phase) on any server, owned by this browser."""
    params = request.query_params
    try:
        config = make_config("seed", _query_config(params))
        seed = int(params.get("seed", 0))
        if not 0 <= seed < 2**32:
            raise ValueError("seed")
    except ValueError as exc:
        field = getattr(exc, "field", None) or "seed"
        raise EngineError(f"the link has a bad value: {exc}", field) from exc
    stepper = Stepper.create(config, seed)
    if "sample" in params:
        stepper.load_sample(dataset_for_size(config.input_size).name, _int(params["sample"]))
    if params.get("phase", "input") != "input":
        stepper.step_to(params["phase"])
    session_id, token, _ = request.app.state.sessions.add(stepper)
    response = RedirectResponse(f"/s/{session_id}", status_code=303)
    _owner_cookie(response, session_id, token)
    return response


def _int(value: str) -> int:
    try:
        return int(value)
    except ValueError as exc:
        raise EngineError(f"'{value}' is not a whole number", "sample") from exc


def _pick(value: str | None, allowed: tuple, default: str) -> str:
    return value if value in allowed else default


# Preferences (static/js/prefs.js): `?theme=&lang=&seed_notation=` first, then the cookies
# the page sets when a choice is made, then the defaults.
PREFS = {"theme": ("bpl_theme", ("light", "dark", "contrast"), "light"),
         "lang": ("bpl_lang", LANGS, "en"),
         "seed_notation": ("bpl_seed_notation", ("0", "1"), "0")}


def _prefs(request: Request) -> dict[str, str]:
    out = {}
    for name, (cookie, allowed, default) in PREFS.items():
        query = request.query_params.get(name)
        if name == "seed_notation" and query is not None:
            query = "1" if query.lower() in ("1", "true", "yes", "on") else "0"
        out[name] = _pick(query if query in allowed else request.cookies.get(cookie),
                          allowed, default)
    return out


# Presenter mode (static/js/presenter.js): the views shown by default at each phase, and the
# pairs offered besides single views. Each pair puts a phase's input beside its output.
PRESENTER_AUTO = {
    "input": ("input", "kernel"),
    "forward.conv": ("input", "conv"),
    "forward.pool": ("conv", "pool"),
    "forward.act": ("pool", "activations"),
    "forward.fc1": ("activations", "hidden"),
    "forward.fc2": ("hidden", "output"),
    "loss": ("output",),
    "backward.fc2": ("output", "gradients.fc2"),
    "backward.fc1": ("deltas", "gradients.fc1"),
    "backward.act": ("deltas", "activations"),
    "backward.pool": ("conv", "conv-delta"),
    "backward.conv": ("gradients.conv", "input-grad"),
    "update": ("kernel", "gradients.conv"),
}
PRESENTER_PAIRS = tuple(dict.fromkeys(v for v in PRESENTER_AUTO.values() if len(v) == 2))


def _js_texts(texts: dict[str, str]) -> dict:
    """Texts the scripts need beyond the data-* attributes of their panels: Plotly's toolbar
    in this language (English text -> this language's) and the API's errors by code."""
    english = TEXTS["en"]
    return {
        "plotly": {english[k]: v for k, v in texts.items() if k.startswith("ui.plotly.")},
        "errors": {k[len("error."):]: v for k, v in texts.items() if k.startswith("error.")},
        "png": texts["ui.plotly.png"], "svg": texts["ui.plotly.svg"],
    }


def _page(request: Request, session_id: str, template: str, mode: str):
    sessions = request.app.state.sessions
    settings = request.app.state.settings
    owner = request.query_params.get("owner")
    if owner and mode == "normal":  # a new session made by the page: keep its token, clean URL
        target = str(request.url.remove_query_params("owner"))
        response = RedirectResponse(target, status_code=303)
        _owner_cookie(response, session_id, owner)
        return response
    record, stepper = sessions.read(session_id)
    token = request.cookies.get(COOKIE + session_id)
    if mode != "normal" or not token or not hmac.compare_digest(hash_token(token),
                                                                  record.owner_hash):
        token = None
    prefs = _prefs(request)
    lang, theme = prefs["lang"], prefs["theme"]
    context = {
        "session_id": session_id, "owner_token": token, "config": stepper.config.to_dict(),
        "seed": stepper.seed, "cursor": stepper.cursor, "phases": phases_for(stepper.config),
        "views": VIEWS, "lang": lang, "theme": theme, "mode": mode, "texts": TEXTS[lang],
        "all_texts": TEXTS, "seed_notation": prefs["seed_notation"] == "1",
        "js_texts": _js_texts(TEXTS[lang]),
        "presenter_auto": PRESENTER_AUTO, "presenter_pairs": PRESENTER_PAIRS,
        "plotly_url": f"/static/vendor/plotly.min.js?v={request.app.state.plotly_version}",
    }
    return _templates(str(settings.templates_dir)).TemplateResponse(
        request, template, context)


@router.get("/s/{session_id}")
def session_page(request: Request, session_id: str):
    return _page_or_missing(request, session_id, "session.html", "normal")


@router.get("/s/{session_id}/follow")
def follow_page(request: Request, session_id: str):
    return _page_or_missing(request, session_id, "follow.html", "follow")


MISSING = """<!doctype html><html lang="en"><head><meta charset="utf-8">
<title>Session not found · backprop-lens</title><link rel="stylesheet" href="/static/css/app.css">
</head><body class="theme-light"><main class="content"><h1>This session does not exist</h1>
<p>It may have expired or been deleted. 这个会话不存在(可能已过期或被删除)。</p>
<p><a href="/">Start a new session · 新建会话</a></p></main></body></html>"""


def _page_or_missing(request: Request, session_id: str, template: str, mode: str):
    """A person following an old link gets a page that says so, not JSON."""
    try:
        return _page(request, session_id, template, mode)
    except SessionNotFound:
        return HTMLResponse(MISSING, status_code=404)


@router.get("/f/{session_id}")
def follow_short_link(request: Request, session_id: str):
    """The short follow link a presenter reads out: `/f/{id}` -> `/s/{id}/follow`."""
    request.app.state.sessions.record(session_id)  # 404 for an unknown id
    return RedirectResponse(f"/s/{session_id}/follow", status_code=307)
