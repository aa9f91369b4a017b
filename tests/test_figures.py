"""Figures: plain JSON, valid Plotly, the page's meta/customdata contract, i18n."""

from __future__ import annotations

import json
import re
import string
import time
from pathlib import Path

import numpy as np
import plotly.graph_objects as go
import pytest

from app.figures import LANGS, PHASES, THEMES, VIEWS, ViewError, build_figure
from app.figures.common import (
    THEME_STYLES,
    cell_luminance,
    grid,
    grid_shape,
    integer_ticks,
    two_lines,
)
from app.figures.training import ema, pick_snapshots
from app.i18n import TEXTS, t

SEED = dict(
    input_size=14,
    kernels=1,
    kernel_size=5,
    pool="max",
    activation="sigmoid",
    hidden=80,
    output="sigmoid-mse",
    bias=False,
    learning_rate=0.5,
    order="shuffled",
)
WIDE = dict(
    SEED,
    input_size=28,
    kernels=3,
    kernel_size=3,
    hidden=16,
    bias=True,
    activation="tanh",
    output="softmax-ce",
)
AVG = dict(SEED, pool="avg", kernels=2, activation="relu")
CONFIGS = {"seed": SEED, "wide": WIDE, "avg": AVG}

# What each phase adds (API.md phases, MATH §1 and §3).
PRODUCES = {
    "input": (),
    "forward.conv": ("conv.z",),
    "forward.pool": ("pool.out", "pool.winners"),
    "forward.act": ("act.out",),
    "forward.fc1": ("fc1.z", "fc1.out"),
    "forward.fc2": ("fc2.z", "fc2.out"),
    "loss": ("loss",),
    "backward.fc2": ("fc2.delta", "grads.fc2.w", "grads.fc2.b"),
    "backward.fc1": ("fc1.delta", "grads.fc1.w", "grads.fc1.b"),
    "backward.act": ("act.delta",),
    "backward.pool": ("conv.delta",),
    "backward.conv": ("grads.conv.w", "grads.conv.b", "input.grad"),
    "update": (),
}
VIEW_NEEDS = {
    "conv": "forward.conv",
    "pool": "forward.pool",
    "activations": "forward.act",
    "hidden": "forward.fc1",
    "output": "forward.fc2",
    "gradients.fc2": "backward.fc2",
    "deltas": "backward.fc2",
    "gradients.fc1": "backward.fc1",
    "conv-delta": "backward.pool",
    "gradients.conv": "backward.conv",
    "input-grad": "backward.conv",
}
TRAINING_VIEWS = ("training", "confusion", "kernels-history")


def sizes(cfg):
    s, k, n_k = cfg["input_size"], cfg["kernel_size"], cfg["kernels"]
    c = s - k + 1
    return s, k, n_k, c, c // 2, cfg["hidden"]


def full_state(cfg, seed=0):
    """Synthetic tensors of the right shapes; pool winners and routing as MATH §2/§3."""
    rng = np.random.default_rng(seed)
    s, k, n_k, c, p, h = sizes(cfg)
    n = n_k * p * p
    z = rng.normal(size=(n_k, c, c))
    windows = z[:, : 2 * p, : 2 * p].reshape(n_k, p, 2, p, 2).transpose(0, 1, 3, 2, 4)
    windows = windows.reshape(n_k, p, p, 4)
    d_act = rng.normal(size=n)
    routed = np.zeros((n_k, c, c))
    tensors = {
        "x": rng.random((s, s)),
        "target": np.eye(10)[7],
        "params.conv.w": rng.uniform(-0.5, 0.5, (n_k, k, k)),
        "params.fc1.w": rng.uniform(-0.25, 0.25, (n, h)),
        "params.fc2.w": rng.uniform(-0.25, 0.25, (h, 10)),
        "conv.z": z,
        "act.out": rng.random(n),
        "fc1.z": rng.normal(size=h),
        "fc1.out": rng.random(h),
        "fc2.z": rng.normal(size=10),
        "fc2.out": rng.random(10),
        "loss": np.array(0.734),
        "fc2.delta": rng.normal(size=10),
        "grads.fc2.w": rng.normal(size=(h, 10)),
        "fc1.delta": rng.normal(size=h),
        "grads.fc1.w": rng.normal(size=(n, h)),
        "act.delta": d_act,
        "grads.conv.w": rng.normal(size=(n_k, k, k)),
        "input.grad": rng.normal(size=(s, s)),
    }
    delta = d_act.reshape(n_k, p, p)
    if cfg["pool"] == "max":
        first_max = windows.argmax(axis=-1)  # ties: first maximum in row-major window order
        winners = np.stack(np.divmod(first_max, 2), axis=-1).astype(np.int64)
        tensors["pool.out"] = windows.max(axis=-1)
        tensors["pool.winners"] = winners
        for i in range(n_k):
            for r in range(p):
                for cc in range(p):
                    dr, dc = winners[i, r, cc]
                    routed[i, 2 * r + dr, 2 * cc + dc] = delta[i, r, cc]
    else:
        tensors["pool.out"] = windows.mean(axis=-1)
        routed[:, : 2 * p, : 2 * p] = np.repeat(np.repeat(delta, 2, 1), 2, 2) / 4
    tensors["conv.delta"] = routed
    if cfg["bias"]:
        for name, size in (("conv.b", n_k), ("fc1.b", h), ("fc2.b", 10)):
            tensors["params." + name] = rng.normal(size=size)
            tensors["grads." + name] = rng.normal(size=size)
    return tensors


def at_phase(cfg, phase, seed=0):
    """Only what has been computed up to `phase`."""
    full = full_state(cfg, seed)
    later = set()
    for ph in PHASES[PHASES.index(phase) + 1 :]:
        later.update(PRODUCES[ph])
    return {name: v for name, v in full.items() if name not in later}


def metrics(cfg, n_snap=30):
    rng = np.random.default_rng(1)
    _, k, n_k, *_ = sizes(cfg)
    return {
        "loss": [{"samples_seen": i + 1, "value": float(rng.random())} for i in range(200)],
        "accuracy": [{"samples_seen": 100, "value": 0.71}, {"samples_seen": 200, "value": 0.83}],
        "confusion": rng.integers(0, 30, (10, 10)).tolist(),
        "kernels": [
            {"samples_seen": 10 * i, "conv.w": rng.normal(size=(n_k, k, k)).tolist()}
            for i in range(n_snap)
        ],
    }


PLAIN = (dict, list, str, int, float, bool, type(None))


