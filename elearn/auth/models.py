import unicodedata
from datetime import datetime

import sqlalchemy as sa
from flask_login import UserMixin
from sqlalchemy.orm import Mapped, mapped_column, relationship, validates
from werkzeug.security import check_password_hash, generate_password_hash

from ..extensions import db
from ..org.models import Office, utcnow

LEARNER, LEAD, HR, ADMIN = "learner", "lead", "hr", "admin"
ROLES = (LEARNER, LEAD, HR, ADMIN)
# scrypt is memory-hard; werkzeug's default parameters follow current guidance.
PASSWORD_METHOD = "scrypt"  # noqa: S105 (a method name, not a password)

# Latin letters that Unicode does not take apart into a base letter and a mark: alphabetised as
# the letters they are written with, as DIN 5007 does with "ä" (casefold() makes "ß" "ss").
_BASE_LETTERS = str.maketrans({"æ": "ae", "œ": "oe", "ø": "o", "ł": "l", "đ": "d", "ð": "d",
                               "ħ": "h", "ı": "i", "ŧ": "t", "þ": "th"})
# Between last and first name: below every character a name keeps (white space in a name is one
# space), so "Meier, Zoe" comes before "Meier Lenz, Anna" and "Meier-Lenz, Anna".
SORT_KEY_SEPARATOR = "\t"
SORT_KEY_LENGTH = 255


# Apostrophes as word processors, HR systems and phones write them (O’Connor, d’Hondt): one,
# so that "o'connor" typed on a keyboard finds the name, and both spellings sort alike.
APOSTROPHES = str.maketrans(dict.fromkeys("’‘‛ʼ´`′", "'"))


def sort_text(name: str | None) -> str:
    """A name as DIN 5007 variant 1 alphabetises it: case and accents ignored, "ä" as "a",
    "ß" as "ss", every apostrophe as "'"; its characters then compare one by one, by code
    point."""
    text = unicodedata.normalize("NFKD", (name or "").translate(APOSTROPHES).casefold())
    text = "".join(c for c in text if not unicodedata.combining(c)).translate(_BASE_LETTERS)
    # Runs of white space are one space; control and invisible characters (a soft hyphen)
    # are no part of the order.
    return " ".join("".join(c for c in text if c.isspace()
                            or not unicodedata.category(c).startswith("C")).split())


def name_sort_key(last_name: str | None, first_name: str | None) -> str:
    """What lists of people are ordered by (then by id): the last name, then the first name,
    in German alphabetical order. Stored in user_account.sort_key, which every list of people
    orders by in the database; byte order ("C" on PostgreSQL) then is the same on both
    databases. Pages of a list of 100,000 people stay a LIMIT/OFFSET on an index."""
    return (sort_text(last_name)[:150] + SORT_KEY_SEPARATOR + sort_text(first_name)[:100])


def _default_sort_key(context) -> str:
    """For INSERTs that do not go through the User object (the import's bulk INSERT)."""
    row = context.get_current_parameters()
    return name_sort_key(row.get("last_name"), row.get("first_name"))


class User(UserMixin, db.Model):
    """A person working in the administration."""

    __tablename__ = "user_account"
    # Reports count active people per office: this index answers that without the table.
    __table_args__ = (sa.Index("ix_user_account_office_active", "office_id", "active"),
                      sa.Index("ix_user_account_sort_key", "sort_key", "id"))

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(sa.String(254), unique=True)
    first_name: Mapped[str] = mapped_column(sa.String(100))
    last_name: Mapped[str] = mapped_column(sa.String(100))
    # name_sort_key(last_name, first_name): kept by set_name_sort_key below and, for a bulk
    # INSERT, by the default. Compared byte by byte ("C"), as SQLite does, on PostgreSQL too.
    sort_key: Mapped[str] = mapped_column(
        sa.String(SORT_KEY_LENGTH).with_variant(sa.String(SORT_KEY_LENGTH, collation="C"),
                                                "postgresql"),
        default=_default_sort_key)
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
    # Since when the person is deactivated (None while active): `privacy purge` erases people
    # deactivated longer than ELEARN_ERASE_DEACTIVATED_DAYS.
    deactivated_at: Mapped[datetime | None]
    # Whether an import deactivated the person (missing from HR's list). Only then does a later
    # list that names them again reactivate them; someone an administrator deactivated by hand
    # stays deactivated whatever a list says.
    deactivated_by_import: Mapped[bool] = mapped_column(default=False,
                                                        server_default=sa.false())

    office: Mapped[Office] = relationship()
    role_rows: Mapped[list["UserRole"]] = relationship(
        cascade="all, delete-orphan", lazy="selectin"
    )

    @validates("first_name", "last_name")
    def set_name_sort_key(self, key: str, value: str) -> str:
        if key == "first_name":
            self.sort_key = name_sort_key(self.last_name, value)
        else:
            self.sort_key = name_sort_key(value, self.first_name)
        return value

    @property
    def display_name(self) -> str:
        return " ".join(part for part in (self.first_name, self.last_name) if part)

    @property
    def shown_name(self) -> str:
        """The name as the administration pages show it: for an erased person not the stored
        German placeholder („Gelöscht“) but, as in the people list, its words in the page's
        language with the number that tells erased people apart."""
        if self.erased_at is None:
            return self.display_name
        from flask_babel import gettext

        return gettext("Gelöscht (Nr. %(id)s)", id=self.id)

    @property
    def roles(self) -> set[str]:
        return {row.role for row in self.role_rows}

    def has_role(self, *roles: str) -> bool:
        return bool(self.roles & set(roles))

    @property
    def is_active(self) -> bool:
        return self.active

    @property
    def takes_password_links(self) -> bool:
        """Active, not erased, and with a password of this platform (not a directory login):
        whom a password link may be sent to and who may use one."""
        return self.active and self.erased_at is None and self.auth_source == "local"

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
    # The random part of the browser's known-browser cookie when it holds one for this
    # account (`services.known_browser`): such failures count for that browser, not the account.
    browser: Mapped[str | None] = mapped_column(sa.String(32))


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
