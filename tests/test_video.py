"""player/video.py on real clips encoded by tools/make_test_clips.py: timing, layout, rotation, bad files."""

from __future__ import annotations

import os

os.environ.setdefault("SDL_VIDEODRIVER", "dummy")
os.environ.setdefault("SDL_AUDIODRIVER", "dummy")

import logging
import random
import re
import threading
import time
from fractions import Fraction
from pathlib import Path

import av
import psutil
import pygame
import pytest

from player.errors import MediaError
from player.video import VideoClip, poster_frame
from player.videofile import hw_devices, probe
from tools import make_test_clips as clips

SIZE = (320, 180)
SECONDS = 2.0
FPS = 30
TICK = 1 / 60  # the render loop's step in media time
LETTERBOX = (0, 120, 0)
FORMATS = {  # name -> (make function, upright size, variable frame rate)
    "h264-mp4": (clips.make_h264_mp4, SIZE, False),
    "hevc-mkv": (clips.make_hevc_mkv, SIZE, False),
    "vp9-webm": (clips.make_vp9_webm, SIZE, False),
    "mpeg4-avi": (clips.make_mpeg4_avi, SIZE, False),
    "vfr-mp4": (clips.make_vfr_mp4, SIZE, True),
    "phone-mp4": (clips.make_phone_clip, (180, 320), False),
}


@pytest.fixture(scope="module", autouse=True)
def display() -> None:
    pygame.init()  # idempotent; the session's conftest owns pygame.quit()


@pytest.fixture(scope="module")
def made(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("clips")
    return {name: make(folder, size=size, fps=FPS, seconds=SECONDS) for name, (make, size, _) in FORMATS.items()}


def frame_number(surface: pygame.Surface, rect: pygame.Rect, upright: tuple[int, int]) -> int:
    """The number drawn as blocks on a test frame occupying `rect` of `surface`."""
    number = 0
    for fx, fy in clips.block_centres(upright):
        r, g, b, _ = surface.get_at((int(rect.x + fx * rect.w), int(rect.y + fy * rect.h)))
        number = number * 2 + (r + g + b > 3 * 128)
    return number


def video_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name.startswith("video ")]


def play(clip: VideoClip, until: float, speed: float = 2.0) -> list[tuple[float, int | None, bool]]:
    """Run a render loop at 60 Hz of media time (`speed` x real time): (t, number on screen, new) per tick."""
    on_screen: int | None = None
    ticks = []
    t = 0.0
    while t < until and not clip.ended:
        surface = clip.frame_at(t)
        if surface is not None:
            on_screen = frame_number(surface, surface.get_rect(), clip_upright(clip))
        ticks.append((t, on_screen, surface is not None))
        t += TICK
        time.sleep(TICK / speed)
    return ticks


def clip_upright(clip: VideoClip) -> tuple[int, int]:
    w, h = clip.source_size
    return (h, w) if clip.rotation % 180 else (w, h)


@pytest.mark.slow  # video timing: each clip plays in real time
@pytest.mark.realtime
@pytest.mark.parametrize("name", FORMATS)
def test_frames_appear_at_their_presentation_time(made: dict[str, Path], name: str) -> None:
    _, upright, vfr = FORMATS[name]
    times = [float(t) for t in clips.frame_times(FPS, SECONDS, vfr)] + [SECONDS]
    with VideoClip(made[name], upright) as clip:
        assert clip.duration == pytest.approx(SECONDS, abs=0.05)
        assert frame_number(clip.first_frame(timeout=5), pygame.Rect((0, 0), upright), upright) == 0
        ticks = play(clip, until=SECONDS + 1)
        assert clip.ended and clip.error is None
    shown = [n for _, n, new in ticks if new]
    assert shown == sorted(shown), "frames went backwards"
    assert len(set(shown)) >= 0.9 * (len(times) - 1)
    for t, n, _ in ticks:
        assert n is not None
        assert times[n] <= t + 1e-6, f"frame {n} (pts {times[n]:.3f}) shown early at {t:.3f}"
        assert t < times[n + 1] + TICK, f"frame {n} still on screen at {t:.3f}; frame {n + 1} was due at {times[n + 1]:.3f}"
    assert SECONDS - 1e-6 <= ticks[-1][0] + TICK <= SECONDS + 3 * TICK, "ended too early or too late"


