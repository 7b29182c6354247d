"""Settings from ``HERALD_*`` environment variables and an optional ``.env``.

Settings are built by :func:`load_settings` when a command or app starts,
never at import time, so tests can construct their own.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="HERALD_", env_file=".env", env_file_encoding="utf-8", extra="ignore"
    )

    data_dir: Path = Field(
        default=Path("herald-data"),
        description="Where the embedded SQLite database and uploads live.",
    )
    database_url: str | None = Field(
        default=None,
        description="SQLAlchemy URL; PostgreSQL for scale-out. Default: SQLite in data_dir.",
    )
    default_region: str = Field(
        default="US",
        min_length=2,
        max_length=2,
        description="ISO region used to read phone numbers written in national format.",
    )

    import_workers: int = Field(
        default=0,
        ge=0,
        description="Processes that validate a large upload; 0 means one per CPU core.",
    )

    def resolved_database_url(self) -> str:
        """The database URL to use: the configured one, else SQLite in the data directory."""
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'herald.db').resolve()}"


def load_settings(**overrides: object) -> Settings:
    """Read settings from the environment, with explicit overrides on top."""
    return Settings(**overrides)  # type: ignore[arg-type]
