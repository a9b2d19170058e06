"""Opening a video file for decoding: in software or on the GPU's video unit, with what validation needs to know."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import av
import av.error

from .errors import MediaError

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class VideoInfo:
    """What validation needs to know about a video file."""

    duration: float | None  # seconds; None when the file does not say
    width: int  # as stored; a rotation of 90 or 270 swaps them on screen
    height: int
    rotation: int  # degrees the stored picture is turned clockwise for display: 0, 90, 180 or 270
    codec: str


def reason(exc: BaseException) -> str:
    return getattr(exc, "strerror", None) or str(exc) or type(exc).__name__


HW_DEVICES = ("vaapi", "drm")  # FFmpeg's hardware decoders for an Intel/AMD GPU (VA-API) and a Raspberry Pi (DRM)
_hw_told: set[tuple[str, ...]] = set()  # hardware decoding failures already logged: one line per run, not per clip


def hw_devices(available: tuple[str, ...], gpu: bool) -> tuple[str, ...]:
    """Which hardware decoders to try, in order: those this FFmpeg build has, where the machine has a GPU at all."""
    return tuple(device for device in HW_DEVICES if device in available) if gpu else ()


def _open_hw(path: Path, devices: tuple[str, ...]) -> tuple[av.container.InputContainer, str] | None:
    """The file opened for decoding on the first of `devices` that takes its stream, or None (logged once)."""
    from av.codec.hwaccel import HWAccel

    why = []
    for device in devices:
        try:
            container = av.open(str(path), hwaccel=HWAccel(device_type=device, allow_software_fallback=True))
        except (av.error.FFmpegError, OSError, RuntimeError, ValueError) as exc:
            why.append(f"{device}: {reason(exc)}")
            continue
        if container.streams.video and container.streams.video[0].codec_context.is_hwaccel:
            return container, device
        container.close()
        why.append(f"{device}: does not take this stream")
    if devices not in _hw_told:
        _hw_told.add(devices)
        log.warning("hardware video decoding is not available (%s): decoding in software", "; ".join(why))
    return None


def open_file(path: Path, hwaccel: tuple[str, ...] = (),
          threads: int = 2) -> tuple[av.container.InputContainer, av.video.stream.VideoStream]:
    try:
        opened = _open_hw(path, hwaccel) if hwaccel and path.is_file() else None
        container = opened[0] if opened is not None else av.open(str(path))
    except (FileNotFoundError, IsADirectoryError):
        raise MediaError(f"{path}: file not found") from None
    except (av.error.FFmpegError, OSError, UnicodeDecodeError) as exc:
        raise MediaError(f"{path}: not a video file that can be read ({reason(exc)})") from None
    if not container.streams.video:
        container.close()
        raise MediaError(f"{path}: the file has no video stream")
    stream = container.streams.video[0]
    if stream.codec_context is None:
        container.close()
        raise MediaError(f"{path}: the video codec is not supported; use H.264, HEVC, VP9 or AV1")
    stream.thread_type = "AUTO"
    # Two threads decode 1080p H.264 at over 200 fps here, as fast as FFmpeg's default of cores + 1; each thread
    # keeps pictures of its own, so more cost memory (a 4-core kiosk: about 20 MB more at 1080p) for nothing.
    # For the first picture alone, one: frame threads fill up with pictures before the first comes out.
    stream.codec_context.thread_count = threads
    return container, stream


def stream_duration(container: av.container.InputContainer, stream: av.video.stream.VideoStream) -> float | None:
    if stream.duration and stream.time_base:
        return float(stream.duration * stream.time_base)
    tag = stream.metadata.get("DURATION")  # Matroska keeps the stream's length as a tag
    if tag:
        try:
            h, m, s = tag.split(":")
            return int(h) * 3600 + int(m) * 60 + float(s)
        except ValueError:
            pass
    return container.duration / av.time_base if container.duration else None


def stream_rotation(frame: av.VideoFrame, stream: av.video.stream.VideoStream) -> int:
    """Clockwise degrees to turn the picture upright, from the display matrix (old files: the rotate tag)."""
    ccw = frame.rotation  # FFmpeg 8 attaches the container's display matrix to each frame
    if not ccw and stream.metadata.get("rotate", "").lstrip("-").isdigit():
        ccw = -int(stream.metadata["rotate"])
    return round(-ccw / 90) * 90 % 360


def decode_first(path: Path, container: av.container.InputContainer,
                 stream: av.video.stream.VideoStream) -> tuple[Iterator[av.VideoFrame], av.VideoFrame]:
    frames = container.decode(stream)
    try:
        return frames, next(frames)
    except StopIteration:
        raise MediaError(f"{path}: the video stream has no pictures") from None
    except av.error.FFmpegError as exc:
        raise MediaError(f"{path}: the video cannot be decoded ({reason(exc)})") from None


def probe(path: Path) -> VideoInfo:
    """Check that `path` is a video that plays (it decodes the first picture); raise MediaError if not."""
    container, stream = open_file(path, threads=1)
    try:
        _, frame = decode_first(path, container, stream)
        return VideoInfo(stream_duration(container, stream), frame.width, frame.height, stream_rotation(frame, stream),
                         stream.codec_context.name)
    finally:
        container.close()
