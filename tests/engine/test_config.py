"""engine/config.py: the seed preset of MATH.md §1 / API.md, and a ConfigError for every bad
value that tells a person which key, what they sent, and what is allowed."""

import dataclasses

import pytest

from engine import network
from engine.config import PRESETS, Config, make_config
from engine.errors import ConfigError

# API.md's Config table, "seed preset" column
SEED = {
    "input_size": 14, "kernels": 1, "kernel_size": 5, "pool": "max", "activation": "sigmoid",
    "hidden": 80, "output": "sigmoid-mse", "bias": False, "learning_rate": 0.5,
    "order": "shuffled",
}

# what the message must say is allowed, per key
ALLOWED = {
    "input_size": "14 or 28",
    "kernels": "1..16",
    "kernel_size": "3..7",
    "pool": "max, avg",
    "activation": "sigmoid, tanh, relu",
    "hidden": "1..256",
    "output": "sigmoid-mse, softmax-ce",
    "bias": "true or false",
    "learning_rate": "> 0 and ≤ 10",
    "order": "sequential, shuffled",
}

BAD = {
    "input_size": [13, 15, 21, 29, 0, -14, 14.0, "14", True, None],
    "kernels": [0, 17, -1, 1.5, "2", True, False, None],
    "kernel_size": [2, 8, 0, 5.0, "5", True],
    "pool": ["min", "MAX", "", None, 2, ["max"]],
    "activation": ["softmax", "Sigmoid", "", None, 1],
    "hidden": [0, 257, -5, 80.0, "80", True],
    "output": ["mse", "softmax", "sigmoid_mse", None],
    "bias": [1, 0, "true", "false", None],
    "learning_rate": [0, 0.0, -0.1, 10.000001, 11, float("nan"), float("inf"), True, "0.5",
                      None],
    "order": ["random", "Sequential", "", None],
}
CASES = [(key, value) for key, values in BAD.items() for value in values]


def test_seed_preset_is_math_md_section_1():
    config = make_config("seed")
    assert config == PRESETS["seed"] == Config()
    assert config.to_dict() == SEED
    assert isinstance(config.learning_rate, float) and config.bias is False
    assert (config.conv_size, config.pool_size, config.flat_size) == (10, 5, 25)
    assert network.param_shapes(config) == {"conv.w": (1, 5, 5), "fc1.w": (25, 80),
                                            "fc2.w": (80, 10)}


def test_config_keys_are_the_api_table():
    assert [f.name for f in dataclasses.fields(Config)] == list(SEED)


@pytest.mark.parametrize("key,value", CASES, ids=[f"{k}={v!r}" for k, v in CASES])
def test_bad_value_raises_config_error_naming_key_value_and_range(key, value):
    with pytest.raises(ConfigError) as err:
        make_config("seed", {key: value})
    e = err.value
    assert (e.key, e.field) == (key, key)
    assert e.value is value or e.value == value or value != value  # nan != nan
    assert f"'{key}'" in e.message
    assert repr(value) in e.message
    assert ALLOWED[key] in e.message, e.message


@pytest.mark.parametrize("key,values", [
    ("input_size", [14, 28]), ("kernels", [1, 16]), ("kernel_size", [3, 4, 6, 7]),
    ("pool", ["max", "avg"]), ("activation", ["sigmoid", "tanh", "relu"]),
    ("hidden", [1, 256]), ("output", ["sigmoid-mse", "softmax-ce"]), ("bias", [True, False]),
    ("learning_rate", [1e-9, 0.5, 10, 10.0]), ("order", ["sequential", "shuffled"]),
])
def test_every_allowed_value_including_the_bounds_is_accepted(key, values):
    for value in values:
        assert getattr(make_config("seed", {key: value}), key) == value


def test_integer_learning_rate_becomes_a_float():
    config = make_config("seed", {"learning_rate": 2})
    assert config.learning_rate == 2.0 and type(config.learning_rate) is float


@pytest.mark.parametrize("key,value", [("kernels", True), ("hidden", True), ("input_size", True),
                                       ("kernel_size", False), ("learning_rate", True),
                                       ("bias", 1), ("bias", 0)])
def test_bool_and_int_are_not_confused(key, value):
    with pytest.raises(ConfigError) as err:
        make_config("seed", {key: value})
    assert err.value.key == key


def test_unknown_key_raises_config_error_listing_the_known_keys():
    with pytest.raises(ConfigError) as err:
        make_config("seed", {"kernel": 3})
    assert err.value.key == "kernel" and "'kernel'" in err.value.message
    for key in SEED:
        assert key in err.value.message


def test_unknown_preset_raises_config_error():
    with pytest.raises(ConfigError) as err:
        make_config("lenet")
    assert err.value.key == "preset" and "'lenet'" in err.value.message
    assert "seed" in err.value.message


def test_overrides_leave_the_preset_untouched_and_config_is_frozen():
    config = make_config("seed", {"kernels": 4, "pool": "avg"})
    assert (config.kernels, config.pool) == (4, "avg")
    assert PRESETS["seed"].to_dict() == SEED
    with pytest.raises(dataclasses.FrozenInstanceError):
        config.kernels = 2  # type: ignore[misc]
    assert make_config("seed", None) == make_config("seed", {}) == PRESETS["seed"]
