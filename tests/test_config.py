from __future__ import annotations

import os
import secrets
import stat
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from codesign import cli
from codesign.config import SECRET_FILE, SECRET_PER_PROCESS, Settings, SettingsError, development_secret, weakness

GOOD_SECRET = secrets.token_urlsafe(48)


def test_defaults_to_sqlite_file_in_working_folder(tmp_path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    settings = Settings.from_env({"CODESIGN_SECRET_KEY": GOOD_SECRET})
    assert settings.database_url == f"sqlite:///{tmp_path / 'codesign.db'}"
    assert settings.port == 8000 and settings.env == "production" and settings.secure_cookies


@pytest.mark.parametrize("secret", ["", "change-me", "secret", "short"])
def test_placeholder_or_short_secret_refused_in_production(secret: str) -> None:
    with pytest.raises(SettingsError, match="CODESIGN_SECRET_KEY"):
        Settings.from_env({"CODESIGN_SECRET_KEY": secret})


def test_development_keeps_a_private_secret_beside_the_database(tmp_path: Path) -> None:
    env = {"CODESIGN_ENV": "development", "CODESIGN_DATABASE_URL": f"sqlite:///{tmp_path / 'dev.db'}"}
    settings = Settings.from_env(env)
    assert not settings.secure_cookies and settings.secret_origin == SECRET_FILE
    kept = tmp_path / "dev.db.secret"
    assert kept.read_text().strip() == settings.secret_key and weakness(settings.secret_key) is None
    assert stat.S_IMODE(kept.stat().st_mode) == 0o600
    # A restart (or a second worker) signs with the same key, so cookies keep working.
    assert Settings.from_env(env).secret_key == settings.secret_key
    # Another database, another key: nothing is a constant shipped in the code.
    other = Settings.from_env({**env, "CODESIGN_DATABASE_URL": f"sqlite:///{tmp_path / 'other.db'}"})
    assert other.secret_key != settings.secret_key
    # The key it made is good enough for production too.
    assert Settings.from_env({"CODESIGN_SECRET_KEY": settings.secret_key}).secret_key == settings.secret_key


def test_development_on_postgresql_keeps_its_secret_in_the_working_folder(tmp_path: Path,
                                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    settings = Settings.from_env({"CODESIGN_ENV": "development", "CODESIGN_DATABASE_URL": "postgresql://app@db/x"})
    assert (tmp_path / ".codesign-dev.secret").read_text().strip() == settings.secret_key


def test_workers_starting_together_share_one_development_secret(tmp_path: Path) -> None:
    path = tmp_path / "codesign.db.secret"
    start = threading.Barrier(8)

    def worker() -> str:
        start.wait()  # all eight look for the file at the same moment, as uvicorn's workers do
        return development_secret(path)

    with ThreadPoolExecutor(8) as pool:
        made = [f.result() for f in [pool.submit(worker) for _ in range(8)]]
    assert len(set(made)) == 1 and made[0] == path.read_text().strip()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["codesign.db.secret"]  # no drafts left behind


def test_a_damaged_development_secret_file_is_named(tmp_path: Path) -> None:
    (tmp_path / "dev.db.secret").write_text("short")
    with pytest.raises(SettingsError, match=r"dev\.db\.secret does not hold a usable secret key"):
        Settings.from_env({"CODESIGN_ENV": "development", "CODESIGN_DATABASE_URL": f"sqlite:///{tmp_path / 'dev.db'}"})


def test_test_environment_makes_a_random_secret_per_process_and_refuses_several_workers() -> None:
    first, second = Settings.from_env({"CODESIGN_ENV": "test"}), Settings.from_env({"CODESIGN_ENV": "test"})
    assert first.secret_origin == SECRET_PER_PROCESS and first.secret_key != second.secret_key
    assert len(first.secret_key) >= 64 and weakness(first.secret_key) is None
    with pytest.raises(SettingsError, match=r"several workers.*CODESIGN_SECRET_KEY"):
        Settings.from_env({"CODESIGN_ENV": "test", "CODESIGN_WORKERS": "2"})
    given = Settings.from_env({"CODESIGN_ENV": "test", "CODESIGN_WORKERS": "2", "CODESIGN_SECRET_KEY": GOOD_SECRET})
    assert given.secret_key == GOOD_SECRET


def test_serving_the_test_environment_on_several_workers_is_refused(monkeypatch: pytest.MonkeyPatch,
                                                                    capsys: pytest.CaptureFixture[str],
                                                                    tmp_path: Path) -> None:
    for name in [k for k in os.environ if k.startswith("CODESIGN_")]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("CODESIGN_ENV", "test")
    monkeypatch.setenv("CODESIGN_DATABASE_URL", f"sqlite:///{tmp_path / 'x.db'}")
    assert cli.main(["serve", "--workers", "3"]) == 2  # refused before uvicorn starts
    assert "CODESIGN_SECRET_KEY" in capsys.readouterr().err


@pytest.mark.parametrize("secret", [
    "s" * 48, "ab" * 24, "password" * 6, "Tr0ub4dor&3" * 4, "0123456789" * 4, "correcthorse" * 3 + "correct",
    "abcdabcdabcdabcdabcdabcdabcdabcdX",  # 4 different characters but one, and nearly all repeats
    "0110100110010110" * 2 + "1001011001101001",  # two characters, not periodic: about 48 bits
    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaabcdefghijk",  # 11 characters, mostly one: about 90 bits
])
def test_production_refuses_a_guessable_secret_and_says_why(secret: str) -> None:
    with pytest.raises(SettingsError, match="CODESIGN_SECRET_KEY is too easy to guess") as refused:
        Settings.from_env({"CODESIGN_SECRET_KEY": secret})
    assert "128 bits" in str(refused.value) and secret not in str(refused.value)


@pytest.mark.parametrize("make", [lambda: secrets.token_urlsafe(48), lambda: secrets.token_hex(32),
                                  lambda: secrets.token_urlsafe(32), lambda: "vT3q9ZxL0pW7sK2mN8bR4cY6hJ1fD5gA-eU_iO"],
                         ids=["urlsafe-48", "hex-32", "urlsafe-32", "typed"])
def test_production_accepts_random_secrets(make) -> None:  # type: ignore[no-untyped-def]
    secret = make()  # made when the test runs, so every test process collects the same tests
    assert Settings.from_env({"CODESIGN_SECRET_KEY": secret}).secret_key == secret


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


def test_reads_the_money_floor_in_pounds() -> None:
    assert Settings.from_env({"CODESIGN_SECRET_KEY": GOOD_SECRET}).min_outcome_stake_pence == 1_000_000
    settings = Settings.from_env({"CODESIGN_SECRET_KEY": GOOD_SECRET, "CODESIGN_MIN_OUTCOME_STAKE": "25000"})
    assert settings.min_outcome_stake_pence == 2_500_000
    assert Settings.from_env({"CODESIGN_SECRET_KEY": GOOD_SECRET,
                              "CODESIGN_MIN_OUTCOME_STAKE": "0"}).min_outcome_stake_pence == 0
    for bad in ("-1", "ten thousand", "2500.50"):
        with pytest.raises(SettingsError, match="CODESIGN_MIN_OUTCOME_STAKE"):
            Settings.from_env({"CODESIGN_SECRET_KEY": GOOD_SECRET, "CODESIGN_MIN_OUTCOME_STAKE": bad})


def test_export_needs_no_secret_key_but_serving_does() -> None:
    assert Settings.from_env({}, needs_secret=False).secret_key == ""
    with pytest.raises(SettingsError, match="CODESIGN_SECRET_KEY"):
        Settings.from_env({})
