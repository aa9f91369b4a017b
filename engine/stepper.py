"""Phase-by-phase stepping through the network, with history to step back.

A `Stepper` is one session's engine state: the config, the parameters at the
start of the current sample, the current sample, the cursor (which phase has run
last), counters, training metrics, and a snapshot of earlier sample starts.
The tensors of the current sample are recomputed from those on demand by the
phase functions of `network` (deterministic, so stepping back and forth gives
the same bits), and are never stored.
"""

import json
from dataclasses import dataclass, replace
from functools import lru_cache

import numpy as np

from . import network
from .config import Config, make_config
from .data import TRAIN, dataset_for_size
from .errors import DatasetError, DivergedError, HistoryError, ParamError, PhaseError
from .network import PHASES

HISTORY_SAMPLES = 1  # earlier sample starts kept for stepping back (API.md: at least one)
FORMAT = 2  # version of the serialised state
MAGIC = b"BPL1"


@dataclass(frozen=True)
class Sample:
    """The current input: where it came from, its label, and its pixels x (S, S)."""

    source: str  # dataset name ("mnist14", "mnist28") or "custom"
    index: int | None
    label: int
    x: np.ndarray

    def describe(self) -> dict:
        return {"source": self.source, "index": self.index, "label": self.label}


@dataclass(frozen=True)
class Snapshot:
    """Everything needed to recompute one earlier sample from its start."""

    params: dict
    sample: Sample
    position: int
    samples_seen: int
    updates: int


def empty_metrics() -> dict:
    return {"loss": [], "accuracy": [], "confusion": None, "kernels": [], "worst": []}


def phases_for(config: Config) -> list[dict]:
    """The ordered phases with English and Chinese descriptions (API `GET /phases`)."""
    return [
        {"name": name, "en": network.PHASE_TEXT[name][0], "zh": network.PHASE_TEXT[name][1]}
        for name in PHASES
    ]


@lru_cache(maxsize=16)
def _permutation(seed: int, epoch: int) -> np.ndarray:
    order = np.random.default_rng([seed, epoch]).permutation(len(TRAIN))
    order.flags.writeable = False
    return order


def order_index(config: Config, seed: int, position: int) -> int:
    """The dataset index of the `position`-th training sample: sequential, or a seeded
    shuffle that is drawn anew (and reproducibly) for every epoch."""
    epoch, offset = divmod(position, len(TRAIN))
    if config.order == "sequential":
        return TRAIN[offset]
    return TRAIN[int(_permutation(seed, epoch)[offset])]


def _finite(arrays) -> bool:
    return all(np.isfinite(a).all() for a in arrays)


