"""One page of a long list, fetched with LIMIT/OFFSET."""

from dataclasses import dataclass

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

    @property
    def offset(self) -> int:
        return (self.number - 1) * self.per_page
