"""The seed network as named phases: forward layer by layer, backward layer by layer, update.

A `Pass` holds one forward/backward through the network for a batch of N samples
(the stepper uses N = 1). Each phase function computes exactly the quantities of
its row in MATH.md and writes them, under MATH.md's standard names, into
`pass_.tensors`. The stepper runs these functions one at a time; training runs
them all in a row. Nothing here is sliced out of a larger `train_step`.
"""

from dataclasses import dataclass, field

import numpy as np

from . import layers
from .config import Config

PHASES: tuple[str, ...] = (
    "input",
    "forward.conv",
    "forward.pool",
    "forward.act",
    "forward.fc1",
    "forward.fc2",
    "loss",
    "backward.fc2",
    "backward.fc1",
    "backward.act",
    "backward.pool",
    "backward.conv",
    "update",
)

PHASE_TEXT: dict[str, tuple[str, str]] = {
    "input": ("Load a digit x (14×14) and its one-hot target d", "载入数字图像 x(14×14)和独热目标 d"),
    "forward.conv": (
        "Convolve x with the kernel w1cnn: temphicnn[u,v] = Σ x[u+a,v+b]·w1cnn[a,b]",
        "用卷积核 w1cnn 对 x 卷积:temphicnn[u,v] = Σ x[u+a,v+b]·w1cnn[a,b]",
    ),
    "forward.pool": (
        "2×2 max pool temphicnn → hicnn, recording each winner (the position table)",
        "2×2 最大池化 temphicnn → hicnn,并记录每个最大值的位置(池化位置表)",
    ),
    "forward.act": ("Sigmoid of the pooled values: hocnn = σ(hicnn)", "对池化结果取 sigmoid:hocnn = σ(hicnn)"),
    "forward.fc1": ("Hidden layer: h2i = hocnn·w12, h2o = σ(h2i)", "隐藏层:h2i = hocnn·w12,h2o = σ(h2i)"),
    "forward.fc2": ("Output layer: yi = h2o·w2, yo = σ(yi)", "输出层:yi = h2o·w2,yo = σ(yi)"),
    "loss": ("Error E = ½ Σ (yo − d)²", "误差 E = ½ Σ (yo − d)²"),
    "backward.fc2": (
        "Output delta δy = (yo − d)·ds(yo) and ∂E/∂w2 = h2o·δy",
        "输出层误差项 δy = (yo − d)·ds(yo),∂E/∂w2 = h2o·δy",
    ),
    "backward.fc1": (
        "Hidden delta δh2 = ds(h2o)·Σ w2·δy and ∂E/∂w12 = hocnn·δh2",
        "隐藏层误差项 δh2 = ds(h2o)·Σ w2·δy,∂E/∂w12 = hocnn·δh2",
    ),
    "backward.act": (
        "Pooled delta = ds(hocnn)·Σ w12·δh2",
        "池化层误差项 = ds(hocnn)·Σ w12·δh2",
    ),
    "backward.pool": (
        "Route each pooled delta to its winner in the 10×10 map (0 elsewhere)",
        "把每个池化误差项送回 10×10 图中的最大值位置(其余为 0)",
    ),
    "backward.conv": (
        "∂E/∂w1cnn = Σ δ[u,v]·x[u+a,v+b]; ∂E/∂x = full_conv(δ, rot180(w1cnn))",
        "∂E/∂w1cnn = Σ δ[u,v]·x[u+a,v+b];∂E/∂x = full_conv(δ, rot180(w1cnn))",
    ),
    "update": ("Gradient step: w ← w − η·∂E/∂w", "梯度下降更新:w ← w − η·∂E/∂w"),
}

PARAM_LAYERS = ("conv", "fc1", "fc2")


def param_names(config: Config) -> tuple[str, ...]:
    """`conv.w`, `fc1.w`, `fc2.w`, and with biases `conv.b`, `fc1.b`, `fc2.b`."""
    names = tuple(f"{layer}.w" for layer in PARAM_LAYERS)
    if config.bias:
        names += tuple(f"{layer}.b" for layer in PARAM_LAYERS)
    return names


