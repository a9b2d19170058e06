"""Video clips for the render loop: decoded, scaled and turned upright on a thread, handed out on time."""

from __future__ import annotations

import logging
import sys
import threading
import time
from collections import deque
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator, Literal, Protocol

import av
import av.error
import pygame
from av.video.reformatter import VideoReformatter

from .compositor import mark_changed
from .errors import MediaError
from .images import scaled_size
from .memory import give_back
from .videofile import decode_first, open_file, reason, stream_duration, stream_rotation

log = logging.getLogger(__name__)

# Frames are converted to 32-bit XRGB, the layout of SDL's display surfaces (swscale names the bytes in memory
# order). Wrapped without a copy, pygame can only call them ARGB (frombuffer has no XRGB), so the blit and the
# renderer's draw skip the pad byte rather than copy rows; bench/upload_bench.py measured that no dearer than a
# copy into an XRGB Surface first, and a third of what rgb24 costs (SDL converts it on each texture upload).
# YUV textures would spare the conversion, but pygame-ce's Texture cannot hold YUV (see that bench).
_SWS_FORMAT = "bgr0" if sys.byteorder == "little" else "0rgb"
_BUFFER_FORMAT: Literal["BGRA", "ARGB"] = "BGRA" if sys.byteorder == "little" else "ARGB"
_MASKS = (0xFF0000, 0x00FF00, 0x0000FF, 0)
_PTS_SLACK = 1e-6  # seconds: absorbs float rounding of pts * time_base; far below one frame
_TRUNCATED_SLACK = 1.0  # seconds short of the stated duration before we call a file cut off
LATE_FRAMES = 2  # frames decoded more than a frame period late in a row before the decoder skips non-reference frames
AHEAD_FRAMES = 60  # frames decoded with the queue full in a row before it decodes every frame again
GIVE_BACK_FRAMES = 60  # a playing clip hands freed memory back to the system after this many pictures


class MediaClock(Protocol):
    """Where a clip takes its media time from instead of the caller's t: player/audio.py's AudioTrack."""

    def play(self) -> None: ...

    def pause(self) -> None: ...

    def position(self) -> float: ...

    def close(self) -> None: ...


@dataclass(frozen=True)
class _Layout:
    """Where a decoded frame goes on the output surface."""

    scaled: tuple[int, int]  # swscale's output size, before turning
    rotation: int  # clockwise degrees
    pos: tuple[int, int]  # top-left of the turned picture; negative when "fill" crops
    bars: tuple[tuple[int, int, int, int], ...]  # letterbox rects left uncovered by the picture


def _layout(source: tuple[int, int], aspect: float, rotation: int, box: tuple[int, int], fit: str) -> _Layout:
    shown = (round(source[0] * aspect), source[1])
    if rotation % 180:
        shown = (shown[1], shown[0])
    w, h = scaled_size(shown, box, fit)
    if fit == "fit":
        w, h = min(w, box[0]), min(h, box[1])
    x, y = (box[0] - w) // 2, (box[1] - h) // 2
    bars = [(0, 0, box[0], y), (0, y + h, box[0], box[1] - y - h), (0, y, x, h), (x + w, y, box[0] - x - w, h)]
    return _Layout((h, w) if rotation % 180 else (w, h), rotation, (x, y),
                   tuple(b for b in bars if b[2] > 0 and b[3] > 0))


def _canvas(size: tuple[int, int], layout: _Layout, letterbox: tuple[int, int, int]) -> pygame.Surface:
    """A surface for frames laid out by `layout`: the screen's pixel layout, letterbox bars filled in."""
    out = pygame.Surface(size, 0, 32, _MASKS)
    for bar in layout.bars:
        out.fill(letterbox, bar)
    return out


