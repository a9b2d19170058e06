"""Preparing the next slot off the render loop: its picture is drawn in a worker thread before it is due."""

from __future__ import annotations

import logging
import queue
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Protocol

import pygame

from .sequence import Decision

log = logging.getLogger(__name__)


class Clip(Protocol):
    """A playing video as the loop, the kiosk and the painter use it (player/video.py's VideoClip is one)."""

    error: str | None  # why decoding broke part way, if it did: the item ends early, `cut`
    duration: float | None  # seconds, when the file says
    shown: int  # frames put on screen so far
    dropped: int  # frames passed over because a newer one was already due (a slow decoder or screen)

    @property
    def ended(self) -> bool:
        """The last frame has been shown for its time (or decoding broke)."""
        ...

    def first_frame(self, timeout: float) -> pygame.Surface: ...

    def frame_at(self, t: float) -> pygame.Surface | None:
        """The frame due `t` seconds into the clip, or None: keep showing the last one. Never waits."""
        ...

    def next_time(self) -> float | None:
        """Seconds into the clip at which the next decoded frame falls due, or None while none is waiting."""
        ...

    def pause(self) -> None: ...

    def resume(self) -> None: ...

    def close(self) -> None: ...


# (path, canvas size, fit, loop, the item's volume or None) -> a clip with its first frame decoded
OpenVideo = Callable[[Path, tuple[int, int], str, bool, "float | None"], Clip]


@dataclass
class Prepared:
    """A slot ready to show: a still picture, or a source of frames (a video)."""

    decision: Decision
    surface: pygame.Surface | None = None
    video: Clip | None = None
    overlay: pygame.Surface | None = None  # drawn over each video frame (its caption), at overlay_at
    overlay_at: tuple[int, int] = (0, 0)
    ticker: tuple[tuple[tuple[str, str], ...], pygame.Surface | None] | None = None  # (texts, strip) to show from now
    warnings: list[str] = field(default_factory=list)
    error: str | None = None

    def close(self) -> None:
        """Let go of the video, if any: its decoder thread is joined in the background, never on the render loop."""
        if self.video is not None:
            threading.Thread(target=self.video.close, name="video-close", daemon=True).start()


class Preparer:
    """One worker thread; `render(request)` runs there and should return its result rather than raise.

    The loop asks for one slot at a time (`request`, then `take` or `wait`); the touch kiosk keeps
    several screens in flight and collects whatever is finished with `ready`. `on_error(request,
    message)` makes the result for a render that raised (by default a Prepared with that error).
    """

    def __init__(self, render: Callable[[Any], Any],
                 on_error: Callable[[Any, str], Any] | None = None, name: str = "preparer") -> None:
        self._render = render
        self._on_error = on_error or (lambda decision, message: Prepared(decision, error=message))
        self._requests: queue.Queue[tuple[int, Any] | None] = queue.Queue()
        self._results: queue.Queue[tuple[int, Any]] = queue.Queue()
        self._token = 0
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._thread.start()

    def request(self, decision: Any) -> int:
        self._token += 1
        self._requests.put((self._token, decision))
        return self._token

    def take(self, token: int) -> Prepared | None:
        """The result for `token` if it is ready; results of older requests are closed and dropped."""
        while True:
            try:
                got, result = self._results.get_nowait()
            except queue.Empty:
                return None
            prepared: Prepared = result  # take and wait are the loop's: its render makes Prepared
            if got == token:
                return prepared
            prepared.close()

    def ready(self) -> list[tuple[int, Any]]:
        """Every result finished since the last call, with its token (none are dropped)."""
        out = []
        while True:
            try:
                out.append(self._results.get_nowait())
            except queue.Empty:
                return out

    def wait(self, token: int, timeout: float) -> Prepared | None:
        """Block for a result (start-up and previews only, never in the render loop)."""
        try:
            while True:
                got, result = self._results.get(timeout=timeout)
                prepared: Prepared = result
                if got == token:
                    return prepared
                prepared.close()
        except queue.Empty:
            return None

    def _run(self) -> None:
        while True:
            job = self._requests.get()
            if job is None:
                return
            token, decision = job
            try:
                prepared = self._render(decision)
            except Exception as exc:  # the render function should not raise; never let the thread die
                slot = getattr(decision, "slot", None)
                log.exception("preparing %s failed", slot.key if slot else getattr(decision, "label", "fallback"))
                prepared = self._on_error(decision, str(exc))
            self._results.put((token, prepared))

    def close(self) -> None:
        self._requests.put(None)
        self._thread.join(timeout=5)
