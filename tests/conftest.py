"""Shared fixtures. Services a test needs (PostgreSQL, Redis, chromium) must be there in
CI; locally such a test skips only when the service is absent and CI is unset."""

import os
from pathlib import Path

import pytest

# The real annotation files the tests read ship with the clone (tests/data/*/README.md).
SHARED_DATA = Path(os.environ.get("AVLABEL_SHARED_DATA", Path(__file__).resolve().parent / "data"))

IN_CI = bool(os.environ.get("CI"))


def require_or_skip(available: bool, what: str) -> None:
    """Fail in CI when a service is missing; skip locally."""
    if available:
        return
    if IN_CI:
        pytest.fail(f"{what} is required in CI but is not available")
    pytest.skip(f"{what} not available (CI unset)")


@pytest.fixture(scope="session")
def shared_data() -> Path:
    require_or_skip(SHARED_DATA.exists(), f"shared data folder {SHARED_DATA}")
    return SHARED_DATA


@pytest.fixture
def postgres_db(db):
    """The test database must be PostgreSQL (bin/avlabel test sets DATABASE_URL)."""
    from django.db import connection

    require_or_skip(connection.vendor == "postgresql", "PostgreSQL (set DATABASE_URL)")
    return connection


@pytest.fixture
def media_root(tmp_path, settings):
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.MEDIA_ROOT.mkdir()
    return settings.MEDIA_ROOT


@pytest.fixture(autouse=True)
def fast_password_hasher(settings):
    """Factories set a password per user; PBKDF2 would dominate the run time."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def testserver_allowed(settings):
    """Django's test client sends Host: testserver, which the default ALLOWED_HOSTS need not list."""
    if "testserver" not in settings.ALLOWED_HOSTS:
        settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "testserver"]
