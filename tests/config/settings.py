"""The settings the suite runs under: config.settings with a throwaway secret key.

The suite runs like production (DEBUG off, PostgreSQL through DATABASE_URL), where a missing
DJANGO_SECRET_KEY stops start-up. The key goes into the environment, not only into
SECRET_KEY, so the Celery workers that tests start as subprocesses inherit it.
"""

import os
import secrets

os.environ.setdefault("DJANGO_SECRET_KEY", f"avlabel-tests-{secrets.token_urlsafe(40)}")

from config.settings import *  # noqa: E402, F403
