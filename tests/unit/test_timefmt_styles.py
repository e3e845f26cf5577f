"""Named date styles: English as the house style, Danish its own way, others by CLDR."""

from datetime import UTC, datetime

import pytest
from babel import Locale
from babel.dates import format_datetime

from simdebrief import timefmt

MOMENT = datetime(2026, 11, 30, 5, 27, tzinfo=UTC)  # 06:27 in Copenhagen


def written(style: str, locale: str) -> str:
    parsed = Locale.parse(locale)
    return format_datetime(MOMENT, timefmt.pattern(style, parsed), tzinfo=timefmt.ZoneInfo(
        "Europe/Copenhagen"), locale=parsed)


@pytest.mark.parametrize(("style", "english", "danish"), [
    ("datetime", "Mon 30 Nov 2026, 06:27", "man. 30. nov. 2026 06.27"),
    ("date", "30 Nov 2026", "30. nov. 2026"),
    ("time", "06:27", "06.27"),
    ("weekday_date", "Monday 30 November 2026", "mandag den 30. november 2026"),
    ("month", "November 2026", "november 2026"),
    ("weekday_time", "Mon 06:27", "man. 06.27"),
])
def test_english_and_danish_write_each_style_their_own_way(style, english, danish):
    assert written(style, "en") == english
    assert written(style, "en_GB") == english
    assert written(style, "da") == danish


def test_every_style_has_an_english_and_a_danish_pattern_and_a_skeleton():
    assert set(timefmt.PATTERNS["en"]) == set(timefmt.PATTERNS["da"]) == set(timefmt.STYLES)


def test_other_languages_get_cldr_patterns_with_their_own_names():
    assert written("datetime", "de") == "Mo., 30. Nov. 2026, 06:27"
    assert written("weekday", "fr") == "lundi"


def test_outside_a_request_dates_and_figures_are_english():
    assert timefmt.local_text(MOMENT, "Europe/Copenhagen") == "Mon 30 Nov 2026, 06:27"
    assert timefmt.number_text(4.5) == "4.5" and timefmt.percent_text(0.46) == "46%"


def test_a_moment_kept_written_out_is_rewritten_for_each_language_zone_and_style(app):
    """``local_text`` keeps what it wrote; the language, zone and style still decide."""
    from flask_babel import force_locale

    with app.test_request_context("/"):
        with force_locale("en"):
            first = timefmt.local_text(MOMENT, "Europe/Copenhagen")
            assert timefmt.local_text(MOMENT, "Europe/Copenhagen") == first
            assert first == "Mon 30 Nov 2026, 06:27"
            assert timefmt.local_text(MOMENT, "America/New_York") == "Mon 30 Nov 2026, 00:27"
            assert timefmt.local_text(MOMENT, "Europe/Copenhagen", "time") == "06:27"
        with force_locale("da"):
            assert timefmt.local_text(MOMENT, "Europe/Copenhagen") == "man. 30. nov. 2026 06.27"
        with force_locale("en"):
            assert timefmt.local_text(MOMENT, "Europe/Copenhagen") == first
    assert timefmt._formatted.cache_parameters()["maxsize"] == timefmt.FORMATTED_KEPT  # bounded


def test_a_span_kept_written_out_follows_the_language_and_the_days_it_covers(app):
    """``span_text`` keeps what it wrote too; the end's date shows only on another day."""
    from datetime import timedelta

    from flask_babel import force_locale

    with app.test_request_context("/"):
        with force_locale("en"):
            same_day = timefmt.span_text(MOMENT, MOMENT + timedelta(hours=2),
                                         "Europe/Copenhagen")
            assert same_day == "Mon 30 Nov 2026, 06:27–08:27"
            assert timefmt.span_text(MOMENT, MOMENT + timedelta(days=1), "Europe/Copenhagen"
                                     ) == "Mon 30 Nov 2026, 06:27–Tue 1 Dec 2026, 06:27"
        with force_locale("da"):
            assert timefmt.span_text(MOMENT, MOMENT + timedelta(hours=2),
                                     "Europe/Copenhagen") == "man. 30. nov. 2026 06.27–08.27"
        with force_locale("en"):
            assert timefmt.span_text(MOMENT, MOMENT + timedelta(hours=2),
                                     "Europe/Copenhagen") == same_day
    assert timefmt._span.cache_parameters()["maxsize"] == timefmt.FORMATTED_KEPT  # bounded


def test_a_date_kept_written_out_follows_the_language_and_the_style(app):
    from datetime import date

    from flask_babel import force_locale

    day = date(2026, 11, 30)
    with app.test_request_context("/"):
        with force_locale("en"):
            assert timefmt.date_text(day) == "30 Nov 2026"
            assert timefmt.date_text(day, "month") == "November 2026"
        with force_locale("da"):
            assert timefmt.date_text(day) == "30. nov. 2026"
        with force_locale("en"):
            assert timefmt.date_text(day) == "30 Nov 2026"
            assert timefmt.date_text(date(2026, 12, 1)) == "1 Dec 2026"
    assert timefmt._date_formatted.cache_parameters()["maxsize"] == timefmt.FORMATTED_KEPT


def test_a_percentage_kept_written_out_follows_the_language(app):
    from flask_babel import force_locale

    with app.test_request_context("/"):
        with force_locale("en"):
            assert timefmt.percent_text(0.456) == "46%"
        with force_locale("da"):
            assert timefmt.percent_text(0.456) == "46\xa0%"
        with force_locale("en"):
            assert timefmt.percent_text(0.456) == "46%" and timefmt.percent_text(1) == "100%"
    assert timefmt._percent.cache_parameters()["maxsize"] == timefmt.FORMATTED_KEPT  # bounded


def test_a_moment_writer_writes_in_the_language_in_force_when_it_was_made(app):
    """A list's writer reads the language once: it writes as ``local_text`` did then, in
    its zone and style, whatever language is forced afterwards."""
    from flask_babel import force_locale

    with app.test_request_context("/"):
        with force_locale("da"):
            danish = timefmt.moment_writer("Europe/Copenhagen", "day_month_time")
            expected = timefmt.local_text(MOMENT, "Europe/Copenhagen", "day_month_time")
        with force_locale("en"):
            english = timefmt.moment_writer("America/New_York")
            assert danish(MOMENT) == expected != timefmt.local_text(
                MOMENT, "Europe/Copenhagen", "day_month_time")
            assert english(MOMENT) == "Mon 30 Nov 2026, 00:27"
