"""The step-through page as a student uses it (UI.md "The step-through page").

Each test opens the real page in Chromium, acts with the keyboard, the mouse or
the buttons, and checks what the page shows against the API.
"""

from __future__ import annotations

import math

import pytest

from tests.e2e.pages import wait_ready

PHASES = [
    "input", "forward.conv", "forward.pool", "forward.act", "forward.fc1", "forward.fc2",
    "loss", "backward.fc2", "backward.fc1", "backward.act", "backward.pool",
    "backward.conv", "update",
]
FIGURE_VIEWS = [
    "input", "kernel", "conv", "pool", "activations", "hidden", "output",
    "gradients.conv", "gradients.fc1", "gradients.fc2", "deltas", "conv-delta", "input-grad",
]

# ---------------------------------------------------------------- helpers


def open_new(page, path: str = "/"):
    """Open `path` (default: a fresh seed session) and wait until everything drew."""
    page.goto(path)
    wait_ready(page)
    return page.get_attribute("body", "data-session"), page.get_attribute("body", "data-token")


def api(page, path: str, method: str = "GET", token: str | None = None, body=None):
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    response = page.request.fetch(f"/api/v1{path}", method=method, headers=headers, data=body)
    assert response.ok, f"{method} {path}: {response.status} {response.text()}"
    return response.json()


def api_phase(page, session: str) -> str:
    return api(page, f"/sessions/{session}")["cursor"]["phase"]


def jump(page, session: str, token: str, phase: str) -> None:
    """Move the cursor with the API and reload the page there (a setup shortcut)."""
    if api_phase(page, session) != phase:
        api(page, f"/sessions/{session}/step", "POST", token, {"to": phase})
    page.reload()
    wait_ready(page, phase)


def drawn_views(page) -> dict[str, dict]:
    """Per view: whether a Plotly graph is there, its traces and annotations."""
    return page.evaluate(
        """() => Object.fromEntries([...document.querySelectorAll('[data-view]')].map((card) => {
            const gd = card.querySelector('.js-plotly-plot');
            return [card.dataset.view, {
                plot: Boolean(gd),
                traces: gd ? gd.data.length : 0,
                notes: gd ? (gd.layout.annotations || []).length : 0,
                phase: gd && gd.layout.meta ? gd.layout.meta.phase : null,
            }];
        }))"""
    )


def assert_views_drew(page, phase: str) -> None:
    views = drawn_views(page)
    assert set(FIGURE_VIEWS) <= set(views)
    for name in FIGURE_VIEWS:
        v = views[name]
        assert v["plot"], f"{name} has no plot at {phase}"
        assert v["traces"] + v["notes"] > 0, f"{name} is empty at {phase}"
        assert v["phase"] == phase, f"{name} shows {v['phase']} at {phase}"


def shown_phase(page) -> str:
    return page.text_content('[data-testid="phase"]')


def cell_centre(page, view: str, row: int, col: int, trace: int = 0) -> tuple[float, float]:
    """Page coordinates of cell (row, col) of a heatmap trace."""
    return tuple(page.evaluate(
        """([view, row, col, trace]) => {
            const gd = document.querySelector(`[data-testid="view-${view}"] .js-plotly-plot`);
            gd.scrollIntoView({ block: 'center' });
            const t = gd._fullData[trace];
            const fl = gd._fullLayout;
            const xa = fl['xaxis' + t.xaxis.slice(1)];
            const ya = fl['yaxis' + t.yaxis.slice(1)];
            const box = gd.getBoundingClientRect();
            return [box.left + xa._offset + xa.l2p(col), box.top + ya._offset + ya.l2p(row)];
        }""",
        [view, row, col, trace],
    ))


def hl_shapes(page, view: str) -> list[dict]:
    return page.evaluate(
        """(view) => {
            const gd = document.querySelector(`[data-testid="view-${view}"] .js-plotly-plot`);
            return (gd.layout.shapes || []).filter((s) => String(s.name || '').startsWith('hl-'));
        }""",
        view,
    )