def test_no_frame_before_its_time_and_late_frames_count_as_dropped(made: dict[str, Path]) -> None:
    with VideoClip(made["h264-mp4"], SIZE, queue_frames=4) as clip:
        clip.first_frame(timeout=5)
        rect = pygame.Rect((0, 0), SIZE)
        assert frame_number(clip.frame_at(0.0), rect, SIZE) == 0
        assert clip.frame_at(0.02) is None  # frame 1 is due at 0.033
        numbers = []
        deadline = time.monotonic() + 5
        while 30 not in numbers and time.monotonic() < deadline:
            surface = clip.frame_at(1.0)
            if surface is not None:
                numbers.append(frame_number(surface, rect, SIZE))
            time.sleep(0.005)
        assert numbers[-1] == 30 and numbers == sorted(numbers)
        assert clip.dropped >= 28 - len(numbers)


def test_loop_keeps_going_with_time_counting_up(made: dict[str, Path]) -> None:
    with VideoClip(made["h264-mp4"], SIZE, loop=True) as clip:
        clip.first_frame(timeout=5)
        ticks = play(clip, until=2.5 * SECONDS, speed=4.0)
        assert not clip.ended and clip.error is None
    assert ticks[-1][0] >= 2.5 * SECONDS - 2 * TICK
    for t, n, _ in ticks:
        due = int(t * FPS + 1e-6) % (FPS * int(SECONDS))
        assert n in (due, (due - 1) % (FPS * int(SECONDS))), f"frame {n} on screen at {t:.3f}, {due} was due"
    wraps = sum(1 for (_, a, _), (_, b, _) in zip(ticks, ticks[1:]) if b < a)
    assert wraps == 2


def test_fit_letterboxes_in_the_given_colour(made: dict[str, Path]) -> None:
    with VideoClip(made["h264-mp4"], (400, 400), fit="fit", letterbox=LETTERBOX) as clip:
        surface = clip.first_frame(timeout=5)
    assert surface.get_size() == (400, 400)
    picture = pygame.Rect(0, 87, 400, 225)  # 16:9 across the full width, centred
    for x in (0, 200, 399):
        assert surface.get_at((x, 0))[:3] == LETTERBOX and surface.get_at((x, 399))[:3] == LETTERBOX
        assert surface.get_at((x, picture.top - 1))[:3] == LETTERBOX
        assert surface.get_at((x, picture.bottom))[:3] == LETTERBOX
        assert surface.get_at((x, picture.top + 2))[:3] != LETTERBOX
        assert surface.get_at((x, picture.bottom - 3))[:3] != LETTERBOX
    assert frame_number(surface, picture, SIZE) == 0


def test_fit_pillarboxes_a_portrait_clip(made: dict[str, Path]) -> None:
    with VideoClip(made["phone-mp4"], (640, 360), letterbox=LETTERBOX) as clip:
        surface = clip.first_frame(timeout=5)
    picture = pygame.Rect(219, 0, 202, 360)  # 180x320 scaled to 360 high (202.5 wide), centred
    for y in (0, 180, 359):
        assert surface.get_at((0, y))[:3] == LETTERBOX and surface.get_at((639, y))[:3] == LETTERBOX
        assert surface.get_at((picture.left - 1, y))[:3] == LETTERBOX
        assert surface.get_at((picture.right + 1, y))[:3] == LETTERBOX
    assert frame_number(surface, picture, (180, 320)) == 0
    assert is_marker(surface.get_at((picture.left + 4, 4)))


def test_fill_covers_the_box(made: dict[str, Path]) -> None:
    with VideoClip(made["h264-mp4"], (400, 400), fit="fill", letterbox=LETTERBOX) as clip:
        surface = clip.first_frame(timeout=5)
    assert surface.get_size() == (400, 400)
    for i in range(0, 400, 7):
        for point in ((i, 0), (i, 399), (0, i), (399, i)):
            assert surface.get_at(point)[:3] != LETTERBOX
    # 320x180 scaled to 711x400 and cropped to the middle 400: the top-left marker is cut off.
    assert not is_marker(surface.get_at((3, 3)))
    assert surface.get_at((200, 200))[:3] == (0, 0, 0)  # bit 5 of frame 0, now in the middle


def is_marker(color: pygame.Color) -> bool:
    return color.r > 180 and color.g < 80 and color.b < 80


