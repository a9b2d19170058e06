"""`python -m player bench`: frame times, boundary intervals, start-up time, memory and touch, one line per figure.

Runs at 1920x1080 on SDL's dummy driver with generated content (image and
text slides, 0.5 s crossfades) so figures are comparable between machines.
The floor is a bare pygame-ce loop in the same run that crossfades the same
pictures and draws the same overlays, without our loop's bookkeeping.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path
from typing import Any

SIZE = (1920, 1080)
FPS = 60
ITEM_SECONDS = 1.5
FADE_SECONDS = 0.5

KIOSK = """\
screen: {id: bench-01, name: {vi: "Cửa khẩu Quốc tế Tịnh Biên", en: "Tinh Bien International Border Gate"}}
display: {fullscreen: false, size: [1920, 1080], width_mm: 952}
languages: {order: [vi, en, km, zh]}
state_dir: state
"""


def _playlist(seconds: float) -> str:
    lines = ["ticker: {vi: 'Chào mừng quý khách đến Cửa khẩu Quốc tế Tịnh Biên', en: 'Welcome to Tinh Bien',"
             " km: 'សូមស្វាគមន៍', zh: '欢迎光临静边国际口岸'}", "items:"]
    for n in range(3):
        lines.append(f"  - {{id: photo{n}, type: image, media: photo{n}.jpg, fit: fill, duration: {seconds},"
                     f" transition: {{type: crossfade, duration: {FADE_SECONDS}}}}}")
        lines.append(f"  - id: text{n}\n    type: text\n    duration: {seconds}\n    presentation: stack\n    stack_languages: [vi, en]\n"
                     f"    transition: {{type: crossfade, duration: {FADE_SECONDS}}}\n    background: '#0c2c4a'\n"
                     f"    text:\n      vi: {{title: 'Giờ mở cửa {n}', body: 'Hằng ngày 06:00 – 22:00'}}\n"
                     f"      en: {{title: 'Opening hours {n}', body: 'Daily 06:00 – 22:00'}}")
    return "\n".join(lines) + "\n"


def make_bench_screen(root: Path, seconds: float = ITEM_SECONDS) -> Path:
    from PIL import Image, ImageDraw

    (root / "playlists").mkdir(parents=True, exist_ok=True)
    (root / "media").mkdir(exist_ok=True)
    for n in range(3):
        image = Image.new("RGB", (2400, 1350), (20 + 60 * n, 90, 140 - 30 * n))
        draw = ImageDraw.Draw(image)
        for k in range(40):
            draw.ellipse((k * 61 % 2400, k * 37 % 1350, k * 61 % 2400 + 200, k * 37 % 1350 + 200), fill=(200, 40 * n + k, 90))
        image.save(root / "media" / f"photo{n}.jpg", quality=88)
    (root / "playlists" / "main.yaml").write_text(_playlist(seconds), encoding="utf-8")
    (root / "kiosk.yaml").write_text(KIOSK, encoding="utf-8")
    return root / "kiosk.yaml"


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def _rss_mb() -> float:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


class Rig:
    """A screen's objects built as `player run` builds them, on a given display surface."""

    def __init__(self, config_path: Path, now: datetime) -> None:
        import pygame

        from .config import load_config
        from .loop import Loop
        from .overlays import Overlays
        from .prepare import Preparer
        from .proof import Background, ProofLog
        from .stage import SlotPainter, load_program, make_renderer

        self.config = config = load_config(config_path)
        self.program, _ = load_program(config, now)
        self.renderer = make_renderer(config)
        self.preparer = Preparer(SlotPainter(config, self.renderer))
        self.writer = Background()
        overlay_fonts = make_renderer(config)
        self.overlays = Overlays(config.display.canvas, self.renderer.floor, overlay_fonts.setter)
        self.loop = Loop(self.program, self.preparer, self.overlays, ProofLog(config.state_dir / "proof.jsonl", self.writer),
                         config.screen_id, config.languages)
        self.screen = pygame.display.get_surface()

    def close(self) -> None:
        self.preparer.close()
        self.writer.close()