def close(a: float, b: float, rel: float = 1e-12) -> bool:
    return math.isclose(a, b, rel_tol=rel, abs_tol=1e-300)


# ---------------------------------------------------------------- tests


def test_newcomer_steps_a_whole_sample_with_keys_then_buttons(page, screenshots):
    session, token = open_new(page)
    assert token, "the browser that opened / owns the session"
    assert page.get_attribute("body", "data-mode") == "normal"
    assert shown_phase(page) == "input" == api_phase(page, session)
    assert_views_drew(page, "input")
    page.screenshot(path=screenshots / "phase-00-input.png")
    page.screenshot(path=screenshots / "full-00-input.png", full_page=True)

    for n, phase in enumerate(PHASES[1:], start=1):
        page.keyboard.press("ArrowRight")
        wait_ready(page, phase)
        assert shown_phase(page) == phase == api_phase(page, session)
        assert_views_drew(page, phase)
        if phase == "forward.pool":
            assert page.locator('[data-testid="pool-table"] tbody tr').count() == 25
        page.screenshot(path=screenshots / f"phase-{n:02d}-{phase}.png")
        if phase in ("forward.pool", "loss", "backward.conv"):
            page.screenshot(path=screenshots / f"full-{n:02d}-{phase}.png", full_page=True)

    # the buttons: the next sample, all the way through
    for phase in PHASES + ["input"]:
        page.get_by_test_id("step").click()
        wait_ready(page, phase)
        assert shown_phase(page) == phase == api_phase(page, session)
        assert_views_drew(page, phase)
    assert api(page, f"/sessions/{session}")["counters"]["samples_seen"] == 2


def test_pool_table_fills_at_forward_pool_and_back_button_empties_it(page):
    session, token = open_new(page)
    rows = page.locator('[data-testid="pool-table"] tbody tr')
    assert rows.count() == 0
    page.locator('.strip [data-phase="forward.pool"].layer').click()
    wait_ready(page, "forward.pool")
    assert rows.count() == 25
    page.get_by_test_id("back").click()
    wait_ready(page, "forward.conv")
    assert rows.count() == 0
    assert api_phase(page, session) == "forward.conv"


def test_hovering_a_row_outlines_its_window_and_receptive_field(page):
    session, token = open_new(page)
    jump(page, session, token, "forward.pool")
    table = api(page, f"/sessions/{session}/pool-table")["rows"]
    k = api(page, f"/sessions/{session}")["config"]["kernel_size"]
    for j in (0, 13, 24):
        row = table[j]
        page.locator(f'[data-testid="pool-table"] tbody tr[data-j="{j}"]').hover()
        page.wait_for_function(
            "(j) => document.querySelector('[data-testid=\"pool-table\"] tr.highlight')?.dataset.j === String(j)",
            arg=j,
        )
        page.wait_for_function(
            "() => document.querySelector('[data-testid=\"view-input\"] .js-plotly-plot').layout.shapes"
            "?.some((s) => s.name === 'hl-field')"
        )
        window = {s["name"]: s for s in hl_shapes(page, "conv")}["hl-window"]
        r, c = row["row"], row["col"]
        assert (window["y0"], window["y1"]) == (2 * r - 0.5, 2 * r + 1.5)
        assert (window["x0"], window["x1"]) == (2 * c - 0.5, 2 * c + 1.5)
        winner = {s["name"]: s for s in hl_shapes(page, "conv")}["hl-winner"]
        u, v = row["start_14"]
        assert (winner["y0"], winner["x0"]) == (u - 0.5, v - 0.5)
        assert (u, v) == (2 * r + row["winner"][0], 2 * c + row["winner"][1])
        field = {s["name"]: s for s in hl_shapes(page, "input")}["hl-field"]
        assert (field["y0"], field["x0"]) == (u - 0.5, v - 0.5)
        assert (field["y1"], field["x1"]) == (u + k - 0.5, v + k - 0.5)
        cell = {s["name"]: s for s in hl_shapes(page, "pool")}["hl-cell"]
        assert (cell["y0"], cell["x0"]) == (r - 0.5, c - 0.5)
    # leaving the table removes every outline; the pool grid stays
    page.mouse.move(5, 700)
    page.wait_for_function("() => !document.querySelector('[data-testid=\"pool-table\"] tr.highlight')")
    page.wait_for_function(
        "() => !document.querySelector('[data-testid=\"view-conv\"] .js-plotly-plot').layout.shapes"
        ".some((s) => String(s.name || '').startsWith('hl-'))"
    )
    for view in ("conv", "input", "pool"):
        assert hl_shapes(page, view) == []
    assert page.evaluate(
        "() => document.querySelector('[data-testid=\"view-conv\"] .js-plotly-plot').layout.shapes.length"
    ) > 0


