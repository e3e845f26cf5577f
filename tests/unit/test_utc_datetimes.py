"""Moments are stored as UTC and always read back aware, in whatever form SQLite holds them."""

from datetime import UTC, datetime, timedelta, timezone

import pytest
import sqlalchemy as sa

from simdebrief.models.base import UTCDateTime

MOMENTS = sa.Table("moments", sa.MetaData(), sa.Column("id", sa.Integer, primary_key=True),
                   sa.Column("at", UTCDateTime))


@pytest.fixture
def sqlite_engine():
    engine = sa.create_engine("sqlite://")
    MOMENTS.metadata.create_all(engine)
    yield engine
    engine.dispose()


def test_a_moment_reads_back_as_the_same_instant_in_utc(sqlite_engine):
    copenhagen = datetime(2026, 12, 1, 9, 30, 15, 250, tzinfo=timezone(timedelta(hours=1)))
    utc = datetime(2026, 6, 1, 23, 59, 59, tzinfo=UTC)
    with sqlite_engine.begin() as connection:
        connection.execute(MOMENTS.insert(), [{"id": 1, "at": copenhagen}, {"id": 2, "at": utc},
                                              {"id": 3, "at": None}])
        read = dict(connection.execute(sa.select(MOMENTS.c.id, MOMENTS.c.at)).all())
    assert read == {1: copenhagen, 2: utc, 3: None}
    assert read[1].tzinfo is UTC and read[1].hour == 8 and read[1].microsecond == 250


@pytest.mark.parametrize(("stored", "expected"), [
    ("2026-12-01 02:31:06.123456", datetime(2026, 12, 1, 2, 31, 6, 123456, tzinfo=UTC)),
    ("2026-12-01 02:31:06", datetime(2026, 12, 1, 2, 31, 6, tzinfo=UTC)),
    ("2026-12-01T02:31:06.5", datetime(2026, 12, 1, 2, 31, 6, 500000, tzinfo=UTC)),
    # Written by hand or by an old migration: a date alone is midnight UTC.
    ("2026-12-01", datetime(2026, 12, 1, tzinfo=UTC)),
])
def test_text_written_by_other_means_reads_as_utc_too(sqlite_engine, stored, expected):
    with sqlite_engine.begin() as connection:
        connection.execute(sa.text("INSERT INTO moments (id, at) VALUES (1, :at)"),
                           {"at": stored})
        read = connection.execute(sa.select(MOMENTS.c.at)).scalar_one()
    assert read == expected and read.tzinfo is UTC


def test_a_naive_moment_is_refused(sqlite_engine):
    with sqlite_engine.begin() as connection, pytest.raises(sa.exc.StatementError,
                                                            match="naive datetime"):
        connection.execute(MOMENTS.insert(), {"id": 1, "at": datetime(2026, 12, 1, 9, 30)})