def assert_plain(obj, path="fig"):
    """Only JSON's own types (exact types: np.float64 subclasses float), no base64 arrays."""
    assert type(obj) in PLAIN, f"{path}: {type(obj).__name__}"
    if isinstance(obj, dict):
        assert "bdata" not in obj, path
        for key, value in obj.items():
            assert type(key) is str
            assert_plain(value, f"{path}.{key}")
    elif isinstance(obj, list):
        for i, value in enumerate(obj):
            assert_plain(value, f"{path}[{i}]")


def heatmaps(fig):
    return [tr for tr in fig["data"] if tr["type"] == "heatmap"]


def annotation_texts(fig):
    return [a["text"] for a in fig["layout"].get("annotations", [])]


# ------------------------------------------------------------------ JSON and validity


@pytest.mark.parametrize("cfg_name", list(CONFIGS))
def test_every_view_theme_lang_phase_is_plain_finite_json(cfg_name):
    cfg = CONFIGS[cfg_name]
    m = metrics(cfg)
    for phase in PHASES:
        tensors = at_phase(cfg, phase)
        for view in VIEWS:
            for theme in THEMES:
                for lang in LANGS:
                    fig = build_figure(
                        view, tensors, cfg, phase=phase, theme=theme, lang=lang, metrics=m
                    )
                    assert set(fig) == {"data", "layout"}
                    json.dumps(fig, allow_nan=False)
                    assert_plain(fig)


@pytest.mark.parametrize("cfg_name", list(CONFIGS))
def test_every_figure_validates_as_a_plotly_figure(cfg_name):
    cfg = CONFIGS[cfg_name]
    m = metrics(cfg)
    for phase in PHASES:
        tensors = at_phase(cfg, phase)
        for view in VIEWS:
            go.Figure(build_figure(view, tensors, cfg, phase=phase, metrics=m))
    tensors = at_phase(cfg, "update")
    for theme in THEMES:
        for lang in LANGS:
            for view in VIEWS:
                for notation in (False, True):
                    fig = build_figure(
                        view,
                        tensors,
                        cfg,
                        phase="update",
                        theme=theme,
                        lang=lang,
                        seed_notation=notation,
                        metrics=m,
                    )
                    go.Figure(fig)
    for view in TRAINING_VIEWS:
        go.Figure(build_figure(view, tensors, cfg, phase="update", metrics=None))


def test_tensor_values_keep_full_float_precision():
    tensors = at_phase(SEED, "update")
    fig = build_figure("conv", tensors, SEED, phase="update")
    assert heatmaps(fig)[0]["z"] == tensors["conv.z"][0].tolist()
    fig = build_figure("gradients.fc1", tensors, SEED, phase="update")
    assert heatmaps(fig)[0]["z"] == tensors["grads.fc1.w"].tolist()
    fig = build_figure("hidden", tensors, SEED, phase="update")
    assert fig["data"][0]["y"] == tensors["fc1.out"].tolist()


# ------------------------------------------------------------------ layout contract


@pytest.mark.parametrize("cfg_name", list(CONFIGS))
def test_layout_meta_names_view_phase_and_each_kernels_axes(cfg_name):
    cfg = CONFIGS[cfg_name]
    n_k = cfg["kernels"]
    tensors = at_phase(cfg, "update")
    per_kernel = (
        "kernel",
        "conv",
        "pool",
        "activations",
        "gradients.conv",
        "conv-delta",
        "deltas",
        "input-grad",
    )
    for view in VIEWS:
        fig = build_figure(view, tensors, cfg, phase="update", metrics=metrics(cfg))
        layout = fig["layout"]
        meta = layout["meta"]
        assert meta["view"] == view and meta["phase"] == "update" and meta["kernels"] == n_k
        assert layout["uirevision"] == view
        assert layout["autosize"] is True and "width" not in layout and "height" not in layout
        assert layout["font"]["size"] >= 14
        if view in per_kernel:
            assert len(meta["axes"]) == n_k, view
        elif view != "kernels-history":
            assert meta["axes"] == [["x", "y"]], view
        for xa, ya in meta["axes"]:
            assert f"xaxis{xa[1:]}" in layout and f"yaxis{ya[1:]}" in layout, (view, xa)
        # every trace sits on axes the layout defines
        for tr in fig["data"]:
            for key in ("xaxis", "yaxis"):
                axis = tr.get(key, key[0])
                assert f"{axis[0]}axis{axis[1:]}" in layout, (view, axis)


def test_kernel_traces_follow_meta_axes_in_kernel_order():
    tensors = at_phase(WIDE, "update")
    fig = build_figure("conv", tensors, WIDE, phase="update")
    maps = heatmaps(fig)
    assert [[tr["xaxis"], tr["yaxis"]] for tr in maps] == fig["layout"]["meta"]["axes"]
    assert [tr["meta"] for tr in maps] == [{"tensor": "conv.z", "kernel": i} for i in range(3)]
    assert fig["layout"]["meta"]["axes"] == [["x", "y"], ["x2", "y2"], ["x3", "y3"]]


def test_maps_have_row_zero_on_top_and_square_cells():
    tensors = at_phase(SEED, "update")
    fig = build_figure("input", tensors, SEED, phase="update")
    assert fig["layout"]["yaxis"]["autorange"] is False
    assert fig["layout"]["yaxis"]["range"] == [13.5, -0.5]  # reversed: row 0 on top
    assert fig["layout"]["yaxis"]["scaleanchor"] == "x"
    fig = build_figure("kernel", at_phase(WIDE, "input"), WIDE, phase="input")
    assert fig["layout"]["yaxis3"]["scaleanchor"] == "x3"


def test_themes_differ_in_background_and_contrast_has_thicker_lines():
    tensors = at_phase(SEED, "backward.pool")
    figs = {
        th: build_figure("conv", tensors, SEED, phase="backward.pool", theme=th) for th in THEMES
    }
    assert figs["light"]["layout"]["paper_bgcolor"] == "#ffffff"
    assert figs["contrast"]["layout"]["paper_bgcolor"] == "#000000"
    assert figs["contrast"]["layout"]["font"]["color"] == "#ffffff"
    assert figs["dark"]["layout"]["paper_bgcolor"] not in ("#ffffff", "#000000")
    width = {th: f["layout"]["shapes"][0]["line"]["width"] for th, f in figs.items()}
    assert width["contrast"] > width["light"]


# ------------------------------------------------------------------ pooling: winners and grid


