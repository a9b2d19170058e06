"""Encode test and demo video clips with PyAV (no downloads).

Test clips show, on every frame, its frame number as a row of black and white
blocks (bit i, most significant first, at `block_centres`), a red marker in the
top-left corner of the upright picture, and a pattern that moves from frame to
frame. Tests decode the number back from the pixels on screen.

With `audio=`, a clip also carries a stereo 48 kHz sound track (`SOUNDS`): a steady
tone, or a click at every whole second of media time, for sync checks.

    python tools/make_test_clips.py --demo media/      # media/sample-clip.mp4
    python tools/make_test_clips.py --all out/clips/   # one clip of each test kind
"""

from __future__ import annotations

import argparse
import array
import colorsys
import math
import random
from fractions import Fraction
from pathlib import Path
from typing import Any, Callable, Sequence

import av
from PIL import Image, ImageDraw

Size = tuple[int, int]
Draw = Callable[[Size, int, float], Image.Image]

BITS = 10  # frame numbers 0..1023
MARKER = (230, 20, 20)  # top-left corner of the upright picture
VFR_STEPS = (1, 3, 1, 2, 4)  # variable frame rate: frame durations, in 1/fps, cycled

# codec -> (container extension, encoder options)
CODECS: dict[str, tuple[str, dict[str, str]]] = {
    "libx264": ("mp4", {"preset": "veryfast", "crf": "20"}),
    "libx265": ("mkv", {"preset": "ultrafast", "crf": "24", "x265-params": "log-level=error"}),
    "libvpx-vp9": ("webm", {"deadline": "realtime", "cpu-used": "8", "crf": "30", "b": "0", "row-mt": "1"}),
    "mpeg4": ("avi", {"qscale": "3"}),
}


# container extension -> audio codec for clips made with a sound track
AUDIO_CODECS = {"mp4": "aac", "mkv": "aac", "webm": "libopus", "avi": "mp2"}
AUDIO_RATE = 48000
TONE_HZ = 440.0
TONE_LEVEL = 0.5  # of full scale
CLICK_SECONDS = 0.01  # each click: 10 ms of 1 kHz at CLICK_LEVEL, starting on a whole second
CLICK_LEVEL = 0.8


def _tone(start: int, count: int) -> list[int]:
    w = 2 * math.pi * TONE_HZ / AUDIO_RATE
    return [round(32767 * TONE_LEVEL * math.sin(w * n)) for n in range(start, start + count)]


