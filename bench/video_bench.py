"""How much CPU video playback costs and how many frames it drops, on SDL's dummy driver.

    .venv/bin/python -m bench.video_bench [--clips DIR] [--quick]

Clips are encoded once into DIR (default out/bench-clips/) and reused. Each clip is
a drawn river scene with film-grain noise so it carries a camera-like bitrate
(8 Mbps at 1080p, 24 Mbps at 4K) rather than the few hundred kbps of a flat drawing.
One summary line per figure. For the thread-or-process question (DESIGN.md) it
also plays the 1080p H.264 clip with a bare decoder *process* writing frames into
shared memory: CPU counts both processes, render-tick work is the main one's.
"""

from __future__ import annotations

import os

os.environ.setdefault("SDL_VIDEODRIVER", "dummy")
os.environ.setdefault("SDL_AUDIODRIVER", "dummy")
os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")

import argparse
import multiprocessing
import queue
import resource
import time
from collections import deque
from multiprocessing.shared_memory import SharedMemory
from pathlib import Path
from typing import Callable

import av
import pygame
from PIL import Image, ImageChops

from player.video import VideoClip
from tools import make_test_clips as clips

ROOT = Path(__file__).resolve().parent.parent

SCREEN = (1920, 1080)
FPS = 60
# name -> (codec, picture size, seconds, bitrate, encoder options)
# (x264 superfast keeps CABAC and B-frames, so decoding costs what a real file costs;
# the shorter clips keep encoding them, on the first run, to about a minute.)
CLIPS: dict[str, tuple[str, tuple[int, int], float, int, dict[str, str]]] = {
    "h264-1080p": ("libx264", (1920, 1080), 20, 8_000_000, {"preset": "superfast"}),
    "hevc-1080p": ("libx265", (1920, 1080), 6, 8_000_000, {"preset": "ultrafast", "x265-params": "log-level=error"}),
    "vp9-1080p": ("libvpx-vp9", (1920, 1080), 6, 8_000_000,
                  {"deadline": "realtime", "cpu-used": "8", "row-mt": "1"}),
    "h264-2160p": ("libx264", (3840, 2160), 6, 24_000_000, {"preset": "superfast"}),
}


def grainy(size: tuple[int, int]) -> Callable[[tuple[int, int], int, float], Image.Image]:
    """The demo river drawing plus moving noise, so the encoder has real detail to spend bits on."""
    grain = [Image.merge("RGB", [Image.effect_noise(size, 24)] * 3) for _ in range(5)]

    def draw(picture: tuple[int, int], number: int, t: float) -> Image.Image:
        noise = ImageChops.offset(grain[number % len(grain)], number * 37 % size[0], number * 11 % size[1])
        return ImageChops.add(clips.draw_river_frame(picture, number, t), noise, 1.0, -128)
    return draw


def make(folder: Path, name: str) -> Path:
    codec, size, seconds, bitrate, options = CLIPS[name]
    ext = clips.CODECS[codec][0]
    path = folder / f"{name}.{ext}"
    if not path.exists():
        partial = clips.make_clip(folder, f"{name}.partial", codec=codec, size=size, fps=30, seconds=seconds,
                                  draw=grainy(size), options={**options, "b": str(bitrate)})
        partial.rename(path)
    return path


def cpu() -> float:
    return time.process_time()


