"""Settings, read once at start: environment (TABLEE_*) over a TOML file over defaults."""

from __future__ import annotations

import os
import tomllib
from pathlib import Path
from typing import Annotated, Any

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import (
    BaseSettings,
    NoDecode,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
)

CONFIG_ENV = "TABLEE_CONFIG"


class SettingsError(RuntimeError):
    """A setting is missing or wrong; the message names it."""


class _TomlSource(PydanticBaseSettingsSource):
    """Values from the file named by TABLEE_CONFIG (the `[tablee]` table), if any."""

    def __init__(self, settings_cls: type[BaseSettings], path: Path | None) -> None:
        super().__init__(settings_cls)
        self._data: dict[str, Any] = {}
        if path is not None:
            try:
                with path.open("rb") as fh:
                    doc = tomllib.load(fh)
            except FileNotFoundError:
                raise SettingsError(f"{CONFIG_ENV} names {path}, which does not exist") from None
            except tomllib.TOMLDecodeError as exc:
                raise SettingsError(f"{path} is not valid TOML: {exc}") from None
            self._data = dict(doc.get("tablee", {}))

    def get_field_value(self, field: Any, field_name: str) -> tuple[Any, str, bool]:
        return self._data.get(field_name), field_name, False

    def __call__(self) -> dict[str, Any]:
        return {k: v for k, v in self._data.items() if k in self.settings_cls.model_fields}


class Settings(BaseSettings):
    """Every setting of a Tablée process. config/default.toml documents each one."""

    model_config = SettingsConfigDict(env_prefix="TABLEE_", frozen=True, extra="ignore")

    database_url: str = "sqlite+aiosqlite:///./tablee.db"
    broker_url: str = "memory://"
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=0, le=65535)
    public_url: str = ""
    secret_key: SecretStr | None = None
    token_ttl_seconds: int = Field(default=24 * 3600, ge=60)
    allowed_origins: Annotated[tuple[str, ...], NoDecode] = ()
    migrate_on_start: bool = True

    embedding_model: str = ""
    theme_word_weight: float = Field(default=0.3, ge=0.0, lt=1.0)
    worker: str = "inprocess"
    themes_debounce_seconds: float = Field(default=1.0, ge=0.0)
    themes_max_wait_seconds: float = Field(default=5.0, ge=0.0)
    jobs_stream: str = "tablee:themes:jobs"
    worker_claim_idle_seconds: float = Field(default=30.0, gt=0)
    worker_max_attempts: int = Field(default=3, ge=1)
    worker_sweep_seconds: float = Field(default=30.0, gt=0)
    placement_stream: str = "tablee:themes:place"
    placement_max_age_seconds: float = Field(default=10.0, gt=0)

    heartbeat_seconds: float = Field(default=15.0, gt=0)
    socket_send_buffer: int = Field(default=0, ge=0)
    send_queue_frames: int = Field(default=256, ge=8)
    rate_per_second: float = Field(default=20.0, gt=0)
    rate_burst: int = Field(default=60, ge=1)
    max_bad_frames: int = Field(default=20, ge=1)
    history_per_room: int = Field(default=1000, ge=10)
    default_capacity: int = Field(default=8, ge=1, le=500)
    log_level: str = "info"
    log_format: str = "text"

    @field_validator("worker")
    @classmethod
    def _worker_mode(cls, value: str) -> str:
        if value not in {"inprocess", "external", "off"}:
            raise ValueError("worker must be 'inprocess', 'external' or 'off'")
        return value

    @field_validator("log_format")
    @classmethod
    def _log_format(cls, value: str) -> str:
        if value not in {"text", "json"}:
            raise ValueError("log_format must be 'text' or 'json'")
        return value

    @field_validator("allowed_origins", mode="before")
    @classmethod
    def _origins(cls, value: Any) -> Any:
        if isinstance(value, str):
            return tuple(o.strip().rstrip("/") for o in value.split(",") if o.strip())
        return value

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        path = os.environ.get(CONFIG_ENV)
        toml = _TomlSource(settings_cls, Path(path) if path else None)
        return (init_settings, env_settings, toml)

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")


def load_settings(**overrides: Any) -> Settings:
    """Read the settings once; a wrong value fails here with a message naming it."""
    try:
        settings = Settings(**overrides)
    except ValidationError as exc:
        problems = "; ".join(
            f"TABLEE_{'.'.join(str(p) for p in e['loc']).upper()}: {e['msg']}" for e in exc.errors()
        )
        raise SettingsError(f"invalid settings: {problems}") from None
    if settings.worker == "external" and not settings.broker_url.startswith(
        ("redis://", "rediss://", "unix://")
    ):
        raise SettingsError("TABLEE_WORKER=external needs a Redis TABLEE_BROKER_URL for its jobs")
    if settings.secret_key is None and not settings.is_sqlite:
        raise SettingsError(
            "TABLEE_SECRET_KEY is required with a shared database: every server process must "
            "sign and check tokens with the same key"
        )
    return settings
