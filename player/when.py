"""When something may play: weekdays, daily time windows (also past midnight), date ranges.

A time window belongs to the weekday (and date) it starts on: "22:00-02:00" on
Friday is still open at 01:00 on Saturday. Date ranges include both ends.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from .fields import Reader
from .yamlsource import line_of

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_TIME = re.compile(r"\s*(\d{1,2}):(\d{2})\s*")


@dataclass(frozen=True)
class TimeWindow:
    start: time
    end: time | None  # None means midnight at the end of the day ("24:00")

    def span(self, day: date, tz: Any) -> tuple[datetime, datetime]:
        begin = datetime.combine(day, self.start, tzinfo=tz)
        if self.end is None:
            return begin, datetime.combine(day + timedelta(days=1), time(0), tzinfo=tz)
        finish = datetime.combine(day, self.end, tzinfo=tz)
        if self.end <= self.start:
            finish += timedelta(days=1)
        return begin, finish


@dataclass(frozen=True)
class DateRange:
    first: date
    last: date

    def __contains__(self, day: date) -> bool:
        return self.first <= day <= self.last


@dataclass(frozen=True)
class When:
    """Empty fields mean "no restriction"."""

    weekdays: frozenset[int] = frozenset()
    times: tuple[TimeWindow, ...] = ()
    dates: tuple[DateRange, ...] = ()

    @property
    def always(self) -> bool:
        return not (self.weekdays or self.times or self.dates)

    def _day_allowed(self, day: date) -> bool:
        if self.weekdays and day.weekday() not in self.weekdays:
            return False
        return not self.dates or any(day in r for r in self.dates)

    def is_open(self, now: datetime) -> bool:
        """True when `now` (timezone-aware, in the screen's zone) is inside this rule."""
        if self.always:
            return True
        today = now.date()
        if not self.times:
            return self._day_allowed(today)
        for day in (today, today - timedelta(days=1)):
            if not self._day_allowed(day):
                continue
            for window in self.times:
                begin, finish = window.span(day, now.tzinfo)
                if begin <= now < finish:
                    return True
        return False

    def opens_after(self, now: datetime) -> bool:
        """True if this rule is open now or will open at some moment after `now`."""
        if self.always:
            return True
        today = now.date()
        # Weekdays repeat every 7 days, so 8 days past today (or past the last range's start) covers every case.
        horizon = today + timedelta(days=8)
        if self.dates:
            horizon = max(horizon, max(min(r.first, date.max - timedelta(days=9)) for r in self.dates) + timedelta(days=8))
        day = today - timedelta(days=1)  # a window that started yesterday may still be open
        while day <= horizon:
            if self.dates and not any(day in r for r in self.dates):
                later = [r.first for r in self.dates if r.first > day]
                if not later:
                    return False
                day = min(later)
                continue
            if self._day_allowed(day):
                if not self.times and day >= today:
                    return True
                if any(w.span(day, now.tzinfo)[1] > now for w in self.times):
                    return True
            day += timedelta(days=1)
        return False


def parse_time(text: str, allow_24: bool) -> time | None:
    match = _TIME.fullmatch(text)
    if not match:
        raise ValueError(f"{text!r} is not a time like 07:30")
    hour, minute = int(match.group(1)), int(match.group(2))
    if allow_24 and hour == 24 and minute == 0:
        return None
    if hour > 23 or minute > 59:
        raise ValueError(f"{text!r} is not a time of day (00:00 to 23:59{', or 24:00 as an end' if allow_24 else ''})")
    return time(hour, minute)


def parse_window(value: Any) -> TimeWindow:
    """'07:00-11:30' or '22:00-02:00' (past midnight); '24:00' may end a window."""
    if not isinstance(value, str) or value.count("-") != 1:
        raise ValueError(f"{value!r} is not a time window like \"07:00-11:30\"")
    left, right = value.split("-")
    start = parse_time(left, allow_24=False)
    assert start is not None
    end = parse_time(right, allow_24=True)
    if end == start:
        raise ValueError(f"{value!r} starts and ends at the same time; leave `times` out to mean all day")
    return TimeWindow(start, end)


def parse_day(value: Any) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value).strip())
    except ValueError:
        raise ValueError(f"{value!r} is not a date like 2026-12-31") from None


def parse_range(value: Any) -> DateRange:
    """A single date, 'FIRST..LAST', or a mapping {from: FIRST, to: LAST}; both ends included."""
    if isinstance(value, dict):
        unknown = set(value) - {"from", "to"}
        if unknown or not value:
            raise ValueError(f"a date range mapping takes `from` and `to`, not {sorted(map(str, unknown))}")
        first = parse_day(value["from"]) if "from" in value else date.min
        last = parse_day(value["to"]) if "to" in value else date.max
    elif isinstance(value, str) and ".." in value:
        left, right = value.split("..", 1)
        first, last = parse_day(left), parse_day(right)
    else:
        first = last = parse_day(value)
    if last < first:
        raise ValueError(f"date range ends ({last}) before it starts ({first})")
    return DateRange(first, last)


def parse_weekday(value: Any) -> int:
    """mon .. sun, or the full English name."""
    text = str(value).strip().lower()
    for index, short in enumerate(WEEKDAYS):
        if text == short or text == _FULL_WEEKDAYS[index]:
            return index
    raise ValueError(f"{value!r} is not a weekday; use {', '.join(WEEKDAYS)}")


_FULL_WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


def parse_when(r: "Reader", raw: Any, path: str, line: int | None) -> When:
    """A `when` mapping read with `r` (every problem reported there); an empty When if it is absent."""
    if raw is None:
        return When()
    w = r.mapping(raw, path, {"weekdays", "times", "dates"}, line)
    parts: dict[str, list[Any]] = {}
    for key, parse in (("weekdays", parse_weekday), ("times", parse_window), ("dates", parse_range)):
        value = w.get(key)
        if value is None:
            continue
        if not isinstance(value, list):
            value = [value]
        if not value:
            r.error_at("empty-list", w, key, path, "is an empty list, so this can never play; leave the key out to mean no limit")
        parsed = []
        for i, entry in enumerate(value):
            try:
                parsed.append(parse(entry))
            except ValueError as exc:
                r.error_at("bad-when", value, i, f"{path}.{key}", str(exc), line_of(w, key))
        parts[key] = parsed
    return When(frozenset(parts.get("weekdays", [])), tuple(parts.get("times", [])), tuple(parts.get("dates", [])))
