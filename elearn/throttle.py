"""Rate limits counted in the database, so every app server sees the same numbers."""

import ipaddress
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import request
from sqlalchemy.orm import Mapped, mapped_column

from .extensions import db, serialize
from .org.models import utcnow


class RequestMark(db.Model):
    """One counted request in a rate-limited bucket."""

    __tablename__ = "request_mark"
    __table_args__ = (sa.Index("ix_request_mark_bucket_key_created", "bucket", "key",
                               "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    bucket: Mapped[str] = mapped_column(sa.String(32))
    key: Mapped[str] = mapped_column(sa.String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


def client_address() -> str:
    """Whom an address limit counts: the IPv4 address, or the /64 network of an IPv6 one.
    One IPv6 connection commonly holds a whole /64 (2^64 addresses), so counting each address
    would give one person unlimited tries."""
    address = request.remote_addr or "unknown"
    try:
        parsed = ipaddress.ip_address(address)
    except ValueError:
        return address
    if parsed.version == 4:
        return str(parsed)
    if parsed.ipv4_mapped is not None:  # ::ffff:192.0.2.1 is IPv4's 192.0.2.1
        return str(parsed.ipv4_mapped)
    return str(ipaddress.ip_network(f"{parsed}/64", strict=False))


def hit(bucket: str, key: str, limit: int, window: timedelta) -> bool:
    """Count this request; False when the key already used up its limit in the window.
    The caller commits soon after: until then other requests for the bucket wait."""
    serialize("throttle:" + bucket)
    now = utcnow()
    since = now - window
    used = db.session.scalar(
        sa.select(sa.func.count()).select_from(RequestMark)
        .where(RequestMark.bucket == bucket, RequestMark.key == key[:64],
               RequestMark.created_at >= since))
    if used >= limit:
        return False
    db.session.execute(sa.delete(RequestMark).where(RequestMark.bucket == bucket,
                                                    RequestMark.created_at < since))
    db.session.add(RequestMark(bucket=bucket, key=key[:64], created_at=now))
    return True


def reset_marks(user):
    """The condition for the person's counted requests for a new password: under the address,
    and under the number with a browser they have logged in with."""
    return sa.or_(
        sa.and_(RequestMark.bucket == "reset-account", RequestMark.key == user.email[:64]),
        sa.and_(RequestMark.bucket == "reset-browser",
                RequestMark.key.startswith(f"{user.id}:", autoescape=True)))

