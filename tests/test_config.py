"""Settings: defaults, parsing, and one clear line naming the variable for every bad value."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.config import ConfigError, load_settings

TOKEN = "123456789:AAE-fake-token-for-tests-0123456789abc"


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Run from an empty folder (no .env) with none of the bot's variables set."""
    for name in (
        "TELEGRAM_BOT_TOKEN", "TELEGRAM_API_BASE_URL", "DATABASE_URL", "ADMIN_IDS", "BOT_MODE",
        "WEBHOOK_URL", "WEBHOOK_SECRET", "PORT", "TEMPLATES_DIR", "DEFAULT_TIMEZONE",
        "LOG_LEVEL", "DATA_DIR", "STALE_AFTER_DAYS",
    ):  # fmt: skip
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)


def test_defaults_need_no_configuration() -> None:
    settings = load_settings()
    assert settings.database_url == "sqlite:///data/tradewatch.sqlite3"
    assert settings.uses_default_data_dir
    assert settings.bot_mode == "polling"
    assert settings.default_timezone == "Asia/Kolkata"
    assert settings.telegram_bot_token is None
    assert settings.admin_ids == ()


def test_values_come_from_the_environment_and_dotenv(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    (tmp_path / ".env").write_text(f"TELEGRAM_BOT_TOKEN={TOKEN}\nLOG_LEVEL=debug\n")
    monkeypatch.setenv("ADMIN_IDS", "11, 22;33")
    settings = load_settings()
    assert settings.telegram_bot_token is not None
    assert settings.telegram_bot_token.get_secret_value() == TOKEN
    assert settings.log_level == "DEBUG"
    assert settings.admin_ids == (11, 22, 33)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("postgres://u:p@db:5432/tw", "postgresql+psycopg://u:p@db:5432/tw"),
        ("postgresql://u@db/tw", "postgresql+psycopg://u@db/tw"),
        ("postgresql+psycopg://u@db/tw", "postgresql+psycopg://u@db/tw"),
        ("sqlite:///:memory:", "sqlite:///:memory:"),
    ],
)
def test_database_urls_are_normalised(
    monkeypatch: pytest.MonkeyPatch, raw: str, expected: str
) -> None:
    monkeypatch.setenv("DATABASE_URL", raw)
    assert load_settings().database_url == expected


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        ("DATABASE_URL", "nonsense", "is not a database URL"),
        ("DATABASE_URL", "sqlite:///nonexistent-dir/x.db", "'nonexistent-dir' for the SQLite"),
        ("DATABASE_URL", "mysql://root@localhost/x", "unsupported database 'mysql'"),
        ("ADMIN_IDS", "12,abc", "comma-separated Telegram user ids"),
        ("BOT_MODE", "carrier-pigeon", "'polling' or 'webhook'"),
        ("PORT", "99999", "less than or equal to 65535"),
        ("PORT", "eighty", "valid integer"),
        ("DEFAULT_TIMEZONE", "Mars/Olympus", "not an IANA time zone"),
        ("LOG_LEVEL", "loud", "'DEBUG'"),
        ("TELEGRAM_API_BASE_URL", "not a url", "URL"),
        ("TEMPLATES_DIR", "/no/such/folder", "does not exist"),
        ("WEBHOOK_SECRET", "has spaces!", "A-Z, a-z, 0-9"),
    ],
)
def test_a_bad_value_is_one_line_naming_the_variable(
    monkeypatch: pytest.MonkeyPatch, variable: str, value: str, message: str
) -> None:
    monkeypatch.setenv(variable, value)
    with pytest.raises(ConfigError) as caught:
        load_settings()
    text = str(caught.value)
    assert "\n" not in text
    assert text.startswith(f"invalid configuration: {variable}: ")
    assert message in text


def test_webhook_mode_needs_a_webhook_url(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BOT_MODE", "webhook")
    with pytest.raises(ConfigError, match="WEBHOOK_URL must be set when BOT_MODE=webhook"):
        load_settings()


def test_webhook_mode_needs_a_secret_and_never_echoes_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("BOT_MODE", "webhook")
    monkeypatch.setenv("WEBHOOK_URL", "https://bot.example.org/telegram")
    with pytest.raises(ConfigError, match="WEBHOOK_SECRET must be set when BOT_MODE=webhook"):
        load_settings()
    monkeypatch.setenv("WEBHOOK_SECRET", "has spaces/and slashes")
    with pytest.raises(ConfigError) as caught:
        load_settings()
    assert "WEBHOOK_SECRET: must be 1-256 characters" in str(caught.value)
    assert "slashes" not in str(caught.value)


def test_webhook_mode_listens_on_the_url_path_and_port_8080_by_default(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("BOT_MODE", "webhook")
    monkeypatch.setenv("WEBHOOK_URL", "https://bot.example.org/telegram")
    monkeypatch.setenv("WEBHOOK_SECRET", "s3cret_token-1")
    settings = load_settings()
    assert (settings.http_port, settings.webhook_path) == (8080, "/telegram")
    monkeypatch.setenv("PORT", "9000")
    monkeypatch.setenv("BOT_MODE", "polling")
    assert load_settings().http_port == 9000
    monkeypatch.delenv("PORT")
    assert load_settings().http_port is None


def test_log_format_and_pool_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LOG_FORMAT", "JSON")
    monkeypatch.setenv("DB_POOL_SIZE", "3")
    monkeypatch.setenv("ERROR_CHAT_ID", "-1001234")
    settings = load_settings()
    assert (settings.log_format, settings.db_pool_size, settings.error_chat_id) == (
        "json",
        3,
        -1001234,
    )
    monkeypatch.setenv("LOG_FORMAT", "xml")
    with pytest.raises(ConfigError, match="LOG_FORMAT: Input should be 'text' or 'json'"):
        load_settings()


def test_a_malformed_token_is_named_but_never_echoed(monkeypatch: pytest.MonkeyPatch) -> None:
    secret = "not-a-token-but-still-secret"
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", secret)
    with pytest.raises(ConfigError) as caught:
        load_settings()
    assert "TELEGRAM_BOT_TOKEN" in str(caught.value)
    assert secret not in str(caught.value)


def test_the_token_is_hidden_in_reprs(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", TOKEN)
    settings = load_settings()
    assert TOKEN not in repr(settings)
    assert TOKEN not in str(settings.model_dump())
