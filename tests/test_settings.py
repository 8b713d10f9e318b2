"""Settings come from the environment and refuse malformed values loudly."""

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


def test_anonymous_user_is_sent_to_login(client):
    response = client.get("/")
    assert response.status_code == 302
    assert response.url.startswith("/accounts/login/")
