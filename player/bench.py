"""`python -m player bench`: frame times, boundary intervals, start-up time, memory and touch, one line per figure.

Runs at 1920x1080 on SDL's dummy driver with generated content (image and
text slides, 0.5 s crossfades) so figures are comparable between machines.
What is measured is the screen `build_screen` assembles, as for `player run`.
The floor is a bare pygame-ce loop in the same run that crossfades the same
pictures and draws the same overlays, without our loop's bookkeeping.
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

from .benchscreen import FADE_SECONDS, FPS, ITEM_SECONDS, SIZE, make_bench_screen, pct
from .config import load_config
from .overlays import Overlays
from .painter import make_renderer
from .screen import build_screen
from .touch.bench import touch_bench
from .transitions import compose

def _rss_mb() -> float:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def frames_run(config_path: Path, seconds: float, now: datetime) -> dict[str, float]:
    """One run: the screen as `player run` builds it, then the bare floor loop on the same pictures, both paced at 60 fps."""
    config = load_config(config_path)
    screen = build_screen(config, now)
    display = pygame.display.get_surface()
    assert display is not None, "bench_command opens the display first"
    loop = screen.loop
    period = 1.0 / FPS
    times: list[float] = []
    starts: list[float] = []
    switch_frames: list[int] = []
    screen.start(time.monotonic())
    begin = next_frame = time.monotonic()
    while time.monotonic() - begin < seconds:
        t0 = time.perf_counter()
        before = loop.switches
        screen.frame(display, time.monotonic(), now, period)
        pygame.display.flip()
        times.append(time.perf_counter() - t0)
        starts.append(t0)
        if loop.switches != before:
            switch_frames.append(len(starts) - 1)
        next_frame += period
        time.sleep(max(0.0, next_frame - time.monotonic()))
    screen.close(time.monotonic())
    boundary = [starts[i + 1] - starts[i] for f in switch_frames for i in range(max(0, f - 2), min(len(starts) - 1, f + 3))]

    # The floor: the same pictures and overlays, crossfaded by a loop that only blits.
    renderer = make_renderer(config)
    playlist = loop.program.content.playlists[0]
    pictures = [renderer.render(slot).surface.convert() for slot in loop.program.slots_of(playlist.id)[:4]]
    overlays = Overlays(config.display.canvas, renderer.floor, renderer.setter, config.overlays.clock,
                        config.overlays.ticker, config.overlays.shift_every, config.overlays.shift_pixels)
    overlays.set_ticker(tuple((c, playlist.ticker_text(c)) for c in config.languages))
    floor: list[float] = []
    begin = next_frame = time.monotonic()
    while time.monotonic() - begin < seconds:
        t0 = time.perf_counter()
        elapsed = time.monotonic() - begin
        index = int(elapsed // ITEM_SECONDS)
        progress = (elapsed - index * ITEM_SECONDS) / FADE_SECONDS
        compose(display, pictures[(index - 1) % len(pictures)], pictures[index % len(pictures)], "crossfade", progress)
        overlays.update(period, elapsed, now, "vi")
        overlays.draw(display)
        pygame.display.flip()
        floor.append(time.perf_counter() - t0)
        next_frame += period
        time.sleep(max(0.0, next_frame - time.monotonic()))
    return {"p50": pct(times, 0.5) * 1000, "p99": pct(times, 0.99) * 1000,
            "boundary": max(boundary, default=0.0) * 1000, "switches": float(len(switch_frames)),
            "floor_p50": pct(floor, 0.5) * 1000, "floor_p99": pct(floor, 0.99) * 1000,
            "late": float(loop.late_frames)}


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
            print(f"frame_time_p50_ms {med['p50']:.2f}")
            print(f"frame_time_p99_ms {med['p99']:.2f} (target <= 16.7)")
            print(f"floor_frame_time_p50_ms {med['floor_p50']:.2f}")
            print(f"floor_frame_time_p99_ms {med['floor_p99']:.2f}")
            print(f"p99_vs_floor {med['p99'] / med['floor_p99']:.2f}x (target <= 1.5)")
            print(f"boundary_worst_interval_ms {med['boundary']:.2f} (target <= {2000 / FPS:.1f}, 2 frame periods)")
            print(f"boundaries_per_run {med['switches']:.0f}; late_frames {med['late']:.0f} (median of {args.runs} runs of {args.seconds:g} s)")
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
    return 0
