from __future__ import annotations

import pytest

from codesign.config import DEV_SECRET, Settings, SettingsError

GOOD_SECRET = "s" * 48


def test_defaults_to_sqlite_file_in_working_folder(tmp_path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    settings = Settings.from_env({"CODESIGN_SECRET_KEY": GOOD_SECRET})
    assert settings.database_url == f"sqlite:///{tmp_path / 'codesign.db'}"
    assert settings.port == 8000 and settings.env == "production" and settings.secure_cookies


@pytest.mark.parametrize("secret", ["", "change-me", "secret", "short"])
def test_placeholder_or_short_secret_refused_in_production(secret: str) -> None:
    with pytest.raises(SettingsError, match="CODESIGN_SECRET_KEY"):
        Settings.from_env({"CODESIGN_SECRET_KEY": secret})


def test_development_allows_missing_secret_and_insecure_cookies() -> None:
    settings = Settings.from_env({"CODESIGN_ENV": "development"})
    assert settings.secret_key == DEV_SECRET
    assert not settings.secure_cookies


def test_development_secret_never_accepted_in_production() -> None:
    with pytest.raises(SettingsError):
        Settings.from_env({"CODESIGN_SECRET_KEY": DEV_SECRET})


def test_reads_every_variable() -> None:
    settings = Settings.from_env({
        "CODESIGN_SECRET_KEY": GOOD_SECRET, "CODESIGN_PORT": "9000", "CODESIGN_WORKERS": "3",
        "CODESIGN_DATABASE_URL": "postgresql://app@db/codesign", "CODESIGN_PUBLIC_URL": "https://x.nhs.uk/",
        "CODESIGN_SECURE_COOKIES": "false", "CODESIGN_POLL_INTERVAL_MS": "1500",
    })
    assert settings.port == 9000 and settings.workers == 3
    assert settings.database_url == "postgresql+psycopg://app@db/codesign"
    assert settings.public_url == "https://x.nhs.uk"
    assert settings.secure_cookies is False and settings.poll_interval_ms == 1500


@pytest.mark.parametrize(("name", "value"), [("CODESIGN_PORT", "eighty"), ("CODESIGN_PORT", "70000"),
                                             ("CODESIGN_SECURE_COOKIES", "maybe"), ("CODESIGN_ENV", "staging")])
def test_malformed_values_name_the_variable(name: str, value: str) -> None:
    with pytest.raises(SettingsError, match=name):
        Settings.from_env({"CODESIGN_SECRET_KEY": GOOD_SECRET, name: value})


def test_reads_the_attempt_limits() -> None:
    settings = Settings.from_env({
        "CODESIGN_SECRET_KEY": GOOD_SECRET, "CODESIGN_LOGIN_MAX_FAILURES": "3", "CODESIGN_LOGIN_WINDOW_SECONDS": "60",
        "CODESIGN_JOIN_MAX_FAILURES": "4", "CODESIGN_JOIN_WINDOW_SECONDS": "120",
        "CODESIGN_JOIN_ADDRESS_MAX_FAILURES": "900",
    })
    assert (settings.login_max_failures, settings.login_window_seconds) == (3, 60)
    assert (settings.join_max_failures, settings.join_window_seconds, settings.join_address_max_failures) == (4, 120, 900)
    defaults = Settings.from_env({"CODESIGN_SECRET_KEY": GOOD_SECRET})
    assert (defaults.join_max_failures, defaults.join_window_seconds, defaults.join_address_max_failures) == (5, 600, 300)


@pytest.mark.parametrize(("name", "value"), [("CODESIGN_JOIN_ADDRESS_MAX_FAILURES", "-1"),
                                             ("CODESIGN_LOGIN_MAX_FAILURES", "-5"),
                                             ("CODESIGN_JOIN_WINDOW_SECONDS", "0")])
def test_attempt_limits_that_make_no_sense_are_refused(name: str, value: str) -> None:
    with pytest.raises(SettingsError, match=name):
        Settings.from_env({"CODESIGN_SECRET_KEY": GOOD_SECRET, name: value})
