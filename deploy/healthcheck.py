"""Is the web process healthy? GET /healthz (a database round trip) must answer 200.

    python deploy/healthcheck.py                  # one check: exit 0 healthy, 1 not
    python deploy/healthcheck.py --wait 60        # poll until healthy, for at most 60 s
    python deploy/healthcheck.py --restart UNIT   # unhealthy 3 times in a row: systemctl restart UNIT

The address is the first of AVLABEL_BIND (as deploy/gunicorn.conf.py binds); the Host header
the first of DJANGO_ALLOWED_HOSTS, since Django refuses any other. Standard library only: it
runs from systemd units (deploy/systemd) without Django.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
import urllib.error
import urllib.request

CHECK_TIMEOUT_SECONDS = 5
TRIES_BEFORE_RESTART = 3


def default_url() -> str:
    address = os.environ.get("AVLABEL_BIND", "127.0.0.1:8000").split(",")[0].strip()
    if address.startswith("unix:"):
        raise SystemExit(f"AVLABEL_BIND={address} is a unix socket: give --url")
    host, _, port = address.rpartition(":")
    host = {"": "127.0.0.1", "0.0.0.0": "127.0.0.1", "[::]": "[::1]"}.get(host, host)
    return f"http://{host}:{port}/healthz"


def default_host_header() -> str | None:
    hosts = [host.strip() for host in os.environ.get("DJANGO_ALLOWED_HOSTS", "").split(",") if host.strip()]
    if not hosts or hosts[0] == "*":
        return None
    return hosts[0].lstrip(".")  # ".example.org" allows example.org and its subdomains


def healthy(url: str, host: str | None) -> bool:
    request = urllib.request.Request(url, headers={"Host": host} if host else {})
    try:
        with urllib.request.urlopen(request, timeout=CHECK_TIMEOUT_SECONDS) as response:
            return response.status == 200
    except (urllib.error.URLError, OSError):
        return False


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", help="default: http://<first AVLABEL_BIND>/healthz")
    parser.add_argument("--host", help="Host header; default: the first of DJANGO_ALLOWED_HOSTS")
    parser.add_argument("--wait", type=float, default=0, help="poll until healthy for at most this many seconds")
    parser.add_argument("--restart", metavar="UNIT", help="restart this systemd unit when unhealthy")
    args = parser.parse_args(argv)
    url, host = args.url or default_url(), args.host or default_host_header()

    deadline = time.monotonic() + args.wait
    tries = TRIES_BEFORE_RESTART if args.restart else 1
    while True:
        for attempt in range(tries):
            if healthy(url, host):
                return 0
            if attempt + 1 < tries:
                time.sleep(2)
        if time.monotonic() >= deadline:
            break
        time.sleep(1)
    print(f"avlabel: {url} is not healthy", file=sys.stderr)
    if args.restart:
        print(f"avlabel: restarting {args.restart}", file=sys.stderr)
        subprocess.run(["systemctl", "restart", args.restart], check=False)
    return 1


if __name__ == "__main__":
    sys.exit(main())
