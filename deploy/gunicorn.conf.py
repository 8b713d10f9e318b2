"""gunicorn settings for avlabel's web process: ``gunicorn -c deploy/gunicorn.conf.py``, as
deploy/systemd/avlabel-web.service runs it (README, "Production deployment").

The master may die without warning (SIGKILL, the OOM killer). The supervisor then starts a new
one at once, and that new master must be able to bind while the old workers still hold the
listening socket, finishing their requests: ``reuse_port`` lets it bind beside them, and each
worker asks the kernel for SIGTERM when its parent dies (a graceful exit after the current
request) instead of noticing the new parent up to ``timeout / 2`` seconds later.

Environment: AVLABEL_BIND (comma-separated addresses, default 127.0.0.1:8000) and
AVLABEL_WEB_WORKERS (default 2 x CPUs + 1); a bad value stops start-up.
"""

import ctypes
import multiprocessing
import os
import signal
import sys

wsgi_app = "config.wsgi:application"
bind = [address.strip() for address in os.environ.get("AVLABEL_BIND", "127.0.0.1:8000").split(",") if address.strip()]
workers = int(os.environ.get("AVLABEL_WEB_WORKERS", str(2 * multiprocessing.cpu_count() + 1)))
if workers < 1:
    raise ValueError(f"AVLABEL_WEB_WORKERS={workers} must be at least 1")

# A restarted master binds while orphaned workers of the killed one still hold the port.
reuse_port = True
# A request may take this long (exports, spectrograms); a worker silent for longer is replaced.
timeout = 60
# On SIGTERM (systemctl stop/restart), workers finish their requests for at most this long;
# TimeoutStopSec in avlabel-web.service is longer, so systemd's SIGKILL comes only after it.
graceful_timeout = 30
keepalive = 5
# Workers are recycled now and then, so a slow leak cannot grow without bound.
max_requests = 2000
max_requests_jitter = 200
# The worker heartbeat files on tmpfs: a slow or full disk must not make workers look dead.
worker_tmp_dir = "/dev/shm" if os.path.isdir("/dev/shm") else None
accesslog = "-"
errorlog = "-"
# X-Forwarded-For/-Proto are trusted from the local proxy only (DJANGO_SECURE_PROXY_SSL_HEADER).
forwarded_allow_ips = os.environ.get("AVLABEL_FORWARDED_ALLOW_IPS", "127.0.0.1,::1")

PR_SET_PDEATHSIG = 1  # linux/prctl.h


def post_fork(server, worker):
    """Workers die with their master: the kernel sends SIGTERM when the parent exits."""
    if sys.platform.startswith("linux"):
        libc = ctypes.CDLL(None, use_errno=True)
        if libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0) != 0:
            server.log.warning("prctl(PR_SET_PDEATHSIG) failed: errno %d", ctypes.get_errno())
    # The master may have died between fork and prctl: then no signal will ever come.
    if os.getppid() != server.pid:
        os.kill(os.getpid(), signal.SIGTERM)
