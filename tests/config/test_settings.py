"""config.settings under the environments operators use: each case imports the settings in a
fresh interpreter, since the settings are read once, at start-up."""

import json
import os
import secrets
import shlex
import stat
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
# A PostgreSQL URL whose database need not exist: none of these cases connects to it.
PRODUCTION_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/avlabel_chk"
OWN_PREFIXES = ("DJANGO_", "AVLABEL_", "DATABASE_", "CELERY_")

SHOW_SETTINGS = """
import json
import django
django.setup()
from django.conf import settings
print(json.dumps({"secret_key": settings.SECRET_KEY, "allowed_hosts": settings.ALLOWED_HOSTS}))
"""

# The project's own middleware and URLs, through the test client over https, plain http, and
# http behind a proxy that says https; then one inline script rendered with the CSP nonce.
SHOW_HEADERS = """
import json
import django
django.setup()
from csp.middleware import CSPMiddleware
from django.http import HttpResponse
from django.template import engines
from django.test import Client, RequestFactory

client = Client(HTTP_HOST="localhost")
https = client.get("/accounts/login/", secure=True)
http = client.get("/accounts/login/")
forwarded = client.get("/accounts/login/", HTTP_X_FORWARDED_PROTO="https")
health = client.get("/healthz")
script = engines["django"].from_string('<script nonce="{{ CSP_NONCE }}"></script>')
inline = CSPMiddleware(lambda request: HttpResponse(script.render(request=request)))(RequestFactory().get("/"))
print(json.dumps({
    "hsts": https.headers.get("Strict-Transport-Security"),
    "csp": https.headers.get("Content-Security-Policy"),
    "csp_report_only": https.headers.get("Content-Security-Policy-Report-Only"),
    "http_status": http.status_code,
    "http_location": http.headers.get("Location"),
    "forwarded_status": forwarded.status_code,
    "forwarded_hsts": forwarded.headers.get("Strict-Transport-Security"),
    "health_status": health.status_code,
    "inline_body": inline.content.decode(),
    "inline_csp": inline.headers.get("Content-Security-Policy"),
}))
"""


