"""config.env: settings come from the environment and refuse malformed values loudly."""

import stat

import pytest
from django.core.exceptions import ImproperlyConfigured

from config import env


def test_database_config_defaults_to_sqlite_file(monkeypatch, tmp_path):
    monkeypatch.delenv("DATABASE_URL", raising=False)
    config = env.database_config(tmp_path / "db.sqlite3")
    assert config["ENGINE"] == "django.db.backends.sqlite3"
    assert config["NAME"] == str(tmp_path / "db.sqlite3")


def test_database_url_switches_to_postgresql(monkeypatch, tmp_path):
    monkeypatch.setenv("DATABASE_URL", "postgres://u:p@db.example:5433/avlabel")
    config = env.database_config(tmp_path / "db.sqlite3")
    assert config["ENGINE"] == "django.db.backends.postgresql"
    assert (config["HOST"], config["PORT"], config["NAME"]) == ("db.example", 5433, "avlabel")


@pytest.mark.parametrize("url", ["mysqlx://x/y", "not a url", "postgres://host-only"])
def test_malformed_database_url_stops_start_up(monkeypatch, tmp_path, url):
    monkeypatch.setenv("DATABASE_URL", url)
    with pytest.raises(ImproperlyConfigured, match="DATABASE_URL"):
        env.database_config(tmp_path / "db.sqlite3")


def test_broker_defaults_to_filesystem_transport(monkeypatch, tmp_path):
    monkeypatch.delenv("CELERY_BROKER_URL", raising=False)
    assert env.broker_url(tmp_path) == "filesystem://localhost/"


@pytest.mark.parametrize("url", ["redis://127.0.0.1:6379/0", "amqp://guest:guest@127.0.0.1:5672//"])
def test_broker_url_accepts_redis_and_rabbitmq(monkeypatch, tmp_path, url):
    monkeypatch.setenv("CELERY_BROKER_URL", url)
    assert env.broker_url(tmp_path) == url


@pytest.mark.parametrize("url", ["kafka://x:1", "redis://", "http://example.com"])
def test_malformed_broker_url_stops_start_up(monkeypatch, tmp_path, url):
    monkeypatch.setenv("CELERY_BROKER_URL", url)
    with pytest.raises(ImproperlyConfigured, match="CELERY_BROKER_URL"):
        env.broker_url(tmp_path)


@pytest.mark.parametrize(("raw", "expected"), [("1", True), ("off", False), ("Yes", True)])
def test_env_bool_reads_common_words(monkeypatch, raw, expected):
    monkeypatch.setenv("X_FLAG", raw)
    assert env.env_bool("X_FLAG", not expected) is expected


def test_env_bool_refuses_other_words(monkeypatch):
    monkeypatch.setenv("X_FLAG", "maybe")
    with pytest.raises(ImproperlyConfigured, match="X_FLAG"):
        env.env_bool("X_FLAG", False)


@pytest.mark.parametrize(("raw", "expected"), [("enforce", "enforce"), (" Report-Only ", "report-only")])
def test_env_choice_reads_one_of_its_choices(monkeypatch, raw, expected):
    monkeypatch.setenv("X_MODE", raw)
    assert env.env_choice("X_MODE", ("off", "report-only", "enforce"), "off") == expected


def test_env_choice_refuses_other_words(monkeypatch):
    monkeypatch.setenv("X_MODE", "strict")
    with pytest.raises(ImproperlyConfigured, match="X_MODE='strict' is not one of: off, enforce"):
        env.env_choice("X_MODE", ("off", "enforce"), "off")


def test_secret_key_file_is_created_readable_by_its_owner_only(tmp_path):
    # Given no key file yet
    path = tmp_path / "secret_key"

    # When the key is read twice
    first = env.secret_key_file(path)
    second = env.secret_key_file(path)

    # Then one long key was generated into a file of mode 0600, and kept
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert len(first) >= 50
    assert second == first


def test_secret_key_file_keeps_an_existing_key(tmp_path):
    path = tmp_path / "secret_key"
    path.write_text("an-existing-key\n")
    assert env.secret_key_file(path) == "an-existing-key"
