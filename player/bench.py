"""`python -m player bench`: CPU per second, frames per crossfade, start-up, memory, touch; one line per figure.

Runs at 1920x1080 on SDL's dummy driver with generated content (image and
text slides, 0.5 s crossfades) so figures are comparable between machines.
What is measured is the screen `build_screen` assembles, driven as `player run`
drives it: frames only when something changes. (A frame-time p99 figure measured
this 2-core machine's scheduler more than the player: three quiet runs gave 1.38x,
1.62x and 1.67x the floor.) `--only peers` runs bench/peers.py: ours beside
Chromium and mpv on an Xvfb display.
"""

from __future__ import annotations

import logging
import os
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path
from typing import Any

import pygame
import pygame.freetype

from .benchscreen import FADE_SECONDS, FPS, SIZE, make_bench_screen
from .compositor import SurfaceOutput
from .config import load_config
from .frames import FrameDriver
from .screen import build_screen
from .touch.bench import touch_bench

def _rss_mb() -> float:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def frames_run(config_path: Path, seconds: float, now: datetime) -> dict[str, float]:
    """One run of the screen as `player run` drives it (damage-driven, player/frames.py): CPU-s per second of the
    whole process, and how many distinct pictures each crossfade shows and the longest any of them stays up."""
    config = load_config(config_path)
    screen = build_screen(config, now)
    display = pygame.display.get_surface()
    assert display is not None, "bench_command opens the display first"
    screen.canvas = display
    frames = FrameDriver(screen, SurfaceOutput(display, display, 0), FPS)
    loop = screen.loop
    presents: list[float] = []
    switches: list[float] = []
    screen.start(time.monotonic())
    cpu = time.process_time()
    begin = last = time.monotonic()
    while (mono := time.monotonic()) - begin < seconds:
        shown, switched = frames.presents, loop.switches
        wake = frames.frame(mono, now, mono - last)
        if frames.presents != shown:
            presents.append(mono)
        if loop.switches != switched:
            switches.append(mono)
        last = mono
        time.sleep(max(0.0, wake - time.monotonic()))
    cpu_per_s = (time.process_time() - cpu) / (time.monotonic() - begin)
    screen.close(time.monotonic())
    fades = [[t for t in presents if at <= t <= at + FADE_SECONDS] for at in switches[1:]]  # the first is a cut
    fades = [fade for fade in fades if fade and fade[-1] < begin + seconds - 0.1]
    holds = [max((b - a for a, b in zip(fade, fade[1:])), default=0.0) for fade in fades]
    return {"cpu": cpu_per_s, "distinct": statistics.median(len(fade) for fade in fades) if fades else 0.0,
            "hold": max(holds, default=0.0) * 1000, "fades": float(len(fades)), "late": float(loop.late_frames)}


def memory_run(config_path: Path, changes: int, now: datetime, warmup: int = 100) -> tuple[float, float, int]:
    """RSS before and after `changes` item changes on a sped-up clock (after `warmup` changes)."""
    screen = build_screen(load_config(config_path), now)
    display = pygame.display.get_surface()
    assert display is not None, "bench_command opens the display first"
    loop = screen.loop
    mono = 0.0
    screen.start(mono)
    baseline = 0.0
    target = warmup + changes
    while loop.switches < target:
        before = loop.switches
        mono += 0.25  # a quarter second of screen time per frame
        screen.frame(display, mono, now, 0.25)
        pygame.display.flip()
        while loop.switches == before and loop.pending is not None and loop.current and loop.current.due(mono):
            time.sleep(0.001)  # the next picture is still being drawn: wait in real time, not screen time
            screen.frame(display, mono, now, 0.0)
        if loop.switches == warmup + 1 and not baseline:
            baseline = _rss_mb()
    after = _rss_mb()
    screen.close(mono)
    return baseline, after, changes


