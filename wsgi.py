"""WSGI entry point: `gunicorn wsgi:app` or `flask --app wsgi ...`."""

import sys

from elearn import create_app

# gunicorn's exit status for a worker that cannot boot: the master then stops instead of
# starting a new worker every second, each refused again (see test_operations).
WORKER_BOOT_ERROR = 3

try:
    app = create_app()
except SystemExit as refused:  # a setting refused at start-up (config.py): say it, then stop
    if not isinstance(refused.code, str):
        raise
    print(refused.code, file=sys.stderr)
    raise SystemExit(WORKER_BOOT_ERROR) from None