def _draw_frame(frame: av.VideoFrame, layout: _Layout, scaler: VideoReformatter,
                out: pygame.Surface) -> pygame.Surface:
    """Scale (swscale), turn and place `frame` on `out`, over everything but the letterbox bars."""
    size = out.get_size()
    picture = scaler.reformat(frame, *layout.scaled, format=_SWS_FORMAT, interpolation="BILINEAR")
    plane = picture.planes[0]
    pitch = out.get_pitch()
    x, y = layout.pos
    if layout.rotation == 0 and x == 0 and layout.scaled[0] == size[0] and plane.line_size == pitch:
        # Whole rows (the usual 16:9 on 16:9): one copy, no per-pixel work.
        top, first = max(0, -y), max(0, y)
        rows = min(layout.scaled[1] - top, size[1] - first)
        # BufferProxy has the buffer protocol; pygame-ce's stub does not declare it.
        with memoryview(out.get_view("0")) as dst, memoryview(plane) as src:  # type: ignore[arg-type]
            dst[first * pitch:(first + rows) * pitch] = src[top * pitch:(top + rows) * pitch]
        return out
    source = pygame.image.frombuffer(plane, layout.scaled, _BUFFER_FORMAT, pitch=plane.line_size)
    source.set_alpha(None)  # the pad byte is not alpha
    if layout.rotation:
        source = pygame.transform.rotate(source, -layout.rotation)
    out.blit(source, layout.pos)
    return out


def poster_frame(path: Path, size: tuple[int, int], fit: str = "fit", at: float = 1.0,
                 letterbox: tuple[int, int, int] = (0, 0, 0)) -> pygame.Surface:
    """The picture showing `at` seconds in (or the last one, for a shorter clip), laid out like playback."""
    container, stream = open_file(path)
    try:
        frames, frame = decode_first(path, container, stream)
        start = frame.time or 0.0
        for later in frames:
            if later.time is not None and later.time - start > at:
                break
            frame = later
        aspect = float(stream.sample_aspect_ratio or 1) or 1.0
        layout = _layout((frame.width, frame.height), aspect, stream_rotation(frame, stream), size, fit)
        return _draw_frame(frame, layout, VideoReformatter(), _canvas(size, layout, letterbox))
    except av.error.FFmpegError as exc:
        raise MediaError(f"{path}: the video cannot be decoded ({reason(exc)})") from None
    finally:
        container.close()


