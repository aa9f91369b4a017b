"""The page's words in English and Chinese: one flat dict per language, dotted keys.

`t(key, lang, **fmt)` looks a text up and fills its `{placeholders}`. Sizes that
depend on the config (`{S}`, `{k}`, `{C}`, `{P}`, `{K}`, `{N}`, `{H}`) default to
the seed network's (MATH §1), so `t("phase.forward.conv.desc", "en")` reads exactly
like the article; pass `**config_fmt(config)` to describe another config.
Tensor names inside texts are the seed aliases (MATH §1, `engine/notation.py`).
"""

from collections import ChainMap

LANGS = ("en", "zh")

# MATH §1: the seed network's sizes, the defaults for every size placeholder.
SEED_FMT: dict[str, int] = {"S": 14, "k": 5, "C": 10, "P": 5, "K": 1, "N": 25, "H": 80}

_EN: dict[str, str] = {
    # Phases (API.md "Phases of the seed config"): a short name and a one-line description.
    "phase.input": "Input",
    "phase.input.desc": "Load the digit x ({S}×{S}) and its one-hot target d",
    "phase.forward.conv": "Forward: convolution",
    "phase.forward.conv.desc": "Convolve x with the {k}×{k} kernel w1cnn → temphicnn ({C}×{C})",
    "phase.forward.pool": "Forward: pooling",
    "phase.forward.pool.desc": (
        "Pool temphicnn over 2×2 windows → hicnn ({P}×{P}) and record the winners (池化位置表)"
    ),
    "phase.forward.act": "Forward: activation",
    "phase.forward.act.desc": "Apply the activation to hicnn and flatten → hocnn ({N} values)",
    "phase.forward.fc1": "Forward: hidden layer",
    "phase.forward.fc1.desc": "h2i = hocnn · w12, then h2o = σ(h2i) ({H} hidden units)",
    "phase.forward.fc2": "Forward: output layer",
    "phase.forward.fc2.desc": "yi = h2o · w2, then yo = σ(yi) (10 outputs)",
    "phase.loss": "Loss",
    "phase.loss.desc": "The error E between the outputs yo and the target d",
    "phase.backward.fc2": "Backward: output layer",
    "phase.backward.fc2.desc": "Output delta δy and the gradient ∂E/∂w2 = h2o · δy",
    "phase.backward.fc1": "Backward: hidden layer",
    "phase.backward.fc1.desc": "Hidden delta δh2 = ds(h2o) · (w2 · δy) and ∂E/∂w12 = hocnn · δh2",
    "phase.backward.act": "Backward: activation",
    "phase.backward.act.desc": "Delta of the pooled values δhicnn = ds(hocnn) · (w12 · δh2)",
    "phase.backward.pool": "Backward: pooling",
    "phase.backward.pool.desc": (
        "Route δhicnn back through the pooling → δtemphicnn ({C}×{C}): "
        "to the winner (max) or ¼ to each cell (avg)"
    ),
    "phase.backward.conv": "Backward: convolution",
    "phase.backward.conv.desc": (
        "Kernel gradient ∂E/∂w1cnn and input gradient ∂E/∂x = full_conv(δ, rot180(w1cnn))"
    ),
    "phase.update": "Update",
    "phase.update.desc": "Update every weight: w ← w − η·∂E/∂w",
    # Figure titles; {name} etc. are labels from engine/notation.py.
    "view.input.title": "Input {name} ({S}×{S})",
    "view.kernel.title": "Kernel {name} ({K}×{k}×{k})",
    "view.conv.title": "Convolution {name} ({K}×{C}×{C}) with its 2×2 pool windows",
    "view.pool.title": "{pool} pooling {name} ({K}×{P}×{P})",
    "view.activations.title": "Activation {name} = {act}({pooled})",
    "view.hidden.title": "Hidden layer {name} ({H} units)",
    "view.output.title": "Output {name} against {target}",
    "view.gradients.conv.title": "Kernel gradient {name}",
    "view.gradients.fc1.title": "Hidden-weight gradient {name} ({N}×{H})",
    "view.gradients.fc2.title": "Output-weight gradient {name} ({H}×10)",
    "view.deltas.title": "Deltas (∂E/∂ each layer's input)",
    "view.conv-delta.title": "Routed delta {name} ({K}×{C}×{C})",
    "view.input-grad.title": "{grad} = full_conv({delta}, rot180({w}))",
    "view.training.title": "Training: loss and held-out accuracy",
    "view.confusion.title": "Confusion matrix (held-out digits)",
    "view.kernels-history.title": "Kernel {name} during training",
    # Messages shown in place of a figure.
    "msg.computed_at": "Computed at phase {phase} — step forward to see it",
    "msg.train_first": "Train to see this",
    "msg.loss": "{name} = {value}",
    "msg.accuracy": "accuracy {value}",
    "msg.routed.max": "zero except the winners",
    "msg.routed.avg": "each cell gets δ/4",
    # Short labels for axes, legends, hovers and subplot titles.
    "label.kernel": "kernel {i}",
    "label.row": "row",
    "label.col": "col",
    "label.value": "value",
    "label.bias": "b = {value}",
    "label.pool.max": "Max",
    "label.pool.avg": "Average",
    "label.winner": "winner",
    "label.pooled_cell": "pooled cell j",
    "label.hidden_unit": "hidden unit m",
    "label.output_unit": "output k",
    "label.digit": "digit",
    "label.true": "true digit",
    "label.predicted": "predicted digit",
    "label.count": "count",
    "label.samples_seen": "samples seen",
    "label.loss_raw": "loss (each sample)",
    "label.loss_smooth": "loss (moving average, α = {alpha})",
    "label.accuracy": "held-out accuracy",
    "label.snapshot": "{n} samples",
    "label.rot180": "rot180({name})",
    # Choices the page offers.
    "theme.light": "Light",
    "theme.dark": "Dark",
    "theme.contrast": "High contrast",
    "lang.en": "English",
    "lang.zh": "中文",
}

