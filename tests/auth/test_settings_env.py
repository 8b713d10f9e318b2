"""The login and token settings under the environments operators use, each in a fresh
interpreter (settings are read once, at start-up), and the lockout on the demo's SQLite."""

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
OWN_PREFIXES = ("DJANGO_", "AVLABEL_", "DATABASE_", "CELERY_")

SHOW_AUTH_SETTINGS = """
import json
import django
django.setup()
from django.conf import settings
print(json.dumps({
    "limit": settings.AXES_FAILURE_LIMIT,
    "cooloff_seconds": settings.AXES_COOLOFF_TIME.total_seconds(),
    "token_ttl_seconds": settings.AVLABEL_TOKEN_TTL.total_seconds(),
    "ip_order": list(settings.AXES_IPWARE_META_PRECEDENCE_ORDER),
}))
"""

# The demo: SQLite, migrated, then a username locked out of the login page after the limit.
LOCK_OUT_ON_SQLITE = """
import json
import django
django.setup()
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.test import Client

call_command("migrate", verbosity=0)
get_user_model().objects.create_user("ann", password="right-password-1")
client = Client(HTTP_HOST="localhost")
statuses = [
    client.post("/accounts/login/", {"username": "ann", "password": "wrong"}).status_code
    for _ in range(settings.AXES_FAILURE_LIMIT)
]
right = client.post("/accounts/login/", {"username": "ann", "password": "right-password-1"}).status_code
print(json.dumps({"vendor": django.db.connection.vendor, "statuses": statuses, "right": right}))
"""


def run(code: str, data_dir: Path, **env: str) -> subprocess.CompletedProcess:
    inherited = {name: value for name, value in os.environ.items() if not name.startswith(OWN_PREFIXES)}
    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env={**inherited, "DJANGO_SETTINGS_MODULE": "config.settings", "AVLABEL_DATA_DIR": str(data_dir), **env},
        capture_output=True,
        text=True,
        timeout=180,
    )


def shown(result: subprocess.CompletedProcess) -> dict:
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_defaults(tmp_path):
    assert shown(run(SHOW_AUTH_SETTINGS, tmp_path)) == {
        "limit": 10,
        "cooloff_seconds": 15 * 60,
        "token_ttl_seconds": 720 * 3600,
        "ip_order": ["REMOTE_ADDR"],
    }


def test_limits_token_lifetime_and_client_ip_header_from_the_environment(tmp_path):
    env = {
        "AVLABEL_LOGIN_FAILURE_LIMIT": "4",
        "AVLABEL_LOGIN_COOLOFF_MINUTES": "60",
        "AVLABEL_TOKEN_TTL_HOURS": "8",
        "AVLABEL_CLIENT_IP_HEADER": "X-Real-IP",
    }

    assert shown(run(SHOW_AUTH_SETTINGS, tmp_path, **env)) == {
        "limit": 4,
        "cooloff_seconds": 3600,
        "token_ttl_seconds": 8 * 3600,
        "ip_order": ["HTTP_X_REAL_IP", "REMOTE_ADDR"],
    }


def test_bad_values_stop_start_up(tmp_path):
    for name, value, message in [
        ("AVLABEL_CLIENT_IP_HEADER", "X-Real-IP: 1.2.3.4", "is not a header name"),
        ("AVLABEL_LOGIN_FAILURE_LIMIT", "0", "must be at least 1"),
        ("AVLABEL_TOKEN_TTL_HOURS", "forever", "is not a whole number"),
    ]:
        result = run(SHOW_AUTH_SETTINGS, tmp_path, **{name: value})
        assert result.returncode != 0 and message in result.stderr, (name, result.stderr[-500:])


def test_the_demo_on_sqlite_locks_out(tmp_path):
    result = shown(run(LOCK_OUT_ON_SQLITE, tmp_path))

    assert result == {"vendor": "sqlite", "statuses": [200] * 9 + [429], "right": 429}
