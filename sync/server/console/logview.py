"""The audit log as office staff read it (pure): local times, and each row's detail as words, not JSON."""

from __future__ import annotations

import json
import re
import zoneinfo
from dataclasses import dataclass
from datetime import datetime
from typing import Any


_STAMP = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d(:\d\d(\.\d+)?)?([+-]\d\d:\d\d|Z)")


@dataclass(frozen=True)
class AuditRow:
    time: str  # local, "2026-11-30 11:17:23"
    actor: str
    action: str
    channels: tuple[str, ...]
    detail: dict[str, Any]  # kept as recorded; the template shows a publish's summary from it
    facts: tuple[tuple[str, str], ...]  # (key, value) for everything else, Vietnamese text as written


def local_time(iso: str | None, zone: zoneinfo.ZoneInfo) -> str:
    """An ISO time (with offset) as a wall-clock time in `zone`; "" for none; the text itself if it is not ISO."""
    if not iso:
        return ""
    try:
        moment = datetime.fromisoformat(iso)
    except ValueError:
        return iso
    if moment.tzinfo is None:  # an old row without an offset: leave it as written rather than guess
        return moment.strftime("%Y-%m-%d %H:%M:%S")
    return moment.astimezone(zone).strftime("%Y-%m-%d %H:%M:%S")


def fact_value(value: Any) -> str:
    """One detail's value as text: strings as they are, lists joined, the rest as JSON that keeps its diacritics."""
    if isinstance(value, str):
        return value
    if isinstance(value, list) and all(isinstance(v, (str, int, float)) for v in value):
        return ", ".join(str(v) for v in value)
    if isinstance(value, dict) and all(isinstance(v, str) for v in value.values()):
        return " · ".join(f"{k}: {v}" for k, v in value.items())
    return json.dumps(value, ensure_ascii=False, sort_keys=True)


def _time_or(value: Any, zone: zoneinfo.ZoneInfo) -> str:
    """A detail that is a time with an offset (a notice's expiry) on the office clock too; anything else as words."""
    if isinstance(value, str) and _STAMP.fullmatch(value):
        return local_time(value, zone)
    return fact_value(value)


def audit_rows(rows: list[dict[str, Any]], zone: zoneinfo.ZoneInfo) -> list[AuditRow]:
    out = []
    for r in rows:
        raw = r.get("detail")
        detail: dict[str, Any] = raw if isinstance(raw, dict) else {}
        facts = tuple((str(k), _time_or(v, zone)) for k, v in detail.items() if k != "summary")
        out.append(AuditRow(local_time(r.get("time"), zone), str(r.get("actor") or ""), str(r.get("action") or ""),
                            tuple(c for c in str(r.get("channel") or "").split(",") if c), detail, facts))
    return out