def test_hovering_a_conv_cell_lights_its_pooled_row(page):
    session, token = open_new(page)
    jump(page, session, token, "forward.pool")
    x, y = cell_centre(page, "conv", 7, 4)  # pooled cell (3, 2) → j = 17
    page.mouse.move(x, y)
    page.wait_for_function(
        "() => document.querySelector('[data-testid=\"pool-table\"] tr.highlight')?.dataset.j === '17'"
    )
    assert {s["name"] for s in hl_shapes(page, "pool")} == {"hl-cell"}


def test_clicking_a_kernel_gradient_cell_explains_it(page):
    session, token = open_new(page)
    jump(page, session, token, "backward.conv")
    assert page.get_by_test_id("inspector").is_hidden()
    x, y = cell_centre(page, "gradients.conv", 1, 2)  # conv.w[7]
    page.mouse.click(x, y)
    inspector = page.get_by_test_id("inspector")
    inspector.wait_for(state="visible")
    page.wait_for_function(
        "() => document.querySelector('[data-testid=\"inspector-sum\"]').textContent !== ''"
    )
    assert page.url.endswith("#inspect=conv.w/7")
    explain = api(page, f"/sessions/{session}/explain/conv.w/7")
    shown_sum = float(page.text_content('[data-testid="inspector-sum"]'))
    shown_grad = float(page.text_content('[data-testid="inspector-gradient"]'))
    assert close(shown_sum, explain["gradient"])
    assert shown_grad == explain["gradient"]
    assert page.locator('[data-testid="inspector-terms"] tbody tr').count() == len(explain["terms"])
    assert inspector.locator("math").count() == 1


def test_clicking_a_dense_gradient_cell_explains_it(page):
    session, token = open_new(page)
    jump(page, session, token, "backward.fc1")
    x, y = cell_centre(page, "gradients.fc2", 5, 3)  # fc2.w[5·10 + 3]
    page.mouse.click(x, y)
    page.wait_for_function(
        "() => document.querySelector('[data-testid=\"inspector-sum\"]').textContent !== ''"
    )
    explain = api(page, f"/sessions/{session}/explain/fc2.w/53")
    assert close(float(page.text_content('[data-testid="inspector-sum"]')), explain["gradient"])


def test_deep_link_waits_for_the_gradient_then_fills_in(page, screenshots):
    session, token = open_new(page)
    page.goto(f"/s/{session}#inspect=conv.w/7")
    wait_ready(page, "input")
    inspector = page.get_by_test_id("inspector")
    assert inspector.is_visible()
    assert "backward.conv" in inspector.text_content()
    assert page.text_content('[data-testid="inspector-sum"]') == ""
    page.locator('.strip [data-phase="backward.pool"]').click()
    wait_ready(page, "backward.pool")
    assert page.text_content('[data-testid="inspector-sum"]') == ""
    page.keyboard.press("ArrowRight")
    wait_ready(page, "backward.conv")
    page.wait_for_function(
        "() => document.querySelector('[data-testid=\"inspector-sum\"]').textContent !== ''"
    )
    explain = api(page, f"/sessions/{session}/explain/conv.w/7")
    assert close(float(page.text_content('[data-testid="inspector-sum"]')), explain["gradient"])
    page.screenshot(path=screenshots / "inspector-1280.png")


