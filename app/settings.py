"""Settings from flags, environment (`BACKPROP_LENS_*`) or a `.env` file."""

from functools import lru_cache
from pathlib import Path

from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def _resource_dir(name: str) -> Path:
    """templates/ and static/ live at the project root; a wheel install puts them under
    <prefix>/share/backprop-lens/."""
    here = PROJECT_ROOT / name
    if here.is_dir():
        return here
    import sys

    return Path(sys.prefix) / "share" / "backprop-lens" / name


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="BACKPROP_LENS_", env_file=".env",
                                      extra="ignore")

    host: str = "127.0.0.1"
    port: int = 8000
    store: str = "sqlite:///var/sessions.db"
    idle_seconds: float = 7 * 24 * 3600  # idle sessions expire after a week
    max_sessions: int = 1000
    max_body_bytes: int = 8_000_000  # the largest request body (an uploaded image fits)
    max_train_samples: int = 80_000  # 10 epochs of the training split
    train_workers: int = 2
    lock_timeout: float = 30.0
    sse_ping_seconds: float = 15.0
    templates_dir: Path = _resource_dir("templates")
    static_dir: Path = _resource_dir("static")
    log_requests: bool = True


@lru_cache
def get_settings() -> Settings:
    return Settings()
