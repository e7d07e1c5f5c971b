"""Who may see a page: the login a session cookie names, and the guard for views by role."""

import secrets
import time
from datetime import UTC, datetime, timedelta
from functools import wraps

from flask import abort, current_app, request, session
from flask_login import current_user
from sqlalchemy.orm import joinedload

from ..extensions import db, login_manager
from .models import User

# App servers behind one load balancer keep their own clocks: a login written by a server a
# second ahead was "in the future" on the next and ended there at once (the redirect after the
# login is the request most likely to reach another server).
CLOCK_SKEW = 120  # seconds


def login_is_recent() -> bool:
    """The cookie's expiry is not to be relied on (it is renewed whenever the session changes,
    and a client may keep a cookie longer); the time of the login itself, kept in the signed
    session, ends a login ELEARN_SESSION_HOURS after it began, used or not. A login up to
    CLOCK_SKEW seconds in the future is another server's clock, not a forged time."""
    since = session.get("since")
    lifetime = current_app.permanent_session_lifetime.total_seconds()
    return isinstance(since, int) and -CLOCK_SKEW <= time.time() - since <= lifetime


# From then on, each page says when the login ends and offers to extend it (WCAG 2.2.1): answers
# not yet handed in are lost with the login.
WARN_BEFORE_END = timedelta(minutes=30)
# A quiz is worked on one page for a while, and without JavaScript the page does not change: a
# quiz opened 35 minutes before the end said nothing, and its answers were lost at the hand-in.
WARN_BEFORE_END_IN_QUIZ = timedelta(hours=2)


def login_ends_at() -> datetime | None:
    """When the session's login ends (UTC), or None without one."""
    since = session.get("since")
    if not isinstance(since, int):
        return None
    return datetime.fromtimestamp(since, UTC) + current_app.permanent_session_lifetime


def login_ending() -> datetime | None:
    """The end of the logged-in person's login, if it is near enough to warn of; else None."""
    if not current_user.is_authenticated:
        return None
    ends = login_ends_at()
    # At most half the login's length: with ELEARN_SESSION_HOURS=1 or 2, a quiz would warn
    # from the moment of the login.
    window = min(WARN_BEFORE_END_IN_QUIZ, current_app.permanent_session_lifetime / 2) \
        if request.endpoint == "quiz.attempt" else WARN_BEFORE_END
    if ends is None or ends - datetime.fromtimestamp(time.time(), UTC) > window:
        return None
    return ends


@login_manager.user_loader
def load_user(session_id: str) -> User | None:
    """The person a session cookie names, if the login is recent and still valid."""
    user_id, _, token = session_id.partition(":")
    if not user_id.isdigit() or not login_is_recent():
        return None
    # One query with the roles joined, instead of the relationship's own second SELECT.
    user = db.session.get(User, int(user_id), options=[joinedload(User.role_rows)])
    if user is None or not user.active or not secrets.compare_digest(user.session_token, token):
        return None
    return user


def role_required(*roles: str):
    """Allow the view only to logged-in people who hold one of the roles."""

    def decorator(view):
        @wraps(view)
        def wrapped(*args, **kwargs):
            if not current_user.is_authenticated:
                return login_manager.unauthorized()
            if not current_user.has_role(*roles):
                abort(403)
            return view(*args, **kwargs)

        return wrapped

    return decorator
