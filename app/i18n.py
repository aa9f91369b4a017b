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
    "label.loss_raw": "loss (mean over each stretch of samples)",
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
    "label.loss_raw": "误差（每段样本的平均）",
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

# The input and training panels (UI.md "Input and training"; templates/partials/input.html,
# training.html). Texts with {done}, {label}… are filled in the browser.
_EN.update({
    "ui.input.title": "Input: pick a digit, draw one or upload a picture",
    "ui.input.open_hint": "click to open or close",
    "ui.input.dataset": "From the dataset",
    "ui.input.index": "Digit #",
    "ui.input.prev": "◀ Previous",
    "ui.input.next": "Next ▶",
    "ui.input.label_filter": "Only",
    "ui.input.any": "any digit",
    "ui.input.random": "Random",
    "ui.input.split": "Digits 0–7999 are for training, 8000–9999 are held out to measure accuracy.",
    "ui.input.thumbnails": "Digits near this one: click one to load it.",
    "ui.input.draw": "Draw a digit",
    "ui.input.draw_hint": "With the mouse, a pen or a finger: one thick digit filling the box.",
    "ui.input.canvas_label": "Drawing area: draw a digit here",
    "ui.input.pad_hint": "✎ draw here",
    "ui.input.target": "Which digit is it? (target d)",
    "ui.input.choose": "choose…",
    "ui.input.use": "Use as input",
    "ui.input.undo": "↶ Undo",
    "ui.input.clear": "Clear",
    "ui.input.upload": "Or upload a photo or scan of one digit",
    "ui.input.upload_hint": "PNG or JPEG, at most 5 MB and 4096×4096 pixels.",
    "ui.input.sees": "What the network sees",
    "ui.input.sees_hint": (
        "Your digit goes through the same conversion as the dataset: dark ink on light paper is "
        "inverted, cropped, scaled so its longer side is 20 px and centred by its mass in 28×28."
    ),
    "ui.input.x28": "MNIST style, 28×28",
    "ui.input.x": "x, {S}×{S}: what the network reads",
    "ui.input.x_mean": "each pixel the mean of a 2×2 block",
    "ui.input.no28": "given as {S}×{S} pixels",
    "ui.input.msg.need_label": "Choose which digit it is (the target d) first.",
    "ui.input.msg.empty": "The canvas is empty: draw a digit first.",
    "ui.input.msg.loading": "Converting…",
    "ui.input.msg.loaded": "New input: {what}, target d = {label}.",
    "ui.input.to_training": "Training ↓",
    "ui.input.msg.too_big": "{name} is {size} MB; the limit is 5 MB: choose a smaller picture.",
    "ui.input.what.dataset": "digit #{index}",
    "ui.input.what.drawing": "your drawing",
    "ui.input.target_now": "target d = {label}",
    "ui.train.title": "Training",
    "ui.train.hint": (
        "Trains in the background from the current weights on the next digits of the sample "
        "order; the views above refresh when it ends."
    ),
    "ui.train.train": "Train",
    "ui.train.samples": "samples",
    "ui.train.epochs": "epochs (1 epoch = the 8000 training digits)",
    "ui.train.batch": "Batch size",
    "ui.train.batch_1": "1: per sample, as in the articles",
    "ui.train.batch_n": "{n}: mini-batch",
    "ui.train.batch_hint": (
        "Batch 1 updates the weights after every digit. A mini-batch averages the gradient of "
        "several digits per update: fewer, smoother steps."
    ),
    "ui.train.start": "Start ▶",
    "ui.train.stop": "Stop ■",
    "ui.train.evaluate": "Evaluate now",
    "ui.train.progress_label": "Training progress",
    "ui.train.live": "loss while training (live)",
    "ui.train.idle": "No training job running.",
    "ui.train.starting": "Starting…",
    "ui.train.running": "{done} / {total} samples · {rate} samples/s · {eta} left",
    "ui.train.done": "Done: {done} samples at {rate} samples/s.",
    "ui.train.stopped": "Stopped after {done} of {total} samples.",
    "ui.train.failed": "Training failed: {error}",
    "ui.train.seconds": "{s} s",
    "ui.train.minutes": "{m} min {s} s",
    "ui.train.summary": "Trained on {seen} samples ({updates} updates) · held-out accuracy "
                        "{accuracy} after {at} samples",
    "ui.train.summary_none": "Trained on {seen} samples ({updates} updates) · not evaluated "
                             "yet",
    "ui.train.evaluating": "Evaluating on the 2000 held-out digits…",
    "ui.train.evaluated": "Held-out accuracy: {accuracy}.",
    "ui.train.readonly": "Only the session's owner can train it; these views update live.",
    "ui.train.worst": "Worst-classified held-out digits",
    "ui.train.worst_hint": (
        "The held-out digits whose true class got the lowest output (true → predicted). "
        "Click one to load it as the input and step through why."
    ),
    "ui.train.worst_item": "held-out digit #{index}: true {label}, predicted {predicted}, "
                           "output for {label}: {score}",
    "ui.train.worst_none": "Train or evaluate to see them.",
    "ui.caption.training": (
        "Loss per stretch of samples (faint) and its moving average (thick); held-out accuracy "
        "(right axis) after each job or evaluation."
    ),
    "ui.caption.confusion": (
        "The 2000 held-out digits: true digit per row, predicted per column; the diagonal "
        "holds the correct answers."
    ),
    "ui.caption.kernels-history": (
        "The {k}×{k} kernel at snapshots during training, in reading order: watch it take shape."
    ),
})
_ZH.update({
    "ui.input.title": "输入：选一个数字、自己画一个或上传图片",
    "ui.input.open_hint": "点击展开或收起",
    "ui.input.dataset": "从数据集中选",
    "ui.input.index": "数字编号 #",
    "ui.input.prev": "◀ 上一个",
    "ui.input.next": "下一个 ▶",
    "ui.input.label_filter": "只看",
    "ui.input.any": "任意数字",
    "ui.input.random": "随机",
    "ui.input.split": "编号 0–7999 用于训练，8000–9999 留出用于测量准确率。",
    "ui.input.thumbnails": "附近的数字：点击即可载入。",
    "ui.input.draw": "画一个数字",
    "ui.input.draw_hint": "用鼠标、手写笔或手指：画一个粗笔画的数字，尽量占满方框。",
    "ui.input.canvas_label": "绘图区：在这里画一个数字",
    "ui.input.pad_hint": "✎ 在这里画",
    "ui.input.target": "这是哪个数字？（目标 d）",
    "ui.input.choose": "请选择…",
    "ui.input.use": "用作输入",
    "ui.input.undo": "↶ 撤销",
    "ui.input.clear": "清除",
    "ui.input.upload": "或上传一张单个数字的照片或扫描图",
    "ui.input.upload_hint": "PNG 或 JPEG，最大 5 MB、4096×4096 像素。",
    "ui.input.sees": "网络看到的是什么",
    "ui.input.sees_hint": (
        "你的数字与数据集经过同样的转换：浅色纸上的深色笔迹先反色，再裁剪、缩放到长边 20 像素，"
        "并按质心放在 28×28 的中央。"
    ),
    "ui.input.x28": "MNIST 风格，28×28",
    "ui.input.x": "x，{S}×{S}：网络读取的输入",
    "ui.input.x_mean": "每个像素是 2×2 块的平均值",
    "ui.input.no28": "直接给出的 {S}×{S} 像素",
    "ui.input.msg.need_label": "请先选择这是哪个数字（目标 d）。",
    "ui.input.msg.empty": "画布是空的：请先画一个数字。",
    "ui.input.msg.loading": "转换中…",
    "ui.input.msg.loaded": "新的输入：{what}，目标 d = {label}。",
    "ui.input.to_training": "训练 ↓",
    "ui.input.msg.too_big": "{name} 有 {size} MB；上限为 5 MB：请选择更小的图片。",
    "ui.input.what.dataset": "数字 #{index}",
    "ui.input.what.drawing": "你画的数字",
    "ui.input.target_now": "目标 d = {label}",
    "ui.train.title": "训练",
    "ui.train.hint": "在后台从当前权重出发，用样本顺序中接下来的数字训练；结束后上方各图会刷新。",
    "ui.train.train": "训练",
    "ui.train.samples": "个样本",
    "ui.train.epochs": "轮（1 轮 = 8000 个训练数字）",
    "ui.train.batch": "批大小",
    "ui.train.batch_1": "1：逐样本，与原文相同",
    "ui.train.batch_n": "{n}：小批量",
    "ui.train.batch_hint": "批大小为 1 时每个数字之后都更新权重。小批量把几个数字的梯度平均后再更新：步数更少、更平稳。",
    "ui.train.start": "开始 ▶",
    "ui.train.stop": "停止 ■",
    "ui.train.evaluate": "立即评估",
    "ui.train.progress_label": "训练进度",
    "ui.train.live": "训练中的误差（实时）",
    "ui.train.idle": "没有正在运行的训练任务。",
    "ui.train.starting": "正在启动…",
    "ui.train.running": "{done} / {total} 个样本 · 每秒 {rate} 个 · 还需 {eta}",
    "ui.train.done": "完成：{done} 个样本，每秒 {rate} 个。",
    "ui.train.stopped": "已在 {total} 个样本中的第 {done} 个后停止。",
    "ui.train.failed": "训练失败：{error}",
    "ui.train.seconds": "{s} 秒",
    "ui.train.minutes": "{m} 分 {s} 秒",
    "ui.train.summary": "已训练 {seen} 个样本（{updates} 次更新）· 训练 {at} 个样本后留出集准确率 {accuracy}",
    "ui.train.summary_none": "已训练 {seen} 个样本（{updates} 次更新）· 尚未评估",
    "ui.train.evaluating": "正在用 2000 个留出数字评估…",
    "ui.train.evaluated": "留出集准确率：{accuracy}。",
    "ui.train.readonly": "只有会话的创建者可以训练；这些图会实时更新。",
    "ui.train.worst": "分类最差的留出数字",
    "ui.train.worst_hint": "真实类别输出最低的留出数字（真实 → 预测）。点击即可载入为输入，逐步查看原因。",
    "ui.train.worst_item": "留出数字 #{index}：真实 {label}，预测 {predicted}，{label} 的输出 {score}",
    "ui.train.worst_none": "训练或评估后即可看到。",
    "ui.caption.training": "每段样本的误差（浅色）及其滑动平均（粗线）；每次训练或评估后的留出集准确率（右轴）。",
    "ui.caption.confusion": "2000 个留出数字：每行是真实数字，每列是预测数字；对角线上是答对的。",
    "ui.caption.kernels-history": "训练过程中各个时刻的 {k}×{k} 卷积核，按阅读顺序排列：看它逐渐成形。",
})

