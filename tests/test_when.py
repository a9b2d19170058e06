"""When rules: weekdays, windows past midnight (belonging to the day they start), inclusive date ranges."""

from __future__ import annotations

import pytest

from player.fields import Reader
from player.when import parse_when
from tests.conftest import at


def when(raw):
    reader = Reader("t.yaml")
    rule = parse_when(reader, raw, "when", 1)
    assert not reader.problems, reader.problems
    return rule


@pytest.mark.parametrize("raw, moment, open_", [
    (None, "2026-11-27 03:00", True),
    ({"times": ["07:00-11:30"]}, "2026-11-27 07:00", True),
    ({"times": ["07:00-11:30"]}, "2026-11-27 11:30", False),  # the end is not included
    ({"times": ["07:00-11:30"]}, "2026-11-27 06:59", False),
    ({"times": ["22:00-02:00"]}, "2026-11-27 23:30", True),
    ({"times": ["22:00-02:00"]}, "2026-11-28 01:59", True),
    ({"times": ["22:00-02:00"]}, "2026-11-28 02:00", False),
    ({"times": ["18:00-24:00"]}, "2026-11-27 23:59", True),
    # 2026-11-27 is a Friday: a Friday-night window is still open early on Saturday ...
    ({"weekdays": ["fri"], "times": ["22:00-02:00"]}, "2026-11-28 01:00", True),
    # ... but a Saturday window does not open on Friday night's early hours.
    ({"weekdays": ["sat"], "times": ["22:00-02:00"]}, "2026-11-27 01:00", False),
    ({"weekdays": ["sat"]}, "2026-11-28 00:00", True),
    ({"weekdays": ["sat"]}, "2026-11-27 23:59", False),
    ({"dates": ["2026-12-24..2026-12-26"]}, "2026-12-24 00:00", True),
    ({"dates": ["2026-12-24..2026-12-26"]}, "2026-12-26 23:59", True),  # inclusive
    ({"dates": ["2026-12-24..2026-12-26"]}, "2026-12-27 00:00", False),
    ({"dates": ["2026-12-31"], "times": ["22:00-02:00"]}, "2027-01-01 01:00", True),  # started in range
    ({"dates": ["2026-12-31"], "times": ["22:00-02:00"]}, "2027-01-01 22:30", False),
    ({"dates": [{"from": "2026-01-01", "to": "2026-01-31"}]}, "2026-01-15 12:00", True),
])
def test_is_open(raw, moment, open_):
    assert when(raw).is_open(at(moment)) is open_


@pytest.mark.parametrize("raw, moment, ever", [
    ({"dates": ["2026-01-01..2026-01-31"]}, "2026-11-27 09:00", False),
    ({"dates": ["2026-12-24..2026-12-26"]}, "2026-11-27 09:00", True),
    ({"dates": ["2026-11-27"], "times": ["07:00-08:00"]}, "2026-11-27 09:00", False),
    ({"dates": ["2026-11-27"], "times": ["22:00-02:00"]}, "2026-11-28 01:00", True),
    ({"weekdays": ["mon"], "dates": ["2026-11-27..2026-11-29"]}, "2026-11-27 09:00", False),  # Fri-Sun has no Monday
    ({"weekdays": ["sun"], "dates": ["2026-11-27..2026-11-29"]}, "2026-11-27 09:00", True),
])
def test_opens_after(raw, moment, ever):
    assert when(raw).opens_after(at(moment)) is ever


@pytest.mark.parametrize("raw, message", [
    ({"times": ["7-11"]}, "is not a time like 07:30"),
    ({"times": ["07:00-07:00"]}, "starts and ends at the same time"),
    ({"times": ["25:00-26:00"]}, "is not a time of day"),
    ({"dates": ["2026-12-31..2026-12-01"]}, "ends (2026-12-01) before it starts"),
    ({"weekdays": ["funday"]}, "is not a weekday"),
    ({"weekdays": []}, "can never play"),
    ({"hours": ["07:00-08:00"]}, "unknown key; allowed here: dates, times, weekdays"),
])
def test_bad_rules_are_named(raw, message):
    reader = Reader("t.yaml")
    parse_when(reader, raw, "items[0].when", 3)
    assert any(message in p.message for p in reader.problems), reader.problems


@pytest.mark.parametrize("raw, moment", [
    ({"weekdays": ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]}, "2026-11-27 12:00"),
    ({"dates": ["2026-11-20..2026-11-30"]}, "2026-11-27 12:00"),
    ({"weekdays": ["thursday", "fri"]}, "2026-11-27 12:00"),
])
def test_rules_open_today_can_still_play(raw, moment):
    rule = when(raw)
    assert rule.is_open(at(moment)) and rule.opens_after(at(moment))


def test_weekday_must_be_a_real_name():
    reader = Reader("t.yaml")
    parse_when(reader, {"weekdays": ["monkey"]}, "when", 1)
    assert reader.problems and "is not a weekday" in reader.problems[0].message