class VideoClip:
    """One playing video: a decode thread fills a small queue; the render loop takes frames as they fall due.

    Open it (and call `start` and `first_frame`) ahead of time, off the render loop;
    the loop then calls `frame_at(t)` with the seconds since the clip started.
    """

    def __init__(self, path: Path, size: tuple[int, int], fit: str = "fit",
                 letterbox: tuple[int, int, int] = (0, 0, 0), queue_frames: int = 4, loop: bool = False,
                 hwaccel: tuple[str, ...] = (), decode_delay: float = 0.0) -> None:
        if fit not in ("fit", "fill"):
            raise ValueError(f"fit must be 'fit' or 'fill', not {fit!r}")
        self.path = Path(path)
        self.size = size
        self.letterbox = letterbox
        self.loop = loop
        self.dropped = 0  # frames never shown because a newer one was already due
        self.shown = 0  # frames handed to the screen by frame_at
        self.error: str | None = None
        self._hwaccel = hwaccel
        self._container, self._stream = open_file(self.path, hwaccel, threads=1)  # opened again to play: _wait_for_turn
        self.hardware = self._stream.codec_context.is_hwaccel  # decoded by the GPU's video unit
        self.decode_delay = decode_delay  # seconds of extra work per decoded frame: a weaker CPU (tests, benches)
        self.shown_time: float | None = None  # media time of the frame handed out last
        self.skipping = False  # decoding cannot keep up: frames nothing else depends on are not decoded
        try:
            self._frames, head = decode_first(self.path, self._container, self._stream)
        except MediaError:
            self._container.close()
            raise
        self.duration = stream_duration(self._container, self._stream)
        self.source_size = (head.width, head.height)
        self.rotation = stream_rotation(head, self._stream)
        aspect = float(self._stream.sample_aspect_ratio or 1) or 1.0
        self._layout = _layout(self.source_size, aspect, self.rotation, size, fit)
        # The usual case, a 16:9 clip on a 16:9 screen: swscale's output is the picture, handed out as it is.
        self._exact = (self._layout.rotation == 0 and self._layout.pos == (0, 0) and self._layout.scaled == size)
        rate = self._stream.guessed_rate or self._stream.average_rate
        self._period = float(1 / rate) if rate else 1 / 30
        self._capacity = max(2, queue_frames)
        self._queue: deque[tuple[float, pygame.Surface]] = deque()
        self._cond = threading.Condition()
        self._first: pygame.Surface | None = None
        self._stop = False
        self._finished = False  # the decode thread has put its last frame
        self._end = 0.0  # media time when the last frame put stops showing
        self._ended = False
        self._wanted = -1.0  # the newest t asked for; the decoder skips converting frames already passed
        self._thread: threading.Thread | None = None
        self._head: av.VideoFrame | None = head  # decoded here; the thread starts from it
        self._spares: list[pygame.Surface] = []
        self._playing = False  # frame_at has been called: the queue may fill
        self._resumed = False  # the file was let go after the first picture and opened again to play
        self._behind = 0  # frames decoded in a row that were already late
        self._ahead = 0  # frames decoded in a row with the queue full
        self._made = 0  # pictures made for the queue
        # --- audio clock (issue 3 item 4, player/audio.py) ---
        self.start_time = head.time or 0.0  # the file's time of the first picture: media time 0
        self._clock: MediaClock | None = None
        self._clock_started = False

    def use_clock(self, clock: MediaClock) -> None:
        """Take media time from `clock` (the item's sound) in frame_at, which starts it; close() closes it."""
        self._clock = clock

    def __enter__(self) -> VideoClip:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def ended(self) -> bool:
        """True once the last frame has been handed out and its time is over, or decoding broke."""
        return self._ended

    def start(self) -> None:
        """Start the decode thread (once; not after `close`)."""
        if self._thread is None and not self._stop:
            self._thread = threading.Thread(target=self._run, name=f"video {self.path.name}", daemon=True)
            self._thread.start()

    def first_frame(self, timeout: float) -> pygame.Surface:
        """The clip's first picture, waiting up to `timeout` seconds for it (starts decoding if needed)."""
        self.start()
        with self._cond:
            self._cond.wait_for(lambda: self._first is not None or self._finished, timeout)
            if self._first is not None:
                return self._first
            if self._finished:
                raise MediaError(self.error or f"{self.path}: the video has no pictures")
        raise MediaError(f"{self.path}: no picture decoded within {timeout:g} s")

    def frame_at(self, t: float) -> pygame.Surface | None:
        """The newest frame due at media time `t` not handed out yet, or None: keep showing the last one.

        Never waits. Frames passed over count in `dropped`. A returned surface is the
        caller's for as long as it keeps a reference; the clip redraws into it only after.
        With a clock (`use_clock`), `t` is the clock's position instead; the first call starts it.
        """
        if self._clock is not None:  # audio clock (issue 3 item 4)
            if not self._clock_started:
                self._clock_started = True
                self._clock.play()
            t = self._clock.position()
        self._wanted = t
        shown: pygame.Surface | None = None
        with self._cond:
            if not self._playing:
                self._playing = True
                self._cond.notify_all()  # a clip prepared ahead reopens its file now
            while self._queue and self._queue[0][0] <= t + _PTS_SLACK:
                if shown is not None:
                    self.dropped += 1
                self.shown_time, shown = self._queue.popleft()
            if shown is not None:
                self.shown += 1
                if shown is not self._first:
                    self._first = None  # asked for before the clip plays, never after: 8 MB less at 1080p
                mark_changed(shown)  # a reused buffer: a renderer uploads it again
                self._cond.notify_all()
            elif self._finished and not self._queue and t >= self._end:
                self._ended = True
        return shown

    def next_time(self) -> float | None:
        """Media time of the next decoded frame waiting in the queue, or None while none is (the loop looks again
        next frame). With a sound clock the clock decides, so it is None: the loop looks each frame."""
        if self._clock is not None:
            return None
        with self._cond:
            return self._queue[0][0] if self._queue else None

    def pause(self) -> None:
        """Hold the sound clock, if any (the caller stops asking for frames meanwhile)."""
        if self._clock is not None and self._clock_started:
            self._clock.pause()

    def resume(self) -> None:
        if self._clock is not None and self._clock_started:
            self._clock.play()

    def close(self) -> None:
        """Stop decoding and free the file; safe to call more than once."""
        if self._clock is not None:  # audio clock (issue 3 item 4): the sound stops with the picture
            self._clock.close()
        with self._cond:
            self._stop = True
            self._cond.notify_all()
        if self._thread is None:
            self._container.close()
        else:
            self._thread.join(timeout=2.0)
            if self._thread.is_alive():
                log.warning("%s: the decode thread did not stop within 2 s; it closes the file when it does",
                            self.path)
        with self._cond:
            self._queue.clear()
            self._first = None
            self._spares = []
        give_back()  # its decoder's pictures and its own

    # --- the decode thread ---------------------------------------------------------------------

    def _run(self) -> None:
        scaler = VideoReformatter()
        pending: tuple[float, av.VideoFrame] | None = None
        passed = False  # the last frame's conversion was skipped
        try:
            if not self._playing and self._head is not None and not self._wait_for_turn(scaler):
                return
            for t, frame in self._timed_frames():
                if self._stop:
                    return
                if self.decode_delay:
                    time.sleep(self.decode_delay)
                self._keep_up(t)
                if pending is not None:
                    # Its successor is due already: skip the conversion. Never twice in a row: a decoder that is
                    # always behind would otherwise skip every picture and freeze the screen.
                    if t <= self._wanted and not passed:
                        passed = True
                        with self._cond:
                            self.dropped += 1
                    else:
                        passed = False
                        self._put(pending[0], pending[1], scaler)
                pending = (t, frame)
            if pending is not None and not self._stop:
                self._put(pending[0], pending[1], scaler)
        except Exception as exc:  # a broken file must end the clip, never reach the render loop
            at = pending[0] if pending else 0.0
            self.error = f"{self.path}: decoding failed at {at:.1f} s ({reason(exc)})"
            log.warning("%s", self.error)
        finally:
            self._container.close()
            give_back()  # the decoder's pictures, before the next clip's decoder starts beside what is left
            with self._cond:
                self._finished = True
                self._cond.notify_all()

    def _wait_for_turn(self, scaler: VideoReformatter) -> bool:
        """A clip prepared for the next item: its first picture is made, then the file is let go until the clip
        plays, and opened again (the first frame decoded again and passed over). A decoder waiting behind the playing
        one held 30-40 MB of a 1080p clip's frames for nothing. False: closed before it played."""
        head = self._head
        assert head is not None
        self._put(0.0, head, scaler)
        self._head = None
        self._container.close()
        give_back()  # the decoder's pictures: this clip waits behind the playing one, maybe for minutes
        with self._cond:
            self._cond.wait_for(lambda: self._playing or self._stop)
        if self._stop:
            return False
        self._container, self._stream = open_file(self.path, self._hwaccel)
        self._frames = self._container.decode(self._stream)
        next(self._frames, None)  # the first picture, already made
        self._head = next(self._frames, None)
        self._resumed = True
        return True

    def _keep_up(self, t: float) -> None:
        """Decoding that falls behind the screen skips the frames no other frame depends on (the non-reference
        B-frames): whole frames, spread evenly, rather than a picture held while the decoder catches up.
        Once it is well ahead again (the queue full), it decodes every frame again."""
        behind = self._wanted - t > self._period
        self._behind = self._behind + 1 if behind else 0
        ahead = len(self._queue) >= self._capacity
        self._ahead = self._ahead + 1 if ahead else 0
        if not self.skipping and self._behind >= LATE_FRAMES:
            self.skipping, self._ahead = True, 0
            self._stream.codec_context.skip_frame = "NONREF"
            log.info("%s: decoding cannot keep up; frames no others depend on are skipped", self.path.name)
        elif self.skipping and self._ahead >= AHEAD_FRAMES:
            self.skipping, self._behind = False, 0
            self._stream.codec_context.skip_frame = "DEFAULT"

    def _picture(self, frame: av.VideoFrame, scaler: VideoReformatter) -> pygame.Surface:
        """The frame as the screen shows it. In the usual layout swscale's output is wrapped, not copied."""
        if not self._exact:
            return _draw_frame(frame, self._layout, scaler, self._canvas())
        picture = scaler.reformat(frame, *self.size, format=_SWS_FORMAT, interpolation="BILINEAR")
        plane = picture.planes[0]
        surface = pygame.image.frombuffer(plane, self.size, _BUFFER_FORMAT, pitch=plane.line_size)
        surface.set_alpha(None)  # the pad byte is not alpha
        return surface

    def _timed_frames(self) -> Iterator[tuple[float, av.VideoFrame]]:
        """Every frame with its media time: pts * time_base from the first frame, counting up across loops."""
        frame, self._head = self._head, None
        frames = self._frames
        start = self.start_time
        offset = 0.0
        count = 1 if self._resumed else 0
        while True:
            end = None
            previous = 0.0 if self._resumed and offset == 0.0 else -self._period  # reopened: after the first picture
            while frame is not None:
                count += 1
                t = frame.time - start if frame.time is not None else previous + self._period
                if self.skipping and t - previous > 1.5 * self._period:  # frames the decoder skipped
                    skipped = round((t - previous) / self._period) - 1
                    count += skipped  # they are in the file: not a sign of a cut-off one
                    with self._cond:
                        self.dropped += skipped
                step = float(frame.duration * frame.time_base) if frame.duration and frame.time_base else 0.0
                end = t + (step or max(t - previous, self._period))
                self._end = offset + end
                yield offset + t, frame
                if self._stop:  # close() is waiting: do not decode another frame first
                    return
                previous = t
                frame = next(frames, None)
            if not self.loop or end is None or self._stop:
                break
            offset += end
            self._container.seek(0)
            frames = self._container.decode(self._stream)
            frame = next(frames, None)
        if self.loop or end is None:
            return
        if self.duration and end < self.duration - _TRUNCATED_SLACK:
            self.error = f"{self.path}: the file ends at {end:.1f} s of {self.duration:.1f} s (cut off or damaged)"
        elif self._stream.frames and count < self._stream.frames * 0.9:
            self.error = (f"{self.path}: the file ends at {end:.1f} s, after {count} of its "
                          f"{self._stream.frames} frames (cut off or damaged)")
        if self.error:
            log.warning("%s", self.error)

    def _canvas(self) -> pygame.Surface:
        """A surface to draw the next frame on: a spare one nobody holds any more, or a new one.

        Reusing them spares allocating and page-faulting 8 MB per 1080p frame with the
        GIL held, which stalled the render loop for up to 6 ms. A surface is free when
        only `_spares` refers to it: the caller (holding the frame on screen) and the
        queue keep theirs counted in its reference count.
        """
        for spare in self._spares:
            if sys.getrefcount(spare) <= 3:  # _spares, `spare`, getrefcount's argument
                return spare
        out = _canvas(self.size, self._layout, self.letterbox)
        if len(self._spares) < self._capacity + 4:  # the queue, the frame on screen, _first, the one drawn
            self._spares.append(out)
        return out

    def _room(self) -> int:
        # A clip prepared for the next item holds its first picture only until it is played: a full queue
        # waiting behind the playing clip would cost 30-40 MB at 1080p for nothing.
        return self._capacity if self._playing else 1

    def _put(self, t: float, frame: av.VideoFrame, scaler: VideoReformatter) -> None:
        """Queue `frame`'s picture once there is room for it. It is converted only then: a picture made first and
        held while the queue is full is one more 8 MB buffer at 1080p, for no more frames ahead."""
        with self._cond:
            self._cond.wait_for(lambda: len(self._queue) < self._room() or self._stop)
            if self._stop:
                return
        surface = self._picture(frame, scaler)  # outside the lock: frame_at must not wait for it
        with self._cond:
            if not self._stop:
                self._queue.append((t, surface))
                if self._first is None and not self._playing:
                    self._first = surface
                self._cond.notify_all()
        self._made += 1
        if self._made % GIVE_BACK_FRAMES == 0:
            give_back()
