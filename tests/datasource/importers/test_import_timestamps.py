"""Naive local times -> UTC, DST gaps and overlaps, promised dates as end of day."""

from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from datasource.importers.errors import RowRejected
from datasource.importers.timestamps import AmbiguousDate, Reading, end_of_day, parse_timestamp, to_utc

UTC = timezone.utc
SAO_PAULO = ZoneInfo("America/Sao_Paulo")
SHANGHAI = ZoneInfo("Asia/Shanghai")


@pytest.mark.parametrize("raw, expected", [
    ("2026-11-01 08:30:00", Reading(datetime(2026, 11, 1, 8, 30), False)),
    ("2026/11/01 08:30", Reading(datetime(2026, 11, 1, 8, 30), False)),
    ("2026-11-01T08:30:00+08:00",
     Reading(datetime(2026, 11, 1, 8, 30, tzinfo=timezone(timedelta(hours=8))), False)),
    ("2026-11-01T00:30:00Z", Reading(datetime(2026, 11, 1, 0, 30, tzinfo=UTC), False)),
    ("2026-11-01", Reading(datetime(2026, 11, 1), True)),
    (" 2026/11/01 ", Reading(datetime(2026, 11, 1), True)),
    (datetime(2026, 11, 1, 8, 30), Reading(datetime(2026, 11, 1, 8, 30), False)),
    (date(2026, 11, 1), Reading(datetime(2026, 11, 1), True)),
    ("", None),
    ("   ", None),
    (None, None),
])
def test_parse_timestamp(raw, expected):
    assert parse_timestamp(raw) == expected


@pytest.mark.parametrize("raw, expected", [
    ("2026/11/3 9:00", Reading(datetime(2026, 11, 3, 9, 0), False)),
    ("2026-11-3 9:00", Reading(datetime(2026, 11, 3, 9, 0), False)),
    ("2026-11-3", Reading(datetime(2026, 11, 3), True)),
    ("2026.11.03", Reading(datetime(2026, 11, 3), True)),
    ("2026.11.03 17:45:30", Reading(datetime(2026, 11, 3, 17, 45, 30), False)),
    ("2026年11月3日", Reading(datetime(2026, 11, 3), True)),
    ("2026年11月3日 14:20", Reading(datetime(2026, 11, 3, 14, 20), False)),
    ("2026年11月3日 上午9:05", Reading(datetime(2026, 11, 3, 9, 5), False)),
    ("2026年11月3日 下午3:05", Reading(datetime(2026, 11, 3, 15, 5), False)),
    ("2026年11月3日下午3点", Reading(datetime(2026, 11, 3, 15, 0), False)),
    ("2026年11月3日 15时30分", Reading(datetime(2026, 11, 3, 15, 30), False)),
    ("2026/11/3 上午12:30", Reading(datetime(2026, 11, 3, 0, 30), False)),   # 12 上午 is midnight
    ("2026/11/3 下午12:30", Reading(datetime(2026, 11, 3, 12, 30), False)),  # 12 下午 is noon
    ("2026/11/3 9:00 PM", Reading(datetime(2026, 11, 3, 21, 0), False)),
    # Excel serials, as CSV text and as number cells: 46329 is 2026-11-03
    ("46329", Reading(datetime(2026, 11, 3), True)),
    ("46329.375", Reading(datetime(2026, 11, 3, 9, 0), False)),
    (46329, Reading(datetime(2026, 11, 3), True)),
    (46329.381944444445, Reading(datetime(2026, 11, 3, 9, 10), False)),  # to the second
    (45658.0, Reading(datetime(2025, 1, 1), True)),
    # year last: unambiguous when the day is above 12
    ("25/11/2026", Reading(datetime(2026, 11, 25), True)),
    ("11/25/2026 8:00 PM", Reading(datetime(2026, 11, 25, 20, 0), False)),
])
def test_dates_as_ledgers_write_them(raw, expected):
    assert parse_timestamp(raw) == expected


def test_a_year_last_date_needs_the_date_order_when_it_reads_both_ways():
    with pytest.raises(AmbiguousDate) as exc:
        parse_timestamp("03/11/2026")
    assert str(exc.value) == ("'03/11/2026' reads as day/month or month/day; "
                              'set date_order = "dmy" or "mdy" in the mapping')
    assert parse_timestamp("03/11/2026 9:00", date_order="dmy") == Reading(datetime(2026, 11, 3, 9), False)
    assert parse_timestamp("03/11/2026", date_order="mdy") == Reading(datetime(2026, 3, 11), True)
    with pytest.raises(RowRejected, match="is not a timestamp"):
        parse_timestamp("25/11/2026", date_order="mdy")


def test_parse_with_a_format_knows_dates_from_times():
    assert parse_timestamp("01/11/2026 08:30", "%d/%m/%Y %H:%M") == Reading(datetime(2026, 11, 1, 8, 30), False)
    assert parse_timestamp("01/11/2026", "%d/%m/%Y") == Reading(datetime(2026, 11, 1), True)


@pytest.mark.parametrize("raw, reason", [
    ("yesterday", "'yesterday' is not a timestamp"),
    ("2026-13-01 00:00:00", "'2026-13-01 00:00:00' is not a timestamp"),
    (45, "45 is not a timestamp (as an Excel date number it is not between 1970 and 2099)"),
    ("99999", "'99999' is not a timestamp (as an Excel date number it is not between 1970 and 2099)"),
    ("2026/11/31", "'2026/11/31' is not a timestamp"),
    ("2026年11月3日 下午13:00", "'2026年11月3日 下午13:00' is not a timestamp"),
    ("2026-11-3 上午", "'2026-11-3 上午' is not a timestamp"),
])
def test_unparseable_values_are_rejected_with_the_value(raw, reason):
    with pytest.raises(RowRejected) as exc:
        parse_timestamp(raw)
    assert str(exc.value) == reason