@pytest.mark.parametrize("cfg_name", ["seed", "wide"])
@pytest.mark.parametrize("view", ["conv", "conv-delta"])
def test_winner_markers_sit_on_each_windows_winning_cell(cfg_name, view):
    cfg = CONFIGS[cfg_name]
    _, _, n_k, c, p, _ = sizes(cfg)
    tensors = at_phase(cfg, "update")
    winners = tensors["pool.winners"]
    fig = build_figure(view, tensors, cfg, phase="update")
    markers = [tr for tr in fig["data"] if tr["type"] == "scatter"]
    assert len(markers) == n_k
    axes = fig["layout"]["meta"]["axes"]
    for i, tr in enumerate(markers):
        assert tr["meta"] == {"tensor": "pool.winners", "kernel": i}
        assert [tr["xaxis"], tr["yaxis"]] == axes[i]
        assert len(tr["x"]) == len(tr["y"]) == p * p
        expected = {
            (2 * r + int(winners[i, r, cc, 0]), 2 * cc + int(winners[i, r, cc, 1]))
            for r in range(p)
            for cc in range(p)
        }
        assert set(zip(tr["y"], tr["x"], strict=True)) == expected
        # each marker names its pooled cell j (kernel-major), the position table's row
        assert tr["customdata"] == list(range(i * p * p, (i + 1) * p * p))
    if view == "conv-delta":
        # MATH §3: routed delta is zero except at the winners
        for i, hm in enumerate(heatmaps(fig)):
            z = np.array(hm["z"])
            cells = {(int(r), int(cc)) for r, cc in zip(*np.nonzero(z), strict=True)}
            assert cells <= set(zip(markers[i]["y"], markers[i]["x"], strict=True))


def test_conv_view_marks_winners_from_forward_pool_on_not_before():
    before = build_figure("conv", at_phase(SEED, "forward.conv"), SEED, phase="forward.conv")
    assert not [tr for tr in before["data"] if tr["type"] == "scatter"]
    after = build_figure("conv", at_phase(SEED, "forward.pool"), SEED, phase="forward.pool")
    markers = [tr for tr in after["data"] if tr["type"] == "scatter"]
    assert len(markers) == 1 and len(markers[0]["x"]) == 25


def test_conv_view_draws_the_pool_grid_as_lines_and_no_winners_for_avg_pool():
    _, _, n_k, c, p, _ = sizes(AVG)
    fig = build_figure("conv", at_phase(AVG, "update"), AVG, phase="update")
    assert not [tr for tr in fig["data"] if tr["type"] == "scatter"]
    shapes = fig["layout"]["shapes"]
    assert all(s["type"] == "line" for s in shapes)
    assert len(shapes) == n_k * 2 * (p + 1)
    positions = sorted({s["x0"] for s in shapes if s["x0"] == s["x1"] and s["xref"] == "x"})
    assert positions == [2 * i - 0.5 for i in range(p + 1)]


# ------------------------------------------------------------------ gradients


@pytest.mark.parametrize("cfg_name", list(CONFIGS))
def test_gradient_heatmaps_are_centred_on_zero_with_a_symmetric_range(cfg_name):
    cfg = CONFIGS[cfg_name]
    tensors = at_phase(cfg, "update")
    for view, name in (
        ("gradients.conv", "grads.conv.w"),
        ("gradients.fc1", "grads.fc1.w"),
        ("gradients.fc2", "grads.fc2.w"),
    ):
        fig = build_figure(view, tensors, cfg, phase="update")
        maps = heatmaps(fig)
        assert maps
        m = float(np.max(np.abs(tensors[name])))
        for hm in maps:
            assert hm["zmid"] == 0
            assert hm["zmin"] == -m and hm["zmax"] == m
        assert sum(hm["showscale"] for hm in maps) == 1


def test_all_zero_gradient_gets_a_constant_symmetric_range():
    tensors = at_phase(SEED, "update")
    tensors["grads.conv.w"] = np.zeros_like(tensors["grads.conv.w"])
    (hm,) = heatmaps(build_figure("gradients.conv", tensors, SEED, phase="update"))
    assert hm["zmin"] == -1.0 and hm["zmax"] == 1.0 and hm["zmid"] == 0


def test_parameter_heatmaps_carry_flat_indices_for_the_inspector():
    cfg = WIDE
    _, k, n_k, _, p, h = sizes(cfg)
    tensors = at_phase(cfg, "update")
    # conv.w: kernel·k·k + row·k + col
    for view, source in (("kernel", "params.conv.w"), ("gradients.conv", "grads.conv.w")):
        maps = heatmaps(build_figure(view, tensors, cfg, phase="update"))
        assert len(maps) == n_k
        assert all(hm["meta"] == {"param": "conv.w"} for hm in maps)
        assert maps[2]["customdata"][1][2] == 2 * k * k + 1 * k + 2 == 23
        assert maps[0]["customdata"][0][0] == 0
        flat = tensors[source].ravel()
        for hm in maps:
            for row_z, row_i in zip(hm["z"], hm["customdata"], strict=True):
                for value, index in zip(row_z, row_i, strict=True):
                    assert value == flat[index]
    # fc1.w: j·H + m
    (hm,) = heatmaps(build_figure("gradients.fc1", tensors, cfg, phase="update"))
    assert hm["meta"] == {"param": "fc1.w"}
    assert hm["customdata"][7][5] == 7 * h + 5
    assert hm["z"][7][5] == tensors["grads.fc1.w"][7, 5]
    assert len(hm["customdata"]) == n_k * p * p and len(hm["customdata"][0]) == h
    # fc2.w: m·10 + k
    (hm,) = heatmaps(build_figure("gradients.fc2", tensors, cfg, phase="update"))
    assert hm["meta"] == {"param": "fc2.w"}
    assert hm["customdata"][4][9] == 49
    assert hm["customdata"][h - 1][0] == (h - 1) * 10


def test_feature_maps_carry_tensor_meta_and_flat_indices():
    tensors = at_phase(WIDE, "update")
    _, _, n_k, c, p, _ = sizes(WIDE)
    maps = heatmaps(build_figure("pool", tensors, WIDE, phase="update"))
    assert [hm["meta"] for hm in maps] == [{"tensor": "pool.out", "kernel": i} for i in range(3)]
    assert maps[1]["customdata"][2][3] == p * p + 2 * p + 3
    maps = heatmaps(build_figure("conv", tensors, WIDE, phase="update"))
    assert maps[2]["customdata"][0][1] == 2 * c * c + 1


