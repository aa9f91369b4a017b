"""The one table of names: MATH.md's standard names beside the seed articles' aliases.

Labels on the page and the API's `?alias=seed` read this table; nothing else
hard-codes an article name.
"""

# MATH §1 and §3: standard name -> the article's own name.
SEED_ALIASES: dict[str, str] = {
    "x": "x",
    "target": "d",
    "conv.w": "w1cnn",
    "conv.b": "b1cnn",
    "conv.z": "temphicnn",
    "pool.out": "hicnn",
    "pool.winners": "池化位置表",
    "act.out": "hocnn",
    "fc1.w": "w12",
    "fc1.b": "b12",
    "fc1.z": "h2i",
    "fc1.out": "h2o",
    "fc2.w": "w2",
    "fc2.b": "b2",
    "fc2.z": "yi",
    "fc2.out": "yo",
    "loss": "E",
    "fc2.delta": "δy",
    "fc1.delta": "δh2",
    "act.delta": "δhicnn",
    "conv.delta": "δtemphicnn",
    "input.grad": "∂E/∂x",
}

PREFIXES = ("params.", "grads.")


def to_seed(name: str) -> str:
    """Standard name -> seed alias (`grads.conv.w` -> `grads.w1cnn`); unknown names pass through."""
    for prefix in PREFIXES:
        if name.startswith(prefix):
            return prefix + to_seed(name[len(prefix):])
    return SEED_ALIASES.get(name, name)


_FROM_SEED = {alias: name for name, alias in SEED_ALIASES.items()}


def to_standard(name: str) -> str:
    """Seed alias or standard name -> standard name (`w1cnn` -> `conv.w`)."""
    for prefix in PREFIXES:
        if name.startswith(prefix):
            return prefix + to_standard(name[len(prefix):])
    return _FROM_SEED.get(name, name)


def label(name: str, seed_notation: bool = False) -> str:
    """Display label: both names ('conv.z · temphicnn'), or the alias alone in seed notation."""
    alias = to_seed(name)
    if seed_notation:
        return alias
    return name if alias == name else f"{name} · {alias}"
