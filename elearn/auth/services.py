"""Accounts and login: plain functions that add and flush, never commit."""

import hashlib
import hmac
import re
import secrets
from datetime import timedelta

import sqlalchemy as sa
from flask import current_app

from ..extensions import db, serialize
from ..org.models import utcnow
from . import passwords, tokens
from .models import ROLES, LoginFailure, User, UserRole


class PasswordRejected(ValueError):
    """The password breaks the rules; args[0] lists every reason."""


def normalise_email(email: str) -> str:
    """The address as stored and compared: trimmed and in lower case."""
    return email.strip().lower()


def new_session_token() -> str:
    """A random token that the session cookies of a person's logins must carry."""
    return secrets.token_hex(16)


def create_user(*, email, first_name, last_name, office, roles=(), password=None,
                personnel_number=None) -> User:
    """Create a person with the given roles (every person is a learner)."""
    user = new_user(email=email, first_name=first_name, last_name=last_name, office=office,
                    roles=roles, password=password, personnel_number=personnel_number)
    db.session.add(user)
    db.session.flush()
    return user


def new_user(*, email, first_name, last_name, office, roles=(), password=None,
             personnel_number=None) -> User:
    """A new person, not yet added to the session (imports add many and flush once)."""
    user = User(
        email=normalise_email(email),
        first_name=first_name,
        last_name=last_name,
        office=office,
        personnel_number=personnel_number,
        session_token=new_session_token(),
    )
    if password:
        check_password_rules(user, password)
        user.set_password(password)
    for role in {"learner", *roles}:
        if role not in ROLES:
            raise ValueError(f"unknown role {role!r}")
        user.role_rows.append(UserRole(role=role))
    return user


def find_user_by_email(email: str) -> User | None:
    """The person with this address (in any case), or None."""
    return db.session.scalar(sa.select(User).where(User.email == normalise_email(email)))


def deactivate(user: User) -> None:
    """Deactivate a person; every session they hold ends with their next request."""
    user.active = False
    user.session_token = new_session_token()
    if user.deactivated_at is None:  # erasing a deactivated person keeps the first date
        user.deactivated_at = utcnow()


def end_sessions(user: User) -> None:
    """End every login of the person: their cookies name a token that is gone."""
    user.session_token = new_session_token()


def reactivate(user: User) -> None:
    """Let a deactivated person log in again (not after erasure)."""
    if user.erased_at is not None:
        raise ValueError("erased people cannot be reactivated")
    user.active = True
    user.deactivated_at = None
    user.deactivated_by_import = False


def set_roles(user: User, roles: set[str]) -> bool:
    """Give the person exactly these roles (plus learner); True when something changed."""
    wanted = {"learner", *roles}
    if not wanted <= set(ROLES):
        raise ValueError(f"unknown roles {sorted(wanted - set(ROLES))}")
    if wanted == user.roles:
        return False
    for row in [r for r in user.role_rows if r.role not in wanted]:
        user.role_rows.remove(row)
    for role in sorted(wanted - user.roles):
        user.role_rows.append(UserRole(role=role))
    return True


def check_password_rules(user: User, password: str, *, estimate: bool = True) -> None:
    """Raise PasswordRejected with every reason when the password may not be used (without
    `estimate`, only the quick rules: see passwords.problems)."""
    found = passwords.problems(password, email=user.email or "",
                               names=(user.first_name or "", user.last_name or ""),
                               city=current_app.config.get("CITY_NAME", ""), estimate=estimate)
    if found:
        raise PasswordRejected(found)


def change_password(user: User, password: str) -> None:
    """Set a new password after checking the rules; every other session of the person ends, and
    so does every open password link (a reset asked for before must not replace it)."""
    check_password_rules(user, password)
    user.set_password(password)
    end_sessions(user)
    tokens.cancel_open(user)


# A browser a person has logged in with keeps a cookie that names neither the person nor the
# account: a random part, the day it was set and a signature over both, the person's id and
# password hash. Failed logins from such a browser count against that browser, not against the
# account: whoever types wrong passwords for someone's address elsewhere (five are enough)
# would otherwise lock the person out of the login, the extension and the password change.
KNOWN_BROWSER_COOKIE = "known_browser"
KNOWN_BROWSER_DAYS = 180
_KNOWN_BROWSER = re.compile(r"([0-9a-f]{32})\.([0-9]{1,7})\.([0-9a-f]{32})")  # nonce.day.signature


