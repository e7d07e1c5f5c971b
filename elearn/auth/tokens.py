"""Single-use, expiring links to set a password: invitations and resets. Never commits.

Only a SHA-256 hash of each token is stored, so a copy of the database opens no account.
A new link for the same person and purpose makes the older ones worthless.
"""

import hashlib
import secrets
from datetime import timedelta

import sqlalchemy as sa

from ..extensions import db, slices
from ..org.models import utcnow
from .models import INVITE, RESET, User, UserToken

LIFETIMES = {INVITE: timedelta(days=7), RESET: timedelta(hours=2)}


def _hash(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def issue(user: User, purpose: str, replace: bool = True) -> str:
    """A new token for this person and purpose; returns the raw token (for the link only).
    Without `replace` the older open ones stay until `replace_older` (once the new one has
    been mailed: a failed mail must not leave the person without the link mailed before)."""
    if purpose not in LIFETIMES:
        raise ValueError(f"unknown token purpose {purpose!r}")
    if replace:
        replace_older(user.id, purpose, None)
    raw = secrets.token_urlsafe(32)
    now = utcnow()
    db.session.add(UserToken(user_id=user.id, purpose=purpose, token_hash=_hash(raw),
                             created_at=now, expires_at=now + LIFETIMES[purpose]))
    db.session.flush()
    return raw


def replace_older(user_id: int, purpose: str, raw: str | None) -> None:
    """Delete the person's open links for this purpose, except the one with this token."""
    query = sa.delete(UserToken).where(UserToken.user_id == user_id,
                                       UserToken.purpose == purpose,
                                       UserToken.used_at.is_(None))
    if raw is not None:
        query = query.where(UserToken.token_hash != _hash(raw))
    db.session.execute(query)


def withdraw(raw: str) -> None:
    """Delete the link with this token (one that could not be sent)."""
    db.session.execute(sa.delete(UserToken).where(UserToken.token_hash == _hash(raw)))


def issued_within(user: User, purpose: str, seconds: int) -> bool:
    """Whether an unused link for this person and purpose was made in the last `seconds`."""
    return db.session.scalar(sa.select(sa.exists().where(
        UserToken.user_id == user.id, UserToken.purpose == purpose,
        UserToken.used_at.is_(None),
        UserToken.created_at > utcnow() - timedelta(seconds=seconds)))) is True


def issue_for_new(users: list[User], purpose: str) -> list[str]:
    """Tokens for people who have none yet (just created): one flush for all of them."""
    now, raws = utcnow(), []
    for user in users:
        raw = secrets.token_urlsafe(32)
        raws.append(raw)
        db.session.add(UserToken(user_id=user.id, purpose=purpose, token_hash=_hash(raw),
                                 created_at=now, expires_at=now + LIFETIMES[purpose]))
    db.session.flush()
    return raws


def find(raw: str) -> UserToken | None:
    """The unused, unexpired token for an active person, or None."""
    if not raw or len(raw) > 100:
        return None
    token = db.session.scalar(sa.select(UserToken).where(UserToken.token_hash == _hash(raw)))
    if token is None or token.used_at is not None or token.expires_at <= utcnow():
        return None
    return token if token.user.takes_password_links else None


def consume(token: UserToken) -> bool:
    """Claim the token; False if another request claimed it first (one UPDATE decides, so two
    tabs cannot both use one link). The password it sets cancels the person's other open links
    (`services.change_password`)."""
    now = utcnow()
    claimed = db.session.execute(
        sa.update(UserToken).where(UserToken.id == token.id, UserToken.used_at.is_(None))
        .values(used_at=now).execution_options(synchronize_session=False)).rowcount
    if claimed:
        token.used_at = now
    return bool(claimed)


def cancel_open(user: User) -> None:
    """Cancel the person's unused links (used ones stay, for the record): a link sent to an
    address the person no longer has, or one that would replace a password just set, must not
    open the account."""
    db.session.execute(sa.delete(UserToken).where(UserToken.user_id == user.id,
                                                  UserToken.used_at.is_(None)))


def delete_for(*users: User) -> None:
    """Cancel every open link of these people (one statement)."""
    for part in slices(u.id for u in users):  # one statement per 10,000 people
        db.session.execute(sa.delete(UserToken).where(UserToken.user_id.in_(part)))


__all__ = ["INVITE", "RESET", "issue", "issue_for_new", "find", "consume", "cancel_open",
           "delete_for"]
