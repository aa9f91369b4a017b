"""Error types of the engine. The server maps each to one HTTP status, once."""


class EngineError(Exception):
    """Base class: a problem a person can fix by changing their request."""

    code = "engine_error"

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.message = message
        self.field = field


class ConfigError(EngineError):
    """A config key has a value outside its allowed range."""

    code = "invalid_config"

    def __init__(self, key: str, value, allowed: str):
        super().__init__(f"config '{key}' = {value!r} is not allowed; use {allowed}", field=key)
        self.key, self.value, self.allowed = key, value, allowed


class ImageError(EngineError):
    """An uploaded or drawn image cannot become a network input."""

    code = "invalid_image"


class DatasetError(EngineError):
    """Unknown dataset name or sample index out of range."""

    code = "invalid_dataset"


class ParamError(EngineError):
    """Unknown parameter name, wrong shape or non-finite values."""

    code = "invalid_param"


class PhaseError(EngineError):
    """Unknown phase name, or a quantity asked for before its phase ran."""

    code = "invalid_phase"


class HistoryError(EngineError):
    """Stepping back further than the kept history reaches."""

    code = "history_exhausted"


class DivergedError(EngineError):
    """The parameters became NaN/Inf; the session refuses further updates."""

    code = "diverged"
