"""WSGI entry point: `gunicorn wsgi:app` or `flask --app wsgi ...`."""

import logging
import os
import sys

from elearn import MIGRATIONS_DIR, create_app

# gunicorn's exit status for a worker that cannot boot: the master then stops instead of
# starting a new worker every second, each refused again (see test_operations).
WORKER_BOOT_ERROR = 3


def _say(message: str) -> None:
    """Into gunicorn's error log (with --error-logfile, stderr is not that log), else stderr."""
    server = logging.getLogger("gunicorn.error")
    if server.handlers:
        server.error(message)
    else:
        print(message, file=sys.stderr)


try:
    app = create_app()
except SystemExit as refused:  # a setting refused at start-up (config.py): say it, then stop
    if not isinstance(refused.code, str):
        raise
    _say(refused.code)
    raise SystemExit(WORKER_BOOT_ERROR) from None

# Served by gunicorn (its master sets SERVER_SOFTWARE), not `flask --app wsgi db upgrade`.
if os.environ.get("SERVER_SOFTWARE", "").startswith("gunicorn/"):
    from elearn.extensions import db
    from elearn.schema import not_usable, outdated

    with app.app_context():
        problem = outdated(db.engine, MIGRATIONS_DIR) or not_usable(db.engine)
        db.engine.dispose()  # gunicorn may fork after this: no connection is shared
    if problem:
        # An update without `db upgrade` started as if all was well, and the first login was
        # an internal error; a lost SQLite file came back empty and just as quietly.
        _say(f"The platform does not start: {problem}")
        raise SystemExit(WORKER_BOOT_ERROR)
