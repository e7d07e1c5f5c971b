"""One page of a long list, fetched with LIMIT/OFFSET."""

from collections.abc import Sequence
from dataclasses import dataclass

import sqlalchemy as sa
from flask_babel import gettext as _
from werkzeug.exceptions import BadRequest

from .extensions import db
from .security import whole_number

PER_PAGE = 50


@dataclass
class Page:
    items: list
    total: int
    number: int
    per_page: int = PER_PAGE

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))


def fetch(query: sa.Select, number: int, *, order_by: Sequence, options: Sequence = ()) -> Page:
    """Page `number` of the rows `query` selects, in `order_by`, and how many there are in all
    (counted without the order and the loader `options`)."""
    total = db.session.scalar(sa.select(sa.func.count()).select_from(query.subquery()))
    items = db.session.scalars(query.options(*options).order_by(*order_by)
                               .limit(PER_PAGE).offset((number - 1) * PER_PAGE)).all()
    return Page(list(items), total, number)


class NoSuchPage(BadRequest):
    """?seite= that is no page number: a 400 that says so (reloading would not help)."""

    def __init__(self, value: str):
        super().__init__()
        self.value = value[:20]

    @property
    def user_message(self) -> str:
        if self.value.isascii() and self.value.isdigit():  # 0, or beyond any list
            return _("Diese Seite gibt es nicht. Die Liste beginnt bei Seite 1.")
        return _("„%(value)s“ ist keine Seitenzahl. Die Liste beginnt bei Seite 1.",
                 value=self.value)


def page_number(value: str) -> int:
    """The page asked for (1 to 100,000), or NoSuchPage."""
    number = whole_number(value, 1, 100_000)
    if number is None:
        raise NoSuchPage(value)
    return number

