"""Configuration comes from the environment and refuses unsafe production settings."""

import base64

import pytest

from simdebrief.config import ConfigError, load_settings, validate_config


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch):
    """The machine's own SIMDEBRIEF_* variables must not leak into these tests."""
    import os

    for name in list(os.environ):
        if name.startswith("SIMDEBRIEF_"):
            monkeypatch.delenv(name)


def settings(monkeypatch, tmp_path, **env):
    for name, value in env.items():
        monkeypatch.setenv(f"SIMDEBRIEF_{name}", value)
    return load_settings(tmp_path)


def test_defaults_use_sqlite_in_the_instance_folder_and_copenhagen(monkeypatch, tmp_path):
    config = settings(monkeypatch, tmp_path)
    assert config["SQLALCHEMY_DATABASE_URI"] == f"sqlite:///{tmp_path / 'simdebrief.sqlite3'}"
    assert config["SIMDEBRIEF_TIMEZONE"] == "Europe/Copenhagen"
    assert config["SIMDEBRIEF_SCHEDULER"] is True
    assert config["SESSION_COOKIE_SECURE"] is False


def test_environment_variables_override_defaults(monkeypatch, tmp_path):
    config = settings(monkeypatch, tmp_path, DATABASE_URL="postgresql+psycopg://db/sim",
                      SMTP_HOST="mail.example.org", SMTP_PORT="2525", SCHEDULER="off",
                      TIMEZONE="Europe/Oslo", BASE_URL="https://sim.example.org")
    assert config["SQLALCHEMY_DATABASE_URI"] == "postgresql+psycopg://db/sim"
    assert (config["SIMDEBRIEF_SMTP_HOST"], config["SIMDEBRIEF_SMTP_PORT"]) == (
        "mail.example.org", 2525)
    assert config["SIMDEBRIEF_SCHEDULER"] is False


def test_development_key_is_generated_once_and_kept(monkeypatch, tmp_path):
    first = settings(monkeypatch, tmp_path)
    validate_config(first, tmp_path)
    second = settings(monkeypatch, tmp_path)
    validate_config(second, tmp_path)
    assert first["SECRET_KEY"] == second["SECRET_KEY"]
    assert len(first["SECRET_KEY"]) >= 32


def test_production_refuses_to_start_without_a_secret_key(monkeypatch, tmp_path):
    config = settings(monkeypatch, tmp_path, ENV="production")
    with pytest.raises(ConfigError, match="SIMDEBRIEF_SECRET_KEY must be set"):
        validate_config(config, tmp_path)
    assert not (tmp_path / "secret_key").exists()


def test_production_uses_secure_host_cookies(monkeypatch, tmp_path):
    config = settings(monkeypatch, tmp_path, ENV="production", SECRET_KEY="k" * 48,
                      CHECKIN_KEYS="1:" + base64.urlsafe_b64encode(bytes(32)).decode())
    validate_config(config, tmp_path)
    assert config["SESSION_COOKIE_SECURE"] is True
    assert config["SESSION_COOKIE_NAME"].startswith("__Host-")


@pytest.mark.parametrize("name,value,message", [
    ("TIMEZONE", "Mars/Olympus", "not a known time zone"),
    ("BASE_URL", "sim.example.org", "must start with http"),
])
def test_bad_values_name_the_variable(monkeypatch, tmp_path, name, value, message):
    config = settings(monkeypatch, tmp_path, **{name: value})
    with pytest.raises(ConfigError, match=message):
        validate_config(config, tmp_path)


def test_a_port_that_is_not_a_number_is_explained(monkeypatch, tmp_path):
    with pytest.raises(ConfigError, match="SIMDEBRIEF_SMTP_PORT must be a whole number"):
        settings(monkeypatch, tmp_path, SMTP_PORT="twenty-five")
