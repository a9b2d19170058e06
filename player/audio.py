"""A video item's sound: decoded on a thread, played through an SDL audio device whose consumption is the clip's clock.

    AudioUnavailable      no sound plays; the picture plays silently on the monotonic clock
     ├── NoAudioStream    the file has no sound we can decode
     └── NoAudioDevice    SDL cannot open a sound device

`open_audio` is what the player calls: None means "silent" (volume 0 opens no device).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import logging
import sys
import threading
import time
from fractions import Fraction
from itertools import chain
from pathlib import Path
from typing import Any, Callable, Iterator

import av
import av.error
import av.filter
from pygame._sdl2 import audio as sdl_audio  # also maps pygame's SDL library into the process (see _sdl)
from pygame._sdl2 import sdl2

from .errors import MediaError, PlayerError

log = logging.getLogger(__name__)

RATE = 48000
FRAME_BYTES = 4  # one s16 stereo sample frame
CHUNK = 1024  # sample frames per callback (21 ms): also the device latency position() subtracts
BUFFER_SECONDS = 0.5  # decoded sound held ahead of the device
RESYNC = RATE // 20  # a timestamp gap over 50 ms in the sound is filled with silence (or cut)
STALL_SECONDS = 0.5  # a device that stops calling back for this long no longer drives the clock
HANDOVER_SECONDS = 1.0  # how long play() keeps trying for a device the previous item is still closing


class AudioUnavailable(PlayerError):
    """No sound will play for this item; play the picture silently."""


class NoAudioStream(AudioUnavailable):
    """The file has no audio stream, or none that can be decoded."""


class NoAudioDevice(AudioUnavailable):
    """SDL could not open a sound device (none present, or its driver failed)."""


_sdl_lib: ctypes.CDLL | None = None
_open_devices = 0  # devices AudioTracks hold open now
_devices_lock = threading.Lock()
_warned: set[str] = set()


def _warn_once(key: str, message: str) -> None:
    """A warning the first time for `key`, debug after: a screen without sound says so once, not per item."""
    log.log(logging.DEBUG if key in _warned else logging.WARNING, "%s", message)
    _warned.add(key)


def _sdl() -> ctypes.CDLL:
    """The SDL library pygame loaded, to call SDL_PauseAudioDevice without holding the GIL.

    pygame-ce's AudioDevice.pause() and .close() keep the GIL while SDL takes the
    device lock, which SDL's audio thread holds while it waits for the GIL to run our
    callback: a deadlock (a stress loop of pause/resume with a busy thread hung).
    ctypes releases the GIL around the call, and a paused device never calls back,
    so close() after pausing this way is safe too.
    """
    global _sdl_lib
    if _sdl_lib is None:
        mapped = (line[line.find("/"):] for line in Path("/proc/self/maps").read_text().splitlines() if "/" in line)
        path = next((p for p in mapped if Path(p).name.startswith("libSDL2-2")), None)  # also libSDL2-2-<hash>
        lib = ctypes.CDLL(path or ctypes.util.find_library("SDL2") or "libSDL2-2.0.so.0")
        lib.SDL_PauseAudioDevice.argtypes = [ctypes.c_uint32, ctypes.c_int]
        lib.SDL_PauseAudioDevice.restype = None
        _sdl_lib = lib
    return _sdl_lib


def _open_device(name: str | None, chunk: int, callback: Any) -> Any:
    """An SDL playback device for s16 stereo at RATE, paused; SDL converts if the hardware differs."""
    try:
        try:
            sdl_audio.get_audio_device_names(False)
        except sdl2.error:  # "Audio system not initialised": display-only pygame never starts it
            sdl2.init_subsystem(sdl2.INIT_AUDIO)
        _sdl()
        fmt = sdl_audio.AUDIO_S16LSB if sys.byteorder == "little" else sdl_audio.AUDIO_S16MSB
        return sdl_audio.AudioDevice(name, False, RATE, fmt, 2, chunk, 0, callback)
    except (RuntimeError, OSError) as exc:  # sdl2.error is a RuntimeError
        raise NoAudioDevice(f"no sound device ({exc or type(exc).__name__})") from None


def _converter(volume: float) -> Callable[[av.AudioFrame | None], list[bytes]]:
    """Decoded frames to device bytes: s16 stereo at RATE, scaled by FFmpeg's volume filter; None flushes.

    Volume is applied here, on the decode thread, so SDL's callback (which takes the
    GIL every 21 ms) only copies bytes.
    """
    resampler = av.AudioResampler(format="s16", layout="stereo", rate=RATE)
    if volume >= 1.0:
        return lambda frame: [_pcm(out) for out in resampler.resample(frame)]
    graph = av.filter.Graph()
    source = graph.add_abuffer(format="s16", sample_rate=RATE, layout="stereo", time_base=Fraction(1, RATE))
    gain = graph.add("volume", f"volume={volume:.4f}:precision=fixed")  # fixed: stays s16, exact for 0.5
    graph.link_nodes(source, gain, graph.add("abuffersink")).configure()

    def convert(frame: av.AudioFrame | None) -> list[bytes]:
        for out in resampler.resample(frame) + ([None] if frame is None else []):
            graph.push(out)
        done = []
        while True:
            try:
                done.append(_pcm(graph.pull()))  # type: ignore[arg-type]
            except (BlockingIOError, av.error.EOFError):
                return done
    return convert


def _pcm(frame: av.AudioFrame) -> bytes:
    with memoryview(frame.planes[0]) as plane:  # the plane may be padded past the samples
        return bytes(plane[:frame.samples * FRAME_BYTES])


def _silence(frames: int) -> Iterator[bytes]:
    for start in range(0, frames, RATE // 10):
        yield bytes(min(RATE // 10, frames - start) * FRAME_BYTES)


class AudioTrack:
    """One item's sound. Created paused with its buffer filling; `play()` starts it, `close()` ends it.

    `position()` is the media time being heard, in the picture's timeline: sample n of
    what goes to the device plays at media time n / RATE (`origin`, the picture's first
    pts in the file, is time 0), so frame_at(position()) shows the picture that goes with it.
    """

    def __init__(self, path: Path, volume: float, device: str | None = None, *, origin: float | None = None,
                 loop: bool = False, loop_period: float | None = None, chunk: int = CHUNK) -> None:
        if not 0.0 <= volume <= 1.0:
            raise ValueError(f"volume must be between 0 and 1, not {volume}")
        self.path, self.volume, self.loop = Path(path), volume, loop
        self.loop_period = loop_period  # seconds per pass when looping: the picture's, so the two stay in step
        self.error: str | None = None
        self.underruns = 0  # callbacks that found the buffer short before the sound was over (a gap heard)
        try:
            self._container = av.open(str(self.path))
        except (av.error.FFmpegError, OSError, UnicodeDecodeError) as exc:
            raise MediaError(f"{self.path}: cannot be read ({exc})") from None
        try:
            streams = self._container.streams
            if not streams.audio or streams.audio[0].codec_context is None:
                raise NoAudioStream(f"{self.path}: the file has no sound" if not streams.audio
                                    else f"{self.path}: the sound's codec is not supported")
            self._stream = streams.audio[0]
            if origin is None:  # where VideoClip counts from
                timed = streams.video[0] if streams.video else self._stream
                start, base = timed.start_time, timed.time_base
                origin = float(start * base) if start is not None and base is not None else 0.0
            self._origin = origin
            self._cond = threading.Condition()
            self._buffer = bytearray()
            self._stop = self._finished = self._playing = self._stalled = self._silent = False
            self._handed = self._last_n = 0  # sample frames the device took: in all, in the latest callback
            self._t_callback = self._t_play = 0.0
            self._pos = self._pos_at_play = 0.0  # the last position reported: it never goes back
            self._drop = 0  # sample frames still to skip: the picture ran ahead while the device was busy
            self._handover_until = 0.0
            self._device: Any = None
            self._device_args = (device, chunk)
            self.latency = chunk / RATE
            try:
                self._open()
            except NoAudioDevice:
                if not _open_devices:  # none of ours holds a device: there is none to be had
                    raise
                # SDL's dummy and disk drivers (and an ALSA card without dmix) open one device at a time,
                # and the item on screen holds it: open at play(), after the loop has closed that item.
        except BaseException:
            self._container.close()
            raise
        self._thread = threading.Thread(target=self._run, name=f"audio {self.path.name}", daemon=True)
        self._thread.start()

    def __enter__(self) -> AudioTrack:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def ended(self) -> bool:
        """True once all of the sound has gone to the device (the clock runs on over silence)."""
        with self._cond:
            return self._finished and not self._buffer

    def play(self) -> None:
        """Start or resume the sound and the clock (the monotonic clock while no device can be had)."""
        if self._playing or self._stop:
            return
        now = time.monotonic()
        with self._cond:
            self._playing, self._t_play, self._pos_at_play = True, now, self._pos
        if self._device is not None:
            _sdl().SDL_PauseAudioDevice(self._device.deviceid, 0)
        elif not self._silent:
            self._handover_until = now + HANDOVER_SECONDS
            self._late_open(now)

    def _late_open(self, now: float) -> None:
        """Open the device deferred in __init__; the sound joins the picture where it is by now."""
        try:
            self._open()
        except NoAudioDevice as exc:
            if not (_open_devices and now < self._handover_until):  # not the item before, still letting go
                self._silent = True
                _warn_once(str(exc), f"{self.path}: {exc}; this video plays silently")
            return
        with self._cond:
            if self._playing:  # the monotonic clock's position up to now
                self._pos = max(self._pos, self._pos_at_play + now - self._t_play)
            skip = round(self._pos * RATE)
            dropped = min(skip, len(self._buffer) // FRAME_BYTES)
            del self._buffer[:dropped * FRAME_BYTES]
            self._drop, self._handed, self._t_play = skip - dropped, skip, now
            self._cond.notify_all()
        if self._playing:
            _sdl().SDL_PauseAudioDevice(self._device.deviceid, 0)

    def pause(self) -> None:
        """Hold the sound; position() stays where it is until play()."""
        self.position()
        with self._cond:
            playing, self._playing = self._playing, False
        if playing and self._device is not None:
            _sdl().SDL_PauseAudioDevice(self._device.deviceid, 1)

    def position(self, now: float | None = None) -> float:
        """Seconds of media heard: samples the device took, less its buffer, smoothed between callbacks."""
        now = time.monotonic() if now is None else now
        if self._device is None and self._playing and not (self._silent or self._stop):
            self._late_open(now)  # the item before may have let go of the device by now
        with self._cond:
            if not self._playing:
                return self._pos
            if self._device is None:  # no device (yet): the monotonic clock
                self._pos = self._pos_at_play + now - self._t_play
                return self._pos
            base = self._handed / RATE - self.latency
            since = now - max(self._t_callback, self._t_play)
            pos = base + min(since, self._last_n / RATE)
            if since > STALL_SECONDS:  # the device stopped calling back: keep the picture moving regardless
                pos = base + self._last_n / RATE + since - STALL_SECONDS
                if not self._stalled:
                    self._stalled = True
                    log.warning("%s: the sound device stopped playing; the picture goes on without it", self.path)
            self._pos = max(self._pos, pos)
            return self._pos

    def close(self) -> None:
        """Stop the sound and the decoding at once and free the device; safe to call more than once."""
        global _open_devices
        with self._cond:
            self._stop, self._playing = True, False
            self._cond.notify_all()
        device, self._device = self._device, None
        if device is not None:
            _sdl().SDL_PauseAudioDevice(device.deviceid, 1)  # without the GIL; then no callback can be running
            device.close()
            with _devices_lock:
                _open_devices -= 1
        self._thread.join(timeout=2.0)
        if self._thread.is_alive():
            log.warning("%s: the sound thread did not stop within 2 s", self.path)

    def _open(self) -> None:
        global _open_devices
        self._device = _open_device(*self._device_args, self._callback)
        with _devices_lock:
            _open_devices += 1
        self.latency = self._device.chunksize / RATE

    def _callback(self, _device: object, stream: Any) -> None:
        """SDL's audio thread: hand over buffered bytes, silence where there are none, and count them."""
        try:
            out = memoryview(stream)
            size = len(out)
            with self._cond:
                take = min(size, len(self._buffer))
                out[:take] = self._buffer[:take]
                del self._buffer[:take]
                counted = take
                if take < size:
                    out[take:] = bytes(size - take)  # s16 silence
                    if self._finished:  # the sound is over: the clock runs on over silence
                        counted = size
                    else:  # an underrun: not media time
                        self.underruns += 1
                self._handed += counted // FRAME_BYTES
                self._last_n = counted // FRAME_BYTES
                self._t_callback = time.monotonic()
                self._cond.notify_all()
        except Exception:  # an exception here would reach SDL's C thread
            log.exception("%s: the sound callback failed", self.path)

    def _run(self) -> None:
        """The decode thread: fill the buffer until the sound ends, it breaks, or close()."""
        written = 0.0
        try:
            for data in self._samples():
                if not self._put(data):
                    return
                written += len(data) / (FRAME_BYTES * RATE)
        except Exception as exc:  # a broken sound must never stop the picture
            self.error = f"{self.path}: the sound broke off at {written:.1f} s ({exc or type(exc).__name__})"
            log.warning("%s; the picture plays on silently", self.error)
        finally:
            self._container.close()
            with self._cond:
                self._finished = True
                self._cond.notify_all()

    def _samples(self) -> Iterator[bytes]:
        """Device bytes where sample n plays at media time n / RATE: gaps filled, a lead before the picture cut,
        each loop pass padded or cut to `loop_period`."""
        period = round(self.loop_period * RATE) if self.loop and self.loop_period else None
        written = start = 0  # sample frames: all so far, and where this pass began
        while not self._stop:
            convert = _converter(self.volume)
            limit = start + period if period else None
            skip = 0
            for frame in chain(self._container.decode(self._stream), [None]):
                if frame is not None and frame.time is not None:
                    due = start + round((frame.time - self._origin) * RATE)
                    gap = due - (written - skip)  # where it is due, less where it would land
                    if gap > RESYNC:  # sound starts after the picture, or a hole in it
                        skip = 0
                        yield from _silence(max(0, due - written))
                        written = max(written, due)
                    elif gap < -RESYNC:  # sound from before the picture's first frame
                        skip -= gap
                for data in convert(frame):
                    n = len(data) // FRAME_BYTES
                    cut = min(skip, n)
                    skip -= cut
                    keep = n - cut if limit is None else min(n - cut, limit - written)
                    if keep > 0:
                        yield data[cut * FRAME_BYTES:(cut + keep) * FRAME_BYTES]
                        written += keep
                if self._stop or (limit is not None and written >= limit):
                    break
            if not self.loop or (written == start and not period):  # a pass with no sound would spin
                return
            if limit is not None:
                yield from _silence(limit - written)
                written = limit
            start = written
            self._container.seek(0)

    def _put(self, data: bytes) -> bool:
        view = memoryview(data)
        capacity = int(BUFFER_SECONDS * RATE) * FRAME_BYTES
        while view:
            with self._cond:
                self._cond.wait_for(lambda: len(self._buffer) < capacity or self._stop)
                if self._stop:
                    return False
                dropped = min(self._drop, len(view) // FRAME_BYTES)
                self._drop -= dropped
                view = view[dropped * FRAME_BYTES:]
                room = capacity - len(self._buffer)
                self._buffer += view[:room]
                view = view[room:]
        return True


def open_audio(path: Path, volume: float, device: str | None = None, **options: Any) -> AudioTrack | None:
    """The item's sound, paused and buffering, or None: play the picture silently on the monotonic clock.

    None for volume 0 (no device is opened at all), a file without sound, or a machine
    where SDL cannot open a sound device (one warning per reason, not one per item).
    `options` go to AudioTrack (origin, loop, loop_period, chunk).
    """
    if volume <= 0:
        return None
    try:
        return AudioTrack(path, volume, device, **options)
    except NoAudioStream as exc:
        log.debug("%s; playing the picture alone", exc)
    except NoAudioDevice as exc:
        _warn_once(str(exc), f"{path}: {exc}; videos play silently")
    return None