def test_back_over_update_restores_the_kernel_view(page):
    session, token = open_new(page)
    jump(page, session, token, "backward.conv")

    def kernel_z():
        return page.evaluate(
            "() => document.querySelector('[data-testid=\"view-kernel\"] .js-plotly-plot').data[0].z"
        )

    before = kernel_z()
    page.keyboard.press("ArrowRight")
    wait_ready(page, "update")
    page.keyboard.press("ArrowRight")
    wait_ready(page, "input")
    assert kernel_z() != before, "the update changed the kernel"
    page.keyboard.press("ArrowLeft")
    wait_ready(page, "update")
    page.keyboard.press("ArrowLeft")
    wait_ready(page, "backward.conv")
    assert kernel_z() == before
    assert api_phase(page, session) == "backward.conv"


def test_next_sample_play_and_presenter_keys(page):
    session, token = open_new(page)
    first = api(page, f"/sessions/{session}")["cursor"]["sample"]
    page.keyboard.press("n")
    wait_ready(page, "input")
    state = api(page, f"/sessions/{session}")
    assert state["counters"]["samples_seen"] == 1 and state["cursor"]["sample"] != first
    page.keyboard.press(" ")
    page.wait_for_function("() => document.body.dataset.playing === '1'")
    page.wait_for_function(
        "() => ['forward.pool', 'forward.act'].includes(document.querySelector('[data-testid=\"phase\"]').textContent)"
    )
    page.keyboard.press(" ")
    page.wait_for_function("() => document.body.dataset.playing === '0'")
    wait_ready(page)
    page.wait_for_timeout(300)
    assert shown_phase(page) == api_phase(page, session)
    page.keyboard.press("f")
    assert page.get_attribute("body", "data-mode") == "presenter"
    page.keyboard.press("f")
    assert page.get_attribute("body", "data-mode") == "normal"
    # keys typed into a field are the field's, not the page's
    phase = shown_phase(page)
    page.get_by_test_id("learning-rate").focus()
    page.keyboard.press("ArrowRight")
    page.wait_for_timeout(200)
    assert shown_phase(page) == phase == api_phase(page, session)


def test_gradient_check_panel_reports_every_tensor(page):
    session, token = open_new(page)
    jump(page, session, token, "backward.conv")
    page.get_by_test_id("gradcheck-run").click()
    table = page.get_by_test_id("gradcheck-table")
    table.wait_for(state="visible")
    result = api(page, f"/sessions/{session}/gradcheck")
    rows = table.locator("tbody tr")
    assert rows.count() == len(result["tensors"])
    for i, tensor in enumerate(result["tensors"]):
        assert rows.nth(i).locator("td").first.text_content() == tensor["name"]
        assert rows.nth(i).get_attribute("class") == ("pass" if tensor["passed"] else "fail")


def test_api_errors_show_in_the_status_line(make_page):
    page, log = make_page()
    log.expect("/config")
    session, token = open_new(page)
    lr = page.get_by_test_id("learning-rate")
    lr.fill("50")
    lr.press("Enter")
    lr.blur()
    status = page.get_by_test_id("status")
    page.wait_for_function("() => document.querySelector('[data-testid=\"status\"]').dataset.kind === 'error'")
    assert "learning_rate" in status.text_content()
    lr.fill("0.25")
    lr.press("Tab")
    page.wait_for_function("() => document.querySelector('[data-testid=\"status\"]').dataset.kind !== 'error'")
    assert api(page, f"/sessions/{session}")["config"]["learning_rate"] == 0.25


def test_config_drawer_creates_a_session_with_two_kernels(page):
    session, token = open_new(page)
    page.get_by_test_id("config-open").click()
    dialog = page.get_by_test_id("config-dialog")
    dialog.wait_for(state="visible")
    dialog.locator('input[name="kernels"]').fill("2")
    dialog.locator('select[name="pool"]').select_option("avg")
    dialog.get_by_test_id("config-create").click()
    page.wait_for_url(lambda url: session not in url and "owner=" not in url)
    wait_ready(page, "input")
    new_session = page.get_attribute("body", "data-session")
    assert new_session != session and page.get_attribute("body", "data-token")
    config = api(page, f"/sessions/{new_session}")["config"]
    assert (config["kernels"], config["pool"]) == (2, "avg")
    page.keyboard.press("ArrowRight")
    wait_ready(page, "forward.conv")
    axes = page.evaluate(
        "() => document.querySelector('[data-testid=\"view-conv\"] .js-plotly-plot').layout.meta.axes"
    )
    assert len(axes) == 2