def param_shapes(config: Config) -> dict[str, tuple[int, ...]]:
    k, kernels, hidden = config.kernel_size, config.kernels, config.hidden
    shapes = {
        "conv.w": (kernels, k, k),
        "fc1.w": (config.flat_size, hidden),
        "fc2.w": (hidden, 10),
        "conv.b": (kernels,),
        "fc1.b": (hidden,),
        "fc2.b": (10,),
    }
    return {name: shapes[name] for name in param_names(config)}


def init_params(config: Config, seed: int) -> dict[str, np.ndarray]:
    """MATH §7: kernel uniform(−0.5, 0.5), dense weights uniform(−0.25, 0.25), biases 0."""
    rng = np.random.default_rng(seed)
    params = {
        "conv.w": rng.uniform(-0.5, 0.5, param_shapes(config)["conv.w"]),
        "fc1.w": rng.uniform(-0.25, 0.25, (config.flat_size, config.hidden)),
        "fc2.w": rng.uniform(-0.25, 0.25, (config.hidden, 10)),
    }
    if config.bias:
        params.update(
            {"conv.b": np.zeros(config.kernels), "fc1.b": np.zeros(config.hidden),
             "fc2.b": np.zeros(10)}
        )
    return params


def one_hot(labels) -> np.ndarray:
    """d: (N,) labels -> (N, 10)."""
    labels = np.asarray(labels).reshape(-1)
    out = np.zeros((labels.size, 10))
    out[np.arange(labels.size), labels] = 1.0
    return out


@dataclass
class Pass:
    """One pass through the network for a batch x (N, S, S) with targets (N, 10)."""

    config: Config
    params: dict[str, np.ndarray]
    x: np.ndarray
    target: np.ndarray
    tensors: dict[str, np.ndarray] = field(default_factory=dict)
    caches: dict[str, object] = field(default_factory=dict)
    new_params: dict[str, np.ndarray] | None = None
    input_grad: bool = True  # compute ∂E/∂x (for the views; training does not need it)

    @property
    def n(self) -> int:
        return self.x.shape[0]


def load_input(ps: Pass) -> None:
    ps.tensors["x"], ps.tensors["target"] = ps.x, ps.target


def forward_conv(ps: Pass) -> None:
    ps.tensors["conv.z"], ps.caches["conv"] = layers.conv_forward(
        ps.x, ps.params["conv.w"], ps.params.get("conv.b")
    )


def forward_pool(ps: Pass) -> None:
    pool = layers.maxpool_forward if ps.config.pool == "max" else layers.avgpool_forward
    ps.tensors["pool.out"], cache = pool(ps.tensors["conv.z"])
    ps.caches["pool"] = cache
    if cache.winners is not None:
        ps.tensors["pool.winners"] = cache.winners


def forward_act(ps: Pass) -> None:
    # MATH §1: the activation follows the pool; flatten kernel-major, then row-major
    pooled = ps.tensors["pool.out"].reshape(ps.n, -1)
    ps.tensors["act.out"] = layers.activation_forward(pooled, ps.config.activation)


def forward_fc1(ps: Pass) -> None:
    z = layers.dense_forward(ps.tensors["act.out"], ps.params["fc1.w"], ps.params.get("fc1.b"))
    ps.tensors["fc1.z"], ps.tensors["fc1.out"] = z, layers.activation_forward(
        z, ps.config.activation
    )


def forward_fc2(ps: Pass) -> None:
    z = layers.dense_forward(ps.tensors["fc1.out"], ps.params["fc2.w"], ps.params.get("fc2.b"))
    yo, loss = layers.output_forward(z, ps.target, ps.config.output)
    ps.tensors["fc2.z"], ps.tensors["fc2.out"] = z, yo
    ps.caches["loss"] = loss