# The page's own words: templates read them through partials/ui.html `ui.t`, scripts
# through data-* attributes (no string lives in the templates or the JavaScript).
# {value}, {param}, {phase}, {name} are filled in the browser; the sizes as above.
_EN.update({
    "ui.app_name": "backprop-lens",
    "ui.sample": "Sample",
    "ui.label": "label",
    "ui.step": "Step ▶",
    "ui.back": "◀ Back",
    "ui.next_sample": "Next sample »",
    "ui.play": "Play ▷",
    "ui.pause": "Pause ‖",
    "ui.speed": "Speed (steps/s)",
    "ui.reset": "Reset ↺",
    "ui.learning_rate": "Learning rate η",
    "ui.settings": "Network settings…",
    "ui.theme": "Theme",
    "ui.lang": "Language",
    "ui.keys": (
        "Keys: → step · ← back · Space play · N next sample · R reset · F presenter · click a "
        "layer or an arrow to jump there"
    ),
    "ui.readonly": "Read-only: only the browser that created this session can step it.",
    "ui.follow": "Following live: this page updates when the presenter steps.",
    "ui.strip.label": "The network, layer by layer",
    "ui.strip.update": "update",
    "ui.section.forward": "Forward pass: feature maps",
    "ui.section.backward": "Backward pass: deltas and gradients",
    "ui.section.pool_table": "Position table (池化位置表)",
    "ui.pool_table.caption": (
        "One row per pooled cell, in both conventions: standard (row, col) and, in italics, the "
        "article's (i, j) with i = column, j = row. Point at a row, or at a cell of the "
        "convolution or pooling map, to outline its 2×2 window, its winner (dotted) and the "
        "{k}×{k} receptive field in x."
    ),
    "ui.pool_table.empty": "Filled at phase forward.pool — step forward to see it",
    "ui.col.kernel": "kernel",
    "ui.col.rowcol": "(row, col)",
    "ui.col.seed_ij": "(i, j)",
    "ui.col.winner": "winner (dr, dc)",
    "ui.col.seed_winner": "(dx, dy)",
    "ui.col.value": "value",
    "ui.col.index_conv": "index {C}×{C}",
    "ui.col.start": "start {S}×{S} (row, col)",
    "ui.col.start_index": "start index",
    "ui.col.delta": "routed δ",
    "ui.caption.input": "The digit the network sees: {S}×{S} pixel values from 0 to 1.",
    "ui.caption.kernel": (
        "The shared {k}×{k} weights slid over x. Click a cell to inspect its gradient."
    ),
    "ui.caption.conv": (
        "Each cell is Σ x·w over one {k}×{k} patch of x. Lines mark the 2×2 pool windows, "
        "circles each window's winner."
    ),
    "ui.caption.pool": "One value per 2×2 window of the convolution map.",
    "ui.caption.activations": (
        "The activation of each pooled value: the {N} inputs of the hidden layer."
    ),
    "ui.caption.hidden": "The {H} hidden units, each σ(hocnn · w12).",
    "ui.caption.output": (
        "The 10 outputs yo beside the one-hot target d; the loss E measures how far apart they "
        "are."
    ),
    "ui.caption.gradients.conv": (
        "How E changes with each kernel weight. Click a cell to see its chain rule."
    ),
    "ui.caption.gradients.fc1": (
        "Rows: pooled cells j, columns: hidden units m; each cell is hocnn[j]·δh2[m]. Click a "
        "cell."
    ),
    "ui.caption.gradients.fc2": (
        "Rows: hidden units m, columns: outputs k; each cell is h2o[m]·δy[k]. Click a cell."
    ),
    "ui.caption.deltas": (
        "δy, δh2 and δhicnn: the derivative of E with respect to each layer's input, computed "
        "from the output back."
    ),
    "ui.caption.conv-delta": (
        "Each pooled cell's δ sent back into its 2×2 window of the convolution map."
    ),
    "ui.caption.input-grad": (
        "∂E/∂x: the routed delta convolved (full) with the kernel turned by 180°, shown on the "
        "right."
    ),
    "ui.view.fresh": "computed in this phase",
    "ui.show_fresh": "show ↓",
    "ui.colour_note": "Signed maps: blue negative, white zero, orange positive.",
    "ui.inspector.title": "Weight inspector",
    "ui.inspector.hint": (
        "Click any cell of the kernel or of a gradient map to see its chain-rule formula with "
        "the live numbers."
    ),
    "ui.inspector.close": "Close ✕",
    "ui.inspector.formula": "Formula",
    "ui.inspector.terms": "Terms of the sum",
    "ui.inspector.sum": "Sum of the terms",
    "ui.inspector.gradient": "Engine's gradient",
    "ui.inspector.numeric": "Numerical check (E(w+h) − E(w−h)) / 2h",
    "ui.inspector.waiting": (
        "The gradient of {param} is computed at phase {phase}; the inspector fills in when you "
        "get there."
    ),
    "ui.gradcheck.title": "Gradient check",
    "ui.gradcheck.hint": (
        "Compares each analytic gradient with central differences (E(w+h) − E(w−h)) / 2h."
    ),
    "ui.gradcheck.run": "Run gradient check",
    "ui.gradcheck.running": "Checking…",
    "ui.gradcheck.tensor": "tensor",
    "ui.gradcheck.checked": "entries checked",
    "ui.gradcheck.kinks": "at kinks",
    "ui.gradcheck.max_rel": "max relative error",
    "ui.gradcheck.result": "result",
    "ui.gradcheck.pass": "pass ✓",
    "ui.gradcheck.fail": "fail ✗",
    "ui.gradcheck.tolerance": "tolerance",
    "ui.gradcheck.all_passed": "All tensors pass.",
    "ui.gradcheck.some_failed": "Some tensors fail.",
    "ui.config.title": "Network settings",
    "ui.config.hint": (
        "Creating a session with these settings opens it in this tab; the current session stays "
        "available at its link."
    ),
    "ui.config.input_size": "Input size",
    "ui.config.kernels": "Kernels K",
    "ui.config.kernel_size": "Kernel size k",
    "ui.config.pool": "Pooling (2×2)",
    "ui.config.activation": "Activation",
    "ui.config.hidden": "Hidden units H",
    "ui.config.output": "Output and loss",
    "ui.config.bias": "Biases",
    "ui.config.learning_rate": "Learning rate η",
    "ui.config.order": "Sample order",
    "ui.config.seed": "Random seed",
    "ui.config.create": "Create session",
    "ui.config.cancel": "Cancel",
    "ui.status.loading": "Loading…",
    "ui.status.ready": "Ready.",
    "ui.status.creating": "Creating a new session…",
    "ui.status.lr_set": "Learning rate set to {value}.",
    "ui.status.live": "Live: following the presenter.",
    "ui.status.reconnecting": "Connection lost — reconnecting…",
    "ui.status.presenter": "Presenter mode (F to leave).",
    # Classroom (UI.md "Classroom"): presenter and follow modes, preferences, share and
    # export; `ui.plotly.*` are Plotly's toolbar tooltips, `error.*` the API's error codes.
    "ui.strip.route": "route δ",
    "ui.classroom.label": "Classroom",
    "ui.presenter.toggle": "Presenter mode (F)",
    "ui.presenter.toggle_title": (
        "Full screen, large type, one view or a pair at a time, keyboard only (key F)"
    ),
    "ui.seed_notation": "Article names",
    "ui.seed_notation.title": (
        "Label everything with the seed articles' names: w1cnn, temphicnn, hicnn, hocnn, h2o, "
        "yo, d, E"
    ),
    "ui.classroom.jump": "Follow link, share and export ↓",
    "ui.fork": "Fork: my own copy",
    "ui.fork.title": (
        "A new session with this one's state that you can step and change; the original stays as "
        "it is"
    ),
    "ui.fork.working": "Making your own copy…",
    "ui.share.title": "Classroom: follow, share and export",
    "ui.share.follow": "Follow link for students (read-only, updates live)",
    "ui.share.follow_hint": (
        "Students open this link or scan the code: their page follows every step taken here and "
        "cannot change this session."
    ),
    "ui.share.qr_alt": "QR code of the follow link",
    "ui.share.local_hint": (
        "This address only works on this computer: open the page through its network address "
        "(such as http://192.168.1.20:8000) so that students' devices can reach it."
    ),
    "ui.share.link": (
        "Link that rebuilds this session (config, seed, sample, phase) on any server"
    ),
    "ui.share.link_hint": (
        "The link rebuilds the network from its random seed: weights changed by updates or "
        "training travel only in the JSON export."
    ),
    "ui.share.link_no_sample": (
        "The input is a drawing or an upload, which a link cannot carry: export the JSON to keep "
        "it."
    ),
    "ui.share.copy": "Copy",
    "ui.share.copied": "Copied to the clipboard.",
    "ui.export.title": "Export",
    "ui.export.json": "Session as JSON ⤓",
    "ui.export.json_title": (
        "Config, seed, phase, counters, weights, sample and metrics: open it here or on another "
        "server to continue exactly where you are"
    ),
    "ui.export.npz": "Weights as .npz ⤓",
    "ui.export.npz_title": "The weights at this phase, for NumPy: np.load(file)",
    "ui.export.figures": (
        "Each figure: PNG or SVG from the camera and disk buttons at its top right."
    ),
    "ui.import.label": "Open an exported JSON as a new session",
    "ui.import.working": "Opening {name}…",
    "ui.import.bad_file": "{name} is not a backprop-lens JSON export.",
    "ui.presenter.view": "Show",
    "ui.presenter.auto": "Auto: this phase's views",
    "ui.presenter.keys": (
        "→ step · ← back · Space play · N next sample · V next view · Q QR code · F or Esc leave"
    ),
    "ui.presenter.follow": "Follow on your device:",
    "ui.presenter.qr_close": "Q or Esc: close",
    "ui.status.deleted": "The presenter's session has ended.",
    "ui.plotly.png": "Download plot as PNG",
    "ui.plotly.svg": "Download plot as SVG",
    "ui.plotly.zoom": "Zoom",
    "ui.plotly.pan": "Pan",
    "ui.plotly.zoom_in": "Zoom in",
    "ui.plotly.zoom_out": "Zoom out",
    "ui.plotly.autoscale": "Autoscale",
    "ui.plotly.reset_axes": "Reset axes",
    "ui.plotly.double_click": "Double-click to zoom back out",
    "ui.plotly.box_select": "Box Select",
    "ui.plotly.lasso_select": "Lasso Select",
    "ui.plotly.spikes": "Toggle Spike Lines",
    "ui.plotly.closest": "Show closest data on hover",
    "ui.plotly.compare": "Compare data on hover",
    "ui.plotly.legend_isolate": "Double-click on legend to isolate one trace",
    "error.generic": "Something went wrong",
    "error.network": "The server cannot be reached: check the connection",
    "error.invalid_request": "A value in the request is not accepted",
    "error.unauthorized": "Only the browser that created this session can change it",
    "error.forbidden": "This session belongs to someone else: fork it to get your own copy",
    "error.session_not_found": "No such session (it may have expired)",
    "error.busy": "The session is busy: try again in a moment",
    "error.training_running": "A training job is running: stop it or wait until it ends",
    "error.invalid_config": "A network setting is out of range",
    "error.invalid_image": "The picture cannot be used as a digit",
    "error.invalid_dataset": "No such dataset or digit",
    "error.invalid_param": "A parameter has the wrong name or shape",
    "error.invalid_phase": "No such phase for this network",
    "error.history_exhausted": "The history does not reach back further",
    "error.diverged": (
        "The network diverged (values too large): reset it or lower the learning rate"
    ),
    "error.invalid_import": "The file is not a complete backprop-lens export",
    "error.invalid_figure": "No such figure, theme or language",
    "error.too_many_samples": "Too many samples for one training job",
    "error.body_too_large": "The upload is too large",
    "error.not_found": "Not found",
    "error.internal_error": "Something went wrong on the server",
    "error.engine_error": "The network cannot do that",
    "error.invalid_base": "The address for the QR code must start with http:// or https://",
    "ui.viewname.input": "Input x",
    "ui.viewname.kernel": "Kernel w1cnn",
    "ui.viewname.conv": "Convolution temphicnn",
    "ui.viewname.pool": "Pooling hicnn",
    "ui.viewname.activations": "Activation hocnn",
    "ui.viewname.hidden": "Hidden layer h2o",
    "ui.viewname.output": "Output yo and target d",
    "ui.viewname.gradients.conv": "Kernel gradient ∂E/∂w1cnn",
    "ui.viewname.gradients.fc1": "Gradient ∂E/∂w12",
    "ui.viewname.gradients.fc2": "Gradient ∂E/∂w2",
    "ui.viewname.deltas": "Deltas δy, δh2, δhicnn",
    "ui.viewname.conv-delta": "Routed delta δtemphicnn",
    "ui.viewname.input-grad": "Input gradient ∂E/∂x",
    "ui.viewname.training": "Loss and accuracy curves",
    "ui.viewname.confusion": "Confusion matrix",
    "ui.viewname.kernels-history": "Kernels during training",
    "ui.follow.title": "follow",
})
_ZH.update({
    "ui.app_name": "backprop-lens",
    "ui.sample": "样本",
    "ui.label": "标签",
    "ui.step": "单步 ▶",
    "ui.back": "◀ 后退",
    "ui.next_sample": "下一个样本 »",
    "ui.play": "播放 ▷",
    "ui.pause": "暂停 ‖",
    "ui.speed": "速度（步/秒）",
    "ui.reset": "重置 ↺",
    "ui.learning_rate": "学习率 η",
    "ui.settings": "网络设置…",
    "ui.theme": "主题",
    "ui.lang": "语言",
    "ui.keys": (
        "按键：→ 单步 · ← 后退 · 空格 播放 · N 下一个样本 · R 重置 · F 演示模式 · "
        "点击某层或箭头可跳到该阶段"
    ),
    "ui.readonly": "只读：只有创建该会话的浏览器可以操作它。",
    "ui.follow": "实时跟随：演示者单步时本页会自动更新。",
    "ui.strip.label": "网络结构（逐层）",
    "ui.strip.update": "更新",
    "ui.section.forward": "前向传播：特征图",
    "ui.section.backward": "反向传播：误差项与梯度",
    "ui.section.pool_table": "池化位置表",
    "ui.pool_table.caption": (
        "每个池化单元一行，两种记法并列：标准的（行, 列），以及斜体的原文记法 (i, j)，其中 i = "
        "列、j = 行。指向某一行，或卷积、池化图中的某一格，即可框出它的 2×2 窗口、"
        "胜出位置（虚线）以及 x 中 {k}×{k} 的感受野。"
    ),
    "ui.pool_table.empty": "在阶段 forward.pool 填写——向前单步即可看到",
    "ui.col.kernel": "卷积核",
    "ui.col.rowcol": "（行, 列）",
    "ui.col.seed_ij": "(i, j)",
    "ui.col.winner": "胜出 (dr, dc)",
    "ui.col.seed_winner": "(dx, dy)",
    "ui.col.value": "值",
    "ui.col.index_conv": "{C}×{C} 下标",
    "ui.col.start": "{S}×{S} 起点（行, 列）",
    "ui.col.start_index": "起点下标",
    "ui.col.delta": "回传的 δ",
    "ui.caption.input": "网络看到的数字：{S}×{S} 个取值 0 到 1 的像素。",
    "ui.caption.kernel": "在 x 上滑动的共享 {k}×{k} 权重。点击格子可查看其梯度。",
    "ui.caption.conv": (
        "每格是 x 的一个 {k}×{k} 区域上的 Σ x·w。线条为 2×2 池化窗口，圆点为各窗口的胜出位置。"
    ),
    "ui.caption.pool": "卷积结果的每个 2×2 窗口得到一个值。",
    "ui.caption.activations": "每个池化值的激活：隐藏层的 {N} 个输入。",
    "ui.caption.hidden": "{H} 个隐藏单元，每个为 σ(hocnn · w12)。",
    "ui.caption.output": "10 个输出 yo 与独热目标 d 并列；误差 E 衡量两者的差距。",
    "ui.caption.gradients.conv": "E 随每个卷积核权重的变化率。点击格子可查看其链式法则。",
    "ui.caption.gradients.fc1": (
        "行：池化单元 j，列：隐藏单元 m；每格为 hocnn[j]·δh2[m]。点击格子查看。"
    ),
    "ui.caption.gradients.fc2": (
        "行：隐藏单元 m，列：输出 k；每格为 h2o[m]·δy[k]。点击格子查看。"
    ),
    "ui.caption.deltas": "δy、δh2 与 δhicnn：E 对各层输入的偏导，从输出层往回计算。",
    "ui.caption.conv-delta": "每个池化单元的 δ 回传到卷积结果中它的 2×2 窗口。",
    "ui.caption.input-grad": "∂E/∂x：回传的误差项与旋转 180° 的卷积核（右侧）做全卷积。",
    "ui.view.fresh": "本阶段计算",
    "ui.show_fresh": "查看 ↓",
    "ui.colour_note": "有正负的图：蓝色为负，白色为零，橙色为正。",
    "ui.inspector.title": "权重检查器",
    "ui.inspector.hint": (
        "点击卷积核或任一梯度图中的格子，即可看到代入实际数值的链式法则公式。"
    ),
    "ui.inspector.close": "关闭 ✕",
    "ui.inspector.formula": "公式",
    "ui.inspector.terms": "求和的各项",
    "ui.inspector.sum": "各项之和",
    "ui.inspector.gradient": "引擎算出的梯度",
    "ui.inspector.numeric": "数值检验 (E(w+h) − E(w−h)) / 2h",
    "ui.inspector.waiting": (
        "{param} 的梯度在阶段 {phase} 计算；到达该阶段后检查器会自动填好。"
    ),
    "ui.gradcheck.title": "梯度检验",
    "ui.gradcheck.hint": "将每个解析梯度与中心差分 (E(w+h) − E(w−h)) / 2h 比较。",
    "ui.gradcheck.run": "运行梯度检验",
    "ui.gradcheck.running": "检验中…",
    "ui.gradcheck.tensor": "张量",
    "ui.gradcheck.checked": "检验的元素数",
    "ui.gradcheck.kinks": "不可导点",
    "ui.gradcheck.max_rel": "最大相对误差",
    "ui.gradcheck.result": "结果",
    "ui.gradcheck.pass": "通过 ✓",
    "ui.gradcheck.fail": "未通过 ✗",
    "ui.gradcheck.tolerance": "容差",
    "ui.gradcheck.all_passed": "所有张量均通过。",
    "ui.gradcheck.some_failed": "有张量未通过。",
    "ui.config.title": "网络设置",
    "ui.config.hint": "用这些设置创建的会话会在本标签页打开；当前会话仍可通过它的链接访问。",
    "ui.config.input_size": "输入尺寸",
    "ui.config.kernels": "卷积核个数 K",
    "ui.config.kernel_size": "卷积核尺寸 k",
    "ui.config.pool": "池化（2×2）",
    "ui.config.activation": "激活函数",
    "ui.config.hidden": "隐藏单元数 H",
    "ui.config.output": "输出与误差",
    "ui.config.bias": "偏置",
    "ui.config.learning_rate": "学习率 η",
    "ui.config.order": "样本顺序",
    "ui.config.seed": "随机种子",
    "ui.config.create": "创建会话",
    "ui.config.cancel": "取消",
    "ui.status.loading": "加载中…",
    "ui.status.ready": "就绪。",
    "ui.status.creating": "正在创建新会话…",
    "ui.status.lr_set": "学习率已设为 {value}。",
    "ui.status.live": "实时：正在跟随演示者。",
    "ui.status.reconnecting": "连接中断——正在重新连接…",
    "ui.status.presenter": "演示模式（按 F 退出）。",
    # Classroom (UI.md "Classroom"): presenter and follow modes, preferences, share and
    # export; `ui.plotly.*` are Plotly's toolbar tooltips, `error.*` the API's error codes.
    "ui.strip.route": "回传 δ",
    "ui.classroom.label": "课堂",
    "ui.presenter.toggle": "演示模式（F）",
    "ui.presenter.toggle_title": "全屏、大字号，每次显示一个或一对视图，只用键盘操作（F 键）",
    "ui.seed_notation": "原文记号",
    "ui.seed_notation.title": (
        "所有标签都使用原文中的名称：w1cnn、temphicnn、hicnn、hocnn、h2o、yo、d、E"
    ),
    "ui.classroom.jump": "跟随链接、分享与导出 ↓",
    "ui.fork": "复刻：我自己的副本",
    "ui.fork.title": "以当前状态新建一个你可以单步和修改的会话；原会话保持不变",
    "ui.fork.working": "正在创建你自己的副本…",
    "ui.share.title": "课堂：跟随、分享与导出",
    "ui.share.follow": "学生的跟随链接（只读，实时更新）",
    "ui.share.follow_hint": (
        "学生打开此链接或扫描二维码：他们的页面会跟随这里的每一步，且无法修改本会话。"
    ),
    "ui.share.qr_alt": "跟随链接的二维码",
    "ui.share.local_hint": (
        "此地址只在本机有效：请通过本机的网络地址（例如 http://192.168.1.20:8000）打开本页，"
        "学生的设备才能访问。"
    ),
    "ui.share.link": "在任意服务器上重建本会话（配置、种子、样本、阶段）的链接",
    "ui.share.link_hint": (
        "链接由随机种子重建网络：更新或训练后改变的权重只保存在 JSON 导出文件中。"
    ),
    "ui.share.link_no_sample": "当前输入是手绘或上传的图像，链接无法携带：请导出 JSON 保存。",
    "ui.share.copy": "复制",
    "ui.share.copied": "已复制到剪贴板。",
    "ui.export.title": "导出",
    "ui.export.json": "会话 JSON ⤓",
    "ui.export.json_title": (
        "配置、种子、阶段、计数、权重、样本与指标：可在此处或其他服务器上打开，从当前位置继续"
    ),
    "ui.export.npz": "权重 .npz ⤓",
    "ui.export.npz_title": "当前阶段的权重，供 NumPy 读取：np.load(file)",
    "ui.export.figures": "每张图：点击其右上角的相机或磁盘按钮，下载 PNG 或 SVG。",
    "ui.import.label": "将导出的 JSON 打开为新会话",
    "ui.import.working": "正在打开 {name}…",
    "ui.import.bad_file": "{name} 不是 backprop-lens 导出的 JSON 文件。",
    "ui.presenter.view": "显示",
    "ui.presenter.auto": "自动：本阶段的视图",
    "ui.presenter.keys": (
        "→ 单步 · ← 后退 · 空格 播放 · N 下一个样本 · V 换视图 · Q 二维码 · F 或 Esc 退出"
    ),
    "ui.presenter.follow": "在你的设备上跟随：",
    "ui.presenter.qr_close": "Q 或 Esc：关闭",
    "ui.status.deleted": "演示者的会话已结束。",
    "ui.plotly.png": "下载 PNG 图片",
    "ui.plotly.svg": "下载 SVG 矢量图",
    "ui.plotly.zoom": "框选放大",
    "ui.plotly.pan": "平移",
    "ui.plotly.zoom_in": "放大",
    "ui.plotly.zoom_out": "缩小",
    "ui.plotly.autoscale": "自动缩放",
    "ui.plotly.reset_axes": "重置坐标轴",
    "ui.plotly.double_click": "双击恢复原始比例",
    "ui.plotly.box_select": "框选",
    "ui.plotly.lasso_select": "套索选择",
    "ui.plotly.spikes": "显示或隐藏辅助线",
    "ui.plotly.closest": "悬停时显示最近的数据",
    "ui.plotly.compare": "悬停时比较数据",
    "ui.plotly.legend_isolate": "双击图例可单独显示一条数据",
    "error.generic": "出错了",
    "error.network": "无法连接服务器：请检查网络连接",
    "error.invalid_request": "请求中有不被接受的值",
    "error.unauthorized": "只有创建该会话的浏览器才能修改它",
    "error.forbidden": "该会话属于别人：请复刻一份自己的副本",
    "error.session_not_found": "没有这个会话（可能已过期）",
    "error.busy": "会话正忙：请稍后再试",
    "error.training_running": "正在训练：请先停止或等待训练结束",
    "error.invalid_config": "某项网络设置超出范围",
    "error.invalid_image": "该图片无法用作数字输入",
    "error.invalid_dataset": "没有这个数据集或数字",
    "error.invalid_param": "参数名称或形状不对",
    "error.invalid_phase": "该网络没有这个阶段",
    "error.history_exhausted": "历史记录不能再往回了",
    "error.diverged": "网络发散（数值过大）：请重置或降低学习率",
    "error.invalid_import": "该文件不是完整的 backprop-lens 导出文件",
    "error.invalid_figure": "没有这个图、主题或语言",
    "error.too_many_samples": "一次训练的样本数过多",
    "error.body_too_large": "上传的内容过大",
    "error.not_found": "未找到",
    "error.internal_error": "服务器出错了",
    "error.engine_error": "网络无法执行这个操作",
    "error.invalid_base": "二维码的地址必须以 http:// 或 https:// 开头",
    "ui.viewname.input": "输入 x",
    "ui.viewname.kernel": "卷积核 w1cnn",
    "ui.viewname.conv": "卷积结果 temphicnn",
    "ui.viewname.pool": "池化 hicnn",
    "ui.viewname.activations": "激活 hocnn",
    "ui.viewname.hidden": "隐藏层 h2o",
    "ui.viewname.output": "输出 yo 与目标 d",
    "ui.viewname.gradients.conv": "卷积核梯度 ∂E/∂w1cnn",
    "ui.viewname.gradients.fc1": "梯度 ∂E/∂w12",
    "ui.viewname.gradients.fc2": "梯度 ∂E/∂w2",
    "ui.viewname.deltas": "误差项 δy、δh2、δhicnn",
    "ui.viewname.conv-delta": "回传的误差项 δtemphicnn",
    "ui.viewname.input-grad": "输入梯度 ∂E/∂x",
    "ui.viewname.training": "误差与准确率曲线",
    "ui.viewname.confusion": "混淆矩阵",
    "ui.viewname.kernels-history": "训练过程中的卷积核",
    "ui.follow.title": "跟随",
})

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
