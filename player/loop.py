"""The render loop's state machine: which slot is on screen, the transition into it, the one being prepared.

Frame contract: `frame(target, mono, now, dt)` is called once per frame with the
monotonic time, the schedule's wall time and the frame interval; it never
blocks. A switch happens only when the next slot's picture is ready, so the
screen never shows a black or half-drawn frame: if it is late, the current
slot simply stays up a little longer.
"""

from __future__ import annotations

import logging
from collections import deque
from dataclasses import dataclass
from datetime import datetime
from typing import Callable

import pygame

from .errors import PlayerError
from .model import Transition
from .overlays import Overlays
from .prepare import Prepared, Preparer
from .proof import PlayRecord, ProofLog
from .sequence import RECHECK_SECONDS, Cursor, Decision, Program
from .damage import Layer, next_due
from .transitions import compose, ease

log = logging.getLogger(__name__)

SKIP_RETRY_SECONDS = 600.0  # broken files are tried again after this long (sync may have fixed them)
LATE_WARNING_SECONDS = 10.0
FALLBACK_ID = "_fallback"
FRAMES_WINDOW = 3600.0  # the heartbeat's video frame totals cover the last hour


@dataclass(frozen=True)
class Health:
    """What the loop has met since it started, for `player status` and the heartbeat."""

    skips: int  # slots skipped (a broken or unsupported file), counted each time
    broken: tuple[tuple[str, str], ...]  # ("playlist/item", why) failing now, until one plays again
    frames_shown: int  # video frames put on screen in the last hour
    frames_dropped: int  # video frames passed over in the last hour

    def as_json(self) -> dict[str, object]:
        return {"skips": self.skips, "broken": [f"{key}: {why}"[:300] for key, why in self.broken][:20],
                "frames_shown_hour": self.frames_shown, "frames_dropped_hour": self.frames_dropped}


@dataclass
class Showing:
    prepared: Prepared
    start: float
    start_wall: datetime
    end: float | None  # monotonic; None while a video runs to its own end
    picture: pygame.Surface

    @property
    def transition(self) -> Transition:
        slot = self.prepared.decision.slot
        return slot.item.transition if slot else Transition("crossfade", 0.6)

    def due(self, mono: float) -> bool:
        video = self.prepared.video
        if video is not None and video.ended:
            return True
        return self.end is not None and mono >= self.end


