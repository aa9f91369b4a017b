"""The engine package as a whole: it imports nothing of the web app, and engine/layers.py keeps
its documentation honest (shapes in every docstring, every forward beside its backward)."""

import inspect
import re
import subprocess
import sys
from pathlib import Path

from engine import layers

ROOT = Path(__file__).resolve().parents[2]
WEB_MODULES = ("fastapi", "plotly", "jinja2", "starlette", "uvicorn", "pydantic_settings", "app")

# a shape: a parenthesised tuple of dimension names, e.g. (N, K, C, C), (K,), (..., H, W)
SHAPE = re.compile(r"\((?:\.\.\.|[NKCPSDMHk])[^()]*\)")


def test_engine_imports_no_web_framework():
    code = (
        "import sys\n"
        "import engine, engine.stepper, engine.train, engine.explain, engine.gradcheck\n"
        "import engine.image, engine.data, engine.bench, engine.notation\n"
        f"loaded = sorted(m for m in {WEB_MODULES!r} if m in sys.modules)\n"
        "print(','.join(loaded))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                            text=True, timeout=60, check=False)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "", f"engine imported: {result.stdout.strip()}"


def test_engine_source_never_imports_app():
    for path in (ROOT / "engine").glob("*.py"):
        source = path.read_text(encoding="utf-8")
        assert not re.search(r"^\s*(from|import)\s+app\b", source, re.M), path.name


def _public_functions():
    return {name: fn for name, fn in inspect.getmembers(layers, inspect.isfunction)
            if fn.__module__ == layers.__name__ and not name.startswith("_")}


def test_every_public_layer_function_documents_its_shapes():
    functions = _public_functions()
    assert len(functions) >= 15
    for name, fn in functions.items():
        doc = inspect.getdoc(fn)
        assert doc, f"{name} has no docstring"
        assert SHAPE.search(doc), f"{name}'s docstring gives no shape: {doc!r}"


def test_every_forward_has_a_backward_right_beside_it():
    functions = _public_functions()
    forwards = [name for name in functions if name.endswith("_forward")]
    assert {"conv_forward", "maxpool_forward", "avgpool_forward", "activation_forward",
            "dense_forward", "output_forward"} <= set(forwards)
    line = {name: inspect.getsourcelines(fn)[1] for name, fn in functions.items()}
    for forward in forwards:
        backward = forward[: -len("_forward")] + "_backward"
        assert backward in functions, f"{forward} has no {backward}"
        assert line[backward] > line[forward], f"{backward} is not after {forward}"
        between = [n for n in forwards if line[forward] < line[n] < line[backward]]
        assert not between, f"{between} sit between {forward} and {backward}"


def test_every_naive_loop_has_a_vectorised_twin():
    functions = _public_functions()
    naive = [name for name in functions if name.endswith("_naive")]
    assert {"conv_forward_naive", "conv_backward_naive", "maxpool_forward_naive"} <= set(naive)
    for name in naive:
        assert name[: -len("_naive")] in functions, name


def test_layers_module_states_its_conventions_and_the_tie_rule():
    doc = layers.__doc__
    assert "(out, cache)" in doc and "(dx, grads)" in doc
    assert "first maximum" in inspect.getdoc(layers.maxpool_forward)
