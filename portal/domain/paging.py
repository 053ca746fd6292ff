"""Keyset paging: a page continues after the last row's (sort key, id), never at an offset.

An offset makes the database read and throw away every earlier row, and rows shift between
pages when reports arrive; a keyset cursor costs one index seek whatever the page.
"""
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from sqlalchemy import and_, or_

EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
MICROSECOND = timedelta(microseconds=1)


@dataclass(frozen=True)
class Cursor:
    """The position after which the next page starts, as it travels in a URL."""

    key: datetime
    id: int

    def encode(self) -> str:
        return f"{(self.key - EPOCH) // MICROSECOND}-{self.id}"

    @classmethod
    def decode(cls, text: str | None) -> "Cursor | None":
        """The cursor written in ``text``; None for anything malformed."""
        micros, sep, row_id = (text or "").partition("-")
        if not sep or not micros.isdigit() or not row_id.isdigit() or len(micros) > 18:
            return None
        try:
            key = EPOCH + int(micros) * MICROSECOND
        except OverflowError:
            return None
        return cls(key=key, id=int(row_id))


def after_clause(key_column, id_column, cursor: Cursor, *, descending: bool):
    """Rows strictly after ``cursor`` in the order (key, id), ascending or descending."""
    if descending:
        return or_(key_column < cursor.key, and_(key_column == cursor.key, id_column < cursor.id))
    return or_(key_column > cursor.key, and_(key_column == cursor.key, id_column > cursor.id))


def order_by(key_column, id_column, *, descending: bool):
    if descending:
        return key_column.desc(), id_column.desc()
    return key_column.asc(), id_column.asc()
