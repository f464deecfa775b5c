"""Settings: one pydantic-settings class, read from the environment and `.env`.

Nothing here runs at import time: the composition root calls `load_settings()` once and
passes the result down. A bad value becomes a `ConfigError` whose message is a single line
naming the variable, which the CLI prints before exiting with status 2.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    AnyHttpUrl,
    Field,
    SecretStr,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError

DEFAULT_DATA_DIR = Path("data")
DEFAULT_SQLITE_NAME = "tradewatch.sqlite3"
DEFAULT_WEBHOOK_PORT = 8080

# Telegram accepts 1-256 characters from this set as a webhook secret token.
_WEBHOOK_SECRET_RE = re.compile(r"^[A-Za-z0-9_-]{1,256}$")
_TOKEN_RE = re.compile(r"^\d+:[A-Za-z0-9_-]{30,}$")


class ConfigError(Exception):
    """A setting is missing or malformed; the message is one line that names the variable."""


class Settings(BaseSettings):
    """Every setting the bot reads. Variable names are the field names in upper case."""

    model_config = SettingsConfigDict(
        env_file=".env",
        env_file_encoding="utf-8",
        extra="ignore",
        case_sensitive=False,
        # `KEY=` (as in .env.example) means "not set", not "set to an empty string".
        env_ignore_empty=True,
        frozen=True,
    )

    telegram_bot_token: SecretStr | None = None
    telegram_api_base_url: AnyHttpUrl | None = None
    data_dir: Path = DEFAULT_DATA_DIR
    database_url: str = Field(default="", validate_default=True)
    admin_ids: Annotated[tuple[int, ...], NoDecode] = ()
    bot_mode: Literal["polling", "webhook"] = "polling"
    webhook_url: AnyHttpUrl | None = None
    webhook_secret: SecretStr | None = None
    # The HTTP port: the webhook (webhook mode) and /healthz, /readyz, /metrics (both modes).
    port: int | None = Field(default=None, ge=1, le=65535)
    # All interfaces by default: in a container the load balancer is another host.
    listen_address: str = "0.0.0.0"  # noqa: S104
    # Start without the updates Telegram queued while the bot was down.
    drop_pending_updates: bool = False
    # SIGTERM: how long in-flight answers and deliveries may take to finish.
    shutdown_grace_seconds: int = Field(default=20, ge=1, le=600)
    templates_dir: Path | None = None
    default_timezone: str = "Asia/Kolkata"
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"] = "INFO"
    log_format: Literal["text", "json"] = "text"
    # Operators' chat: each distinct error is posted there at most once a minute.
    error_chat_id: int | None = None
    # PostgreSQL connection pool (per process) and timeouts; SQLite ignores them.
    db_pool_size: int = Field(default=5, ge=1, le=100)
    db_max_overflow: int = Field(default=10, ge=0, le=100)
    db_pool_timeout: float = Field(default=10.0, gt=0)
    db_connect_timeout: int = Field(default=5, ge=1)
    db_statement_timeout: int = Field(default=30, ge=0)
    stale_after_days: int = Field(default=120, ge=1)
    answer_cache_seconds: int = Field(default=30, ge=0)
    # Updates handled at once (each chat's still one at a time, in order), each with a worker
    # thread for its database work: keep DB_POOL_SIZE + DB_MAX_OVERFLOW above this plus
    # BROADCAST_CONCURRENCY + 1 (the digest run's threads), or threads wait for connections.
    update_concurrency: int = Field(default=8, ge=1, le=64)
    # Digests and alerts: messages per second across all chats (0: no throttle, e.g. towards a
    # local Bot API server); requests in flight at once; how long a claimed delivery is held
    # before another run (or instance) may presume its sender dead and resume it.
    broadcast_rate: float = Field(default=25.0, ge=0)
    broadcast_concurrency: int = Field(default=4, ge=1, le=256)
    delivery_lease_seconds: int = Field(default=60, ge=5)
    # Changes made within this many seconds of the first one go out as one alert.
    alert_batch_seconds: int = Field(default=30, ge=0, le=300)
    # News feeds: how often each is polled (0: never, e.g. in tests), how long one fetch may
    # take in all and how large its body may be, how many are fetched at once, and how many
    # processes read them (0: a thread of the bot's own process).
    feed_poll_seconds: int = Field(default=900, ge=0)
    feed_timeout_seconds: float = Field(default=20.0, gt=0, le=300)
    feed_max_bytes: int = Field(default=2_000_000, ge=1024)
    feed_concurrency: int = Field(default=16, ge=1, le=256)
    feed_parse_processes: int = Field(default=1, ge=0, le=16)
    # Let a feed on loopback or a private address be added (tests and local mirrors only:
    # otherwise a feed URL could reach the bot's own network).
    feed_allow_private_hosts: bool = False
    # Watch the bundled default feeds from the first start (bot/data/feeds/defaults.yaml).
    feed_defaults: bool = True
    # At most one review message to editors per this many seconds, of up to 10 new items.
    news_review_seconds: int = Field(default=300, ge=10)

    @field_validator("telegram_bot_token")
    @classmethod
    def _token_shape(cls, value: SecretStr | None) -> SecretStr | None:
        if value is None or not value.get_secret_value().strip():
            return None
        if not _TOKEN_RE.fullmatch(value.get_secret_value().strip()):
            # Never echo the value: it is a secret even when malformed.
            raise ValueError("does not look like a bot token from @BotFather (digits:letters)")
        return SecretStr(value.get_secret_value().strip())

    @field_validator("admin_ids", mode="before")
    @classmethod
    def _split_admin_ids(cls, value: Any) -> Any:
        if isinstance(value, str):
            parts = [part.strip() for part in value.replace(";", ",").split(",")]
            ids = [part for part in parts if part]
            bad = [part for part in ids if not part.lstrip("-").isdigit()]
            if bad:
                raise ValueError(f"expected comma-separated Telegram user ids, got {bad[0]!r}")
            return tuple(int(part) for part in ids)
        return value

    @field_validator("log_level", "log_format", mode="before")
    @classmethod
    def _log_case(cls, value: Any, info: ValidationInfo) -> Any:
        if not isinstance(value, str):
            return value
        return value.upper() if info.field_name == "log_level" else value.lower()

    @field_validator("default_timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"{value!r} is not an IANA time zone (e.g. Asia/Kolkata)") from None
        return value

    @field_validator("webhook_secret")
    @classmethod
    def _secret_charset(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and not _WEBHOOK_SECRET_RE.fullmatch(value.get_secret_value()):
            raise ValueError("must be 1-256 characters of A-Z, a-z, 0-9, _ or -")
        return value

    @field_validator("templates_dir")
    @classmethod
    def _templates_dir_exists(cls, value: Path | None) -> Path | None:
        if value is not None and not value.is_dir():
            raise ValueError(f"folder {str(value)!r} does not exist")
        return value

    @field_validator("database_url")
    @classmethod
    def _resolve_database_url(cls, value: str, info: ValidationInfo) -> str:
        data_dir = info.data.get("data_dir", DEFAULT_DATA_DIR)
        if not value.strip():
            return f"sqlite:///{data_dir / DEFAULT_SQLITE_NAME}"
        return _normalise_database_url(value.strip(), data_dir=data_dir)

    @model_validator(mode="after")
    def _webhook_needs_url_and_secret(self) -> Settings:
        if self.bot_mode == "webhook":
            if self.webhook_url is None:
                raise ValueError("WEBHOOK_URL must be set when BOT_MODE=webhook")
            # Without a secret anyone who finds the URL could post forged updates.
            if self.webhook_secret is None:
                raise ValueError(
                    "WEBHOOK_SECRET must be set when BOT_MODE=webhook "
                    "(e.g. python -c 'import secrets; print(secrets.token_urlsafe(32))')"
                )
        return self

    @property
    def http_port(self) -> int | None:
        """The port to serve on: PORT, or 8080 in webhook mode, which always needs one."""
        if self.port is None and self.bot_mode == "webhook":
            return DEFAULT_WEBHOOK_PORT
        return self.port

    @property
    def webhook_path(self) -> str:
        """The path of WEBHOOK_URL, where the webhook route listens ("/" when it has none)."""
        if self.webhook_url is None:
            return "/"
        return self.webhook_url.path or "/"

    @property
    def uses_default_data_dir(self) -> bool:
        """True when the database is a SQLite file inside DATA_DIR, which the bot creates."""
        url = make_url(self.database_url)
        return (
            url.get_backend_name() == "sqlite"
            and url.database is not None
            and Path(url.database).parent == self.data_dir
        )


def _normalise_database_url(raw: str, *, data_dir: Path) -> str:
    """Accept the spellings operators paste (postgres://, postgresql://) and check the rest."""
    try:
        url: URL = make_url(raw)
    except ArgumentError:
        raise ValueError(
            f"{raw!r} is not a database URL "
            "(expected sqlite:///path/to/file.sqlite3 or postgresql+psycopg://user@host/db)"
        ) from None
    backend = url.get_backend_name()
    if backend in ("postgres", "postgresql"):
        if "+" in url.drivername and backend == "postgresql":
            return raw
        # Without a driver SQLAlchemy would pick psycopg2, which we do not ship.
        return url.set(drivername="postgresql+psycopg").render_as_string(hide_password=False)
    if backend == "sqlite":
        database = url.database
        if database and database != ":memory:" and not database.startswith("file:"):
            folder = Path(database).parent
            if folder != data_dir and not folder.is_dir():
                raise ValueError(f"folder {str(folder)!r} for the SQLite file does not exist")
        return raw
    raise ValueError(f"unsupported database {backend!r} (use sqlite or postgresql)")


def load_settings(**overrides: Any) -> Settings:
    """Read the settings, turning validation errors into one `ConfigError` line."""
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        raise ConfigError(describe_validation_error(exc)) from None


def describe_validation_error(exc: ValidationError) -> str:
    problems = []
    for error in exc.errors():
        location = [str(part) for part in error["loc"]]
        variable = location[0].upper() if location else ""
        message = str(error["msg"]).removeprefix("Value error, ")
        if variable:
            problems.append(f"{variable}: {message}")
        else:
            problems.append(message)
    return "invalid configuration: " + "; ".join(problems)