_ZH: dict[str, str] = {
    "phase.input": "输入",
    "phase.input.desc": "载入数字图像 x（{S}×{S}）及其独热目标 d",
    "phase.forward.conv": "前向：卷积",
    "phase.forward.conv.desc": "用 {k}×{k} 卷积核 w1cnn 对 x 做卷积 → temphicnn（{C}×{C}）",
    "phase.forward.pool": "前向：池化",
    "phase.forward.pool.desc": "对 temphicnn 做 2×2 池化 → hicnn（{P}×{P}），并记下池化位置表",
    "phase.forward.act": "前向：激活",
    "phase.forward.act.desc": "对 hicnn 做激活并展平 → hocnn（{N} 个值）",
    "phase.forward.fc1": "前向：隐藏层",
    "phase.forward.fc1.desc": "h2i = hocnn · w12，再 h2o = σ(h2i)（{H} 个隐藏单元）",
    "phase.forward.fc2": "前向：输出层",
    "phase.forward.fc2.desc": "yi = h2o · w2，再 yo = σ(yi)（10 个输出）",
    "phase.loss": "误差",
    "phase.loss.desc": "输出 yo 与目标 d 之间的误差 E",
    "phase.backward.fc2": "反向：输出层",
    "phase.backward.fc2.desc": "输出层误差项 δy 与梯度 ∂E/∂w2 = h2o · δy",
    "phase.backward.fc1": "反向：隐藏层",
    "phase.backward.fc1.desc": "隐藏层误差项 δh2 = ds(h2o) · (w2 · δy) 与 ∂E/∂w12 = hocnn · δh2",
    "phase.backward.act": "反向：激活",
    "phase.backward.act.desc": "池化值的误差项 δhicnn = ds(hocnn) · (w12 · δh2)",
    "phase.backward.pool": "反向：池化",
    "phase.backward.pool.desc": (
        "经池化层反传 δhicnn → δtemphicnn（{C}×{C}）：最大池化只给胜出位置，平均池化每格 ¼"
    ),
    "phase.backward.conv": "反向：卷积",
    "phase.backward.conv.desc": (
        "卷积核梯度 ∂E/∂w1cnn 与输入梯度 ∂E/∂x = full_conv(δ, rot180(w1cnn))"
    ),
    "phase.update": "更新",
    "phase.update.desc": "更新所有权重：w ← w − η·∂E/∂w",
    "view.input.title": "输入 {name}（{S}×{S}）",
    "view.kernel.title": "卷积核 {name}（{K}×{k}×{k}）",
    "view.conv.title": "卷积结果 {name}（{K}×{C}×{C}）及 2×2 池化窗口",
    "view.pool.title": "{pool}池化 {name}（{K}×{P}×{P}）",
    "view.activations.title": "激活 {name} = {act}({pooled})",
    "view.hidden.title": "隐藏层 {name}（{H} 个单元）",
    "view.output.title": "输出 {name} 与 {target}",
    "view.gradients.conv.title": "卷积核梯度 {name}",
    "view.gradients.fc1.title": "隐藏层权重梯度 {name}（{N}×{H}）",
    "view.gradients.fc2.title": "输出层权重梯度 {name}（{H}×10）",
    "view.deltas.title": "各层误差项（E 对各层输入的偏导）",
    "view.conv-delta.title": "回传的误差项 {name}（{K}×{C}×{C}）",
    "view.input-grad.title": "{grad} = full_conv({delta}, rot180({w}))",
    "view.training.title": "训练：误差与留出集准确率",
    "view.confusion.title": "混淆矩阵（留出集）",
    "view.kernels-history.title": "训练过程中的卷积核 {name}",
    "msg.computed_at": "在阶段 {phase} 计算——向前单步即可看到",
    "msg.train_first": "先训练才能看到",
    "msg.loss": "{name} = {value}",
    "msg.accuracy": "准确率 {value}",
    "msg.routed.max": "除胜出位置外均为 0",
    "msg.routed.avg": "每格得到 δ/4",
    "label.kernel": "卷积核 {i}",
    "label.row": "行",
    "label.col": "列",
    "label.value": "值",
    "label.bias": "b = {value}",
    "label.pool.max": "最大",
    "label.pool.avg": "平均",
    "label.winner": "胜出位置",
    "label.pooled_cell": "池化单元 j",
    "label.hidden_unit": "隐藏单元 m",
    "label.output_unit": "输出 k",
    "label.digit": "数字",
    "label.true": "真实数字",
    "label.predicted": "预测数字",
    "label.count": "次数",
    "label.samples_seen": "已训练样本数",
    "label.loss_raw": "误差（每个样本）",
    "label.loss_smooth": "误差（滑动平均，α = {alpha}）",
    "label.accuracy": "留出集准确率",
    "label.snapshot": "{n} 个样本",
    "label.rot180": "rot180({name})",
    "theme.light": "浅色",
    "theme.dark": "深色",
    "theme.contrast": "高对比度",
    "lang.en": "English",
    "lang.zh": "中文",
}

TEXTS: dict[str, dict[str, str]] = {"en": _EN, "zh": _ZH}


def t(key: str, lang: str, **fmt) -> str:
    """The text for `key` in `lang` with its placeholders filled.

    Raises KeyError for an unknown language or key, or a placeholder that is
    neither given nor one of the seed sizes in SEED_FMT.
    """
    text = TEXTS[lang][key]
    return text.format_map(ChainMap(fmt, SEED_FMT))


def config_fmt(config: dict) -> dict[str, int]:
    """The size placeholders for one resolved config (MATH §1 and §5: C = S−k+1, P = C//2)."""
    size, k = int(config["input_size"]), int(config["kernel_size"])
    conv = size - k + 1
    pooled = conv // 2
    kernels = int(config["kernels"])
    return {
        "S": size,
        "k": k,
        "C": conv,
        "P": pooled,
        "K": kernels,
        "N": kernels * pooled * pooled,
        "H": int(config["hidden"]),
    }