def test_reset_starts_the_same_network_again(page):
    session, token = open_new(page)
    page.keyboard.press("ArrowRight")
    wait_ready(page, "forward.conv")
    page.keyboard.press("r")
    page.wait_for_url(lambda url: session not in url and "owner=" not in url)
    wait_ready(page, "input")
    new_session = page.get_attribute("body", "data-session")
    old = api(page, f"/sessions/{session}")
    new = api(page, f"/sessions/{new_session}")
    assert new["config"] == old["config"] and new["cursor"]["sample"] == old["cursor"]["sample"]


def test_follow_page_updates_live_and_has_no_controls(make_page, screenshots):
    owner, _ = make_page()
    session, token = open_new(owner)
    follower, _ = make_page()
    follower.goto(f"/s/{session}/follow")
    wait_ready(follower, "input")
    assert follower.get_attribute("body", "data-mode") == "follow"
    for hook in ("step", "back", "next-sample", "play", "reset"):
        assert follower.get_by_test_id(hook).count() == 0
    follower.wait_for_function("() => document.body.dataset.live === '1'")
    owner.keyboard.press("ArrowRight")
    wait_ready(owner, "forward.conv")
    wait_ready(follower, "forward.conv")
    owner.locator('.strip [data-phase="forward.pool"].layer').click()
    wait_ready(follower, "forward.pool")
    assert follower.locator('[data-testid="pool-table"] tbody tr').count() == 25
    # the follower's keys change nothing
    follower.keyboard.press("ArrowRight")
    follower.wait_for_timeout(300)
    assert api_phase(follower, session) == "forward.pool"
    follower.screenshot(path=screenshots / "follow-1280.png")


def test_someone_elses_session_is_read_only(make_page):
    owner, _ = make_page()
    session, token = open_new(owner)
    other, _ = make_page()
    other.goto(f"/s/{session}")
    wait_ready(other, "input")
    assert other.get_attribute("body", "data-token") == ""
    assert other.get_by_test_id("step").count() == 0


@pytest.mark.parametrize("theme", ["dark", "contrast"])
def test_themes_and_chinese_render(make_page, screenshots, theme):
    page, _ = make_page()
    session, token = open_new(page)
    jump(page, session, token, "forward.pool")
    page.goto(f"/s/{session}?theme={theme}&lang=zh")
    wait_ready(page, "forward.pool")
    assert page.evaluate("(theme) => document.body.classList.contains('theme-' + theme)", theme)
    assert page.get_attribute("html", "lang") == "zh-Hans"
    page.screenshot(path=screenshots / f"theme-{theme}-zh-1280.png")


def test_large_screen_layout(make_page, screenshots):
    page, _ = make_page(1920, 1080)
    session, token = open_new(page)
    jump(page, session, token, "backward.conv")
    x, y = cell_centre(page, "kernel", 2, 2)
    page.mouse.click(x, y)
    page.wait_for_function(
        "() => document.querySelector('[data-testid=\"inspector-sum\"]').textContent !== ''"
    )
    page.locator('[data-testid="pool-table"] tbody tr[data-j="12"]').hover()
    page.screenshot(path=screenshots / "backward-conv-1920.png")
    page.screenshot(path=screenshots / "full-backward-conv-1920.png", full_page=True)


def test_png_export_keeps_the_title(page, screenshots):
    session, token = open_new(page)
    card = page.get_by_test_id("view-input")
    card.scroll_into_view_if_needed()
    card.locator(".js-plotly-plot").hover()
    with page.expect_download() as download:
        card.locator('.modebar-btn[data-title="Download plot as PNG"]').click()
    path = screenshots / "export-input.png"
    download.value.save_as(path)
    assert download.value.suggested_filename == "backprop-lens-input-input.png"
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