def test_input_grad_shows_rot180_of_each_kernel_beside_the_input_gradient():
    cfg = WIDE
    tensors = at_phase(cfg, "backward.conv")
    fig = build_figure("input-grad", tensors, cfg, phase="backward.conv", seed_notation=True)
    assert fig["layout"]["title"]["text"] == "∂E/∂x = full_conv(δtemphicnn, rot180(w1cnn))"
    maps = heatmaps(fig)
    assert maps[0]["meta"] == {"tensor": "input.grad"}
    assert maps[0]["z"] == tensors["input.grad"].tolist()
    rot = maps[1:]
    assert len(rot) == cfg["kernels"] == len(fig["layout"]["meta"]["axes"])
    w = tensors["params.conv.w"]
    for i, hm in enumerate(rot):
        assert "param" not in hm["meta"]
        assert hm["z"] == np.flip(w[i], (0, 1)).tolist()
        assert hm["z"][0][0] == w[i, -1, -1]
        # each flipped cell names the weight it shows
        assert hm["customdata"][0][0] == w[i].size * i + w[i].size - 1
        assert [hm["xaxis"], hm["yaxis"]] == fig["layout"]["meta"]["axes"][i]


def test_deltas_view_fills_panels_as_the_backward_pass_proceeds():
    cfg = WIDE
    fig = build_figure("deltas", at_phase(cfg, "backward.fc2"), cfg, phase="backward.fc2")
    assert [tr["meta"]["tensor"] for tr in fig["data"]] == ["fc2.delta"]
    assert any("backward.fc1" in a for a in annotation_texts(fig))
    assert any("backward.act" in a for a in annotation_texts(fig))
    fig = build_figure("deltas", at_phase(cfg, "backward.act"), cfg, phase="backward.act")
    kinds = [tr["meta"]["tensor"] for tr in fig["data"]]
    assert kinds == ["fc2.delta", "fc1.delta", "act.delta", "act.delta", "act.delta"]
    assert not any("backward" in a for a in annotation_texts(fig))
    for hm in heatmaps(fig):
        assert hm["zmid"] == 0 and hm["zmin"] == -hm["zmax"]
    assert len(fig["layout"]["meta"]["axes"]) == 3


def test_output_title_gives_the_loss_once_computed():
    before = build_figure("output", at_phase(SEED, "forward.fc2"), SEED, phase="forward.fc2")
    assert "E =" not in before["layout"]["title"]["text"]
    after = build_figure("output", at_phase(SEED, "loss"), SEED, phase="loss")
    assert "loss · E = 0.734" in after["layout"]["title"]["text"]
    names = [tr["meta"]["tensor"] for tr in after["data"]]
    assert names == ["fc2.out", "target"]
    assert after["data"][1]["y"] == np.eye(10)[7].tolist()


# ------------------------------------------------------------------ not yet computed


@pytest.mark.parametrize("lang", LANGS)
def test_views_not_yet_computed_show_the_phase_that_computes_them(lang):
    for view, needed in VIEW_NEEDS.items():
        for phase in PHASES[: PHASES.index(needed)]:
            fig = build_figure(view, at_phase(SEED, phase), SEED, phase=phase, lang=lang)
            assert fig["data"] == [], (view, phase)
            assert annotation_texts(fig) == [two_lines(t("msg.computed_at", lang, phase=needed))]
            assert fig["layout"]["meta"]["axes"] == [["x", "y"]]
        fig = build_figure(view, at_phase(SEED, needed), SEED, phase=needed, lang=lang)
        assert fig["data"], (view, needed)


def test_not_yet_message_is_english_or_chinese_on_two_lines():
    fig = build_figure("input-grad", at_phase(SEED, "input"), SEED, phase="input")
    assert annotation_texts(fig) == ["Computed at phase backward.conv<br>step forward to see it"]
    fig = build_figure("input-grad", at_phase(SEED, "input"), SEED, phase="input", lang="zh")
    (text,) = annotation_texts(fig)
    assert "backward.conv" in text and "向前" in text
    first, second = text.split("<br>")
    assert "backward.conv" in first and "向前" in second


@pytest.mark.parametrize("lang", LANGS)
def test_every_not_yet_note_breaks_its_line_and_stays_readable(lang):
    """A narrow card cuts a one-line note off: each "computed at" note has a <br>."""
    for phase in PHASES:
        tensors = at_phase(WIDE, phase)
        for view in VIEWS:
            fig = build_figure(view, tensors, WIDE, phase=phase, lang=lang, theme="light")
            for note in fig["layout"].get("annotations", []):
                if "backward." in note["text"] or "forward." in note["text"]:
                    assert "<br>" in note["text"], (view, phase, note["text"])
                    assert note["font"]["size"] >= 14
    # a note inside one bar panel of `deltas` also puts the phase on its own line
    fig = build_figure("deltas", at_phase(SEED, "backward.fc2"), SEED, phase="backward.fc2")
    assert "Computed at phase<br>backward.fc1<br>step forward to see it" in annotation_texts(fig)


def test_two_lines_breaks_at_the_first_dash_only_once():
    assert two_lines("a — b") == "a<br>b"
    assert two_lines("甲——乙") == "甲<br>乙"
    assert two_lines("a<br>b — c") == "a<br>b — c"
    assert two_lines("no dash") == "no dash"


@pytest.mark.parametrize(
    "empty", [None, {"loss": [], "accuracy": [], "confusion": None, "kernels": []}]
)
def test_training_views_without_metrics_ask_to_train(empty):
    tensors = at_phase(SEED, "input")
    for view in TRAINING_VIEWS:
        fig = build_figure(view, tensors, SEED, phase="input", metrics=empty)
        assert fig["data"] == []
        assert annotation_texts(fig) == ["Train to see this"]


# ------------------------------------------------------------------ training views


def test_training_view_draws_raw_and_smoothed_loss_and_accuracy_on_a_second_axis():
    m = metrics(SEED)
    fig = build_figure("training", {}, SEED, phase="input", metrics=m)
    raw, smooth, acc = fig["data"]
    values = [p["value"] for p in m["loss"]]
    assert raw["y"] == values and raw["opacity"] < 1
    assert smooth["y"] == ema(values)
    assert smooth["y"][0] == pytest.approx(values[0], rel=1e-12)
    # bias-corrected: (α·v1 + α(1−α)·v0) / (1 − (1−α)²)
    assert smooth["y"][1] == pytest.approx((0.05 * values[1] + 0.0475 * values[0]) / 0.0975)
    assert acc["yaxis"] == "y2" and acc["y"] == [0.71, 0.83]
    assert fig["layout"]["yaxis2"]["range"] == [0.0, 1.0]
    assert fig["layout"]["yaxis2"]["overlaying"] == "y"