def frames_run(config_path: Path, seconds: float, now: datetime) -> dict[str, float]:
    """One run: our loop, then the bare floor loop on the same pictures, both paced at 60 fps."""
    import pygame

    from .overlays import Overlays
    from .transitions import compose

    rig = Rig(config_path, now)
    period = 1.0 / FPS
    times: list[float] = []
    starts: list[float] = []
    switch_frames: list[int] = []
    rig.loop.start(time.monotonic(), now)
    begin = next_frame = time.monotonic()
    while time.monotonic() - begin < seconds:
        t0 = time.perf_counter()
        before = rig.loop.switches
        rig.loop.frame(rig.screen, time.monotonic(), now, period)
        pygame.display.flip()
        times.append(time.perf_counter() - t0)
        starts.append(t0)
        if rig.loop.switches != before:
            switch_frames.append(len(starts) - 1)
        next_frame += period
        time.sleep(max(0.0, next_frame - time.monotonic()))
    rig.loop.stop(time.monotonic())
    boundary = [starts[i + 1] - starts[i] for f in switch_frames for i in range(max(0, f - 2), min(len(starts) - 1, f + 3))]

    # The floor: the same pictures and overlays, crossfaded by a loop that only blits.
    pictures = []
    for slot in rig.program.slots_of(rig.program.content.playlists[0].id)[:4]:
        pictures.append(rig.renderer.render(slot).surface.convert())
    overlays = Overlays(rig.config.display.canvas, rig.renderer.floor, rig.renderer.setter)
    playlist = rig.program.content.playlists[0]
    overlays.set_ticker(tuple((c, playlist.ticker_text(c)) for c in rig.config.languages))
    floor: list[float] = []
    begin = next_frame = time.monotonic()
    while time.monotonic() - begin < seconds:
        t0 = time.perf_counter()
        elapsed = time.monotonic() - begin
        index = int(elapsed // ITEM_SECONDS)
        progress = (elapsed - index * ITEM_SECONDS) / FADE_SECONDS
        compose(rig.screen, pictures[(index - 1) % len(pictures)], pictures[index % len(pictures)], "crossfade", progress)
        overlays.update(period, elapsed, now, "vi")
        overlays.draw(rig.screen)
        pygame.display.flip()
        floor.append(time.perf_counter() - t0)
        next_frame += period
        time.sleep(max(0.0, next_frame - time.monotonic()))
    rig.close()
    return {"p50": _pct(times, 0.5) * 1000, "p99": _pct(times, 0.99) * 1000,
            "boundary": max(boundary, default=0.0) * 1000, "switches": float(len(switch_frames)),
            "floor_p50": _pct(floor, 0.5) * 1000, "floor_p99": _pct(floor, 0.99) * 1000,
            "late": float(rig.loop.late_frames)}


def memory_run(config_path: Path, changes: int, now: datetime, warmup: int = 100) -> tuple[float, float, int]:
    """RSS before and after `changes` item changes on a sped-up clock (after `warmup` changes)."""
    import pygame

    rig = Rig(config_path, now)
    mono = 0.0
    rig.loop.start(mono, now)
    baseline = 0.0
    target = warmup + changes
    while rig.loop.switches < target:
        before = rig.loop.switches
        mono += 0.25  # a quarter second of screen time per frame
        rig.loop.frame(rig.screen, mono, now, 0.25)
        pygame.display.flip()
        while rig.loop.switches == before and rig.loop.pending is not None and rig.loop.current and rig.loop.current.due(mono):
            time.sleep(0.001)  # the next picture is still being drawn: wait in real time, not screen time
            rig.loop.frame(rig.screen, mono, now, 0.0)
        if rig.loop.switches == warmup + 1 and not baseline:
            baseline = _rss_mb()
    after = _rss_mb()
    rig.close()
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
    script = Path(__file__).resolve().parent.parent / "bench" / "video_bench.py"
    if not script.exists():
        print(f"video figures: {script} is not here (run from a checkout of the repository)")
        return
    sys.stdout.flush()
    subprocess.run([sys.executable, str(script)], check=False)


def bench_command(args: Any) -> int:
    os.environ["SDL_VIDEODRIVER"] = "dummy"
    os.environ.setdefault("SDL_AUDIODRIVER", "dummy")
    import logging

    import pygame
    import pygame.freetype

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
            from .touch.bench import touch_bench
            touch_bench(Path(tmp) / "touch", now, seconds=args.seconds)
    if args.only in (None, "video"):  # last: it shuts pygame down when it is done
        video_bench()
    return 0
