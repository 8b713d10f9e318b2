"""The project's Celery app as the worker integration test runs it.

Only difference: a visibility timeout of seconds instead of an hour, so the message of a
worker killed with SIGKILL (unacked, acks_late) is redelivered to the next worker at once.
"""

import os

from config.celery import app

app.conf.broker_transport_options = {
    "visibility_timeout": float(os.environ.get("AVLABEL_TEST_VISIBILITY_TIMEOUT", "3")),
}

__all__ = ["app"]
