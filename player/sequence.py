"""What plays now: given the content, where the loop is and the wall time, the next slot to show.

A *slot* is one showing of an item: in one language (rotate mode, Vietnamese
first in each round) or in several stacked languages. Durations belong to the
caller's monotonic clock; `now` only decides what is eligible. The loop always
moves on from the last slot shown, so a clock jump never replays from the top
nor stalls: it only changes which slots are eligible.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Callable

from .model import Content, Item, Playlist

RECHECK_SECONDS = 5.0  # how soon to look again when nothing may play


@dataclass(frozen=True)
class Slot:
    playlist: str
    item: Item
    languages: tuple[str, ...]  # the text languages shown; the first one leads (overlays, media variant)
    index: int  # position in the playlist's slot sequence

    @property
    def language(self) -> str:
        return self.languages[0]

    @property
    def key(self) -> tuple[str, str, tuple[str, ...]]:
        return (self.playlist, self.item.id, self.languages)


@dataclass(frozen=True)
class Cursor:
    """Where the loop is: the slot index last shown in each playlist, and the playlist playing."""

    playlist: str | None = None
    positions: tuple[tuple[str, int], ...] = ()

    def position(self, playlist: str) -> int:
        return dict(self.positions).get(playlist, -1)

    def after(self, slot: Slot) -> "Cursor":
        positions = dict(self.positions)
        positions[slot.playlist] = slot.index
        return Cursor(slot.playlist, tuple(sorted(positions.items())))


@dataclass(frozen=True)
class Decision:
    slot: Slot | None  # None: show the fallback slide
    cursor: Cursor
    seconds: float | None  # how long it runs (None: a video's own length)
    reason: str = ""
    media_dir: str = ""  # the folder the slot's files are in (content generations each have their own)
    ticker: tuple[tuple[str, str], ...] | None = None  # the playlist's ticker per language; None: keep the current one


def language_order(languages: tuple[str, ...]) -> tuple[str, ...]:
    """Vietnamese leads each round, as the Advertising Law asks; the rest keep the screen's order."""
    return tuple(sorted(languages, key=lambda code: (code != "vi", languages.index(code))))


def expand_slots(playlist: Playlist, screen_languages: tuple[str, ...],
                 resolve: Callable[[str, tuple[str, ...]], str | None]) -> tuple[Slot, ...]:
    """The playlist as the sequence of slots this screen shows in one pass.

    `resolve(language, available)` follows the screen's fallback chain.
    """
    order = language_order(screen_languages)
    slots: list[Slot] = []
    for item in playlist.items:
        available = item.languages
        variants = tuple(code for code, _ in item.media if code != "default")
        groups: list[tuple[str, ...]]
        if not available and variants and item.kind == "image":  # a poster per language: each in turn
            groups = [(code,) for code in order if code in variants or (code == order[0] and item.media_for(code))]
        elif not available:  # an image or video with no words: one slot, led by the first language
            groups = [(order[0],)]
        elif item.presentation == "stack" or item.kind == "video":  # a clip plays once, its captions stacked
            wanted = item.stack_languages or order
            stacked: list[str] = []
            for code in language_order(tuple(wanted)):
                shown = resolve(code, available)
                if shown is not None and shown not in stacked:
                    stacked.append(shown)
            groups = [tuple(stacked)] if stacked else []
        else:
            groups = []
            shown_in_round: set[str] = set()
            for code in order:
                shown = resolve(code, available)
                if shown is not None and shown not in shown_in_round:
                    shown_in_round.add(shown)
                    groups.append((shown,))
        for group in groups:
            slots.append(Slot(playlist.id, item, group, len(slots)))
    return tuple(slots)


@dataclass(frozen=True)
class Program:
    """The content prepared for one screen: each playlist's slot sequence and the dayparts."""

    content: Content
    slots: tuple[tuple[str, tuple[Slot, ...]], ...]
    languages: tuple[str, ...] = ()

    @classmethod
    def build(cls, content: Content, screen_languages: tuple[str, ...],
              resolve: Callable[[str, tuple[str, ...]], str | None]) -> "Program":
        return cls(content, tuple((p.id, expand_slots(p, screen_languages, resolve)) for p in content.playlists),
                   screen_languages)

    def slots_of(self, playlist: str) -> tuple[Slot, ...]:
        return dict(self.slots).get(playlist, ())

    def decide(self, cursor: Cursor, now: datetime, skip: frozenset[tuple[str, str]] = frozenset()) -> Decision:
        """The next slot after `cursor` that may play at `now`.

        The highest-priority open daypart with anything eligible wins (ties: the
        one listed first); each playlist resumes after the slot it showed last.
        `skip` holds (playlist, item id) pairs known to be unplayable (a broken file).
        """
        ranked = sorted(enumerate(self.content.dayparts), key=lambda pair: (-pair[1].priority, pair[0]))
        for _, daypart in ranked:
            if not daypart.when.is_open(now):
                continue
            slots = self.slots_of(daypart.playlist)
            if not slots:
                continue
            start = cursor.position(daypart.playlist) + 1
            for step in range(len(slots)):
                slot = slots[(start + step) % len(slots)]
                if (slot.playlist, slot.item.id) in skip or not slot.item.when.is_open(now):
                    continue
                playlist = self.content.playlist(daypart.playlist)
                ticker = tuple((code, playlist.ticker_text(code)) for code in self.languages) if playlist else ()
                return Decision(slot, cursor.after(slot), slot.item.duration, f"daypart {daypart.playlist}",
                                self.content.media_dir, ticker)
        return Decision(None, cursor, RECHECK_SECONDS, "nothing in the schedule may play now", self.content.media_dir)
