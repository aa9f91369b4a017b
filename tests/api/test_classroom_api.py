"""Classroom (UI.md "Classroom") on the server side: one source of the page's words in
both languages, preferences, the follow page and its short link, share links, export and
import, the QR code. The browser side is tests/e2e/test_classroom.py."""

from __future__ import annotations

import html
import io
import json
import re
import string
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urlencode

import numpy as np
import pytest
import segno

from app.i18n import SEED_FMT, TEXTS
from app.pages import COOKIE, PRESENTER_AUTO, PRESENTER_PAIRS, VIEWS
from tests.api.helpers import API, PHASES, assert_error, new_session, strict_json, url

ROOT = Path(__file__).resolve().parents[2]
TEMPLATES = ROOT / "templates"
KEY_LIKE = re.compile(r"^(ui|view|phase|label|msg|theme|lang|error)\.[a-z0-9_.-]+$")


def placeholders(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def filled(text: str) -> str:
    """A text as the seed page shows it: sizes filled, other placeholders left."""
    return re.sub(r"\{(\w+)\}", lambda m: str(SEED_FMT.get(m.group(1), m.group(0))), text)


class PageTexts(HTMLParser):
    """Every text node and every attribute a person reads (or hears) on a rendered page."""

    READ = {"title", "aria-label", "alt", "placeholder", "data-title", "data-desc"}

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.texts: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag, attrs):
        if tag in ("script", "style"):
            self._skip += 1
        for name, value in attrs:
            if value and (name in self.READ or name.startswith(("data-msg-", "data-label-"))):
                self.texts.append(value.strip())

    def handle_endtag(self, tag):
        if tag in ("script", "style"):
            self._skip -= 1

    def handle_data(self, data):
        if not self._skip and data.strip():
            self.texts.append(data.strip())


def page_texts(body: str) -> list[str]:
    parser = PageTexts()
    parser.feed(body)
    return parser.texts


def rendered(client, path: str, **cookies) -> str:
    client.cookies.clear()
    for name, value in cookies.items():
        client.cookies.set(name, value)
    response = client.get(path)
    assert response.status_code == 200, response.text
    return response.text


def body_attr(page: str, name: str) -> str:
    match = re.search(rf"""<body[^>]*\s{name}=(?:"([^"]*)"|'([^']*)')""", page)
    assert match, name
    return html.unescape(match.group(1) if match.group(1) is not None else match.group(2))


# ------------------------------------------------------------------ the words


def test_every_text_exists_in_english_and_chinese_with_the_same_placeholders():
    en, zh = TEXTS["en"], TEXTS["zh"]
    assert set(en) == set(zh), set(en) ^ set(zh)
    for key in en:
        assert en[key].strip() and zh[key].strip(), key
        assert placeholders(en[key]) == placeholders(zh[key]), key


def test_the_page_has_one_source_of_words():
    assert not (TEMPLATES / "partials" / "strings.md").exists()
    ui = (TEMPLATES / "partials" / "ui.html").read_text()
    assert "UI_STRINGS" not in ui
    for path in TEMPLATES.rglob("*.html"):
        assert "UI_STRINGS" not in path.read_text(), path


def test_every_key_a_template_names_exists():
    literal = re.compile(r"""ui\.(?:t|raw)\(\s*["']([^"'~]+)["']\s*[,)]""")
    keys = {key for path in TEMPLATES.rglob("*.html") for key in literal.findall(path.read_text())}
    assert len(keys) > 100
    assert sorted(keys - set(TEXTS["en"])) == []
    # the keys built from a name: every view, phase, theme and language
    for view in VIEWS:
        assert f"ui.viewname.{view}" in TEXTS["en"], view
    for phase in PHASES:
        assert f"phase.{phase}" in TEXTS["en"], phase


def test_every_api_error_code_has_words_in_both_languages():
    sources = [*(ROOT / "app").rglob("*.py"), *(ROOT / "engine").rglob("*.py")]
    codes = set()
    for path in sources:
        text = path.read_text()
        codes |= set(re.findall(r'\bcode = "([a-z_]+)"', text))
        codes |= set(re.findall(r'ApiError\(\s*\d+,\s*"([a-z_]+)"', text))
        codes |= set(re.findall(r'_json\(\s*\d+,\s*"([a-z_]+)"', text))
        codes |= set(re.findall(r'super\(\).__init__\(\d+,\s*"([a-z_]+)"', text))
    assert {"unauthorized", "invalid_config", "session_not_found", "invalid_import"} <= codes
    missing = sorted(code for code in codes if f"error.{code}" not in TEXTS["en"]
                     and code not in ("http_error", "method_not_allowed"))
    assert missing == []