def startup_seconds(config_path: Path, tries: int = 3) -> float:
    """Process start to the first flip, as `player run` logs it, median of `tries` (files in the page cache)."""
    env = dict(os.environ, SDL_VIDEODRIVER="dummy", SDL_AUDIODRIVER="dummy", PYGAME_HIDE_SUPPORT_PROMPT="1")
    results = []
    for _ in range(tries + 1):  # the first run warms the caches and is not counted
        start = time.monotonic()
        proc = subprocess.Popen([sys.executable, "-m", "player", "--config", str(config_path), "run", "--headless",
                                 "--seconds", "30"], stderr=subprocess.PIPE, text=True, env=env)
        assert proc.stderr is not None
        for line in proc.stderr:
            if "first frame" in line:
                results.append(time.monotonic() - start)
                break
        proc.kill()
        proc.wait()
    return statistics.median(results[1:]) if len(results) > 1 else float("nan")


def video_bench() -> None:
    """The video figures: bench/video_bench.py of this checkout (it encodes its own clips), in its own process."""
    checkout = Path(__file__).resolve().parent.parent
    if not (checkout / "bench" / "video_bench.py").exists():
        print(f"video figures: {checkout / 'bench'} is not here (run from a checkout of the repository)")
        return
    sys.stdout.flush()
    subprocess.run([sys.executable, "-m", "bench.video_bench"], cwd=checkout, check=False)


def peers_bench() -> None:
    """Ours beside Chromium and mpv on an Xvfb display: bench/peers.py of this checkout, in its own process."""
    checkout = Path(__file__).resolve().parent.parent
    if not (checkout / "bench" / "peers.py").exists():
        print(f"peers figures: {checkout / 'bench'} is not here (run from a checkout of the repository)")
        return
    sys.stdout.flush()
    subprocess.run([sys.executable, "-m", "bench.peers"], cwd=checkout, check=False)


def bench_command(args: Any) -> int:
    os.environ["SDL_VIDEODRIVER"] = "dummy"  # read when the display starts
    os.environ.setdefault("SDL_AUDIODRIVER", "dummy")
    logging.basicConfig(level=logging.WARNING)
    pygame.display.init()
    pygame.font.init()
    pygame.freetype.init()
    pygame.display.set_mode(SIZE)
    now = datetime.fromisoformat("2026-11-27T10:00:00+07:00")
    with tempfile.TemporaryDirectory(prefix="kiosk-bench-") as tmp:
        config_path = make_bench_screen(Path(tmp))
        if args.only in (None, "frames"):
            runs = [frames_run(config_path, args.seconds, now) for _ in range(args.runs)]
            med = {key: statistics.median(run[key] for run in runs) for key in runs[0]}
            print(f"loop_cpu_s_per_s {med['cpu']:.3f} (the bench screen: 1.5 s slides, 0.5 s crossfades, ticker and clock on)")
            print(f"fade_distinct_frames {med['distinct']:.0f} per {FADE_SECONDS:g} s crossfade (at most "
                  f"{FADE_SECONDS * FPS:.0f} at {FPS} fps)")
            print(f"fade_longest_hold_ms {med['hold']:.1f} (target <= {2000 / FPS:.1f}, 2 frame periods)")
            print(f"fades_per_run {med['fades']:.0f}; late_frames {med['late']:.0f} (median of {args.runs} runs of {args.seconds:g} s)")
        if args.only in (None, "startup"):
            print(f"startup_to_first_flip_s {startup_seconds(config_path):.2f} (target <= 1.5)")
        if args.only in (None, "memory"):
            before, after, changes = memory_run(config_path, args.changes, now)
            print(f"rss_growth_mb {after - before:.2f} over {changes} item changes after 100 warm-up (target <= 5); "
                  f"rss {before:.1f} -> {after:.1f} MB")
        if args.only in (None, "touch"):
            touch_bench(Path(tmp) / "touch", now, seconds=args.seconds)
    if args.only in (None, "video"):  # last: it shuts pygame down when it is done
        video_bench()
    if args.only == "peers":  # not by default: it takes minutes and needs Xvfb, chromium and mpv
        peers_bench()
    return 0