def test_confusion_matrix_has_true_rows_predicted_columns_and_counts_as_text():
    m = metrics(SEED)
    fig = build_figure("confusion", {}, SEED, phase="input", metrics=m)
    (hm,) = heatmaps(fig)
    assert hm["z"] == m["confusion"]
    assert hm["texttemplate"] == "%{z}"
    assert fig["layout"]["yaxis"]["range"] == [9.5, -0.5]
    assert fig["layout"]["xaxis"]["title"]["text"] == "predicted digit"
    assert fig["layout"]["yaxis"]["title"]["text"] == "true digit"


def test_kernel_history_picks_at_most_twelve_snapshots_evenly_including_first_and_last():
    assert pick_snapshots(5) == [0, 1, 2, 3, 4]
    picked = pick_snapshots(100)
    assert len(picked) == 12 and picked[0] == 0 and picked[-1] == 99
    gaps = np.diff(picked)
    assert gaps.max() - gaps.min() <= 1
    m = metrics(WIDE, n_snap=40)
    fig = build_figure("kernels-history", {}, WIDE, phase="input", metrics=m)
    maps = heatmaps(fig)
    assert len(maps) == 12 == len(fig["layout"]["meta"]["axes"])
    assert fig["layout"]["meta"]["snapshots"][0] == 0
    assert fig["layout"]["meta"]["snapshots"][-1] == 390
    # three 3×3 kernels tiled 2×2 with one empty cell between them
    z = maps[0]["z"]
    assert len(z) == 7 and len(z[0]) == 7 and z[3][0] is None
    assert z[0][:3] == m["kernels"][0]["conv.w"][0][0]
    assert z[0][4:7] == m["kernels"][0]["conv.w"][1][0]


# ------------------------------------------------------------------ names


def test_names_show_standard_and_seed_alias_or_alias_alone():
    tensors = at_phase(SEED, "forward.conv")
    fig = build_figure("conv", tensors, SEED, phase="forward.conv")
    assert "conv.z · temphicnn" in fig["layout"]["title"]["text"]
    fig = build_figure("conv", tensors, SEED, phase="forward.conv", seed_notation=True)
    title = fig["layout"]["title"]["text"]
    assert "temphicnn" in title and "conv.z" not in title
    fig = build_figure(
        "gradients.fc2",
        at_phase(SEED, "update"),
        SEED,
        phase="update",
        seed_notation=True,
        lang="zh",
    )
    assert "grads.w2" in fig["layout"]["title"]["text"]
    assert "输出层" in fig["layout"]["title"]["text"]


# ------------------------------------------------------------------ errors and speed


@pytest.mark.parametrize(
    "kwargs, field",
    [
        ({"view": "nope"}, "view"),
        ({"theme": "sepia"}, "theme"),
        ({"lang": "fr"}, "lang"),
        ({"phase": "forward.everything"}, "phase"),
    ],
)
def test_unknown_view_theme_lang_or_phase_raise_view_error(kwargs, field):
    args = {"view": "input", "theme": "light", "lang": "en", "phase": "input", **kwargs}
    view = args.pop("view")
    with pytest.raises(ViewError) as err:
        build_figure(view, at_phase(SEED, "input"), SEED, **args)
    assert err.value.field == field
    assert isinstance(err.value, ValueError)
    assert repr(kwargs[field]) in str(err.value)


def test_every_seed_figure_builds_well_under_five_milliseconds():
    tensors = at_phase(SEED, "update")
    m = metrics(SEED)
    for view in VIEWS:
        best = float("inf")
        for _ in range(5):
            start = time.perf_counter()
            build_figure(view, tensors, SEED, phase="update", metrics=m)
            best = min(best, time.perf_counter() - start)
        assert best < 0.005, (view, best)


# ------------------------------------------------------------------ i18n


def test_english_and_chinese_have_the_same_keys_and_no_empty_texts():
    assert set(TEXTS) == set(LANGS)
    assert TEXTS["en"].keys() == TEXTS["zh"].keys()
    for lang in LANGS:
        for key, text in TEXTS[lang].items():
            assert text.strip(), (lang, key)


def test_translations_use_the_same_placeholders():
    def fields(text):
        return {f for _, f, _, _ in string.Formatter().parse(text) if f}

    for key, en in TEXTS["en"].items():
        assert fields(en) == fields(TEXTS["zh"][key]), key


def test_every_phase_and_view_has_a_name_description_and_title():
    for lang in LANGS:
        for phase in PHASES:
            assert t(f"phase.{phase}", lang)
            assert t(f"phase.{phase}.desc", lang)
        for view in VIEWS:
            assert f"view.{view}.title" in TEXTS[lang]


def test_phase_descriptions_default_to_the_seed_sizes():
    assert t("phase.forward.conv.desc", "en") == (
        "Convolve x with the 5×5 kernel w1cnn → temphicnn (10×10)"
    )
    assert (
        t("phase.forward.conv.desc", "zh") == "用 5×5 卷积核 w1cnn 对 x 做卷积 → temphicnn（10×10）"
    )
    assert "3×3" in t("phase.forward.conv.desc", "en", k=3, C=26)


def test_missing_key_or_language_raises_key_error():
    with pytest.raises(KeyError):
        t("view.nothing.title", "en")
    with pytest.raises(KeyError):
        t("phase.input", "fr")


def test_keys_are_dotted_lowercase():
    for key in TEXTS["en"]:
        assert re.fullmatch(r"[a-z0-9-]+(\.[a-z0-9_-]+)+", key), key


# ------------------------------------------------------------------ map geometry

MAP_VIEWS = (
    "input",
    "kernel",
    "conv",
    "pool",
    "activations",
    "gradients.conv",
    "gradients.fc1",
    "gradients.fc2",
    "deltas",
    "conv-delta",
    "input-grad",
    "confusion",
    "kernels-history",
)
PER_KERNEL = ("kernel", "conv", "pool", "activations", "gradients.conv", "conv-delta", "deltas")
MANY = {
    "k2": dict(SEED, kernels=2),
    "k4": dict(SEED, kernels=4, kernel_size=3),
    "k9": dict(SEED, kernels=9, kernel_size=3, bias=True),
    "k16": dict(SEED, kernels=16, kernel_size=3, input_size=28),
}


def axes_of(fig, trace):
    layout = fig["layout"]
    xa, ya = trace.get("xaxis", "x"), trace.get("yaxis", "y")
    return layout[f"xaxis{xa[1:]}"], layout[f"yaxis{ya[1:]}"]


def rel_luminance(hex_colour):
    return float(cell_luminance(np.array([0.0]), [[0.0, hex_colour], [1.0, hex_colour]], 0, 1)[0])