def compute_loss(ps: Pass) -> None:
    ps.tensors["loss"] = ps.caches["loss"]


def _store_grads(ps: Pass, layer: str, grads: dict) -> None:
    ps.tensors[f"grads.{layer}.w"] = grads["w"]
    if ps.config.bias:
        ps.tensors[f"grads.{layer}.b"] = grads["b"]


def backward_fc2(ps: Pass) -> None:
    delta = layers.output_delta(ps.tensors["fc2.out"], ps.target, ps.config.output)
    _, grads = layers.dense_backward(delta, ps.tensors["fc1.out"], ps.params["fc2.w"])
    ps.tensors["fc2.delta"] = delta
    _store_grads(ps, "fc2", grads)


def backward_fc1(ps: Pass) -> None:
    # MATH §3: δh2[m] = ds(h2o[m]) · Σ_k w2[m,k]·δy[k]
    dout = ps.tensors["fc2.delta"] @ ps.params["fc2.w"].T
    delta = layers.activation_backward(dout, ps.tensors["fc1.out"], ps.config.activation)
    _, grads = layers.dense_backward(delta, ps.tensors["act.out"], ps.params["fc1.w"])
    ps.tensors["fc1.delta"] = delta
    _store_grads(ps, "fc1", grads)


def backward_act(ps: Pass) -> None:
    # MATH §3: pooled delta[j] = ds(hocnn[j]) · Σ_m w12[j,m]·δh2[m]
    dout = ps.tensors["fc1.delta"] @ ps.params["fc1.w"].T
    ps.tensors["act.delta"] = layers.activation_backward(
        dout, ps.tensors["act.out"], ps.config.activation
    )


def backward_pool(ps: Pass) -> None:
    dp = ps.tensors["act.delta"].reshape(ps.tensors["pool.out"].shape)
    route = layers.maxpool_backward if ps.config.pool == "max" else layers.avgpool_backward
    ps.tensors["conv.delta"] = route(dp, ps.caches["pool"])


def backward_conv(ps: Pass) -> None:
    dx, grads = layers.conv_backward(ps.tensors["conv.delta"], ps.caches["conv"], ps.input_grad)
    if dx is not None:
        ps.tensors["input.grad"] = dx
    _store_grads(ps, "conv", grads)


def update(ps: Pass) -> None:
    """Plain SGD (MATH §3): w ← w − η·∂E/∂w, the gradient averaged over the batch."""
    step = ps.config.learning_rate / ps.n
    ps.new_params = {
        name: value - step * ps.tensors[f"grads.{name}"] for name, value in ps.params.items()
    }


PHASE_FUNCTIONS = {
    "input": load_input,
    "forward.conv": forward_conv,
    "forward.pool": forward_pool,
    "forward.act": forward_act,
    "forward.fc1": forward_fc1,
    "forward.fc2": forward_fc2,
    "loss": compute_loss,
    "backward.fc2": backward_fc2,
    "backward.fc1": backward_fc1,
    "backward.act": backward_act,
    "backward.pool": backward_pool,
    "backward.conv": backward_conv,
    "update": update,
}


def run(ps: Pass, upto: str = "update") -> Pass:
    """Run the phases from `input` through `upto`, in order."""
    for phase in PHASES[: PHASES.index(upto) + 1]:
        PHASE_FUNCTIONS[phase](ps)
    return ps


def loss_of(config: Config, params: dict, x: np.ndarray, target: np.ndarray) -> float:
    """Total E over a batch for given parameters (used by the gradient check)."""
    return float(run(Pass(config, params, x, target), upto="loss").tensors["loss"].sum())


def predict(config: Config, params: dict, x: np.ndarray) -> np.ndarray:
    """Network outputs yo (N, 10) for a batch of inputs."""
    ps = Pass(config, params, x, np.zeros((x.shape[0], 10)))
    return run(ps, upto="forward.fc2").tensors["fc2.out"]
