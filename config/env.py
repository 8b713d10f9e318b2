"""Settings read from the environment, each validated so a bad value stops start-up loudly."""

import os
from pathlib import Path
from urllib.parse import urlsplit

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.core.management.utils import get_random_secret_key

BROKER_SCHEMES = {"redis", "rediss", "amqp", "amqps", "pyamqp", "filesystem", "memory", "sqla+sqlite"}
TRUE_WORDS = {"1", "true", "yes", "on"}
FALSE_WORDS = {"0", "false", "no", "off", ""}


def env_bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None:
        return default
    value = raw.strip().lower()
    if value in TRUE_WORDS:
        return True
    if value in FALSE_WORDS:
        return False
    raise ImproperlyConfigured(f"{name}={raw!r} is not a boolean: use one of 1/0, true/false, yes/no, on/off.")


def env_int(name: str, default: int, *, minimum: int = 0) -> int:
    raw = os.environ.get(name)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name}={raw!r} is not a whole number.") from None
    if value < minimum:
        raise ImproperlyConfigured(f"{name}={value} must be at least {minimum}.")
    return value


def env_choice(name: str, choices: tuple[str, ...], default: str) -> str:
    raw = os.environ.get(name)
    if raw is None:
        return default
    value = raw.strip().lower()
    if value not in choices:
        raise ImproperlyConfigured(f"{name}={raw!r} is not one of: {', '.join(choices)}.")
    return value


def env_list(name: str, default: list[str]) -> list[str]:
    raw = os.environ.get(name)
    if raw is None:
        return default
    return [item.strip() for item in raw.split(",") if item.strip()]


def env_folders(name: str) -> list[Path]:
    """Comma-separated absolute folders (none when unset or empty), each resolved (links
    followed) so a path can be checked against them; a relative one stops start-up."""
    folders = []
    for item in env_list(name, []):
        path = Path(item).expanduser()
        if not path.is_absolute():
            raise ImproperlyConfigured(f"{name}: {item!r} is not an absolute folder path.")
        folders.append(path.resolve())
    return folders


def secret_key_file(path: Path) -> str:
    """The key kept in `path`, generated there on first use, readable by its owner only.

    os.open creates the file with mode 0600 in one step (no window where another user could
    read it), and O_EXCL lets the first of two processes starting together write the key.
    """
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        pass
    else:
        with os.fdopen(fd, "w") as fh:
            fh.write(get_random_secret_key())
    return path.read_text().strip()


def database_config(sqlite_path: Path) -> dict:
    """DATABASE_URL (postgres://...) or, when unset, the embedded SQLite file."""
    raw = os.environ.get("DATABASE_URL", "").strip()
    if not raw:
        return {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": str(sqlite_path),
            # SQLite serialises writers; a generous timeout lets the demo's worker and web
            # process share the file without "database is locked".
            # IMMEDIATE: a writer takes the lock at BEGIN, so two requests racing for
            # the same clip wait for each other instead of failing with "locked".
            "OPTIONS": {"timeout": 30, "transaction_mode": "IMMEDIATE"},
        }
    scheme = urlsplit(raw).scheme
    if scheme not in {"postgres", "postgresql", "pgsql", "sqlite"}:
        raise ImproperlyConfigured(
            f"DATABASE_URL has scheme {scheme!r}; expected postgres://user:password@host:port/name "
            "(or sqlite:////absolute/path.sqlite3)."
        )
    try:
        config = dj_database_url.parse(raw, conn_max_age=env_int("DATABASE_CONN_MAX_AGE", 60))
    except Exception as exc:  # dj_database_url raises several types for malformed URLs
        raise ImproperlyConfigured(f"DATABASE_URL could not be parsed: {exc}") from exc
    if scheme != "sqlite" and not config.get("NAME"):
        raise ImproperlyConfigured("DATABASE_URL names no database: add /<name> at the end.")
    return config


def broker_url(data_dir: Path) -> str:
    """CELERY_BROKER_URL (redis:// or amqp://) or, when unset, kombu's filesystem transport."""
    raw = os.environ.get("CELERY_BROKER_URL", "").strip()
    if not raw:
        return "filesystem://localhost/"  # the host means nothing to it; kombu warns when absent
    scheme = urlsplit(raw).scheme
    if scheme not in BROKER_SCHEMES:
        raise ImproperlyConfigured(
            f"CELERY_BROKER_URL has scheme {scheme!r}; expected one of {sorted(BROKER_SCHEMES)}, "
            "for example redis://127.0.0.1:6379/0 or amqp://guest:guest@127.0.0.1:5672//."
        )
    if scheme in {"redis", "rediss", "amqp", "amqps", "pyamqp"} and not urlsplit(raw).hostname:
        raise ImproperlyConfigured(f"CELERY_BROKER_URL={raw!r} names no host.")
    return raw