def _browser_signature(user: User, nonce: str, day: int) -> str:
    key = current_app.secret_key.encode() if isinstance(current_app.secret_key, str) \
        else current_app.secret_key
    message = f"known-browser|{user.id}|{user.password_hash or ''}|{nonce}|{day}".encode()
    return hmac.new(key, message, hashlib.sha256).hexdigest()[:32]


def _today_number() -> int:
    return utcnow().date().toordinal()


def known_browser_cookie(user: User, cookie: str | None) -> str:
    """The cookie's value for this person, dated today: the browser's random part kept when its
    cookie was already this person's, so its failures stay counted together."""
    nonce, day = known_browser(user, cookie) or secrets.token_hex(16), _today_number()
    return f"{nonce}.{day}.{_browser_signature(user, nonce, day)}"


def known_browser(user: User | None, cookie: str | None) -> str | None:
    """The cookie's random part when the person logged in with this browser within
    KNOWN_BROWSER_DAYS (and has not changed the password since), else None. The date is
    signed: a copied cookie does not count for longer than the browser's own would."""
    # The shape first: a signature with other than ASCII letters (compare_digest raises) or a
    # day of thousands of digits (int() raises) made the login and the password pages fail.
    parts = _KNOWN_BROWSER.fullmatch(cookie or "")
    if user is None or parts is None:
        return None
    nonce, day, signature = parts[1], int(parts[2]), parts[3]
    if not hmac.compare_digest(signature, _browser_signature(user, nonce, day)):
        return None
    return nonce if 0 <= _today_number() - day <= KNOWN_BROWSER_DAYS else None


def is_throttled(email: str, address: str, browser: str | None = None) -> bool:
    """True when too many recent failures came for this account or from this address; from a
    known browser (`browser`, its random part), for this account from that browser."""
    cfg = current_app.config
    since = utcnow() - timedelta(minutes=cfg["LOGIN_WINDOW_MINUTES"])
    recent = sa.select(sa.func.count()).select_from(LoginFailure).where(
        LoginFailure.created_at >= since
    )
    mine = recent.where(LoginFailure.email == normalise_email(email))
    per_account = db.session.scalar(mine.where(LoginFailure.browser == browser) if browser
                                    else mine.where(LoginFailure.browser.is_(None)))
    if per_account >= cfg["LOGIN_MAX_FAILURES_PER_ACCOUNT"]:
        return True
    per_address = db.session.scalar(recent.where(LoginFailure.address == address))
    return per_address >= cfg["LOGIN_MAX_FAILURES_PER_ADDRESS"]


def claim_login_attempt(email: str, address: str, browser: str | None = None
                        ) -> LoginFailure | None:
    """Count a login attempt as failed before its password is checked, and commit; None when
    the account (from a known browser: this browser for the account) or the address has used
    up its failures. The check takes a while on purpose (scrypt), and guesses sent at the same
    moment must not all pass a count made before any of them failed. A successful login
    withdraws its claim (`withdraw_claim`)."""
    serialize("login")
    if is_throttled(email, address, browser):
        db.session.rollback()
        return None
    # Kept one day, as the privacy notice says, whether or not `privacy purge` runs.
    db.session.execute(sa.delete(LoginFailure).where(
        LoginFailure.created_at < utcnow() - timedelta(days=1)))
    claim = LoginFailure(email=normalise_email(email)[:254], address=address[:64],
                         browser=browser)
    db.session.add(claim)
    db.session.commit()
    return claim


def withdraw_claim(claim: LoginFailure) -> None:
    """Delete a login attempt counted by `claim_login_attempt`: it succeeded."""
    db.session.execute(sa.delete(LoginFailure).where(LoginFailure.id == claim.id))


def authenticate(email: str, password: str) -> User | None:
    """Return the active person with these credentials, or None."""
    user = find_user_by_email(email)
    if user is None or not user.active or user.auth_source != "local" \
            or not user.password_hash:
        # Spend the same time as a real check so timing does not reveal whether the account exists.
        User(password_hash=_DUMMY_HASH).check_password(password)
        return None
    return user if user.check_password(password) else None


_DUMMY_HASH = (
    "scrypt:32768:8:1$dummysaltdummysa$"
    "5a1c1e6b4e7f0b5a2a9d8c7b6a5f4e3d2c1b0a9f8e7d6c5b4a3f2e1d0c9b8a7f"
    "5a1c1e6b4e7f0b5a2a9d8c7b6a5f4e3d2c1b0a9f8e7d6c5b4a3f2e1d0c9b8a7f"
)