def contrast_ratio(l1, l2):
    return (max(l1, l2) + 0.05) / (min(l1, l2) + 0.05)


@pytest.mark.parametrize("cfg_name", ["seed", "wide", "avg", *MANY])
def test_every_map_panel_has_fixed_ranges_on_its_cells(cfg_name):
    """[-0.5, n − 0.5] across, [n − 0.5, −0.5] down (row 0 on top), never autoranged."""
    cfg = {**CONFIGS, **MANY}[cfg_name]
    tensors = at_phase(cfg, "update")
    for view in MAP_VIEWS:
        fig = build_figure(view, tensors, cfg, phase="update", metrics=metrics(cfg))
        maps = heatmaps(fig)
        assert maps, view
        for hm in maps:
            rows, cols = len(hm["z"]), len(hm["z"][0])
            xa, ya = axes_of(fig, hm)
            assert xa["autorange"] is False and ya["autorange"] is False, view
            assert xa["range"] == [-0.5, cols - 0.5], view
            assert ya["range"] == [rows - 0.5, -0.5], view
            if view not in ("gradients.fc1", "gradients.fc2"):
                assert ya["scaleanchor"] == hm["xaxis"] and ya["scaleratio"] == 1, view
                assert xa["constrain"] == ya["constrain"] == "domain", view
            for axis in (xa, ya):
                if axis.get("tickmode") == "linear":
                    assert axis["tick0"] == 0 and axis["dtick"] >= 1
                    assert type(axis["dtick"]) is int


@pytest.mark.parametrize("cfg_name", ["wide", "avg", *MANY])
def test_panels_of_one_figure_have_the_same_size_and_place_in_a_grid(cfg_name):
    cfg = {**CONFIGS, **MANY}[cfg_name]
    n_k = cfg["kernels"]
    _, cols = grid_shape(n_k)
    tensors = at_phase(cfg, "update")
    for view in (*PER_KERNEL, "input-grad"):
        fig = build_figure(view, tensors, cfg, phase="update")
        layout = fig["layout"]
        axes = fig["layout"]["meta"]["axes"]
        assert len(axes) == n_k
        xs = [layout[f"xaxis{xa[1:]}"] for xa, _ in axes]
        ys = [layout[f"yaxis{ya[1:]}"] for _, ya in axes]
        widths = {round(x["domain"][1] - x["domain"][0], 9) for x in xs}
        heights = {round(y["domain"][1] - y["domain"][0], 9) for y in ys}
        assert len(widths) == 1 and len(heights) == 1, view
        assert (
            len({tuple(x["range"]) for x in xs}) == 1 and len({tuple(y["range"]) for y in ys}) == 1
        )
        # a grid: each column shares its x domain, each row its y domain, and every map
        # shrinks to square cells the same way (centred in its equal slot)
        n_cols = min(n_k, 8) if view == "deltas" else cols
        for i, (x, y) in enumerate(zip(xs, ys, strict=True)):
            r, c = divmod(i, n_cols)
            assert x["domain"] == xs[c]["domain"] and y["domain"] == ys[r * n_cols]["domain"]
            assert "constraintoward" not in x and "constraintoward" not in y
        assert len({tuple(x["domain"]) for x in xs}) == min(n_cols, n_k), view


@pytest.mark.parametrize(
    "n, shape",
    [
        (1, (1, 1)),
        (2, (1, 2)),
        (3, (2, 2)),
        (4, (2, 2)),
        (5, (2, 3)),
        (6, (2, 3)),
        (7, (3, 3)),
        (9, (3, 3)),
        (10, (3, 4)),
        (13, (4, 4)),
        (16, (4, 4)),
    ],
)
def test_grid_is_near_square(n, shape):
    assert grid_shape(n) == shape
    panels = grid(n)
    assert len({p.xdomain for p in panels}) == shape[1]
    assert len({p.ydomain for p in panels}) == shape[0]
    assert (
        len(
            {
                (round(p.xdomain[1] - p.xdomain[0], 9), round(p.ydomain[1] - p.ydomain[0], 9))
                for p in panels
            }
        )
        == 1
    )
    for p in panels:
        assert 0 <= p.xdomain[0] < p.xdomain[1] <= 1 and 0 <= p.ydomain[0] < p.ydomain[1] <= 1


@pytest.mark.parametrize(
    "cfg_name, shape", [("k2", (1, 2)), ("k4", (2, 2)), ("k9", (3, 3)), ("k16", (4, 4))]
)
def test_kernel_maps_use_the_near_square_grid(cfg_name, shape):
    cfg = MANY[cfg_name]
    fig = build_figure("conv", at_phase(cfg, "update"), cfg, phase="update")
    layout = fig["layout"]
    xs = {tuple(layout[f"xaxis{xa[1:]}"]["domain"]) for xa, _ in layout["meta"]["axes"]}
    ys = {tuple(layout[f"yaxis{ya[1:]}"]["domain"]) for _, ya in layout["meta"]["axes"]}
    assert (len(ys), len(xs)) == shape


@pytest.mark.parametrize("cfg_name", ["k2", "k4", "k9", "k16"])
def test_only_outer_panels_have_tick_labels_and_none_beyond_four_kernels(cfg_name):
    cfg = MANY[cfg_name]
    n_k = cfg["kernels"]
    rows, cols = grid_shape(n_k)
    fig = build_figure("kernel", at_phase(cfg, "update"), cfg, phase="update")
    layout = fig["layout"]
    for i, (xa, ya) in enumerate(layout["meta"]["axes"]):
        x, y = layout[f"xaxis{xa[1:]}"], layout[f"yaxis{ya[1:]}"]
        if n_k > 4:
            assert not x["showticklabels"] and not y["showticklabels"]
            continue
        assert y["showticklabels"] == (i % cols == 0)  # first column only
        assert x["showticklabels"] == (i + cols >= n_k)  # lowest panel of each column


def test_integer_ticks_label_whole_cells_sparsely():
    assert integer_ticks(5) == {"tickmode": "linear", "tick0": 0, "dtick": 1}
    assert integer_ticks(10)["dtick"] == 2
    assert integer_ticks(14, most=8)["dtick"] == 2
    assert integer_ticks(14, most=5)["dtick"] == 5
    assert integer_ticks(80, most=6)["dtick"] == 20
    assert integer_ticks(2704, most=6)["dtick"] == 500


