"""The supervised deployment of deploy/: a gunicorn master killed with SIGKILL is replaced by a
new one that binds and serves /healthz within seconds, although the orphaned workers of the
old one still hold the port; the orphans exit by themselves; the systemd units verify."""

from __future__ import annotations

import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
START_SECONDS = 30  # a cold master: Django loads in each worker
# Well under gunicorn's own orphan check (timeout / 2 = 30 s): only the kernel's SIGTERM
# gets them out this soon, whatever else loads the machine.
ORPHAN_EXIT_SECONDS = 12


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _state(pid: int) -> str | None:
    """The process's state letter (R, S, T, Z...), None once it is gone."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return None
    return stat.rpartition(")")[2].split()[0]


def _alive(pid: int) -> bool:
    return _state(pid) not in (None, "Z", "X")  # an orphan's zombie waits for init: it is gone


def _children(pid: int) -> list[int]:
    children = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rpartition(")")[2].split()
        except (FileNotFoundError, ProcessLookupError):
            continue
        if int(fields[1]) == pid:
            children.append(int(stat.parent.name))
    return children


def _healthz(port: int, timeout: float) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=timeout) as response:
            return response.status == 200
    except (urllib.error.URLError, OSError):
        return False


class Gunicorn:
    """`gunicorn -c deploy/gunicorn.conf.py`, as avlabel-web.service starts it."""

    def __init__(self, env: dict[str, str], log_path: Path) -> None:
        self.log_path = log_path
        self.log = open(log_path, "ab")  # noqa: SIM115 (closed in stop)
        self.process = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "-c", str(DEPLOY / "gunicorn.conf.py")],
            cwd=ROOT,
            env=env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )

    def serving(self, port: int, within: float) -> float:
        """Seconds until /healthz answered 200 (probes time out fast: a connection the kernel
        gave to the old socket waits for an orphan)."""
        started = time.monotonic()
        while time.monotonic() < started + within:
            if self.process.poll() is not None:
                pytest.fail(f"gunicorn exited ({self.process.returncode}):\n{self.tail()}")
            if _healthz(port, timeout=0.5):
                return time.monotonic() - started
            time.sleep(0.1)
        pytest.fail(f"/healthz did not answer within {within}s:\n{self.tail()}")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=40)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.log.close()

    def tail(self) -> str:
        return self.log_path.read_text(errors="replace")[-4000:]


@pytest.fixture
def web_env(tmp_path) -> dict[str, str]:
    """A production host's web environment on a free loopback port (SQLite: /healthz only
    needs a database round trip)."""
    env = {key: value for key, value in os.environ.items() if key not in {"DATABASE_URL", "DJANGO_SETTINGS_MODULE"}}
    return env | {
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
        "DJANGO_DEBUG": "off",
        "AVLABEL_DATA_DIR": str(tmp_path / "data"),
        "CELERY_BROKER_URL": "memory://",
        "AVLABEL_BIND": f"127.0.0.1:{_free_port()}",
        "AVLABEL_WEB_WORKERS": "2",
        "PYTHONPATH": str(ROOT),
    }


class Supervisor:
    """Starts masters as avlabel-web.service would; at teardown stops them and kills any worker
    a failing test left behind."""

    def __init__(self, env: dict[str, str], log_dir: Path) -> None:
        self.env, self.log_dir = env, log_dir
        self.masters: list[Gunicorn] = []
        self.workers: list[int] = []

    def start(self) -> Gunicorn:
        master = Gunicorn(self.env, self.log_dir / f"gunicorn-{len(self.masters)}.log")
        self.masters.append(master)
        return master

    def workers_of(self, master: Gunicorn) -> list[int]:
        workers = _children(master.process.pid)
        self.workers.extend(workers)
        return workers

    def close(self) -> None:
        for pid in self.workers:
            if _alive(pid):
                os.kill(pid, signal.SIGKILL)
        for master in self.masters:
            master.stop()


@pytest.fixture
def supervisor(web_env, tmp_path):
    supervisor = Supervisor(web_env, tmp_path)
    yield supervisor
    supervisor.close()


def test_a_killed_master_is_replaced_while_its_orphaned_workers_hold_the_port(web_env, supervisor):
    port = int(web_env["AVLABEL_BIND"].rpartition(":")[2])
    old = supervisor.start()
    old.serving(port, within=START_SECONDS)
    orphans = supervisor.workers_of(old)
    assert len(orphans) == 2, old.tail()

    # The workers stand for ones busy with long requests: they keep the listening socket open
    # and cannot exit yet. Then the master dies without a chance to clean up.
    for pid in orphans:
        os.kill(pid, signal.SIGSTOP)
    old.process.kill()
    old.process.wait(timeout=10)
    assert all(_alive(pid) for pid in orphans)

    # The supervisor starts a new master at once, with the same configuration.
    new = supervisor.start()
    # Serving at all while the orphans hold the port is the point (how soon is machine speed).
    new.serving(port, within=START_SECONDS)
    assert all(_alive(pid) for pid in orphans), "the orphans were gone: this proved nothing"
    assert new.process.poll() is None and "Connection in use" not in new.tail()

    # The orphans were told (SIGTERM, PR_SET_PDEATHSIG) when their master died: let go, they exit.
    for pid in orphans:
        os.kill(pid, signal.SIGCONT)
    deadline = time.monotonic() + 10
    while any(_alive(pid) for pid in orphans):
        assert time.monotonic() < deadline, f"orphaned workers {orphans} did not exit"
        time.sleep(0.1)
    # The supervisor's own probe (ExecStartPost, the health-check timer) agrees.
    probe = subprocess.run(
        [sys.executable, str(DEPLOY / "healthcheck.py"), "--wait", "10"], env=web_env, capture_output=True, text=True
    )
    assert probe.returncode == 0, probe.stderr


def test_workers_exit_as_soon_as_their_master_dies(web_env, supervisor):
    """No request wakes them to notice a new parent (gunicorn's own check, up to timeout / 2
    = 30 s later): the kernel's SIGTERM does."""
    port = int(web_env["AVLABEL_BIND"].rpartition(":")[2])
    old = supervisor.start()
    old.serving(port, within=START_SECONDS)
    workers = supervisor.workers_of(old)
    old.process.kill()
    old.process.wait(timeout=10)
    deadline = time.monotonic() + ORPHAN_EXIT_SECONDS
    while any(_alive(pid) for pid in workers):
        assert time.monotonic() < deadline, f"the workers outlived their master by {ORPHAN_EXIT_SECONDS} s"
        time.sleep(0.1)


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="systemd-analyze is not installed")
def test_the_systemd_units_verify():
    units = sorted(str(path) for path in (DEPLOY / "systemd").glob("avlabel-*.*"))
    assert {Path(unit).name for unit in units} >= {
        "avlabel-web.service",
        "avlabel-worker.service",
        "avlabel-worker-gpu.service",
        "avlabel-beat.service",
        "avlabel-healthcheck.service",
        "avlabel-healthcheck.timer",
    }
    result = subprocess.run(["systemd-analyze", "verify", "--man=no", *units], capture_output=True, text=True)
    # verify reports unknown settings and bad values as warnings with exit 0: any output fails.
    assert result.returncode == 0 and not (result.stdout + result.stderr).strip(), result.stdout + result.stderr


def test_every_unit_restarts_itself_and_takes_its_children_down():
    for path in (DEPLOY / "systemd").glob("avlabel-*.service"):
        text = path.read_text()
        assert "EnvironmentFile=/etc/avlabel/avlabel.env" in text, path.name
        if "Type=oneshot" in text:
            continue
        assert "Restart=always" in text, path.name
        assert "KillMode=mixed" in text or "KillMode=control-group" in text, path.name
