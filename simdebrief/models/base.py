"""Declarative base, naming convention for constraints, and a UTC datetime column type."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from sqlalchemy import DateTime, MetaData, event
from sqlalchemy.ext.hybrid import hybrid_property
from sqlalchemy.orm import DeclarativeBase
from sqlalchemy.types import TypeDecorator

from simdebrief.languages import gettext

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def now_utc() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator):
    """Stores aware datetimes as UTC and always returns them aware.

    SQLite drops the zone, so a value read back would otherwise be naive and compare
    wrongly with ``now``; naive input is refused so local times never slip in unconverted.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column; attach a time zone first")
        value = value.astimezone(UTC)
        if dialect.name == "sqlite":
            return value.replace(tzinfo=None)
        return value

    def process_result_value(self, value: datetime | None, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)

    def result_processor(self, dialect, coltype):
        """On SQLite, the stored text is read as UTC in one step. Reading it naive and then
        attaching the zone (``replace``) cost six times as much, and a list reads a few
        hundred moments a view. Text in any other form is read as before."""
        general = super().result_processor(dialect, coltype)
        if dialect.name != "sqlite":
            return general

        def read_as_utc(value):
            if isinstance(value, str) and len(value) >= len("YYYY-MM-DD HH:MM:SS"):
                try:
                    return datetime.fromisoformat(value + "+00:00")
                except ValueError:  # text with its own offset, say
                    pass
            return general(value)

        return read_as_utc


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


#: Defaults stored with a number in them ("Month 3 of the waiting time"): the stored English
#: is matched back to its message, which is then read with the same number.
NUMBERED_DEFAULTS = (
    (re.compile(r"Month (\d+) of the waiting time"), "Month %(number)d of the waiting time"),
)


def stored_default_text(value: str) -> str:
    """A stored English default in the reader's language; other text unchanged."""
    for pattern, message in NUMBERED_DEFAULTS:
        match = pattern.fullmatch(value)
        if match:
            return gettext(message, number=int(match.group(1)))
    return gettext(value)


def shown_in_reader_language(stored: str) -> hybrid_property:
    """A text attribute whose stored value, when it is one of SimDebrief's own defaults
    (stored in English), reads in the reader's language; text people typed reads as typed.
    Queries and assignments go to the stored column."""

    def read(self) -> str:
        value = getattr(self, stored)
        return stored_default_text(value) if value else value

    def write(self, value: str) -> None:
        setattr(self, stored, value)

    def column(cls):
        return getattr(cls, stored)

    return hybrid_property(read, write, expr=column)


def run_for_dialect(connection, statements: dict[str, list[str]]) -> None:
    """Run the statements written for this connection's database (triggers, functions)."""
    for statement in statements[connection.dialect.name]:
        connection.exec_driver_sql(statement)


def create_with_tables(statements: dict[str, list[str]], *table_names: str) -> None:
    """Have ``create_all`` (the tests, the bench) run the statements a migration runs, once
    these tables exist, so both schemas are the same."""

    @event.listens_for(Base.metadata, "after_create")
    def _with_the_tables(_metadata, connection, tables=(), **_kw) -> None:
        if set(table_names) <= {table.name for table in tables}:
            run_for_dialect(connection, statements)


#: How long compacting a tally table may wait for its lock before it leaves it for next time.
TIDY_LOCK_TIMEOUT = "2s"


def tidy_after_bulk_delete(engine, *table_names: str) -> list[str]:
    """After many rows of these small tables were deleted at once: on PostgreSQL, compact
    them (``VACUUM FULL``) and gather their statistics; returns the tables compacted.

    Plain VACUUM is not enough: the few live rows sit behind the dead ones, the table keeps
    its pages, and a read of every row (a centre's one plan) is planned as a scan of them all
    (3.8 ms instead of 0.14 ms for 20 rows after 170,000 changes; 27 ms after two million).
    Compacting a table of a few live rows takes milliseconds, but holds its lock meanwhile, so
    it waits at most ``TIDY_LOCK_TIMEOUT`` for it and otherwise leaves the table for the next
    time. SQLite reuses the freed pages and reads through its indexes by itself."""
    if engine.dialect.name != "postgresql":
        return []
    from sqlalchemy.exc import OperationalError

    compacted = []
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.exec_driver_sql(f"SET lock_timeout = '{TIDY_LOCK_TIMEOUT}'")
        try:
            for name in table_names:
                try:
                    connection.exec_driver_sql(f"VACUUM (FULL, ANALYZE) {name}")
                except OperationalError:  # the lock was not free in time: next time
                    continue
                compacted.append(name)
        finally:
            connection.exec_driver_sql("RESET lock_timeout")
    return compacted
