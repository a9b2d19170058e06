"""How far the picture drifts from the sound when the sound's consumed samples are the clock.

    .venv/bin/python -m bench.audio_drift [--seconds 60] [--clips DIR]

Encodes (once, into DIR, default out/bench-clips/) a 30 fps clip whose frames carry
their number as blocks and whose sound clicks on every whole second, then plays it
as the player does: VideoClip driven by an AudioTrack's position, a 60 Hz loop that
blits and flips (SDL's dummy video and audio drivers unless set). On every tick it
compares the audio position the frame was chosen by with the pts of the frame on
screen, read back from its pixels. Prints one summary line; the target is <= 80 ms.
"""

from __future__ import annotations

import os

os.environ.setdefault("SDL_VIDEODRIVER", "dummy")
os.environ.setdefault("SDL_AUDIODRIVER", "dummy")
os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")

import argparse
import time
from pathlib import Path

import pygame

from player.audio import RATE, AudioTrack
from player.video import VideoClip
from tools import make_test_clips as clips

ROOT = Path(__file__).resolve().parent.parent

FPS = 30
TICK = 1 / 60
TARGET_MS = 80.0


class RecordedClock:
    """The track as VideoClip's clock, remembering the position each frame was chosen by."""

    def __init__(self, track: AudioTrack) -> None:
        self.track = track
        self.last = 0.0

    def play(self) -> None:
        self.track.play()

    def position(self) -> float:
        self.last = self.track.position()
        return self.last

    def close(self) -> None:
        self.track.close()


def frame_pts(surface: pygame.Surface, near: float) -> float:
    """The pts of a test frame from its number blocks; they count to 1023, so unwrap near `near` seconds."""
    w, h = surface.get_size()
    number = 0
    for fx, fy in clips.block_centres((w, h)):
        r, g, b, _ = surface.get_at((int(fx * w), int(fy * h)))
        number = number * 2 + (r + g + b > 3 * 128)
    wrap = 2 ** clips.BITS
    number += wrap * round((near * FPS - number) / wrap)
    return number / FPS


def run(path: Path, size: tuple[int, int], seconds: float) -> dict[str, float]:
    """Play `path` for `seconds` at 60 Hz on the audio clock; drift figures in ms."""
    screen = pygame.display.set_mode(size)
    clip = VideoClip(path, size)
    clip.first_frame(10.0)
    track = AudioTrack(path, 1.0, origin=clip.start_time)
    clock = RecordedClock(track)
    clip.use_clock(clock)
    drifts: list[float] = []
    shown_pts: float | None = None
    began = tick = time.monotonic()
    mark = None  # (monotonic, position) a second in, when the sound is well under way
    while time.monotonic() - began < seconds and not clip.ended:
        surface = clip.frame_at(0.0)  # the time comes from the clock
        if mark is None and clock.last >= 1.0:
            mark = (time.monotonic(), clock.last)
        if surface is not None:
            screen.blit(surface, (0, 0))
            shown_pts = frame_pts(surface, clock.last)
        pygame.display.flip()
        pygame.event.pump()
        if shown_pts is not None and clock.last > 0:
            drifts.append(clock.last - shown_pts)
        tick += TICK
        time.sleep(max(0.0, tick - time.monotonic()))
    now, heard = time.monotonic(), clock.last
    consumed = track._handed / RATE  # noqa: SLF001 - the raw count of samples the device took
    dropped, underruns = clip.dropped, track.underruns
    clip.close()
    assert mark is not None
    return {"ticks": len(drifts), "max": max(drifts, key=abs) * 1000, "mean": sum(drifts) / len(drifts) * 1000,
            "heard": heard, "consumed": consumed, "dropped": dropped, "underruns": underruns,
            "rate": (heard - mark[1]) / (now - mark[0]), "vs_mono": ((heard - mark[1]) - (now - mark[0])) * 1000}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--size", default="320x180", help="picture size, e.g. 1920x1080 to load the decoder")
    parser.add_argument("--clips", type=Path, default=ROOT / "out" / "bench-clips")
    args = parser.parse_args(argv)
    size = tuple(int(x) for x in args.size.split("x"))
    name = f"audio-drift-{args.size}-{args.seconds:g}s"
    path = args.clips / f"{name}.mp4"
    if not path.exists():
        clips.make_clip(args.clips, f"{name}.partial", size=size, fps=FPS, seconds=args.seconds + 1,
                        audio="clicks").rename(path)
    pygame.display.init()
    r = run(path, size, args.seconds)  # type: ignore[arg-type]
    pygame.quit()
    verdict = "ok" if abs(r["max"]) <= TARGET_MS else "OVER TARGET"
    print(f"audio drift, {args.size} {FPS} fps, {os.environ['SDL_AUDIODRIVER']} audio driver: max {r['max']:+.1f} ms "
          f"(target <= {TARGET_MS:.0f}: {verdict}), mean {r['mean']:+.1f} ms, audio position minus pts of the frame "
          f"on screen over {r['ticks']} ticks; {r['heard']:.2f} s heard ({r['consumed']:.2f} s of samples consumed), "
          f"{r['dropped']} frames dropped, {r['underruns']} audio underruns; the audio clock ran {r['rate']:.4f}x monotonic, so a picture on the "
          f"monotonic clock would have drifted {r['vs_mono']:+.0f} ms")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