def _run(args: list[str], data_dir: Path, **env: str) -> subprocess.CompletedProcess:
    """Run in the repository under config.settings, with only the project variables given."""
    inherited = {name: value for name, value in os.environ.items() if not name.startswith(OWN_PREFIXES)}
    return subprocess.run(
        [sys.executable, *args],
        cwd=ROOT,
        env={**inherited, "DJANGO_SETTINGS_MODULE": "config.settings", "AVLABEL_DATA_DIR": str(data_dir), **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def _json(result: subprocess.CompletedProcess) -> dict:
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def _readme_production_env() -> dict[str, str]:
    """The variables exported in README.md's Production deployment block."""
    section = (ROOT / "README.md").read_text().split("## Production deployment", 1)[1]
    block = section.split("```bash", 1)[1].split("```", 1)[0]
    env: dict[str, str] = {}
    for line in block.splitlines():
        words = shlex.split(line, comments=True)
        if words[:1] == ["export"]:
            env.update(word.split("=", 1) for word in words[1:])
    return env


@pytest.mark.parametrize(
    "env",
    [
        {"DATABASE_URL": PRODUCTION_DATABASE_URL},
        {"DATABASE_URL": PRODUCTION_DATABASE_URL, "DJANGO_DEBUG": "off"},
        {"AVLABEL_REQUIRE_SECRET_KEY": "on"},
    ],
    ids=["database-url", "debug-off", "required-on-sqlite"],
)
def test_missing_secret_key_in_production_stops_start_up(tmp_path, env):
    result = _run(["-c", SHOW_SETTINGS], tmp_path, **env)

    assert result.returncode != 0
    assert "ImproperlyConfigured: DJANGO_SECRET_KEY is not set" in result.stderr
    assert not (tmp_path / "secret_key").exists()


def test_production_takes_its_key_from_the_environment(tmp_path):
    key = secrets.token_urlsafe(50)
    shown = _json(_run(["-c", SHOW_SETTINGS], tmp_path, DATABASE_URL=PRODUCTION_DATABASE_URL, DJANGO_SECRET_KEY=key))
    assert shown["secret_key"] == key


def test_demo_generates_its_key_once_into_an_owner_only_file(tmp_path):
    # Given the demo's environment: SQLite, no key
    # When the settings are loaded twice
    first = _json(_run(["-c", SHOW_SETTINGS], tmp_path))
    second = _json(_run(["-c", SHOW_SETTINGS], tmp_path))

    # Then both runs use the key kept in the data folder, which only its owner may read
    key_file = tmp_path / "secret_key"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert first["secret_key"] == second["secret_key"] == key_file.read_text().strip()


def test_testserver_is_not_an_allowed_host_by_default(tmp_path):
    shown = _json(_run(["-c", SHOW_SETTINGS], tmp_path))
    assert shown["allowed_hosts"] == ["localhost", "127.0.0.1", "[::1]"]


def test_deploy_check_passes_with_the_readme_production_env(tmp_path):
    # Given README's production variables, with a real key and throwaway folders and database
    env = _readme_production_env()
    assert env["DJANGO_CSP"] == "enforce"
    env |= {
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
        "DATABASE_URL": PRODUCTION_DATABASE_URL,
        "AVLABEL_DATA_DIR": str(tmp_path / "data"),
    }

    # When Django's deploy checks run, warnings counting as failures
    result = _run(["manage.py", "check", "--deploy", "--fail-level", "WARNING"], tmp_path, **env)

    # Then nothing is reported
    assert result.returncode == 0, result.stderr
    assert "no issues" in result.stdout


def test_deploy_check_fails_without_the_https_settings(tmp_path):
    env = {"DATABASE_URL": PRODUCTION_DATABASE_URL, "DJANGO_SECRET_KEY": secrets.token_urlsafe(50)}
    result = _run(["manage.py", "check", "--deploy", "--fail-level", "WARNING"], tmp_path, **env)

    assert result.returncode != 0
    for warning in ("security.W008", "security.W012", "security.W016"):
        assert warning in result.stderr


def test_defaults_without_debug_send_hsts_over_https_only_and_no_csp(tmp_path):
    shown = _json(_run(["-c", SHOW_HEADERS], tmp_path))

    assert shown["hsts"] == "max-age=31536000"
    assert shown["csp"] is None
    assert shown["csp_report_only"] is None
    # The demo over plain http: no redirect, and a proxy's X-Forwarded-Proto is not trusted
    assert shown["http_status"] == 200
    assert (shown["forwarded_status"], shown["forwarded_hsts"]) == (200, None)


def test_https_settings_and_csp_when_switched_on(tmp_path):
    # Given the switches of README's production block
    env = {
        "DJANGO_SECURE_PROXY_SSL_HEADER": "on",
        "DJANGO_SECURE_SSL_REDIRECT": "on",
        "DJANGO_SECURE_HSTS_SECONDS": "3600",
        "DJANGO_SECURE_HSTS_INCLUDE_SUBDOMAINS": "on",
        "DJANGO_SECURE_HSTS_PRELOAD": "on",
        "DJANGO_CSP": "enforce",
    }

    # When pages are requested
    shown = _json(_run(["-c", SHOW_HEADERS], tmp_path, **env))

    # Then https answers carry HSTS and the policy; plain http is redirected, except the probe
    assert shown["hsts"] == "max-age=3600; includeSubDomains; preload"
    policy = dict(part.strip().split(" ", 1) for part in shown["csp"].split(";"))
    assert policy["default-src"] == "'self'"
    assert policy["script-src"] == "'self'"  # no inline script on the page: no nonce
    assert policy["object-src"] == "'none'"
    assert policy["frame-ancestors"] == "'none'"
    assert shown["csp_report_only"] is None
    assert (shown["http_status"], shown["http_location"]) == (301, "https://localhost/accounts/login/")
    assert (shown["forwarded_status"], shown["forwarded_hsts"]) == (200, "max-age=3600; includeSubDomains; preload")
    assert shown["health_status"] == 200


def test_inline_script_runs_with_the_nonce_of_its_response(tmp_path):
    shown = _json(_run(["-c", SHOW_HEADERS], tmp_path, DJANGO_CSP="enforce"))

    nonce = shown["inline_body"].split('nonce="', 1)[1].split('"', 1)[0]
    assert len(nonce) >= 16
    assert f"script-src 'self' 'nonce-{nonce}'" in shown["inline_csp"]


def test_csp_report_only_reports_without_enforcing(tmp_path):
    shown = _json(_run(["-c", SHOW_HEADERS], tmp_path, DJANGO_CSP="report-only"))

    assert shown["csp"] is None
    assert "default-src 'self'" in shown["csp_report_only"]


def test_malformed_csp_mode_stops_start_up(tmp_path):
    result = _run(["-c", SHOW_SETTINGS], tmp_path, DJANGO_CSP="yes")

    assert result.returncode != 0
    assert "DJANGO_CSP='yes' is not one of: off, report-only, enforce" in result.stderr
