"""What no other signage console shows (pure): a day of the schedule hour by hour and why an item is not playing,
the translation board (each item's text per language: its own, a fallback, skipped, or waiting for a check), and
where ICU will break a Khmer line."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any, Callable, Iterable

from player.breaks import clusters, line_segments
from player.model import Content, Playlist
from player.sequence import Cursor, Program
from player.when import WEEKDAYS, When

ZWSP, WORD_JOINER = "\u200b", "\u2060"


# --- the timeline ----------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Hour:
    start: datetime
    daypart: str | None  # the playlist of the winning daypart, None when nothing may play (the fallback slide)
    items: tuple[str, ...]  # the items of it that may play in this hour (at its start)
    why_not: tuple[tuple[str, str], ...] = ()  # (reason code, detail) for the asked-about item


def timeline(content: Content, languages: tuple[str, ...], resolve: Callable[[str, tuple[str, ...]], str | None],
             day: date, tz: Any, item: str | None = None, step_minutes: int = 60) -> list[Hour]:
    """The day in steps (an hour by default): what Program.decide picks at each step's start, the items of that
    playlist open then, and for `item` (a "playlist/item" id) why it does not play, if it does not."""
    program = Program.build(content, languages, resolve)
    out = []
    moment = datetime.combine(day, time(0), tzinfo=tz)
    end = moment + timedelta(days=1)
    while moment < end:
        decision = program.decide(Cursor(), moment)
        playlist = decision.slot.playlist if decision.slot else None
        found = content.playlist(playlist) if playlist else None
        items = tuple(i.id for i in found.items if i.when.is_open(moment)) if found else ()
        out.append(Hour(moment, playlist, items, tuple(why_not(content, item, moment, playlist)) if item else ()))
        moment += timedelta(minutes=step_minutes)
    return out


def why_not(content: Content, wanted: str, moment: datetime, winner: str | None) -> list[tuple[str, str]]:
    """Why `wanted` ("playlist/item") does not play at `moment`: [] when it may."""
    playlist_id, _, item_id = wanted.partition("/")
    playlist = content.playlist(playlist_id)
    item = next((i for i in playlist.items if i.id == item_id), None) if playlist else None
    if playlist is None or item is None:
        return [("unknown", wanted)]
    reasons = [(code, detail) for code, detail in closed_by(item.when, moment)]
    dayparts = [d for d in content.dayparts if d.playlist == playlist_id]
    if not dayparts:
        reasons.append(("no-daypart", playlist_id))
    elif not any(d.when.is_open(moment) for d in dayparts):
        for daypart in dayparts:
            reasons += [(f"daypart-{code}", detail) for code, detail in closed_by(daypart.when, moment)]
    elif winner != playlist_id and winner is not None:
        reasons.append(("higher-daypart", winner))
    return reasons


def closed_by(when: When, moment: datetime) -> list[tuple[str, str]]:
    """Which part of a `when` keeps it closed at `moment`: its weekdays, its dates, its time windows."""
    if when.is_open(moment):
        return []
    day = moment.date()
    out = []
    if when.weekdays and day.weekday() not in when.weekdays:
        out.append(("weekday", " ".join(WEEKDAYS[d] for d in sorted(when.weekdays))))
    if when.dates and not any(day in r for r in when.dates):
        out.append(("date", ", ".join(f"{r.first}..{r.last}" for r in when.dates)))
    if when.times and not out:
        out.append(("window", ", ".join(f"{w.start:%H:%M}-{w.end:%H:%M}" if w.end else f"{w.start:%H:%M}-24:00"
                                        for w in when.times)))
    return out or [("window", "")]


# --- the translation board ---------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Cell:
    state: str  # "own", "check" (the Vietnamese changed since), "fallback", "skipped"
    text: str
    via: str = ""  # the language shown instead, for a fallback


@dataclass(frozen=True)
class BoardRow:
    playlist: str
    item: str
    cells: tuple[tuple[str, Cell], ...]


def board(playlists: Iterable[Playlist], languages: tuple[str, ...],
          resolve: Callable[[str, tuple[str, ...]], str | None], pending: set[str]) -> list[BoardRow]:
    """Items × languages. `pending` holds "playlist/item/language" keys whose Vietnamese changed since that
    translation was last edited or confirmed: they read "check"."""
    rows = []
    for playlist in playlists:
        for item in playlist.items:
            own = tuple(code for code, text in item.texts if not text.empty)
            cells = []
            for code in languages:
                text = item.text(code)
                if code in own and text is not None:
                    shown = text.title or text.body or text.caption
                    stale = f"{playlist.id}/{item.id}/{code}" in pending
                    cells.append((code, Cell("check" if stale else "own", shown)))
                    continue
                via = resolve(code, own) if own else None
                if via is None:
                    cells.append((code, Cell("skipped", "")))
                else:
                    other = item.text(via)
                    cells.append((code, Cell("fallback", (other.title or other.body) if other else "", via)))
            rows.append(BoardRow(playlist.id, item.id, tuple(cells)))
    return rows


def after_edit(pending: set[str], playlist: str, texts_changed: dict[str, list[str]],
               languages: tuple[str, ...]) -> set[str]:
    """The keys to check after a save that changed `texts_changed` ({language: [item ids]}): a Vietnamese change
    marks the item's other languages; a change to a translation clears its own mark."""
    out = set(pending)
    for item in texts_changed.get("vi", []):
        out |= {f"{playlist}/{item}/{code}" for code in languages if code != "vi"}
    for code, items in texts_changed.items():
        if code != "vi":
            out -= {f"{playlist}/{item}/{code}" for item in items}
    return out


# --- Khmer line breaks -------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Piece:
    text: str  # one cluster (a Khmer letter with its marks and subscripts)
    offset: int  # where it starts in the text, in code points
    breaks: bool  # ICU may break the line before it
    mark: bool  # a mark may be put before it (not at the start, nor beside a space or mark already there)


def break_marks(text: str, language: str = "km") -> list[Piece]:
    """The text cluster by cluster, each saying whether ICU may break the line before it. A mark where it breaks
    can become a word joiner (U+2060, keep together); one where it does not, a zero-width space (U+200B)."""
    allowed: set[int] = set()
    at = 0
    for segment in line_segments(text, language):
        at += len(segment)
        allowed.add(at)
    spaces = (ZWSP, WORD_JOINER, " ", "\n")
    out, at = [], 0
    for cluster in clusters(text):
        mark = at > 0 and cluster[0] not in spaces and text[at - 1] not in spaces
        out.append(Piece(cluster, at, at > 0 and at in allowed, mark))
        at += len(cluster)
    return out


def insert_mark(text: str, offset: int, mark: str) -> str:
    if mark not in (ZWSP, WORD_JOINER) or not 0 < offset < len(text):
        raise ValueError("a break mark goes between two characters of the text")
    return text[:offset] + mark + text[offset:]