def _clicks(start: int, count: int) -> list[int]:
    out = [0] * count
    length = round(CLICK_SECONDS * AUDIO_RATE)
    w = 2 * math.pi * 1000 / AUDIO_RATE
    for second in range(start // AUDIO_RATE, (start + count) // AUDIO_RATE + 1):
        first = second * AUDIO_RATE
        for n in range(max(first, start), min(first + length, start + count)):
            out[n - start] = round(32767 * CLICK_LEVEL * math.sin(w * (n - first)))
    return out


SOUNDS: dict[str, Callable[[int, int], list[int]]] = {"tone": _tone, "clicks": _clicks}


def sound_frame(kind: str, start: int, count: int) -> av.AudioFrame:
    """`count` stereo s16 samples of sound `kind` from sample `start` (at AUDIO_RATE), both channels alike."""
    mono = array.array("h", SOUNDS[kind](start, count))
    stereo = array.array("h", bytes(4 * count))
    stereo[0::2] = mono
    stereo[1::2] = mono
    frame = av.AudioFrame(format="s16", layout="stereo", samples=count)
    frame.planes[0].update(stereo.tobytes())
    frame.sample_rate = AUDIO_RATE
    frame.pts = start
    frame.time_base = Fraction(1, AUDIO_RATE)
    return frame


def block_size(size: Size) -> int:
    """Side of one frame-number block, in pixels of the upright picture."""
    return max(2, min(size[0] // (BITS + 2), size[1] // 4))


def block_centres(size: Size) -> list[tuple[float, float]]:
    """Where bit i of the frame number sits, as fractions (x, y) of the upright picture."""
    side = block_size(size)
    left = round((size[0] - BITS * side) / 2)
    top = round(size[1] / 2 - side / 2)
    return [((left + (i + 0.5) * side) / size[0], (top + side / 2) / size[1]) for i in range(BITS)]


def marker_rect(size: Size) -> tuple[int, int, int, int]:
    """The red marker square (x, y, w, h) in the upright picture."""
    side = max(8, min(size) // 8)
    return (0, 0, side, side)


def frame_times(fps: int, seconds: float, vfr: bool = False) -> list[Fraction]:
    """Presentation time of each frame, in seconds, starting at 0."""
    times: list[Fraction] = []
    t, i = Fraction(0), 0
    while t < seconds:
        times.append(t)
        t += Fraction(VFR_STEPS[i % len(VFR_STEPS)] if vfr else 1, fps)
        i += 1
    return times


def _hue(degrees: float, light: float) -> tuple[int, int, int]:
    r, g, b = colorsys.hls_to_rgb(degrees / 360, light, 0.7)
    return round(r * 255), round(g * 255), round(b * 255)


def draw_test_frame(size: Size, number: int, t: float) -> Image.Image:
    """An upright test picture: moving pattern, frame-number blocks, red top-left marker."""
    w, h = size
    hue = 150 + (number * 9) % 150  # cyan to purple: never the red of the marker
    image = Image.new("RGB", size, _hue(hue, 0.45))
    draw = ImageDraw.Draw(image)
    bar = max(4, w // 16)
    x = int((t * w / 2) % (w + bar)) - bar
    draw.rectangle((x, 0, x + bar, h), fill=_hue(hue - 120, 0.9))
    r = max(3, min(size) // 10)
    cx, cy = w / 2 + math.cos(t * 3) * w / 3, h * 0.78 + math.sin(t * 5) * h / 10
    draw.ellipse((cx - r, cy - r, cx + r, cy + r), fill=(250, 250, 120))
    side = block_size(size)
    left = round((w - BITS * side) / 2)
    top = round(h / 2 - side / 2)
    draw.rectangle((left - side // 2, top - side // 2, left + BITS * side + side // 2, top + side + side // 2),
                   fill=(128, 128, 128))
    for i in range(BITS):
        bit = (number >> (BITS - 1 - i)) & 1
        x0 = left + i * side
        draw.rectangle((x0, top, x0 + side - 1, top + side - 1), fill=(255, 255, 255) if bit else (0, 0, 0))
    mx, my, mw, mh = marker_rect(size)
    draw.rectangle((mx, my, mx + mw - 1, my + mh - 1), fill=MARKER)
    return image


def make_clip(folder: Path, name: str, *, codec: str = "libx264", size: Size = (320, 180), fps: int = 30,
              seconds: float = 2.0, rotate: int = 0, vfr: bool = False, container: str | None = None,
              draw: Draw = draw_test_frame, options: dict[str, str] | None = None, faststart: bool = False,
              audio: str | None = None, audio_seconds: float | None = None, audio_codec: str | None = None) -> Path:
    """Encode a clip to folder/name.<ext> and return its path.

    `size` is the upright picture; `rotate` (0, 90, 180, 270) is how far a player
    must turn the stored frames clockwise, as a phone held upright records them:
    frames are stored turned the other way and the stream carries a display
    matrix saying so. `vfr` gives frames uneven durations (`frame_times`).
    `options` replace the encoder's defaults in CODECS; `faststart` puts an MP4's
    index first, as files meant for streaming have it. `audio` ("tone" or "clicks",
    see SOUNDS) adds a sound track of `audio_seconds` (default: `seconds`) in
    `audio_codec` (default: AUDIO_CODECS for the container).
    """
    if codec not in av.codecs_available:
        raise RuntimeError(f"this PyAV build has no {codec} encoder")
    ext, default_options = CODECS.get(codec, ("mp4", {}))
    path = Path(folder) / f"{name}.{container or ext}"
    path.parent.mkdir(parents=True, exist_ok=True)
    stored = size if rotate % 180 == 0 else (size[1], size[0])
    times = frame_times(fps, seconds, vfr)
    with av.open(str(path), "w", options={"movflags": "+faststart"} if faststart else {}) as out:
        stream = out.add_stream(codec, rate=fps)
        stream.width, stream.height = stored
        stream.pix_fmt = "yuv420p"
        stream.time_base = Fraction(1, fps)
        stream.codec_context.time_base = Fraction(1, fps)
        stream.options = dict(default_options if options is None else options)
        if rotate % 360:
            stream.set_display_rotation(-rotate)  # PyAV counts counter-clockwise
        sound = None
        if audio is not None:
            sound = out.add_stream(audio_codec or AUDIO_CODECS.get(container or ext, "aac"), rate=AUDIO_RATE)
            sound.layout = "stereo"
        sound_total = round((seconds if audio_seconds is None else audio_seconds) * AUDIO_RATE)
        sound_done = 0
        for number, t in enumerate(times):
            while sound is not None and sound_done < min(sound_total, (t + 1) * AUDIO_RATE):  # a second ahead
                count = min(1024, sound_total - sound_done)
                out.mux(sound.encode(sound_frame(audio, sound_done, count)))  # type: ignore[arg-type]
                sound_done += count
            picture = draw(size, number, float(t))
            if rotate % 360:
                picture = picture.rotate(rotate, expand=True)  # PIL turns counter-clockwise
            frame = av.VideoFrame.from_image(picture).reformat(format="yuv420p")
            frame.pts = int(t * fps)
            frame.time_base = Fraction(1, fps)
            out.mux(stream.encode(frame))
        out.mux(stream.encode(None))
        while sound is not None and sound_done < sound_total:
            count = min(1024, sound_total - sound_done)
            out.mux(sound.encode(sound_frame(audio, sound_done, count)))  # type: ignore[arg-type]
            sound_done += count
        if sound is not None:
            out.mux(sound.encode(None))
    if rotate % 360:
        with av.open(str(path)) as check:
            turned = -next(check.decode(video=0)).rotation % 360
        if turned != rotate % 360:
            raise RuntimeError(f"{path}: the {path.suffix} container did not keep the {rotate} degree display matrix")
    return path


def make_h264_mp4(folder: Path, **kw: Any) -> Path:
    return make_clip(folder, "h264", codec="libx264", **kw)


def make_hevc_mkv(folder: Path, **kw: Any) -> Path:
    return make_clip(folder, "hevc", codec="libx265", **kw)


def make_vp9_webm(folder: Path, **kw: Any) -> Path:
    return make_clip(folder, "vp9", codec="libvpx-vp9", **kw)


def make_mpeg4_avi(folder: Path, **kw: Any) -> Path:
    return make_clip(folder, "mpeg4", codec="mpeg4", **kw)


def make_vfr_mp4(folder: Path, **kw: Any) -> Path:
    return make_clip(folder, "vfr", codec="libx264", vfr=True, **kw)


def make_phone_clip(folder: Path, **kw: Any) -> Path:
    """A portrait picture stored landscape with a 90-degree display matrix, as phones record."""
    kw.setdefault("size", (180, 320))
    return make_clip(folder, "phone", codec="libx264", rotate=90, **kw)


# --- the demo clip: boats on the river below Núi Cấm ---------------------------------------------

def _mix(a: Sequence[int], b: Sequence[int], t: float) -> tuple[int, int, int]:
    return (round(a[0] + (b[0] - a[0]) * t), round(a[1] + (b[1] - a[1]) * t), round(a[2] + (b[2] - a[2]) * t))


def _river_background(size: Size) -> Image.Image:
    w, h = size
    image = Image.new("RGB", size)
    draw = ImageDraw.Draw(image)
    horizon = int(h * 0.55)
    for y in range(horizon):
        draw.line((0, y, w, y), fill=_mix((70, 140, 210), (250, 205, 150), y / horizon))
    for y in range(horizon, h):
        draw.line((0, y, w, y), fill=_mix((60, 120, 130), (25, 70, 90), (y - horizon) / (h - horizon)))
    draw.ellipse((w * 0.72, h * 0.12, w * 0.72 + h * 0.12, h * 0.24), fill=(255, 236, 170))
    rnd = random.Random(7)
    for shade, base, height in (((95, 125, 120), 0.55, 0.30), ((70, 100, 85), 0.55, 0.2)):
        points = [(0.0, h * base)]
        for i in range(13):
            points.append((w * i / 12, h * (base - height * (0.35 + 0.65 * rnd.random()) * math.sin(math.pi * i / 12))))
        points.append((float(w), h * base))
        draw.polygon(points, fill=shade)
    for i in range(18):  # palms on the far bank
        x, y = w * (i + rnd.random()) / 18, h * 0.55
        draw.line((x, y, x + h * 0.01, y - h * 0.06), fill=(40, 60, 40), width=max(2, h // 300))
        for a in range(5):
            ang = math.pi * (0.1 + 0.2 * a)
            draw.line((x + h * 0.01, y - h * 0.06, x + h * 0.01 + math.cos(ang) * h * 0.03,
                       y - h * 0.06 - math.sin(ang) * h * 0.015), fill=(45, 85, 45), width=max(2, h // 270))
    return image


def _draw_boat(draw: ImageDraw.ImageDraw, x: float, y: float, scale: float, hull: tuple[int, int, int]) -> None:
    s = scale
    draw.polygon([(x - 60 * s, y), (x + 60 * s, y), (x + 45 * s, y + 18 * s), (x - 45 * s, y + 18 * s)], fill=hull)
    draw.rectangle((x - 25 * s, y - 22 * s, x + 20 * s, y), fill=(235, 225, 200))
    draw.polygon([(x - 30 * s, y - 22 * s), (x + 25 * s, y - 22 * s), (x + 15 * s, y - 32 * s),
                  (x - 20 * s, y - 32 * s)], fill=(170, 60, 40))
    draw.ellipse((x - 38 * s, y + 2 * s, x - 30 * s, y + 10 * s), fill=(250, 250, 250))


def draw_river_frame(size: Size, number: int, t: float, _cache: dict[Size, Image.Image] = {}) -> Image.Image:
    """One frame of the demo clip: boats drifting along the river, sun-lit waves."""
    if size not in _cache:
        _cache[size] = _river_background(size)
    w, h = size
    image = _cache[size].copy()
    draw = ImageDraw.Draw(image)
    horizon = h * 0.55
    for row in range(14):
        y = horizon + (h - horizon) * (row + 0.5) / 14
        depth = (y - horizon) / (h - horizon)
        step = w / (8 + row)
        shift = (t * (20 + 60 * depth) * (1 if row % 2 else -1)) % step
        for k in range(-1, 9 + row):
            x = k * step + shift
            draw.arc((x, y - 6 * depth - 3, x + step * 0.6, y + 6 * depth + 3), 200, 340,
                     fill=(200, 225, 230), width=max(1, int(3 * depth)))
    boats = ((0.62, 0.018, 0.55, (120, 70, 40)), (0.72, -0.025, 0.8, (40, 90, 150)), (0.86, 0.035, 1.2, (150, 40, 40)))
    for row, speed, scale, hull in boats:
        x = ((0.2 + speed * t * 4) % 1.3 - 0.15) * w
        y = h * row + math.sin(t * 2 + row * 10) * h * 0.004
        _draw_boat(draw, x, y, 2 * scale * h / 1080, hull)
    return image


def make_demo_clip(folder: Path, size: Size = (1920, 1080), fps: int = 30, seconds: float = 10.0) -> Path:
    """media/sample-clip.mp4: 10 s of boats on the river at 1080p30, H.264, a couple of MB."""
    return make_clip(folder, "sample-clip", codec="libx264", size=size, fps=fps, seconds=seconds,
                     draw=draw_river_frame, options={"preset": "medium", "crf": "26"}, faststart=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--demo", type=Path, metavar="DIR", help="write the 1080p demo clip sample-clip.mp4 here")
    parser.add_argument("--all", type=Path, metavar="DIR", help="write one small clip of each test kind here")
    args = parser.parse_args(argv)
    if not (args.demo or args.all):
        parser.error("give --demo DIR or --all DIR")
    if args.demo:
        path = make_demo_clip(args.demo)
        print(f"{path}: {path.stat().st_size / 1e6:.1f} MB")
    if args.all:
        for make in (make_h264_mp4, make_hevc_mkv, make_vp9_webm, make_mpeg4_avi, make_vfr_mp4, make_phone_clip):
            path = make(args.all)
            print(path)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