class Stepper:
    def __init__(self, config: Config, seed: int, params: dict, sample: Sample, *,
                 position: int = 0, phase_index: int = 0, samples_seen: int = 0,
                 updates: int = 0, history: list[Snapshot] | None = None,
                 diverged: bool = False, metrics: dict | None = None):
        self.config, self.seed = config, seed
        self.params, self.sample = params, sample
        self.position, self.phase_index = position, phase_index
        self.samples_seen, self.updates = samples_seen, updates
        self.history: list[Snapshot] = history or []
        self.diverged = diverged
        self.metrics = metrics or empty_metrics()
        self._pass: network.Pass | None = None

    # ------------------------------------------------------------ creation

    @classmethod
    def create(cls, config: Config | None = None, seed: int = 0) -> "Stepper":
        """A new session at phase `input` with the first sample of its order loaded."""
        config = config or make_config()
        stepper = cls(config, seed, network.init_params(config, seed), None)  # type: ignore[arg-type]
        stepper.sample = stepper._dataset_sample(order_index(config, seed, 0))
        return stepper

    def _dataset_sample(self, index: int) -> Sample:
        dataset = dataset_for_size(self.config.input_size)
        x, label = dataset.sample(index)
        return Sample(dataset.name, int(index), int(label), x)

    # ------------------------------------------------------------ cursor

    @property
    def phase(self) -> str:
        return PHASES[self.phase_index]

    @property
    def cursor(self) -> dict:
        return {"phase": self.phase, "index": self.phase_index, "sample": self.sample.describe()}

    @property
    def counters(self) -> dict:
        return {"samples_seen": self.samples_seen, "updates": self.updates,
                "position": self.position}

    def _current_pass(self) -> network.Pass:
        """The pass up to the cursor, recomputed from the sample start if needed."""
        if self._pass is None:
            ps = network.Pass(self.config, self.params, self.sample.x[None],
                              network.one_hot([self.sample.label]))
            self._pass = network.run(ps, upto=self.phase)
        return self._pass

    def _invalidate(self) -> None:
        self._pass = None

    # ------------------------------------------------------------ stepping

    def step(self, count: int = 1) -> list[str]:
        """Run the next `count` phases; after `update` the next sample is loaded."""
        changed: set[str] = set()
        for _ in range(count):
            changed |= self._step_once()
        return sorted(changed)

    def step_to(self, phase: str) -> list[str]:
        """Step forward until the cursor is at `phase` (crossing into the next sample if
        `phase` is at or before the current one)."""
        if phase not in PHASES:
            raise PhaseError(f"unknown phase '{phase}'; phases are: {', '.join(PHASES)}", "to")
        target = PHASES.index(phase)
        count = target - self.phase_index
        if count <= 0:
            count += len(PHASES)
        return self.step(count)

    def _step_once(self) -> set[str]:
        if self.phase == "update":
            return self._next_sample()
        ps = self._current_pass()
        before = set(ps.tensors)
        phase = PHASES[self.phase_index + 1]
        if phase == "update" and self.diverged:
            raise DivergedError("this session diverged (NaN/Inf); it refuses further updates. "
                                "Fork a new session or set finite parameters.")
        network.PHASE_FUNCTIONS[phase](ps)
        new = set(ps.tensors) - before
        produced = [ps.tensors[name] for name in new]
        if ps.new_params is not None:
            produced += list(ps.new_params.values())
        if not _finite(produced):
            self.diverged = True
            self._invalidate()
            raise DivergedError(f"phase {phase} produced NaN or Inf: the network diverged. "
                                "Lower the learning rate and start a new session.")
        self.phase_index += 1
        if phase == "update":
            self.samples_seen += 1
            self.updates += 1
            return {f"params.{name}" for name in self.params}
        return new

    def _next_sample(self) -> set[str]:
        ps = self._current_pass()
        self._remember()
        self.params = ps.new_params
        self.position += 1
        self.sample = self._dataset_sample(order_index(self.config, self.seed, self.position))
        self.phase_index = 0
        self._invalidate()
        return set(self.tensors())

    def _remember(self) -> None:
        """Keep the start of the current sample (called at `update`, so the counters
        already include its update: the snapshot stores them from before it)."""
        self.history.append(Snapshot(self.params, self.sample, self.position,
                                     self.samples_seen - 1, self.updates - 1))
        del self.history[:-HISTORY_SAMPLES]

    def back(self, count: int = 1) -> list[str]:
        """Step back `count` phases; back over `update` restores the parameters exactly."""
        if count > self.max_back():
            raise HistoryError(f"can step back at most {self.max_back()} phases from here: "
                               "history reaches back to the start of the previous sample",
                               "count")
        before = self.tensors()
        for _ in range(count):
            if self.phase_index > 0:
                if self.phase == "update":  # un-count the update being stepped back over
                    self.samples_seen -= 1
                    self.updates -= 1
                self.phase_index -= 1
            else:
                self._restore(self.history.pop())
        self._invalidate()
        after = self.tensors()
        return sorted(name for name in set(before) | set(after)
                      if name not in after or name not in before
                      or not np.array_equal(before[name], after[name]))

    def _restore(self, snap: Snapshot) -> None:
        self.params, self.sample, self.position = snap.params, snap.sample, snap.position
        self.samples_seen, self.updates = snap.samples_seen + 1, snap.updates + 1
        self.phase_index = len(PHASES) - 1  # at `update` of that sample

    def max_back(self) -> int:
        return self.phase_index + len(self.history) * len(PHASES)

    # ------------------------------------------------------------ reading

    def current_params(self) -> dict[str, np.ndarray]:
        """The parameters as of the cursor: after `update` these are the updated ones."""
        ps = self._current_pass()
        return ps.new_params if self.phase == "update" else self.params

    def tensors(self) -> dict[str, np.ndarray]:
        """Every tensor computed up to the cursor, for one sample (batch axis removed)."""
        ps = self._current_pass()
        out = {}
        for name, value in ps.tensors.items():
            out[name] = value if name.startswith("grads.") else value[0]
        for name, value in self.current_params().items():
            out[f"params.{name}"] = value
        return out

    # ------------------------------------------------------------ changing

    def set_input(self, x: np.ndarray, label: int, source: str = "custom",
                  index: int | None = None) -> None:
        """Replace the current sample; the cursor goes to `input`."""
        size = self.config.input_size
        if x.shape != (size, size):
            raise DatasetError(f"input must be {size}×{size}, got {x.shape}", "pixels")
        if isinstance(label, bool) or not isinstance(label, int | np.integer) or not 0 <= label <= 9:
            raise DatasetError(f"label must be an integer 0..9, got {label!r}", "label")
        if not np.isfinite(x).all():
            raise DatasetError("input pixels must be finite numbers", "pixels")
        if self.phase == "update":  # the update is done: this starts a new sample
            self._remember()
            self.params = self._current_pass().new_params
        self.sample = Sample(source, index, int(label), np.array(x, dtype=np.float64))
        self.phase_index = 0
        self._invalidate()

    def load_sample(self, dataset: str, index: int) -> None:
        """Load dataset sample `index` as the input (cursor to `input`)."""
        data = dataset_for_size(self.config.input_size)
        if dataset != data.name:
            raise DatasetError(f"this session's input is {data.size}×{data.size}: "
                               f"use dataset '{data.name}'", "dataset")
        x, label = data.sample(index)
        self.set_input(x, int(label), source=data.name, index=int(index))

    def set_params(self, values: dict) -> list[str]:
        """Set some parameters (shape checked); the new values are the parameters at the start
        of the current sample and the cursor goes back to `input` to recompute from there."""
        shapes = network.param_shapes(self.config)
        new = dict(self.current_params())
        for name, value in values.items():
            if name not in shapes:
                raise ParamError(f"unknown parameter '{name}'; this config has "
                                 f"{', '.join(shapes)}", name)
            array = np.asarray(value, dtype=np.float64)
            if array.shape != shapes[name]:
                raise ParamError(f"'{name}' must have shape {list(shapes[name])}, "
                                 f"got {list(array.shape)}", name)
            if not np.isfinite(array).all():
                raise ParamError(f"'{name}' must be finite numbers", name)
            new[name] = array.copy()
        self.params, self.phase_index, self.diverged = new, 0, False
        self._invalidate()
        return [f"params.{name}" for name in values]

    def set_learning_rate(self, learning_rate: float) -> None:
        self.config = make_config("seed", {**self.config.to_dict(),
                                           "learning_rate": learning_rate})
        self._invalidate()

    def fork(self) -> "Stepper":
        return Stepper.from_bytes(self.to_bytes())

    def copy(self) -> "Stepper":
        """An independent copy, cheaper than a serialisation round trip: arrays are shared
        (the engine never changes an array in place), containers are copied, and the
        current pass is kept so the copy need not recompute it."""
        twin = Stepper(self.config, self.seed, dict(self.params), self.sample,
                       position=self.position, phase_index=self.phase_index,
                       samples_seen=self.samples_seen, updates=self.updates,
                       history=list(self.history), diverged=self.diverged,
                       metrics=json.loads(json.dumps(self.metrics)))
        if self._pass is not None:
            twin._pass = replace(self._pass, tensors=dict(self._pass.tensors),
                                 caches=dict(self._pass.caches))
        return twin

    # ------------------------------------------------------------ explanations

    def pool_table(self) -> list[dict]:
        from .explain import pool_table

        return pool_table(self.config, self.tensors())

    def explain(self, param: str, index: int) -> dict:
        from .explain import explain

        return explain(self.config, self.tensors(), self.params, param, index)

    def gradcheck(self, **kwargs) -> dict:
        from .gradcheck import gradcheck

        return gradcheck(self.config, self.params, self.sample.x[None],
                         network.one_hot([self.sample.label]), **kwargs)

    # ------------------------------------------------------------ serialisation

    def to_bytes(self) -> bytes:
        """The whole state as bytes: float64 arrays bit-exact, the rest as JSON.

        Layout: b"BPL1", a 4-byte little-endian header length, the JSON header (which
        lists every array's name, dtype and shape), then the arrays' raw bytes in order.
        """
        arrays: dict[str, np.ndarray] = {"x": self.sample.x}
        arrays.update({f"p/{k}": v for k, v in self.params.items()})
        history = []
        for i, snap in enumerate(self.history):
            arrays[f"h{i}/x"] = snap.sample.x
            arrays.update({f"h{i}/p/{k}": v for k, v in snap.params.items()})
            history.append({"sample": snap.sample.describe(), "position": snap.position,
                            "samples_seen": snap.samples_seen, "updates": snap.updates})
        header = {
            "format": FORMAT, "config": self.config.to_dict(), "seed": self.seed,
            "sample": self.sample.describe(), "position": self.position,
            "phase_index": self.phase_index, "samples_seen": self.samples_seen,
            "updates": self.updates, "diverged": self.diverged, "history": history,
            "metrics": self.metrics,
            "arrays": [[name, list(a.shape)] for name, a in arrays.items()],
        }
        head = json.dumps(header).encode()
        body = b"".join(np.ascontiguousarray(a, dtype="<f8").tobytes() for a in arrays.values())
        return MAGIC + len(head).to_bytes(4, "little") + head + body

    @classmethod
    def from_bytes(cls, blob: bytes) -> "Stepper":
        if blob[:4] != MAGIC:
            raise ValueError("not a backprop-lens state")
        size = int.from_bytes(blob[4:8], "little")
        header = json.loads(blob[8:8 + size])
        arrays, offset = {}, 8 + size
        for name, shape in header["arrays"]:
            count = int(np.prod(shape))
            arrays[name] = np.frombuffer(blob, "<f8", count, offset).reshape(shape).copy()
            offset += 8 * count
        config = Config(**header["config"])

        def params(prefix):
            return {k[len(prefix):]: v for k, v in arrays.items() if k.startswith(prefix)}

        def sample(desc, x):
            return Sample(desc["source"], desc["index"], desc["label"], x)

        history = [
            Snapshot(params(f"h{i}/p/"), sample(h["sample"], arrays[f"h{i}/x"]), h["position"],
                     h["samples_seen"], h["updates"])
            for i, h in enumerate(header["history"])
        ]
        return cls(config, header["seed"], params("p/"), sample(header["sample"], arrays["x"]),
                   position=header["position"], phase_index=header["phase_index"],
                   samples_seen=header["samples_seen"], updates=header["updates"],
                   history=history, diverged=header["diverged"], metrics=header["metrics"])
