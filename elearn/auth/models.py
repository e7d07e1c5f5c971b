from datetime import datetime

import sqlalchemy as sa
from flask_login import UserMixin
from sqlalchemy.orm import Mapped, mapped_column, relationship
from werkzeug.security import check_password_hash, generate_password_hash

from ..extensions import db
from ..org.models import Office, utcnow

LEARNER, LEAD, HR, ADMIN = "learner", "lead", "hr", "admin"
ROLES = (LEARNER, LEAD, HR, ADMIN)
# scrypt is memory-hard; werkzeug's default parameters follow current guidance.
PASSWORD_METHOD = "scrypt"  # noqa: S105 (a method name, not a password)


class User(UserMixin, db.Model):
    """A person working in the administration."""

    __tablename__ = "user_account"
    # Reports count active people per office: this index answers that without the table.
    __table_args__ = (sa.Index("ix_user_account_office_active", "office_id", "active"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(sa.String(254), unique=True)
    first_name: Mapped[str] = mapped_column(sa.String(100))
    last_name: Mapped[str] = mapped_column(sa.String(100))
    personnel_number: Mapped[str | None] = mapped_column(sa.String(32), unique=True)
    office_id: Mapped[int] = mapped_column(sa.ForeignKey("office.id"), index=True)
    password_hash: Mapped[str | None] = mapped_column(sa.String(255))
    # Where the identity comes from: "local" now; LDAP / Active Directory can be added later.
    auth_source: Mapped[str] = mapped_column(sa.String(16), default="local")
    active: Mapped[bool] = mapped_column(default=True)
    # Part of the session identifier: changing it ends every session of this person.
    session_token: Mapped[str] = mapped_column(sa.String(32))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # Set when an administrator erased the person's data (GDPR Art. 17); the row stays,
    # pseudonymised, so that counts and certificates keep their meaning.
    erased_at: Mapped[datetime | None]

    office: Mapped[Office] = relationship()
    role_rows: Mapped[list["UserRole"]] = relationship(
        cascade="all, delete-orphan", lazy="selectin"
    )

    @property
    def display_name(self) -> str:
        return " ".join(part for part in (self.first_name, self.last_name) if part)

    @property
    def roles(self) -> set[str]:
        return {row.role for row in self.role_rows}

    def has_role(self, *roles: str) -> bool:
        return bool(self.roles & set(roles))

    @property
    def is_active(self) -> bool:
        return self.active

    def get_id(self) -> str:
        return f"{self.id}:{self.session_token}"

    def set_password(self, password: str) -> None:
        self.password_hash = generate_password_hash(password, method=PASSWORD_METHOD)

    def check_password(self, password: str) -> bool:
        return bool(self.password_hash) and check_password_hash(self.password_hash, password)


class UserRole(db.Model):
    __tablename__ = "user_role"

    user_id: Mapped[int] = mapped_column(sa.ForeignKey("user_account.id"), primary_key=True)
    role: Mapped[str] = mapped_column(sa.String(16), primary_key=True)


class LoginFailure(db.Model):
    """A failed login; counted per account and per address to throttle guessing."""

    __tablename__ = "login_failure"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(sa.String(254), index=True)
    address: Mapped[str] = mapped_column(sa.String(64), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)


INVITE, RESET = "invite", "reset"


class UserToken(db.Model):
    """A single-use link to set a password (invitation or reset); only its hash is stored."""

    __tablename__ = "user_token"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("user_account.id"), index=True)
    purpose: Mapped[str] = mapped_column(sa.String(16))  # invite | reset
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]

    user: Mapped[User] = relationship()