@pytest.mark.parametrize("cfg_name", ["k2", "k4", "k9", "k16", "wide"])
@pytest.mark.parametrize("theme", THEMES)
def test_panel_titles_fit_their_panel_in_a_small_card(cfg_name, theme):
    from app.figures.common import SMALL_PLOT_WIDTH, text_width

    cfg = {**CONFIGS, **MANY}[cfg_name]
    n_k = cfg["kernels"]
    for lang in LANGS:
        for view in ("kernel", "gradients.conv", "conv", "deltas"):
            fig = build_figure(
                view, at_phase(cfg, "update"), cfg, phase="update", theme=theme, lang=lang
            )
            cols = min(n_k, 8) if view == "deltas" else grid_shape(n_k)[1]
            for note in fig["layout"]["annotations"]:
                if note["xref"].endswith(" domain") and note["yanchor"] == "bottom":
                    width = text_width(note["text"], note["font"]["size"])
                    assert width <= SMALL_PLOT_WIDTH / cols, (view, note["text"])


# ------------------------------------------------------------------ winners and pool grid


@pytest.mark.parametrize("theme", THEMES)
@pytest.mark.parametrize("view", ["conv", "conv-delta"])
def test_winner_rings_are_hollow_and_contrast_with_the_cell_they_mark(theme, view):
    cfg = MANY["k4"]
    tensors = at_phase(cfg, "update")
    fig = build_figure(view, tensors, cfg, phase="update", theme=theme)
    maps = heatmaps(fig)
    rings = [tr for tr in fig["data"] if tr["type"] == "scatter"]
    assert len(rings) == len(maps) == cfg["kernels"]
    for hm, tr in zip(maps, rings, strict=True):
        assert tr["meta"]["tensor"] == "pool.winners"
        marker = tr["marker"]
        assert marker["symbol"] == "circle-open"  # no fill: the cell's colour shows through
        assert marker["line"]["width"] >= 1 and marker["size"] >= 4
        assert marker["opacity"] == 1
        scale = hm["colorscale"]
        z = np.array(hm["z"])
        cells = cell_luminance(z[tr["y"], tr["x"]], scale, hm["zmin"], hm["zmax"])
        for colour, lum in zip(marker["color"], cells.tolist(), strict=True):
            assert contrast_ratio(rel_luminance(colour), lum) >= 4.5, (colour, lum)


def test_routed_deltas_stay_visible_inside_the_rings():
    """conv.delta's non-zero cells are the winners: a hollow ring leaves their colour seen."""
    tensors = at_phase(SEED, "update")
    fig = build_figure("conv-delta", tensors, SEED, phase="update")
    (ring,) = [tr for tr in fig["data"] if tr["type"] == "scatter"]
    assert "open" in ring["marker"]["symbol"]
    assert "fill" not in json.dumps(ring["marker"])


@pytest.mark.parametrize("theme", THEMES)
def test_pool_grid_on_the_diverging_delta_map_is_dark_enough_to_see(theme):
    """conv.delta is white at zero: the window lines must not be white."""
    fig = build_figure("conv-delta", at_phase(SEED, "update"), SEED, phase="update", theme=theme)
    (hm,) = heatmaps(fig)
    zero = cell_luminance(np.array([0.0]), hm["colorscale"], hm["zmin"], hm["zmax"])[0]
    colours = {s["line"]["color"] for s in fig["layout"]["shapes"]}
    assert len(colours) == 1
    (colour,) = colours
    assert colour.lower() not in ("#ffffff", "#fff", "white")
    assert contrast_ratio(rel_luminance(colour), zero) >= 3
    # thicker than the one-pixel gaps between cells, so windows read apart from cells
    assert fig["layout"]["shapes"][0]["line"]["width"] > hm.get("xgap", 0)
    assert fig["layout"]["plot_bgcolor"] == THEME_STYLES[theme].cell_gap


def test_tiny_cells_get_no_pool_grid_and_invisible_but_hoverable_rings():
    cfg = MANY["k16"]
    fig = build_figure("conv", at_phase(cfg, "update"), cfg, phase="update")
    assert fig["layout"]["shapes"] == []
    rings = [tr for tr in fig["data"] if tr["type"] == "scatter"]
    assert len(rings) == 16
    assert all(tr["marker"]["opacity"] == 0 for tr in rings)
    assert all(tr["meta"] == {"tensor": "pool.winners", "kernel": i} for i, tr in enumerate(rings))


# ------------------------------------------------------------------ colour bars


@pytest.mark.parametrize("cfg_name", ["seed", "wide", "k4", "k16"])
def test_input_grad_colour_bars_lie_under_their_own_maps(cfg_name):
    cfg = {**CONFIGS, **MANY}[cfg_name]
    fig = build_figure("input-grad", at_phase(cfg, "update"), cfg, phase="update")
    maps = heatmaps(fig)
    bars = [hm for hm in maps if hm["showscale"]]
    assert len(bars) == 2  # ∂E/∂x and rot180(w) have different ranges: one bar each
    grad, rot = bars
    assert grad["meta"] == {"tensor": "input.grad"} and rot["meta"]["tensor"] == "rot180(conv.w)"
    spans = []
    for hm in bars:
        cb = hm["colorbar"]
        assert cb["orientation"] == "h" and cb["yref"] == "container" and cb["y"] == 0
        assert cb["tickvals"] == [-hm["zmax"], 0.0, hm["zmax"]] and hm["zmin"] == -hm["zmax"]
        spans.append((cb["x"] - cb["len"] / 2, cb["x"] + cb["len"] / 2))
        xa, _ = axes_of(fig, hm)
        assert spans[-1][0] >= xa["domain"][0] - 1e-9 and spans[-1][1] <= xa["domain"][1] + 0.45
    assert spans[0][1] < spans[1][0]
    # the bottom margin holds the maps' tick labels and a bar with its labels
    assert fig["layout"]["margin"]["b"] >= 2 * 1.4 * fig["layout"]["font"]["size"] + 10


def test_deltas_colour_bar_spans_only_the_act_delta_maps():
    from app.figures.gradients import DELTA_BARS_Y, DELTA_MAPS_Y

    cfg = MANY["k4"]
    fig = build_figure("deltas", at_phase(cfg, "update"), cfg, phase="update")
    (bar,) = [hm for hm in heatmaps(fig) if hm["showscale"]]
    cb = bar["colorbar"]
    assert cb["y"] == DELTA_MAPS_Y[0] and cb["len"] == DELTA_MAPS_Y[1] - DELTA_MAPS_Y[0]
    (head,) = [a for a in fig["layout"]["annotations"] if a["text"].startswith("act.delta")]
    # the heading sits between the bars' tick labels and the maps' titles
    assert DELTA_MAPS_Y[1] < head["y"] and head["y"] + 0.1 < DELTA_BARS_Y[0]