class Loop:
    def __init__(self, program: Program, preparer: Preparer, overlays: Overlays, proof: ProofLog | None,
                 screen_id: str, languages: tuple[str, ...],
                 new_content: Callable[[datetime], Program | None] | None = None,
                 on_switch: Callable[[Decision, datetime, Health], None] | None = None) -> None:
        self.program = program
        self.on_switch = on_switch  # told of every slot put on screen, with the health (status file); must not block
        self.new_content = new_content  # asked at item boundaries: a new content generation, or None
        self.preparer = preparer
        self.overlays = overlays
        self.proof = proof
        self.screen_id = screen_id
        self.languages = languages
        self.cursor = Cursor()
        self.skip: dict[tuple[str, str], float] = {}
        self.current: Showing | None = None
        self.previous: pygame.Surface | None = None
        self.pending: tuple[int, Decision] | None = None
        self.switches = 0
        self.late_frames = 0  # frames where the next slot was due but not ready yet
        self.skips = 0
        self.broken: dict[tuple[str, str], str] = {}  # items whose file failed, until they play again
        self.frames: deque[tuple[float, int, int]] = deque()  # (monotonic end, shown, dropped) of finished clips
        self._warned: set[str] = set()
        self._late_logged = False
        self.paused_at: float | None = None  # monotonic time the touch kiosk paused the loop at
        self.picture_serial = 0  # counts the pictures put up (a slot, each video frame): damage keys on it
        self._mono = 0.0  # the last step's time, which `draw` shows
        self._width = overlays.canvas[0]

    # -- deciding ------------------------------------------------------------------------------

    def _decide(self, now: datetime, mono: float) -> Decision:
        self.skip = {key: until for key, until in self.skip.items() if until > mono}
        return self.program.decide(self.cursor, now, frozenset(self.skip))

    def start(self, mono: float, now: datetime, timeout: float = 10.0) -> None:
        """Prepare and show the first slot (blocking: the only wait, before the first frame)."""
        while True:  # each broken slot joins the skip set, so this ends at a good slot or the fallback
            decision = self._decide(now, mono)
            prepared = self.preparer.wait(self.preparer.request(decision), timeout)
            if prepared is None:
                prepared = Prepared(decision, error=f"not ready after {timeout:.0f} s")
            if prepared.error is None:
                self._switch(prepared, mono, now)
                self.previous = None
                return
            if decision.slot is None:
                raise PlayerError(f"even the fallback slide cannot be drawn: {prepared.error}")
            self._skipped(prepared, now, mono)

    def _request_next(self, mono: float, now: datetime) -> None:
        self.pending = None
        decision = self._decide(now, mono)
        if decision.slot is None and self.current and self.current.prepared.decision.slot is None:
            return  # still nothing to play: the fallback stays, no new picture needed
        self.pending = (self.preparer.request(decision), decision)

    # -- switching -----------------------------------------------------------------------------

    def _advance(self, mono: float, now: datetime) -> None:
        current = self.current
        assert current is not None
        settled = mono - current.start >= current.transition.seconds
        playing = current.prepared.decision.slot is not None
        if self.pending is None and settled and playing and not current.due(mono):
            self._request_next(mono, now)
        if not current.due(mono):
            return
        program = self.new_content(now) if self.new_content is not None else None
        if program is not None:  # new content waits for this boundary, then the next slot comes from it
            self.program = program
            self.skip.clear()
            if self.pending is not None:
                stale = self.preparer.take(self.pending[0])
                if stale is not None:
                    stale.close()
            self._request_next(mono, now)
            return
        if self.pending is None:
            if current.prepared.decision.slot is None:  # fallback: look again a little later
                current.end = mono + RECHECK_SECONDS
                self._request_next(mono, now)
                return
            self._request_next(mono, now)
        assert self.pending is not None
        token, decision = self.pending
        prepared = self.preparer.take(token)
        if prepared is None:
            self.late_frames += 1
            late = mono - (current.end if current.end is not None else current.start)
            if late > LATE_WARNING_SECONDS and not self._late_logged:
                self._late_logged = True
                log.error("the next slot (%s) is %.0f s late: still preparing; the current one stays up",
                          decision.slot.key if decision.slot else "fallback", late)
            return
        self._late_logged = False
        self.pending = None
        if prepared.error is not None:
            self._skipped(prepared, now, mono)
            self._request_next(mono, now)
            return
        fresh = self._decide(now, mono)
        if fresh.slot != decision.slot:  # the schedule changed while it was prepared (daypart, clock jump)
            prepared.close()
            self.pending = (self.preparer.request(fresh), fresh)
            return
        video = current.prepared.video  # a clip that broke part way ends its item early
        self._finish(current, mono, "cut" if video is not None and video.error else "completed")
        self._switch(prepared, mono, now)

    def _switch(self, prepared: Prepared, mono: float, now: datetime) -> None:
        decision = prepared.decision
        if self.current is not None:
            self.previous = self.current.picture
            self.current.prepared.close()
        picture = prepared.surface
        if picture is None and prepared.video is not None:
            picture = prepared.video.first_frame(0.0)
        assert picture is not None
        seconds = decision.seconds
        if seconds is None and prepared.video is not None:
            seconds = prepared.video.duration
        self.current = Showing(prepared, mono, now, None if seconds is None else mono + seconds, picture)
        self.cursor = decision.cursor
        slot = decision.slot
        if slot is not None and self.broken.pop((slot.playlist, slot.item.id), None) is not None:
            log.info("%s/%s plays again", slot.playlist, slot.item.id)
        self.switches += 1
        if self.on_switch is not None:
            self.on_switch(decision, now, self.health(mono))
        for warning in prepared.warnings:
            if warning not in self._warned:  # once per run, not once per loop for months
                self._warned.add(warning)
                log.warning("%s", warning)
        if prepared.ticker is not None:
            self.overlays.show_strip(*prepared.ticker)

    def _finish(self, showing: Showing, mono: float, status: str, reason: str = "") -> None:
        slot = showing.prepared.decision.slot
        video = showing.prepared.video
        if video is not None:
            self.frames.append((mono, video.shown, video.dropped))
        if self.proof is None:
            return
        planned = None if showing.end is None else showing.end - showing.start
        self.proof.record(PlayRecord(
            screen=self.screen_id, item=slot.item.id if slot else FALLBACK_ID,
            playlist=slot.playlist if slot else "", language="+".join(slot.languages) if slot else self.languages[0],
            start=showing.start_wall.isoformat(timespec="seconds"), planned=planned,
            actual=mono - showing.start, status=status,
            reason=reason or (video.error if video is not None else None) or "",
            frames_shown=video.shown if video is not None else None,
            frames_dropped=video.dropped if video is not None else None))

    def _skipped(self, prepared: Prepared, now: datetime, mono: float) -> None:
        slot = prepared.decision.slot
        if slot is None:
            log.error("skipping the fallback slide: %s", prepared.error)
            return
        key = (slot.playlist, slot.item.id)
        self.skips += 1
        if self.broken.get(key) != prepared.error:  # one line when it first fails, not one every 10 minutes
            log.error("skipping %s/%s: %s (tried again every %.0f min; a line when it plays again)",
                      slot.playlist, slot.item.id, prepared.error, SKIP_RETRY_SECONDS / 60)
        else:
            log.debug("skipping %s/%s again: %s", slot.playlist, slot.item.id, prepared.error)
        self.broken[key] = prepared.error or ""
        self.skip[key] = mono + SKIP_RETRY_SECONDS
        self.cursor = prepared.decision.cursor
        if self.proof is not None:
            self.proof.record(PlayRecord(self.screen_id, slot.item.id, slot.playlist, "+".join(slot.languages),
                                         now.isoformat(timespec="seconds"), slot.item.duration, 0.0, "skipped",
                                         prepared.error or ""))

    def health(self, mono: float) -> Health:
        """Skips and broken files since the start; video frames shown and dropped in the last hour (the clip playing included)."""
        while self.frames and self.frames[0][0] < mono - FRAMES_WINDOW:
            self.frames.popleft()
        shown = sum(s for _, s, _ in self.frames)
        dropped = sum(d for _, _, d in self.frames)
        video = self.current.prepared.video if self.current is not None else None
        if video is not None:
            shown, dropped = shown + video.shown, dropped + video.dropped
        broken = tuple(sorted((f"{playlist}/{item}", why) for (playlist, item), why in self.broken.items()))
        return Health(self.skips, broken, shown, dropped)

    def pause(self, mono: float) -> None:
        """Hold the slot on screen (a visitor is browsing the touch kiosk): its clock and its video stop."""
        if self.paused_at is None:
            self.paused_at = mono
            video = self.current.prepared.video if self.current is not None else None
            if video is not None:
                video.pause()

    def resume(self, mono: float) -> None:
        """Go on where `pause` left off: the slot keeps the time it had left, its video the frame it was at."""
        if self.paused_at is None:
            return
        held, self.paused_at = mono - self.paused_at, None
        current = self.current
        if current is not None:
            current.start += held
            if current.end is not None:
                current.end += held
            if current.prepared.video is not None:
                current.prepared.video.resume()

    def stop(self, mono: float) -> None:
        """Close the slot on screen (its proof line says it was cut short) and stop preparing."""
        if self.current is not None:
            self._finish(self.current, mono, "cut", "player stopped")
            self.current.prepared.close()

    # -- drawing -------------------------------------------------------------------------------

    def step(self, mono: float, now: datetime, dt: float) -> None:
        """Everything that moves with time, without drawing: the boundary, the video's next frame, the overlays."""
        self._advance(mono, now)
        current = self.current
        assert current is not None
        video = current.prepared.video
        if video is not None and self.paused_at is None:
            picture = video.frame_at(mono - current.start)
            if picture is not None:
                current.picture = picture
                self.picture_serial += 1
        if self.previous is not None and self._progress(mono) >= 1.0:
            self.previous = None
        slot = current.prepared.decision.slot
        self.overlays.update(dt, mono, now, slot.language if slot else self.languages[0])
        self._mono = mono

    def _progress(self, mono: float) -> float:
        assert self.current is not None
        transition = self.current.transition
        return 1.0 if transition.seconds <= 0 else (mono - self.current.start) / transition.seconds

    def _look(self) -> tuple[str, int]:
        """The transition's visible state at the last step: its kind and how far it has got, in whole steps of
        what it changes (alpha 0-255, or pixels of a slide), so two moments that look the same compare equal."""
        assert self.current is not None
        if self.previous is None:
            return ("still", 0)
        kind = self.current.transition.kind
        p = ease(self._progress(self._mono))
        return (kind, round(p * self._width) if kind == "slide" else round(255 * p))

    def layers(self) -> tuple[Layer, ...]:
        """The slide (or video frame, with its caption) and the transition into it, then the overlays."""
        look = self._look()
        size = self.overlays.canvas
        base = Layer("slide", (self.picture_serial, self.switches, look), (0, 0, size[0], size[1]))
        return (base, *self.overlays.layers())

    def next_due(self, mono: float, now: datetime) -> float | None:
        """When the loop looks different next, or must act: a transition step (`mono`: every frame), the clip's
        next frame, the item's end (then every frame until the next picture is ready), the overlays' next change."""
        current = self.current
        if current is None or self.paused_at is not None:
            return None
        due: list[float | None] = [self.overlays.next_due(mono, now)]
        if self.previous is not None:
            due.append(mono)
        video = current.prepared.video
        if video is not None:
            after = video.next_time()
            due.append(mono if after is None else current.start + after)
        if current.end is not None:
            due.append(max(mono, current.end))
        if self.pending is not None and current.due(mono):
            due.append(mono)  # the boundary waits for the next picture: look each frame
        return next_due(due)

    def draw(self, target: pygame.Surface) -> None:
        """The picture of the last step onto `target` (respecting its clip: a dirty rectangle redraws only that)."""
        current = self.current
        assert current is not None
        progress = 1.0 if self.previous is None else self._progress(self._mono)
        compose(target, self.previous, current.picture, current.transition.kind, progress)
        overlay = current.prepared.overlay
        if overlay is not None:  # a video's caption, faded in with its transition
            overlay.set_alpha(None if progress >= 1.0 else round(255 * min(1.0, max(0.0, progress))))
            target.blit(overlay, current.prepared.overlay_at)
        self.overlays.draw(target)

    def frame(self, target: pygame.Surface, mono: float, now: datetime, dt: float) -> None:
        """One whole frame: `step`, then `draw` all of it."""
        self.step(mono, now, dt)
        self.draw(target)
