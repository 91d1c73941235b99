"""Settings: environment over file over defaults, clear errors, secrets hidden."""

from __future__ import annotations

from pathlib import Path

import pytest

from server.settings import SettingsError, load_settings


def test_env_wins_over_file_over_default(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cfg = tmp_path / "t.toml"
    cfg.write_text("[tablee]\nport = 9001\nheartbeat_seconds = 3.0\n")
    monkeypatch.setenv("TABLEE_CONFIG", str(cfg))
    monkeypatch.setenv("TABLEE_PORT", "9002")
    s = load_settings()
    assert s.port == 9002
    assert s.heartbeat_seconds == 3.0
    assert s.rate_burst == 60


def test_origins_from_a_comma_list(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TABLEE_ALLOWED_ORIGINS", "https://a.example/, https://b.example")
    assert load_settings().allowed_origins == ("https://a.example", "https://b.example")


def test_wrong_values_fail_with_the_setting_named(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TABLEE_PORT", "not-a-port")
    with pytest.raises(SettingsError, match="TABLEE_PORT"):
        load_settings()


def test_a_shared_database_needs_a_secret_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TABLEE_DATABASE_URL", "postgresql+asyncpg://x@h/db")
    with pytest.raises(SettingsError, match="TABLEE_SECRET_KEY"):
        load_settings()
    monkeypatch.setenv("TABLEE_SECRET_KEY", "hunter2-hunter2")
    s = load_settings()
    assert "hunter2" not in repr(s)


def test_a_missing_config_file_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TABLEE_CONFIG", "/nonexistent/tablee.toml")
    with pytest.raises(SettingsError, match="does not exist"):
        load_settings()


def test_the_word_weight_of_themes_is_a_share_below_one(monkeypatch: pytest.MonkeyPatch) -> None:
    from nlp.factory import make_pipeline

    assert load_settings().theme_word_weight == 0.3
    monkeypatch.setenv("TABLEE_THEME_WORD_WEIGHT", "0")
    assert make_pipeline("hashing", load_settings().theme_word_weight).lexical_weight == 0.0
    monkeypatch.setenv("TABLEE_THEME_WORD_WEIGHT", "1")
    with pytest.raises(SettingsError, match="TABLEE_THEME_WORD_WEIGHT"):
        load_settings()
