"""player/audio.py on real clips with sound: the device's consumption as the clock, volume, silence, clean closing.

SDL's dummy audio driver calls the callback at real-time pace, so in-process tests
measure position against the monotonic clock. Its disk driver does the same and
writes what it consumed to SDL_DISKAUDIOFILE: those tests run in a child process
(SDL picks its driver once per process) and read the samples back.
"""

from __future__ import annotations

import os

os.environ.setdefault("SDL_VIDEODRIVER", "dummy")
os.environ.setdefault("SDL_AUDIODRIVER", "dummy")

import array
import logging
import subprocess
import sys
import threading
import time
from pathlib import Path

import psutil
import pygame
import pytest

from player.audio import RATE, AudioTrack, NoAudioStream, open_audio
from player.video import VideoClip
from tools import make_test_clips as clips

# Audio timing: SDL's dummy driver takes the sound in real time.
pytestmark = [pytest.mark.slow, pytest.mark.realtime]

REPO = Path(__file__).resolve().parent.parent

SIZE = (320, 180)
FPS = 30


@pytest.fixture(scope="module", autouse=True)
def device_free() -> None:
    """SDL's dummy and disk drivers open one output device at a time: pygame.init() elsewhere has SDL_mixer on it."""
    pygame.mixer.quit()


@pytest.fixture(scope="module")
def made(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("sound")
    return {
        "tone": clips.make_clip(folder, "tone", seconds=3.0, audio="tone"),
        "clicks": clips.make_clip(folder, "clicks", seconds=3.5, audio="clicks"),
        "clicks-1.5s": clips.make_clip(folder, "clicks-1.5s", seconds=1.5, audio="clicks"),
        "clicks-1.2s-of-1.5s": clips.make_clip(folder, "clicks-short", seconds=1.5, audio="clicks", audio_seconds=1.2),
        "short-sound": clips.make_clip(folder, "short-sound", seconds=2.0, audio="tone", audio_seconds=0.5),
        "silent": clips.make_clip(folder, "silent", seconds=1.0),
    }


def sdl_audio_threads() -> int:
    """SDL's audio threads in this process: one per open device (SDL names them SDLAudioP<n>)."""
    count = 0
    for comm in Path("/proc/self/task").glob("*/comm"):
        try:
            count += comm.read_text().startswith("SDLAudio")
        except OSError:  # the thread ended while we looked
            pass
    return count


def our_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name.startswith(("audio ", "video "))]


def frame_number(surface: object) -> int:
    number = 0
    for fx, fy in clips.block_centres(SIZE):
        r, g, b, _ = surface.get_at((int(fx * SIZE[0]), int(fy * SIZE[1])))  # type: ignore[attr-defined]
        number = number * 2 + (r + g + b > 3 * 128)
    return number


def test_position_advances_at_real_time(made: dict[str, Path]) -> None:
    with AudioTrack(made["tone"], 1.0) as track:
        time.sleep(0.2)  # buffering, paused: the clock must not move
        assert track.position() == 0.0
        track.play()
        began = time.monotonic()
        time.sleep(0.3)
        t0, p0 = time.monotonic(), track.position()
        time.sleep(1.5)
        t1, p1 = time.monotonic(), track.position()
    assert (p1 - p0) / (t1 - t0) == pytest.approx(1.0, abs=0.05)
    assert p1 == pytest.approx(t1 - began, abs=0.1)  # heard about as long as it has been playing


def test_picture_follows_the_sound_and_stops_with_it(made: dict[str, Path]) -> None:
    clip = VideoClip(made["clicks"], SIZE)
    clip.first_frame(10.0)
    track = AudioTrack(made["clicks"], 1.0, origin=clip.start_time)
    clip.use_clock(track)
    with clip:
        shown, lags = None, []
        end = time.monotonic() + 1.5
        while time.monotonic() < end:
            surface = clip.frame_at(0.0)  # the clock's position, not this t
            heard = track.position()
            if surface is not None:
                shown = frame_number(surface) / FPS
            if shown is not None:
                lags.append(heard - shown)
            time.sleep(1 / 60)
        assert track.position() > 1.3 and shown is not None and shown > 1.2
        assert max(lags) < 1 / FPS + 2 / 60 and min(lags) > -0.005  # never ahead of the sound, under 2 ticks behind
        track.pause()
        held = track.position()
        clip.frame_at(5.0)  # whatever fell due up to the pause
        time.sleep(0.3)
        assert clip.frame_at(5.0) is None  # the sound is held: so is the picture
        assert track.position() == held
    assert not our_threads()


