"""Network configuration: the keys of API.md's Config table, validated.

`make_config("seed")` is MATH.md §1 to the letter: one 5×5 kernel, no biases,
conv → max pool → sigmoid → 25 → 80 → 10, sigmoid outputs with squared error,
learning rate 0.5.
"""

from dataclasses import dataclass, fields, replace

from .errors import ConfigError

POOLS = ("max", "avg")
ACTIVATIONS = ("sigmoid", "tanh", "relu")
OUTPUTS = ("sigmoid-mse", "softmax-ce")
ORDERS = ("sequential", "shuffled")


@dataclass(frozen=True)
class Config:
    input_size: int = 14
    kernels: int = 1
    kernel_size: int = 5
    pool: str = "max"
    activation: str = "sigmoid"
    hidden: int = 80
    output: str = "sigmoid-mse"
    bias: bool = False
    learning_rate: float = 0.5
    order: str = "shuffled"

    @property
    def conv_size(self) -> int:
        """C: side of each conv map (valid cross-correlation, stride 1)."""
        return self.input_size - self.kernel_size + 1

    @property
    def pool_size(self) -> int:
        """P: side of each pooled map (2×2, stride 2; an odd last row/column is dropped)."""
        return self.conv_size // 2

    @property
    def flat_size(self) -> int:
        """Length of act.out, the input of fc1: K·P·P."""
        return self.kernels * self.pool_size**2

    def to_dict(self) -> dict:
        # every value is a plain int/str/bool/float: no deep copy needed (unlike asdict)
        return {name: getattr(self, name) for name in _KEYS}


_KEYS = tuple(f.name for f in fields(Config))
PRESETS: dict[str, Config] = {"seed": Config()}


def _check_int(key, value, lo, hi, choices=None):
    allowed = " or ".join(map(str, choices)) if choices else f"an integer in {lo}..{hi}"
    if isinstance(value, bool) or not isinstance(value, int):
        raise ConfigError(key, value, allowed)
    if choices is not None and value not in choices:
        raise ConfigError(key, value, allowed)
    if not lo <= value <= hi:
        raise ConfigError(key, value, allowed)


def _check_choice(key, value, choices):
    if value not in choices:
        raise ConfigError(key, value, "one of " + ", ".join(choices))


def validate(config: Config) -> Config:
    """Raise ConfigError naming the key, the value and the allowed range."""
    _check_int("input_size", config.input_size, 14, 28, choices=(14, 28))
    _check_int("kernels", config.kernels, 1, 16)
    _check_int("kernel_size", config.kernel_size, 3, 7)
    _check_choice("pool", config.pool, POOLS)
    _check_choice("activation", config.activation, ACTIVATIONS)
    _check_int("hidden", config.hidden, 1, 256)
    _check_choice("output", config.output, OUTPUTS)
    if not isinstance(config.bias, bool):
        raise ConfigError("bias", config.bias, "true or false")
    lr = config.learning_rate
    if isinstance(lr, bool) or not isinstance(lr, int | float) or not 0 < lr <= 10:
        raise ConfigError("learning_rate", lr, "a number > 0 and ≤ 10")
    _check_choice("order", config.order, ORDERS)
    return replace(config, learning_rate=float(lr))


def make_config(preset: str = "seed", overrides: dict | None = None) -> Config:
    """A preset with some keys overridden, validated."""
    if preset not in PRESETS:
        raise ConfigError("preset", preset, "one of " + ", ".join(PRESETS))
    known = {f.name for f in fields(Config)}
    overrides = dict(overrides or {})
    for key in overrides:
        if key not in known:
            raise ConfigError(key, overrides[key], "a known key: " + ", ".join(sorted(known)))
    return validate(replace(PRESETS[preset], **overrides))