# ------------------------------------------------------------------ drawn in a browser

SHOTS = Path(__file__).resolve().parents[1] / "screenshots" / "figures" / "test"

# Plotly's own layout after drawing: each axis' pixel offset and length, and the boxes
# of the annotations, the subplots' tick labels and the colour bars.
GEOMETRY_JS = """([data, layout, w, h]) => {
  const gd = document.getElementById('plot');
  gd.style.width = w + 'px'; gd.style.height = h + 'px';
  Plotly.purge(gd);
  return Plotly.newPlot(gd, data, layout, {displayModeBar: false}).then(() => {
    const fl = gd._fullLayout;
    const box = (el) => { const r = el.getBoundingClientRect();
                          return [r.left, r.top, r.right, r.bottom]; };
    const axes = {};
    for (const k of Object.keys(fl)) {
      if (/^[xy]axis\\d*$/.test(k) && fl[k]._length) {
        axes[k] = [fl[k]._offset, fl[k]._length];
      }
    }
    const notes = [...gd.querySelectorAll('.annotation-text-g')].map(
      (a) => ({text: a.textContent, box: box(a)}));
    const ticks = [...gd.querySelectorAll('.subplot .xtick text, .subplot .ytick text')]
      .filter((t) => t.textContent && t.getBoundingClientRect().width > 0)
      .map((t) => ({text: t.textContent, box: box(t),
                    rotated: /rotate\\((?!0[,)])/.test(t.getAttribute('transform') || ''),
                    group: t.closest('.subplot').getAttribute('class')
                           + (t.closest('.xtick') ? ':x' : ':y')}));
    const bars = [...gd.querySelectorAll('.colorbar')].map(box);
    return {axes, notes, ticks, bars};
  });
}"""


def _overlap(a, b, tol=1.0):
    return min(a[2], b[2]) - max(a[0], b[0]) > tol and min(a[3], b[3]) - max(a[1], b[1]) > tol


def _layout_problems(fig, geo, width, height):
    """Overlapping or clipped text, colour bars over data, unequal or non-square panels."""
    problems = []
    texts = [(f"note {n['text']!r}", n["box"]) for n in geo["notes"]]
    texts += [("colour bar", b) for b in geo["bars"]]
    for i, (name, a) in enumerate(texts):
        if a[0] < -1 or a[1] < -1 or a[2] > width + 1 or a[3] > height + 1:
            problems.append(f"{name} clipped")
        for other, b in texts[i + 1 :]:
            if _overlap(a, b):
                problems.append(f"{name} overlaps {other}")
        for tick in geo["ticks"]:
            if _overlap(a, tick["box"]):
                problems.append(f"{name} overlaps tick {tick['text']!r}")
    ticks = geo["ticks"]
    problems += [f"tick {t['text']!r} is turned to fit" for t in ticks if t["rotated"]]
    for i, t1 in enumerate(ticks):
        for t2 in ticks[i + 1 :]:
            if _overlap(t1["box"], t2["box"]):
                problems.append(f"ticks {t1['text']!r} and {t2['text']!r} overlap")
    axes = geo["axes"]
    pairs = fig["layout"]["meta"]["axes"]
    areas = []
    for tr in fig["data"]:
        xa, ya = tr.get("xaxis", "x"), tr.get("yaxis", "y")
        (x0, xl), (y0, yl) = axes[f"xaxis{xa[1:]}"], axes[f"yaxis{ya[1:]}"]
        areas.append((x0, y0, x0 + xl, y0 + yl))
        square = fig["layout"][f"yaxis{ya[1:]}"].get("scaleanchor")
        if tr["type"] == "heatmap" and square:
            rows, cols = len(tr["z"]), len(tr["z"][0])
            if abs(xl / cols - yl / rows) > 0.6:
                problems.append(f"cells of {tr['name']} are not square")
    for bar in geo["bars"]:
        for area in areas:
            if _overlap(bar, area):
                problems.append("a colour bar covers data")
    if len(pairs) > 1:
        sizes = {
            (round(axes[f"xaxis{x[1:]}"][1], 1), round(axes[f"yaxis{y[1:]}"][1], 1))
            for x, y in pairs
        }
        if len(sizes) > 1:
            problems.append(f"panels differ in size: {sizes}")
    return problems


@pytest.fixture(scope="module")
def plot_page(browser):
    plotly_js = Path(go.__file__).resolve().parents[1] / "package_data" / "plotly.min.js"
    page = browser.new_page(viewport={"width": 700, "height": 480})
    errors = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.set_content('<body style="margin:0"><div id="plot"></div></body>')
    page.add_script_tag(path=str(plotly_js))
    yield page
    page.close()
    assert not errors


DRAWN = {"seed": SEED, "k4": MANY["k4"], "wide": WIDE}


@pytest.mark.e2e
@pytest.mark.parametrize("cfg_name", list(DRAWN))
def test_maps_drawn_in_small_and_large_cards_have_no_overlaps(plot_page, cfg_name):
    """As the page draws them (title outside the plot, 30 px on top), at card sizes."""
    cfg = DRAWN[cfg_name]
    tensors = at_phase(cfg, "update")
    m = metrics(cfg)
    SHOTS.mkdir(parents=True, exist_ok=True)
    cases = [("light", 420, 320), ("contrast", 420, 320), ("dark", 640, 420)]
    problems = []
    for view in VIEWS:
        for theme, width, height in cases:
            fig = build_figure(view, tensors, cfg, phase="update", theme=theme, metrics=m)
            layout = {
                **fig["layout"],
                "title": {"text": ""},
                "margin": {**fig["layout"]["margin"], "t": 30},
            }
            geo = plot_page.evaluate(GEOMETRY_JS, [fig["data"], layout, width, height])
            for problem in _layout_problems(fig, geo, width, height):
                problems.append(f"{view} {theme} {width}×{height}: {problem}")
            plot_page.locator("#plot").screenshot(
                path=str(SHOTS / f"{cfg_name}-{view}-{theme}-{width}.png")
            )
    assert not problems, "\n".join(problems)


def test_smoothed_loss_is_a_bias_corrected_moving_average():
    from app.figures.training import ema

    assert ema([2.0, 2.0, 2.0]) == pytest.approx([2.0, 2.0, 2.0])  # flat stays flat
    first_two = ema([4.0, 2.0], alpha=0.5)
    assert first_two[0] == pytest.approx(4.0)
    assert first_two[1] == pytest.approx((0.5 * 2.0 + 0.25 * 4.0) / 0.75)