def test_sound_shorter_than_the_picture_keeps_the_clock_running(made: dict[str, Path]) -> None:
    with AudioTrack(made["short-sound"], 1.0) as track:
        track.play()
        time.sleep(1.2)
        assert track.ended
        assert track.position() == pytest.approx(1.2, abs=0.1)


def test_a_device_that_stops_consuming_does_not_freeze_the_picture(made: dict[str, Path],
                                                                   caplog: pytest.LogCaptureFixture) -> None:
    from player.audio import _sdl

    with AudioTrack(made["tone"], 1.0) as track:
        track.play()
        time.sleep(0.3)
        _sdl().SDL_PauseAudioDevice(track._device.deviceid, 1)  # as a device that hangs: no more callbacks
        stopped = track.position()
        time.sleep(1.0)
        with caplog.at_level(logging.WARNING, logger="player.audio"):
            moved = track.position() - stopped
    assert 0.4 < moved < 1.1
    assert "the sound device stopped playing" in caplog.text


@pytest.mark.skipif(os.environ["SDL_AUDIODRIVER"] != "dummy", reason="needs a driver with one device at a time")
def test_the_next_item_gets_the_device_once_the_one_on_screen_lets_go(made: dict[str, Path],
                                                                      caplog: pytest.LogCaptureFixture) -> None:
    before = sdl_audio_threads()
    with AudioTrack(made["tone"], 1.0) as on_screen:
        on_screen.play()
        upcoming = AudioTrack(made["clicks"], 1.0)  # prepared while the item on screen holds the device
        time.sleep(0.2)
    assert sdl_audio_threads() == before
    with upcoming:
        upcoming.play()
        assert sdl_audio_threads() == before + 1  # it opened the device at play()
        time.sleep(0.5)
        assert upcoming.position() == pytest.approx(0.5, abs=0.05) and upcoming.underruns == 0
        late = AudioTrack(made["tone"], 1.0)  # and one told to play while another keeps holding it
        with late, caplog.at_level(logging.WARNING, logger="player.audio"):
            late.play()
            time.sleep(1.2)  # it waits a second for the device, then gives up
            assert late.position() == pytest.approx(1.2, abs=0.05)  # silent, on the monotonic clock
    assert "tone.mp4: no sound device (Audio device already open); this video plays silently" in caplog.text
    assert sdl_audio_threads() == before and not our_threads()


@pytest.mark.skipif(os.environ["SDL_AUDIODRIVER"] != "dummy", reason="needs a driver with one device at a time")
def test_the_sound_joins_the_picture_when_the_item_before_lets_go_late(made: dict[str, Path]) -> None:
    def frames(seconds: float) -> None:  # the render loop asks for the position every frame
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            upcoming.position()
            time.sleep(1 / 60)

    before = sdl_audio_threads()
    on_screen = AudioTrack(made["tone"], 1.0)
    on_screen.play()
    with AudioTrack(made["clicks"], 1.0) as upcoming:
        upcoming.play()  # the loop shows the next item before the last one has closed (that runs on a thread)
        started = time.monotonic()
        frames(0.3)
        threading.Thread(target=on_screen.close).start()
        frames(0.5)
        assert sdl_audio_threads() == before + 1 and upcoming._device is not None  # it has the device now
        began, at = time.monotonic(), upcoming.position()
        assert at == pytest.approx(began - started, abs=0.1)  # the picture's clock went on throughout
        time.sleep(0.5)
        # It keeps running with real time (a stalled clock would be 0.5 s behind). The tolerance allows for
        # the dummy driver's callback timing on a loaded CI machine; the drift itself is measured by
        # bench/audio_drift.py.
        assert upcoming.position() - at == pytest.approx(time.monotonic() - began, abs=0.1)