@pytest.mark.parametrize("lang", ["en", "zh"])
@pytest.mark.parametrize("page", ["", "/follow"])
def test_a_page_shows_no_key_and_chinese_no_english(client, session, lang, page):
    session_id = session[0]
    texts = page_texts(rendered(client, f"/s/{session_id}{page}?lang={lang}"))
    assert len(texts) > 80
    assert [t for t in texts if KEY_LIKE.match(t)] == []
    if lang == "zh":
        english = {filled(en) for key, en in TEXTS["en"].items()
                   if en != TEXTS["zh"][key] and not key.startswith("ui.plotly.")}
        assert sorted(set(texts) & english) == []


def test_the_scripts_get_plotly_and_error_words_in_the_page_language(client, session):
    page = rendered(client, f"/s/{session[0]}?lang=zh")
    texts = json.loads(body_attr(page, "data-js-texts"))
    assert texts["plotly"]["Zoom in"] == TEXTS["zh"]["ui.plotly.zoom_in"]
    assert texts["png"] == TEXTS["zh"]["ui.plotly.png"]
    assert texts["errors"]["unauthorized"] == TEXTS["zh"]["error.unauthorized"]


# ------------------------------------------------------------------ preferences


def test_preferences_come_from_the_address_then_the_cookies(client, session):
    path = f"/s/{session[0]}"
    page = rendered(client, path)
    assert 'class="theme-light"' in page and '<html lang="en">' in page
    assert body_attr(page, "data-seed-notation") == "0"
    page = rendered(client, path, bpl_theme="contrast", bpl_lang="zh", bpl_seed_notation="1")
    assert 'class="theme-contrast"' in page and '<html lang="zh-Hans">' in page
    assert body_attr(page, "data-seed-notation") == "1"
    page = rendered(client, path + "?theme=dark&lang=en&seed_notation=0", bpl_theme="contrast",
                    bpl_lang="zh", bpl_seed_notation="1")
    assert 'class="theme-dark"' in page and '<html lang="en">' in page
    assert body_attr(page, "data-seed-notation") == "0"
    page = rendered(client, path + "?theme=neon&lang=fr", bpl_theme="sepia")
    assert 'class="theme-light"' in page and '<html lang="en">' in page


# ------------------------------------------------------------------ follow


def test_the_follow_page_is_read_only_even_for_the_owner(client):
    session_id, token, _ = new_session(client)
    page = rendered(client, f"/s/{session_id}/follow", **{COOKIE + session_id: token})
    assert body_attr(page, "data-mode") == "follow"
    assert body_attr(page, "data-token") == ""
    for hook in ("step", "back", "next-sample", "play", "reset", "presenter-toggle"):
        assert f'data-testid="{hook}"' not in page, hook
    for hook in ("fork", "follow-link", "follow-qr", "export-json", "seed-notation"):
        assert f'data-testid="{hook}"' in page, hook
    owner = rendered(client, f"/s/{session_id}", **{COOKIE + session_id: token})
    assert body_attr(owner, "data-token") == token
    assert 'data-testid="fork"' not in owner and 'data-testid="presenter-toggle"' in owner


def test_the_short_follow_link_leads_to_the_follow_page(client, session):
    response = client.get(f"/f/{session[0]}", follow_redirects=False)
    assert response.status_code == 307
    assert response.headers["location"] == f"/s/{session[0]}/follow"
    assert client.get("/f/no-such-session").status_code == 404


def test_the_qr_code_holds_the_follow_link_for_the_given_address(client, session):
    session_id = session[0]
    response = client.get(url(session_id, "/qr.svg"), params={"base": "http://192.168.1.20:8000/"})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("image/svg+xml")
    expected = io.BytesIO()
    segno.make(f"http://192.168.1.20:8000/s/{session_id}/follow", error="m").save(
        expected, kind="svg", scale=6, border=2, dark="#000", light="#fff")
    assert response.content == expected.getvalue()
    assert_error(client.get(url(session_id, "/qr.svg"), params={"base": "javascript:x"}), 422,
                 "base")


