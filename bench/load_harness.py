"""What the benches run around the app: a throwaway PostgreSQL database migrated under the
production settings, gunicorn started and stopped, and the CPU each process used, read
from /proc."""

from __future__ import annotations

import http.client
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import psycopg2

ROOT = Path(__file__).resolve().parents[1]
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def admin_connection(server: str):
    connection = psycopg2.connect(f"{server.rstrip('/')}/postgres")
    connection.autocommit = True
    return connection


def database_recreate(server: str, name: str) -> None:
    connection = admin_connection(server)  # not `with connection`: that opens a transaction
    try:
        with connection.cursor() as cursor:
            cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            cursor.execute(f'CREATE DATABASE "{name}"')
    finally:
        connection.close()


def database_drop(server: str, name: str) -> None:
    connection = admin_connection(server)
    try:
        with connection.cursor() as cursor:
            cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        connection.close()


def production_env(*, server: str, database: str, data_dir: Path) -> dict[str, str]:
    """The environment of the app under its production settings on `database`, then
    migrated there; in-memory broker: no bench here runs a worker."""
    env = os.environ | {
        "DATABASE_URL": f"{server.rstrip('/')}/{database}",
        "AVLABEL_DATA_DIR": str(data_dir),
        "CELERY_BROKER_URL": "memory://",
        "DJANGO_DEBUG": "0",
        # production settings refuse to start without a key; the run's sessions need no lasting one
        "DJANGO_SECRET_KEY": os.environ.get("DJANGO_SECRET_KEY") or secrets.token_urlsafe(50),
        "AVLABEL_LOG_LEVEL": "WARNING",
        "DJANGO_SETTINGS_MODULE": "config.settings",
    }
    subprocess.run([sys.executable, "manage.py", "migrate", "-v0"], cwd=ROOT, env=env, check=True)
    return env


def database_backend_pids(connection, name: str) -> list[int]:
    """The server processes serving database `name` (asked over an open admin connection)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pid FROM pg_stat_activity WHERE datname = %s", [name])
        return [pid for (pid,) in cursor.fetchall()]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def http_get_ok(port: int, path: str) -> bool:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        connection.request("GET", path)
        return connection.getresponse().status == 200
    except OSError:
        return False
    finally:
        connection.close()


def gunicorn_start(
    *, env: dict, workers: int, worker_class: str, threads: int, port: int, log_path: Path
) -> subprocess.Popen:
    gunicorn = Path(sys.executable).with_name("gunicorn")
    log = log_path.open("w")
    command = [
        str(gunicorn), "config.wsgi", "-b", f"127.0.0.1:{port}", "--backlog", "256",
        "-w", str(workers), "-k", worker_class, "--threads", str(threads),
        "--keep-alive", "10",  # longer than the longest think time: raters keep their connection
    ]  # fmt: skip
    process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise RuntimeError(f"gunicorn exited with {process.returncode}; see {log_path}")
            # one answer per worker and thread, so that none is still importing when the clock starts
            if all(http_get_ok(port, "/healthz") for _ in range(workers * threads * 2)):
                return process
            time.sleep(0.5)
        raise RuntimeError(f"gunicorn did not answer within 180 s; see {log_path}")
    except BaseException:
        gunicorn_stop(process)
        raise


def gunicorn_stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def process_tree(pid: int) -> list[int]:
    pids, pending = [], [pid]
    while pending:
        current = pending.pop()
        pids.append(current)
        for task in Path(f"/proc/{current}/task").glob("*/children"):
            pending.extend(int(child) for child in task.read_text().split())
    return pids


def cpu_seconds(pids: list[int]) -> dict[int, float]:
    """User + system CPU seconds of each live process, from /proc/<pid>/stat."""
    used = {}
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except (FileNotFoundError, ProcessLookupError, PermissionError):
            continue
        used[pid] = (int(fields[11]) + int(fields[12])) / CLOCK_TICKS  # utime, stime (fields 14, 15)
    return used


def machine_busy_seconds() -> float:
    """CPU seconds all processes on the machine spent busy so far, from /proc/stat."""
    user, nice, system, _idle, _iowait, irq, softirq, steal = map(int, Path("/proc/stat").read_text().split()[1:9])
    return (user + nice + system + irq + softirq + steal) / CLOCK_TICKS


class CpuTracker:
    """CPU used by a changing set of processes since the first reading. Read it every second
    or so: a process that appears counts in full, one that ends keeps what it had used."""

    def __init__(self, list_pids) -> None:
        self.list_pids = list_pids
        self.first = cpu_seconds(list_pids())
        self.last = dict(self.first)

    def sample(self) -> None:
        self.last.update(cpu_seconds(self.list_pids()))

    def used(self) -> float:
        self.sample()
        return sum(seconds - self.first.get(pid, 0.0) for pid, seconds in self.last.items())