def test_format_mismatch_names_the_format():
    with pytest.raises(RowRejected) as exc:
        parse_timestamp("2026-11-01", "%d/%m/%Y")
    assert str(exc.value) == "'2026-11-01' does not match the format '%d/%m/%Y'"


def test_naive_time_is_read_in_the_zone():
    assert to_utc(datetime(2026, 11, 1, 8, 30), SHANGHAI) == (datetime(2026, 11, 1, 0, 30, tzinfo=UTC), None)


def test_aware_time_is_converted_whatever_the_zone():
    aware = datetime(2026, 11, 1, 8, 30, tzinfo=timezone(timedelta(hours=-5)))
    assert to_utc(aware, SHANGHAI) == (datetime(2026, 11, 1, 13, 30, tzinfo=UTC), None)


def test_ambiguous_time_takes_the_earlier_reading_with_a_warning():
    # Olist line 3808: Brazil left DST at midnight 2017-02-19 (00:00 -02 -> 23:00 -03),
    # so 23:41:47 on the 18th happened twice; the earlier is at -02:00.
    instant, warning = to_utc(datetime(2017, 2, 18, 23, 41, 47), SAO_PAULO)
    assert instant == datetime(2017, 2, 19, 1, 41, 47, tzinfo=UTC)
    assert warning == ("2017-02-18 23:41:47 occurs twice in America/Sao_Paulo (clocks went back); "
                       "read as the earlier, 2017-02-18T23:41:47-02:00")


def test_nonexistent_time_moves_forward_by_the_gap_with_a_warning():
    # Brazil entered DST at midnight 2017-10-15 (00:00 -03 -> 01:00 -02): 00:30 never
    # happened; read with the offset before the jump it is 03:30 UTC = 01:30 local.
    instant, warning = to_utc(datetime(2017, 10, 15, 0, 30), SAO_PAULO)
    assert instant == datetime(2017, 10, 15, 3, 30, tzinfo=UTC)
    assert warning == ("2017-10-15 00:30:00 does not exist in America/Sao_Paulo (clocks went forward); "
                       "read as 2017-10-15T01:30:00-02:00")


def test_end_of_day_is_the_next_local_midnight():
    assert end_of_day(date(2026, 11, 9), SHANGHAI) == datetime(2026, 11, 9, 16, 0, tzinfo=UTC)
    assert end_of_day(date(2017, 8, 1), SAO_PAULO) == datetime(2017, 8, 2, 3, 0, tzinfo=UTC)


def test_end_of_day_before_a_skipped_midnight_is_when_the_clocks_jumped():
    # 2017-10-14 ended when 00:00 -03 became 01:00 -02, at 03:00 UTC.
    assert end_of_day(date(2017, 10, 14), SAO_PAULO) == datetime(2017, 10, 15, 3, 0, tzinfo=UTC)


def test_end_of_day_on_the_long_day_counts_all_25_hours():
    # 2017-02-18 had 25 hours (23:00-24:00 twice): it ended at 00:00 -03 = 03:00 UTC.
    assert end_of_day(date(2017, 2, 18), SAO_PAULO) == datetime(2017, 2, 19, 3, 0, tzinfo=UTC)


# -- the one-subtraction path for hours without a clock change --------------------------

ZONES = ["Asia/Shanghai", "Europe/London", "Europe/Dublin", "America/New_York",
         "America/Sao_Paulo", "Australia/Lord_Howe", "Pacific/Apia", "Asia/Kolkata",
         "America/St_Johns", "Africa/Casablanca"]


def _exact(value: datetime, zone: ZoneInfo) -> tuple[datetime, bool]:
    """The reading by definition: the earlier reading, flagged when the two differ."""
    first, second = value.replace(tzinfo=zone), value.replace(tzinfo=zone, fold=1)
    return first.astimezone(timezone.utc), first.utcoffset() != second.utcoffset()


def _near_changes(zone: ZoneInfo, start: datetime, end: datetime):
    """Every 5 minutes from 3 hours before to 3 hours after each local hour whose two
    readings or whose end differ in offset from its start (the clock changes)."""
    hour = start
    while hour < end:
        stamps = [hour.replace(tzinfo=zone), hour.replace(tzinfo=zone, fold=1),
                  (hour + timedelta(minutes=59)).replace(tzinfo=zone)]
        if len({t.utcoffset() for t in stamps}) > 1:
            value = hour - timedelta(hours=3)
            while value < hour + timedelta(hours=4):
                yield value
                value += timedelta(minutes=5)
        hour += timedelta(hours=1)


@pytest.mark.parametrize("name", ZONES)
def test_every_reading_near_clock_changes_equals_the_exact_one(name):
    """Through 2011-2024, in zones with hour, half-hour and day-long changes: around
    every change, the instant and whether it is flagged are those of the definition."""
    zone = ZoneInfo(name)
    checked = 0
    for value in _near_changes(zone, datetime(2011, 1, 1), datetime(2025, 1, 1)):
        instant, warning = to_utc(value, zone)
        assert (instant, warning is not None) == _exact(value, zone), value
        checked += 1
    assert checked or name in ("Asia/Shanghai", "Asia/Kolkata")


@settings(max_examples=400, deadline=None)
@given(value=st.datetimes(min_value=datetime(1900, 1, 2), max_value=datetime(2040, 1, 1)),
       name=st.sampled_from(ZONES))
def test_any_reading_equals_the_exact_one(value, name):
    zone = ZoneInfo(name)
    instant, warning = to_utc(value, zone)
    assert (instant, warning is not None) == _exact(value, zone)