def test_volume_zero_opens_no_device(made: dict[str, Path]) -> None:
    before = sdl_audio_threads()
    assert open_audio(made["tone"], 0.0) is None
    assert sdl_audio_threads() == before and not our_threads()


def test_a_clip_without_sound_plays_silently_on_the_monotonic_clock(made: dict[str, Path]) -> None:
    before = sdl_audio_threads()
    assert open_audio(made["silent"], 1.0) is None
    with pytest.raises(NoAudioStream, match="silent.mp4: the file has no sound"):
        AudioTrack(made["silent"], 1.0)
    assert sdl_audio_threads() == before
    with VideoClip(made["silent"], SIZE) as clip:
        clip.first_frame(10.0)
        began = time.monotonic()
        shown = -1  # no frame handed out yet
        while (elapsed := time.monotonic() - began) < 0.5:
            surface = clip.frame_at(elapsed)
            shown = frame_number(surface) if surface is not None else shown
            time.sleep(1 / 60)
        assert abs(shown - elapsed * FPS) <= 2


def test_close_stops_the_thread_and_the_device_promptly(made: dict[str, Path]) -> None:
    before = sdl_audio_threads()
    track = AudioTrack(made["tone"], 1.0)
    track.play()
    time.sleep(0.3)
    began = time.monotonic()
    track.close()
    assert time.monotonic() - began < 2.0  # a hang, not a slow close: bench/video_bench.py times close()
    track.close()  # twice is fine
    assert not our_threads() and sdl_audio_threads() == before


def test_no_leak_over_50_opens(made: dict[str, Path]) -> None:
    process = psutil.Process()

    def cycle(volume: float) -> None:
        with AudioTrack(made["tone"], volume) as track:
            track.play()
            time.sleep(0.02)

    for _ in range(5):
        cycle(0.5)
    rss, fds, threads = process.memory_info().rss, process.num_fds(), process.num_threads()
    for i in range(50):
        cycle(0.5 if i % 2 else 1.0)
    assert process.memory_info().rss - rss <= 5 * 2**20
    settle = time.monotonic() + 1.0  # a joined thread's OS thread can take a moment more to go
    while process.num_threads() > threads and time.monotonic() < settle:
        time.sleep(0.01)
    assert process.num_fds() <= fds and process.num_threads() <= threads


# --- through SDL's disk driver, in a child process -------------------------------------------------

CHILD = """
import os, sys, time
from pathlib import Path
from player.audio import AudioTrack
for job in sys.argv[1:]:
    clip, volume, seconds, out, loop = job.split(",")
    os.environ["SDL_DISKAUDIOFILE"] = out  # SDL reads it as each device opens
    track = AudioTrack(Path(clip), float(volume), loop=loop == "loop", loop_period=1.5 if loop == "loop" else None)
    time.sleep(0.2)  # buffering, as the player prepares an item ahead of time
    track.play()
    time.sleep(float(seconds))
    print(track.position(), track.underruns, flush=True)
    track.close()
"""


