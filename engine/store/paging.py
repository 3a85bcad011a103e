"""One page of a list read from the database (task lists, the board, search results)."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Generic, TypeVar

T = TypeVar("T")


@dataclass(frozen=True)
class Page(Generic[T]):
    """One page of a list. When `more` is set, `total` is a lower bound (counting stops early)."""

    items: tuple[T, ...]
    total: int
    page: int
    per_page: int
    more: bool = False

    @property
    def pages(self) -> int:
        """Pages known so far; one more when the list goes on past what was counted."""
        return max(1, -(-self.total // self.per_page)) + (1 if self.more else 0)
