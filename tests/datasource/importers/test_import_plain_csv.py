"""Plain CSV text (no quotes) read as lines and columns: the same table as ``csv.reader``
reads (rows, blank rows, totals, the first ambiguous date), and ISO 8601 timestamps
read many at once exactly as the row parser reads each."""

from __future__ import annotations

import random
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import numpy as np
import pytest

from datasource.importers import reading
from datasource.importers.columns import iso_instants
from datasource.importers.errors import RowRejected
from datasource.importers.reading import line_end, read_table
from datasource.importers.timestamps import parse_timestamp, to_utc
from datasource.instants import to_us

TEXTS = {
    "blank lines and totals": "a,b,c\n1,x,2026-11-02 09:00\n\n ,\t,\n2,y,2026-11-03\n合计,,\n\n",
    "titles above the header, CRLF": "2026年11月 台账\r\n\r\na,b,c\r\n1,x,3\r\n2,,4\r\n",
    "no line end at the end": "a,b,c\n1,x,3\n2,y,4",
    "ambiguous date on a later row": "a,b,c\n1,x,2026-11-02\n2,y,13/11/2026\n3,z,03/11/2026\n4,w,04/11/2026\n",
    "ambiguous in the second date column": "a,b,c\n1,03.11.2026,2026-11-02\n2,12/12/2026,x\n",
    "full-width digits": "a,b,c\n1,x,０３/１１/２０２６\n",
    "spaces around separators": "a,b,c\n1,x,03 / 11 /  2026\n",
    "rows of other widths": "a,b,c\n1,x\n1,x,3,4\n,,,,\n",
    "tab separated": "a\tb\tc\n1\tx\t3\n\t\t\n",
    "totals then blanks": "a,b,c\n1,x,3\n小计,,1\n总计,,2\n,,\n",
}


@pytest.mark.parametrize("name", list(TEXTS))
def test_plain_text_reads_as_the_csv_reader_reads_it(tmp_path, monkeypatch, name):
    path = tmp_path / "t.csv"
    path.write_bytes(TEXTS[name].encode("utf-8"))
    assert line_end(TEXTS[name]) is not None
    kwargs = {"expected": ["a", "b", "c"], "date_columns": ["b", "c"]}
    fast = read_table(path, **kwargs)
    assert fast.plain_end is not None
    monkeypatch.setattr(reading, "_plain_counts", lambda *args: None)
    slow = read_table(path, **kwargs)
    assert slow.plain_end is None
    assert (fast.header, fast.header_line, fast.data_rows, fast.blank_rows, fast.totals,
            fast.ambiguous) == (slow.header, slow.header_line, slow.data_rows, slow.blank_rows,
                                slow.totals, slow.ambiguous)
    assert list(fast.rows()) == list(slow.rows())


def test_texts_that_are_not_plain():
    assert line_end('a,b\n1,"x, y"\n') is None  # quotes
    assert line_end("a,b\r1,2\r") is None  # old Mac line ends
    assert line_end("a,b\r\n1,2\n") is None  # mixed
    assert line_end("a,b\n1,\x00\n") is None
    assert (line_end("a,b\r\n1,2\r\n"), line_end("a,b\n1,2")) == ("\r\n", "\n")


def row_parser(value: str, zone: ZoneInfo) -> int | None:
    """What the row parser makes of a timestamp cell: UTC microseconds, or None when it
    rejects it, warns (a clock change) or reads it otherwise than as ISO 8601."""
    try:
        reading_ = parse_timestamp(value)
    except RowRejected:
        return None
    if reading_ is None:
        return None
    try:
        instant, warning = to_utc(reading_.value, zone)
    except RowRejected:  # past 9999-12-31 in UTC: the row parser rejects it
        return None
    return None if warning else to_us(instant)


def timestamps(seed: int, n: int) -> list[str]:
    rng = random.Random(seed)
    out = []
    for _ in range(n):
        t = datetime(1000, 1, 1) + timedelta(seconds=rng.randrange(9000 * 365 * 86_400))
        if rng.random() < 0.5:  # near the clock changes of recent years
            t = datetime(rng.randrange(2010, 2030), rng.choice((3, 10)), rng.randrange(24, 32),
                         rng.randrange(24), rng.randrange(60), rng.randrange(60))
        text = t.isoformat(rng.choice("T "))
        roll = rng.random()
        if roll < 0.3:
            text += f".{rng.randrange(10**6):06d}"
        roll = rng.random()
        if roll < 0.3:
            text += rng.choice(("Z", "+01:00", "-05:30", "+14:00", "-00:00", "+23:59"))
        elif roll < 0.4:  # broken: a digit, a separator, a range or the length
            i = rng.randrange(len(text))
            text = text[:i] + rng.choice("9x-: 0") + text[i + 1:]
        elif roll < 0.45:
            text = rng.choice(("2026-02-29 10:00:00", "2024-02-29T23:59:59", "2026-13-01T00:00:00",
                               "2026-04-31 10:00:00", "2026-01-01T10:00:00+24:00", " 2026-01-01T10:00:00",
                               "2026-01-01T10:00:00.5", "2026-01-01t10:00:00", "２０２６-01-01T10:00:00",
                               "9999-12-31T23:59:59-01:00", "1000-01-01T00:00:00+01:00",
                               "2026-03-01T24:00:00", "2026-03-01 23:60:00", "2026-03-01 23:59:60",
                               "2026-03-01T10:00:00+01:60", "2026-00-10T10:00:00"))
        out.append(text)
    return out


@pytest.mark.parametrize("zone", ["Europe/Amsterdam", "Asia/Shanghai", "America/St_Johns",
                                  "Australia/Lord_Howe", "UTC"])
def test_iso_timestamps_read_at_once_as_the_row_parser_reads_each(zone):
    values = timestamps(hash(zone) % 1000, 4000)
    tz = ZoneInfo(zone)
    at, ok = iso_instants(values, tz)
    expected = [row_parser(v, tz) for v in values]
    read = [int(a) if k else None for a, k in zip(at.tolist(), ok.tolist())]
    # Every value read here reads the same way there; most that read there read here.
    assert all(r is None or r == e for r, e in zip(read, expected))
    assert sum(r is not None for r in read) > 0.8 * sum(e is not None for e in expected)
    # and those left out are the ones the row parser rejects, warns about, or that are
    # not in the forms read here
    assert not any(ok[i] and expected[i] is None for i in range(len(values)))
    assert isinstance(at, np.ndarray)


def test_a_naive_time_in_a_clock_change_is_left_to_the_row_parser():
    zone = ZoneInfo("Europe/Amsterdam")
    at, ok = iso_instants(["2025-03-30 02:30:00", "2025-10-26 02:30:00", "2025-10-26 03:30:00",
                           "2025-10-26T01:59:59"], zone)
    assert ok.tolist() == [False, False, True, True]
    assert at[2] == to_us(datetime(2025, 10, 26, 2, 30, tzinfo=timezone.utc))