def disk_play(tmp_path: Path, *jobs: tuple[Path, float, float, bool]) -> list[tuple[array.array, float]]:
    """Play each (clip, volume, seconds, loop) through the disk driver: the samples consumed, and position().

    The device gets silence where the buffer ran dry (a starved decode thread), which
    would shift everything after it in the file: none may happen here.
    """
    outs = [tmp_path / f"out{i}.raw" for i in range(len(jobs))]
    args = [f"{clip},{volume},{seconds},{out},{'loop' if loop else ''}" for (clip, volume, seconds, loop), out
            in zip(jobs, outs)]
    env = dict(os.environ, SDL_AUDIODRIVER="disk", PYTHONPATH=str(REPO))
    done = subprocess.run([sys.executable, "-c", CHILD, *args], env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    positions = [float(line.split()[0]) for line in done.stdout.splitlines()]
    assert all(line.split()[1] == "0" for line in done.stdout.splitlines()), f"underruns: {done.stdout}"
    results = []
    for out, position in zip(outs, positions):
        samples = array.array("h", out.read_bytes())
        left = samples[0::2]
        start = next(i for i, s in enumerate(left) if abs(s) > 300)  # the device sat paused before play()
        results.append((left[start:], position))
    return results


def rms(samples: array.array) -> float:
    return (sum(s * s for s in samples) / len(samples)) ** 0.5


def test_volume_half_halves_the_samples_written(made: dict[str, Path], tmp_path: Path) -> None:
    (full, p_full), (half, p_half) = disk_play(tmp_path, (made["tone"], 1.0, 1.0, False),
                                               (made["tone"], 0.5, 1.0, False))
    middle = slice(RATE // 10, RATE * 8 // 10)
    assert rms(half[middle]) / rms(full[middle]) == pytest.approx(0.5, abs=0.01)
    assert rms(full[middle]) == pytest.approx(32767 * clips.TONE_LEVEL / 2**0.5, rel=0.05)
    crossings = sum(1 for a, b in zip(full[middle], full[middle][1:]) if (a < 0) != (b < 0))
    assert crossings / 0.7 == pytest.approx(2 * clips.TONE_HZ, rel=0.02)  # it is the file's 440 Hz tone
    for samples, position in ((full, p_full), (half, p_half)):  # the clock is what the device consumed
        assert position == pytest.approx(len(samples) / RATE, abs=0.06)


def click_starts(samples: array.array) -> list[int]:
    starts, quiet = [], 0
    for i, s in enumerate(samples):
        if abs(s) > 8000:
            if quiet > RATE // 4:
                starts.append(i)
            quiet = 0
        else:
            quiet += 1
    return starts


def test_the_sound_keeps_its_timeline_across_loops(made: dict[str, Path], tmp_path: Path) -> None:
    played = disk_play(tmp_path, (made["clicks"], 1.0, 2.2, False), (made["clicks-1.5s"], 1.0, 2.7, True),
                       (made["clicks-1.2s-of-1.5s"], 1.0, 2.7, True))
    once = [0] + click_starts(played[0][0])
    assert [round(s / RATE, 3) for s in once] == [0.0, 1.0, 2.0]
    # 1.5 s clips with clicks at 0 and 1 s looped on a 1.5 s period (the sound cut to it, or padded
    # out with silence): clicks at 0, 1, 1.5 and 2.5 s, to the millisecond
    for samples, position in played[1:]:
        assert [round(s / RATE, 3) for s in [0] + click_starts(samples)] == [0.0, 1.0, 1.5, 2.5]
        assert position == pytest.approx(2.7, abs=0.1)


NO_DEVICE = """
import logging, sys
from pathlib import Path
logging.basicConfig(level=logging.DEBUG, format="LOG %(levelname)s %(name)s %(message)s", stream=sys.stdout)
from player.audio import open_audio

print([open_audio(Path(sys.argv[1]), 1.0) for _ in range(3)])
"""


@pytest.mark.parametrize("env", [{"SDL_AUDIODRIVER": "nonesuch"},
                                 {"SDL_AUDIODRIVER": "disk", "SDL_DISKAUDIOFILE": "/nonexistent/dir/out.raw"}],
                         ids=["no-driver", "device-fails"])
def test_no_sound_device_plays_silently_with_one_log_line(made: dict[str, Path], env: dict[str, str]) -> None:
    done = subprocess.run([sys.executable, "-c", NO_DEVICE, str(made["tone"])], capture_output=True, text=True,
                          env=dict(os.environ, PYTHONPATH=str(REPO), **env), timeout=60)
    assert done.returncode == 0, done.stderr
    assert "[None, None, None]" in done.stdout
    warnings = [line for line in done.stdout.splitlines() if line.startswith("LOG WARNING player.audio")]
    assert len(warnings) == 1, done.stdout
    assert "tone.mp4: no sound device" in warnings[0] and "videos play silently" in warnings[0]
