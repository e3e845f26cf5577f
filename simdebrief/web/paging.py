"""Pages of a list without counting the list: fetch one row more than a page to know whether
there is a next one. Counting every row on every view cost more than the page itself once a
centre has years of sessions."""

from __future__ import annotations

import functools
from dataclasses import dataclass

from sqlalchemy import Select, bindparam
from sqlalchemy.orm import Session

from simdebrief.web.ids import page_number


@dataclass
class Window:
    """One page of rows; ``pages`` is unknown (None), so the pager shows "Page n"."""

    items: list
    page: int
    has_next: bool
    pages: int | None = None

    @property
    def has_prev(self) -> bool:
        return self.page > 1

    @property
    def prev_num(self) -> int:
        return self.page - 1

    @property
    def next_num(self) -> int:
        return self.page + 1


def window(session: Session, query: Select, *, per_page: int, page: int | None = None,
           scalars: bool = True, values: dict | None = None) -> Window:
    """Rows ``per_page`` × (page − 1) onwards of an ordered query (with the bound
    ``values`` of a statement built once), and whether more follow."""
    page = page or page_number()
    if values is None:
        limited = query.limit(per_page + 1).offset((page - 1) * per_page)
    else:
        limited = _limited(query)
        values = {**values, "page_limit": per_page + 1, "page_offset": (page - 1) * per_page}
    rows = list(session.scalars(limited, values) if scalars
                else session.execute(limited, values))
    return Window(rows[:per_page], page, len(rows) > per_page)


@functools.lru_cache(maxsize=64)
def _limited(query: Select) -> Select:
    """A statement built once (its values bound) with its page bounds bound too, kept beside
    it: a new ``limit`` on every view made SQLAlchemy work out the whole statement's cache
    key again. Only such statements come here (they carry no reader's values), so keeping
    them keeps nothing of a reader."""
    return query.limit(bindparam("page_limit")).offset(bindparam("page_offset"))