def paced(screen: pygame.Surface, next_frame: Callable[[float], pygame.Surface | None],
          done: Callable[[float], bool]) -> dict[str, float]:
    """A 60 Hz render loop on the monotonic clock: take a frame if one is due, blit, flip."""
    shown, work, late = 0, [], []
    cpu0 = cpu()
    start = time.monotonic()
    tick = start
    while not done(time.monotonic() - start):
        woke = time.monotonic()
        late.append(woke - tick)
        surface = next_frame(woke - start)
        if surface is not None:
            screen.blit(surface, (0, 0))
            shown += 1
        pygame.display.flip()
        pygame.event.pump()
        work.append(time.monotonic() - woke)
        tick += 1 / FPS
        time.sleep(max(0.0, tick - time.monotonic()))
    seconds = time.monotonic() - start
    work.sort()
    return {"seconds": seconds, "cpu": (cpu() - cpu0) / seconds, "shown": shown,
            "work_p50": work[len(work) // 2] * 1000, "work_p99": work[int(len(work) * 0.99)] * 1000,
            "work_max": work[-1] * 1000, "late_ticks": sum(1 for x in late if x > 1 / FPS)}


def play(path: Path, screen: pygame.Surface) -> dict[str, float]:
    """Play through VideoClip as the player does: preload off the clock, then frame_at + blit + flip per tick."""
    clip = VideoClip(path, SCREEN)
    clip.first_frame(timeout=10)
    result = paced(screen, clip.frame_at, lambda t: clip.ended)
    result["dropped"] = clip.dropped
    clip.close()
    clip = VideoClip(path, SCREEN)  # and how long close() takes mid-playback, as at an item change
    clip.first_frame(timeout=10)
    paced(screen, clip.frame_at, lambda t: t > 0.5)
    began = time.monotonic()
    clip.close()
    result["close_ms"] = (time.monotonic() - began) * 1000
    return result


FRAME_BYTES = SCREEN[0] * SCREEN[1] * 4
SLOTS = 6


def decoder_process(path: str, shm_name: str, free: multiprocessing.Queue, ready: multiprocessing.Queue) -> None:
    """The other design: a process decodes and converts into shared-memory slots the render loop blits."""
    shm = SharedMemory(name=shm_name)
    try:
        with av.open(path) as container:
            stream = container.streams.video[0]
            stream.thread_type = "AUTO"
            start = None
            for frame in container.decode(stream):
                slot = free.get()
                if slot is None:
                    break
                start = frame.time if start is None else start
                plane = frame.reformat(*SCREEN, format="bgr0").planes[0]
                shm.buf[slot * FRAME_BYTES:(slot + 1) * FRAME_BYTES] = memoryview(plane)
                ready.put((slot, frame.time - start))
    finally:
        ready.put(None)
        shm.close()


def play_in_process(path: Path, screen: pygame.Surface) -> dict[str, float]:
    context = multiprocessing.get_context("spawn")
    shm = SharedMemory(create=True, size=FRAME_BYTES * SLOTS)
    free, ready = context.Queue(), context.Queue()
    for slot in range(SLOTS):
        free.put(slot)
    worker = context.Process(target=decoder_process, args=(str(path), shm.name, free, ready))
    worker.start()
    due: deque[tuple[int, float]] = deque([ready.get(timeout=10)])  # preloaded before the clock starts
    state = {"finished": False, "dropped": 0}
    canvas = pygame.Surface(SCREEN, 0, 32, (0xFF0000, 0xFF00, 0xFF, 0))

    def next_frame(t: float) -> pygame.Surface | None:
        while not state["finished"]:
            try:
                item = ready.get_nowait()
            except queue.Empty:
                break
            if item is None:
                state["finished"] = True
            else:
                due.append(item)
        chosen = None
        while due and due[0][1] <= t:
            if chosen is not None:
                free.put(chosen)
                state["dropped"] += 1
            chosen = due.popleft()[0]
        if chosen is None:
            return None
        with memoryview(canvas.get_view("0")) as dst:
            dst[:] = shm.buf[chosen * FRAME_BYTES:(chosen + 1) * FRAME_BYTES]
        free.put(chosen)
        return canvas

    children0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    result = paced(screen, next_frame, lambda t: state["finished"] and not due)
    free.put(None)
    worker.join(timeout=5)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    child_cpu = children.ru_utime + children.ru_stime - children0.ru_utime - children0.ru_stime
    result["cpu_total"] = result["cpu"] + child_cpu / result["seconds"]
    result["dropped"] = state["dropped"]
    shm.close()
    shm.unlink()
    return result


def floor(path: Path, screen: pygame.Surface) -> dict[str, float]:
    """Bare PyAV: decode, swscale to the screen's pixel layout, wrap as a Surface, blit; no thread, no pacing."""
    cpu0, wall0 = cpu(), time.monotonic()
    frames, last = 0, 0.0
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        for frame in container.decode(stream):
            picture = frame.reformat(*SCREEN, format="bgr0")
            plane = picture.planes[0]
            surface = pygame.image.frombuffer(plane, SCREEN, "BGRA", pitch=plane.line_size)
            surface.set_alpha(None)
            screen.blit(surface, (0, 0))
            frames += 1
            last = frame.time or last
    media = last + 1 / 30
    return {"cpu": (cpu() - cpu0) / media, "fps": frames / (time.monotonic() - wall0)}


def rss_over_plays(path: Path, plays: int = 50, seconds: float = 1.0) -> tuple[float, int]:
    """RSS growth (MB) over `plays` opens of the clip, each played for `seconds` of media time as fast as it decodes."""
    import psutil

    process = psutil.Process()

    def one() -> None:
        clip = VideoClip(path, SCREEN, "fit")
        try:
            clip.first_frame(10.0)
            t = 0.0
            while t < seconds and not clip.ended:
                if clip.frame_at(t) is not None:
                    t += 1 / 30
                else:
                    time.sleep(0.001)
        finally:
            clip.close()

    for _ in range(5):
        one()
    before = process.memory_info().rss
    for _ in range(plays):
        one()
    return (process.memory_info().rss - before) / 2**20, plays


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clips", type=Path, default=ROOT / "out" / "bench-clips")
    parser.add_argument("--quick", action="store_true", help="only the 1080p H.264 figures")
    args = parser.parse_args(argv)
    args.clips.mkdir(parents=True, exist_ok=True)
    names = ["h264-1080p"] if args.quick else list(CLIPS)
    began = time.monotonic()
    paths = {name: make(args.clips, name) for name in names}
    made = time.monotonic() - began
    pygame.display.init()
    screen = pygame.display.set_mode(SCREEN)
    print(f"setup: {os.cpu_count()} cores, PyAV {av.__version__}, pygame-ce {pygame.version.ver}, "
          f"clips ready in {made:.0f} s")
    for name in names:
        path = paths[name]
        rate = path.stat().st_size * 8 / CLIPS[name][2] / 1e6
        r = play(path, screen)
        print(f"{name} VideoClip (thread): {r['dropped']} dropped of {r['shown'] + r['dropped']} frames, "
              f"{r['cpu']:.2f} CPU s per video s, render tick work p50/p99/max "
              f"{r['work_p50']:.1f}/{r['work_p99']:.1f}/{r['work_max']:.1f} ms, "
              f"{r['late_ticks']} ticks woke >1 tick late, close() mid-play {r['close_ms']:.1f} ms "
              f"({rate:.1f} Mbps file)")
        if name == "h264-1080p":
            f = floor(path, screen)
            print(f"{name} bare PyAV floor: {f['cpu']:.2f} CPU s per video s "
                  f"(decode+convert+blit, one thread, unpaced: {f['fps']:.0f} fps)")
            print(f"{name} cpu_vs_floor {r['cpu'] / f['cpu']:.2f}x (target <= 1.3); dropped {r['dropped']} (target 0)")
            growth, plays = rss_over_plays(path)
            print(f"{name} rss_growth_mb {growth:.2f} over {plays} plays after 5 warm-up plays (target <= 5)")
            p = play_in_process(path, screen)
            print(f"{name} decoder process + shared memory: {p['dropped']} dropped of {p['shown'] + p['dropped']} "
                  f"frames, {p['cpu_total']:.2f} CPU s per video s (both processes), render tick work p50/p99/max "
                  f"{p['work_p50']:.1f}/{p['work_p99']:.1f}/{p['work_max']:.1f} ms, "
                  f"{p['late_ticks']} ticks woke >1 tick late")
    print(f"total: {time.monotonic() - began:.0f} s")
    pygame.quit()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