def test_rotation_metadata_shows_a_phone_clip_upright(made: dict[str, Path]) -> None:
    info = probe(made["phone-mp4"])
    assert (info.width, info.height, info.rotation, info.codec) == (320, 180, 90, "h264")
    with VideoClip(made["phone-mp4"], (180, 320)) as clip:
        assert clip.rotation == 90 and clip.source_size == (320, 180)
        surface = clip.first_frame(timeout=5)
    assert is_marker(surface.get_at((5, 5)))
    for corner in ((174, 5), (5, 314), (174, 314)):
        assert not is_marker(surface.get_at(corner))


def test_probe_and_poster_frame(made: dict[str, Path]) -> None:
    info = probe(made["vp9-webm"])
    assert (info.width, info.height, info.rotation, info.codec) == (320, 180, 0, "vp9")
    assert info.duration == pytest.approx(SECONDS, abs=0.05)
    poster = poster_frame(made["hevc-mkv"], SIZE, "fit", at=1.0)
    assert frame_number(poster, poster.get_rect(), SIZE) == 30
    assert frame_number(poster_frame(made["hevc-mkv"], SIZE, "fit", at=9.0), poster.get_rect(), SIZE) == 59


def audio_only(path: Path) -> Path:
    with av.open(str(path), "w") as out:
        stream = out.add_stream("pcm_s16le", rate=8000, layout="mono")
        frame = av.AudioFrame(format="s16", layout="mono", samples=800)
        frame.planes[0].update(bytes(1600))
        frame.sample_rate, frame.pts, frame.time_base = 8000, 0, Fraction(1, 8000)
        out.mux(stream.encode(frame))
        out.mux(stream.encode(None))
    return path


@pytest.mark.parametrize("bad, reason", [
    ("missing.mp4", "not found"),
    ("random.mp4", "not a video file"),
    ("sound.wav", "no video stream"),
])
def test_unusable_files_raise_media_error_naming_the_file(tmp_path: Path, bad: str, reason: str) -> None:
    path = tmp_path / bad
    if bad == "random.mp4":
        path.write_bytes(random.Random(1).randbytes(50_000))
    elif bad == "sound.wav":
        audio_only(path)
    for open_it in (probe, lambda p: VideoClip(p, SIZE), lambda p: poster_frame(p, SIZE)):
        with pytest.raises(MediaError, match=reason) as caught:
            open_it(path)
        assert str(path) in str(caught.value)
    assert not video_threads()