def test_presenter_views_cover_every_phase_with_known_views():
    assert set(PRESENTER_AUTO) == set(PHASES)
    for views in [*PRESENTER_AUTO.values(), *PRESENTER_PAIRS]:
        assert 1 <= len(views) <= 2 and set(views) <= set(VIEWS), views


# ------------------------------------------------------------------ share and export


def state(client, session_id):
    response = client.get(url(session_id, "/state"))
    assert response.status_code == 200, response.text
    return response.json()


def test_a_share_link_rebuilds_config_seed_sample_and_phase(client):
    session_id, _, headers = new_session(client, seed=7, kernels=2, pool="avg",
                                         activation="tanh", bias=True)
    assert client.post(url(session_id, "/input"), json={"dataset": "mnist14", "index": 42},
                       headers=headers).status_code == 200
    assert client.post(url(session_id, "/step"), json={"to": "backward.pool"},
                       headers=headers).status_code == 200
    original = client.get(url(session_id)).json()
    # what static/js/share.js builds
    query = {**{k: str(v).lower() if isinstance(v, bool) else str(v)
                for k, v in original["config"].items()},
             "seed": "7", "sample": "42", "phase": "backward.pool"}
    client.cookies.clear()
    response = client.get(f"/new?{urlencode(query)}", follow_redirects=False)
    assert response.status_code == 303
    new_id = response.headers["location"].rsplit("/", 1)[-1]
    assert response.cookies.get(COOKIE + new_id)
    copy = client.get(url(new_id)).json()
    assert copy["config"] == original["config"]
    assert copy["cursor"]["phase"] == "backward.pool"
    assert copy["cursor"]["sample"]["index"] == 42
    assert state(client, new_id)["tensors"] == state(client, session_id)["tensors"]


def test_a_bad_share_link_is_a_clear_4xx(client):
    assert_error(client.get("/new?kernels=many"), 422)
    assert_error(client.get("/new?sample=first"), 422, "sample")


def test_export_then_import_gives_the_identical_session(client):
    session_id, _, headers = new_session(client, seed=3)
    for move in ({"to": "input"}, {"to": "backward.fc1"}):  # one whole sample, then half
        assert client.post(url(session_id, "/step"), json=move, headers=headers).status_code == 200
    exported = strict_json(client.get(url(session_id, "/export")).text)
    assert exported["counters"]["samples_seen"] == 1
    response = client.post(f"{API}/sessions/import", json=exported)
    assert response.status_code == 201, response.text
    copy_id, copy_token = response.json()["id"], response.json()["owner_token"]
    assert copy_id != session_id
    assert strict_json(client.get(url(copy_id, "/export")).text) == exported
    assert state(client, copy_id) == state(client, session_id)
    # and both go on the same way: the same next sample, the same update
    copy_headers = {"Authorization": f"Bearer {copy_token}"}
    for sid, h in ((session_id, headers), (copy_id, copy_headers)):
        assert client.post(url(sid, "/step"), json={"count": 14}, headers=h).status_code == 200
    assert state(client, copy_id) == state(client, session_id)


def test_import_refuses_what_is_not_a_whole_export(client, session):
    exported = client.get(url(session[0], "/export")).json()
    assert_error(client.post(f"{API}/sessions/import", json={**exported, "format": "other"}),
                 422, "format")
    params = dict(exported["params"])
    params.pop("fc2.w")
    assert_error(client.post(f"{API}/sessions/import", json={**exported, "params": params}),
                 422, "params")


def test_params_npz_holds_the_parameters(client, session):
    session_id = session[0]
    response = client.get(url(session_id, "/params.npz"))
    assert response.status_code == 200
    assert "attachment" in response.headers["content-disposition"]
    loaded = np.load(io.BytesIO(response.content))
    expected = client.get(url(session_id, "/params")).json()["params"]
    assert set(loaded.files) == set(expected)
    for name, tensor in expected.items():
        np.testing.assert_array_equal(loaded[name].ravel(), tensor["data"])
        assert list(loaded[name].shape) == tensor["shape"]


def test_a_page_for_a_missing_session_is_a_readable_404(client):
    for path in ("/s/no-such-session", "/s/no-such-session/follow"):
        response = client.get(path)
        assert response.status_code == 404
        assert response.headers["content-type"].startswith("text/html")
        assert "does not exist" in response.text and 'href="/"' in response.text