def damage(data: bytes, how: str) -> bytes:
    if how == "cut":  # a download that stopped half way
        return data[:len(data) // 2]
    scrambled = bytearray(data)  # a quarter of the file overwritten from a third of the way in
    start, length = len(data) // 3, len(data) // 4
    scrambled[start:start + length] = random.Random(3).randbytes(length)
    return bytes(scrambled)


@pytest.mark.parametrize("name, how", [("h264-mp4", "cut"), ("vp9-webm", "cut"), ("mpeg4-avi", "cut"),
                                       ("h264-mp4", "scrambled"), ("hevc-mkv", "scrambled")])
def test_damaged_file_raises_or_ends_with_an_error(made: dict[str, Path], tmp_path: Path, name: str,
                                                   how: str) -> None:
    path = tmp_path / f"{how}-{made[name].name}"
    path.write_bytes(damage(made[name].read_bytes(), how))
    try:
        clip = VideoClip(path, SIZE)
    except MediaError as exc:
        assert str(path) in str(exc)
        return
    with clip:
        clip.first_frame(timeout=5)
        play(clip, until=SECONDS + 1, speed=8.0)
        assert clip.ended, "a damaged clip must end, not hang"
        assert clip.error is not None and str(path) in clip.error
        assert re.search(r"at \d+\.\d s", clip.error), "the error says where the file broke"


def test_close_stops_the_thread_promptly(made: dict[str, Path]) -> None:
    clip = VideoClip(made["h264-mp4"], SIZE, loop=True)
    clip.first_frame(timeout=5)  # the queue fills and the decoder waits for room
    time.sleep(0.1)
    started = time.monotonic()
    clip.close()
    assert time.monotonic() - started < 1.5  # under close()'s 2 s join: a decoder that would not stop; the bench times it
    assert not video_threads()
    clip.close()  # twice is harmless
    never_started = VideoClip(made["vp9-webm"], SIZE)
    never_started.close()
    assert not video_threads()


def test_no_leak_over_50_open_close_cycles(made: dict[str, Path]) -> None:
    process = psutil.Process()

    def cycle() -> None:
        clip = VideoClip(made["h264-mp4"], (640, 360))
        clip.first_frame(timeout=5)
        clip.frame_at(0.5)
        clip.close()

    for _ in range(10):
        cycle()
    before = process.memory_info().rss
    for _ in range(50):
        cycle()
    grown = (process.memory_info().rss - before) / 1e6
    assert grown < 15, f"RSS grew {grown:.1f} MB over 50 clips"
    assert not video_threads()


@pytest.mark.slow  # real time: the decoder is made slower than the clip
def test_a_decoder_that_cannot_keep_up_drops_frames_evenly(tmp_path: Path) -> None:
    """Each decoded picture costs 1.5 frame periods (a CPU too weak for the clip): whole frames are dropped, spread
    out: once the decoder has noticed (within the first second), never two in a row, so no picture stays up longer
    than 2 frame periods of the clip, and the pictures keep up with the clock rather than falling behind it. Counted
    in frame numbers, not timed: the clip has B-frames between its P-frames, as encoders make them by default."""
    period = 1 / FPS
    b_frames = {"preset": "veryfast", "crf": "20", "x264-params": "b-adapt=0:bframes=3:b-pyramid=normal"}
    path = clips.make_h264_mp4(tmp_path, size=SIZE, fps=FPS, seconds=4.0, options=b_frames)
    with VideoClip(path, SIZE, decode_delay=1.5 * period) as clip:
        clip.first_frame(timeout=5)
        news: list[tuple[float, int]] = []  # (media time asked for, frame number) of each new picture
        started = time.monotonic()
        t = 0.0
        while t < 3.8 and not clip.ended:
            surface = clip.frame_at(t)
            if surface is not None:
                news.append((t, frame_number(surface, surface.get_rect(), SIZE)))
            time.sleep(max(0.0, started + t + TICK - time.monotonic()))
            t = time.monotonic() - started
        dropped, shown = clip.dropped, clip.shown
        assert clip.error is None  # the frames skipped are not mistaken for a cut-off file
    numbers = [n for _, n in news]
    assert numbers == sorted(numbers)
    assert dropped >= 0.2 * (dropped + shown), "the decoder was slowed down: frames must have been dropped"
    after_start = [n for t, n in news if t >= 1.0]  # past the queue decoded ahead at the start
    skips = [b - a for a, b in zip(after_start, after_start[1:])]
    assert max(skips) <= 2, f"{max(skips) - 1} frames in a row dropped: a picture held {max(skips)} frame periods"
    behind = sorted(t * FPS - n for t, n in news if t >= 1.0)
    assert behind[len(behind) // 2] <= 3, "the pictures fell behind the clock"


def test_hardware_decoding_falls_back_to_software_with_one_log_line(made: dict[str, Path],
                                                                   caplog: pytest.LogCaptureFixture) -> None:
    """This machine has no GPU: asking for VA-API or DRM decoding still plays the clip, decoded in software, and
    says so once for the run, not once per clip."""
    caplog.set_level(logging.INFO, logger="player.videofile")
    for _ in range(3):
        with VideoClip(made["h264-mp4"], SIZE, hwaccel=("vaapi", "drm")) as clip:
            first = clip.first_frame(timeout=5)
            assert not clip.hardware
            assert frame_number(first, first.get_rect(), SIZE) == 0
    told = [r for r in caplog.records if "hardware video decoding" in r.getMessage()]
    assert len(told) == 1 and "decoding in software" in told[0].getMessage()


@pytest.mark.parametrize("available, gpu, expected", [
    (("cuda", "qsv", "drm", "amf"), False, ()),  # this machine: FFmpeg could, but there is no GPU to do it
    (("cuda", "qsv", "drm", "amf"), True, ("drm",)),
    (("vaapi", "drm"), True, ("vaapi", "drm")),
    ((), True, ()),
])
def test_which_hardware_decoders_are_tried(available: tuple[str, ...], gpu: bool, expected: tuple[str, ...]) -> None:
    assert hw_devices(available, gpu) == expected
