"""Ours against a Chromium kiosk page and mpv on one Xvfb display of its own: CPU, memory, frames shown; a line a figure.

    .venv/bin/python -m bench.peers [--runs 3] [--display 101] [--quick] [--only video] [--ours]
    .venv/bin/python -m player bench --only peers

The same content for everyone: 4 photo slides with a Vietnamese title, a 1 s
crossfade every 4 s (Chromium: a page with a CSS opacity transition, as Anthias,
piSignage and Xibo for Linux show content), and a 1080p30 H.264 clip (Chromium's
`<video>`, `mpv --vo=x11`). Runs are interleaved (ours, peer, ours, peer, ...).
CPU is summed over each process tree from /proc (the X server's own work is a
separate figure), PSS from smaps_rollup. Frames are counted the same way for
everyone, by reading the screen back from the X server every ~2 ms: a small patch
for the slides (a new value is a new frame), frame-number blocks drawn into the
clip for the video. A half-core CPU quota (a cgroup the bench makes itself) stands
in for kiosk hardware; where it may not make one it says so. Demo media are
generated here (tools/make_test_clips.py, bench/video_bench.py's grain).
"""

from __future__ import annotations

import argparse
import ctypes
import ctypes.util
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import psutil
from PIL import Image, ImageDraw, ImageFilter

from bench.video_bench import grainy
from tools import make_test_clips as clips

ROOT = Path(__file__).resolve().parent.parent
SIZE = (1920, 1080)
SLIDE_SECONDS, FADE_SECONDS = 4.0, 1.0
SLIDE_COLORS = ((200, 60, 40), (40, 110, 200), (40, 160, 90), (210, 170, 40))
TITLE = "Chào mừng đến Cửa khẩu Quốc tế Tịnh Biên"
PROBE = (1700, 160, 16, 16)  # a patch of the slides away from the title
BLOCKS = (10, 48, 40, 40)  # the clip's frame-number blocks: count, side, left, top (clear of any caption)
CLIP_SECONDS = 20
CHROMIUM = "/usr/bin/chromium"
MPV = "/usr/bin/mpv"
QUOTA = (50_000, 100_000)  # microseconds of CPU per period: half a core
CGROUP_CPU = Path("/sys/fs/cgroup/cpu")  # cgroup v1 here; v2 is tried too (cpu.max)
FONT = "/usr/share/fonts/truetype/noto/NotoSans-Bold.ttf"


# --- content -------------------------------------------------------------------------------------

def make_slides(folder: Path) -> list[Path]:
    """4 photo-like JPEGs: a coloured gradient, soft shapes and grain, each a different hue."""
    out = []
    for n, color in enumerate(SLIDE_COLORS):
        w, h = SIZE
        image = Image.linear_gradient("L").resize(SIZE).convert("RGB")
        tint = Image.new("RGB", SIZE, color)
        image = Image.blend(tint, Image.composite(tint, image, Image.linear_gradient("L").resize(SIZE)), 0.35)
        draw = ImageDraw.Draw(image)
        for k in range(7):
            x, y, r = (k * 389 + n * 211) % w, (k * 241 + n * 97) % h, 90 + (k * 53) % 160
            draw.ellipse((x - r, y - r, x + r, y + r), fill=tuple(min(255, c + 40) for c in color))
        image = image.filter(ImageFilter.GaussianBlur(6))
        noise = Image.merge("RGB", [Image.effect_noise(SIZE, 18)] * 3)
        image = Image.blend(image, noise, 0.12)
        path = folder / f"slide{n + 1}.jpg"
        image.save(path, quality=88)
        out.append(path)
    return out


def make_clip(folder: Path) -> Path:
    """20 s of 1080p30 H.264 at a camera-like 8 Mbps, its frame number drawn as black and white blocks."""
    path = folder / "clip.mp4"
    if path.exists():
        return path
    count, side, left, top = BLOCKS
    scene = grainy(SIZE)

    def draw(size: tuple[int, int], number: int, t: float) -> Image.Image:
        image = scene(size, number, t)
        pen = ImageDraw.Draw(image)
        pen.rectangle((left - 8, top - 8, left + count * side + 8, top + side + 8), fill=(128, 128, 128))
        for i in range(count):
            bit = (number >> (count - 1 - i)) & 1
            pen.rectangle((left + i * side, top, left + (i + 1) * side - 1, top + side - 1),
                          fill=(255, 255, 255) if bit else (0, 0, 0))
        return image

    made = clips.make_clip(folder, "clip.partial", codec="libx264", size=SIZE, fps=30, seconds=CLIP_SECONDS,
                           draw=draw, options={"preset": "superfast", "b": "8000000"})
    made.rename(path)
    return path


KIOSK = """\
screen: {id: peers-bench, name: {vi: "Cửa khẩu Quốc tế Tịnh Biên"}}
display: {fullscreen: false, size: [1920, 1080], width_mm: 952, renderer: %(renderer)s}
languages: {order: [vi]}
overlays: {clock: false, ticker: false}
state_dir: state
"""


def our_screen(folder: Path, kind: str, media: Path, renderer: str) -> Path:
    """A screen folder for `player run`: the slideshow, the clip, or one still slide; returns kiosk.yaml."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "playlists").mkdir(exist_ok=True)
    (folder / "media").mkdir(exist_ok=True)
    for path in media.iterdir():
        target = folder / "media" / path.name
        if not target.exists():
            target.symlink_to(path)
    if kind == "slides":
        items = "".join(
            f"  - {{id: s{n}, type: image, media: slide{n}.jpg, fit: fill, duration: {SLIDE_SECONDS:g},"
            f" transition: {{type: crossfade, duration: {FADE_SECONDS:g}}}, text: {{vi: {{title: '{TITLE}'}}}}}}\n"
            for n in range(1, 5))
    elif kind == "still":
        items = f"  - {{id: s1, type: image, media: slide1.jpg, fit: fill, duration: 3600, text: {{vi: {{title: '{TITLE}'}}}}}}\n"
    else:
        items = "  - {id: clip, type: video, media: clip.mp4, fit: fill, transition: cut}\n"
    (folder / "playlists" / "main.yaml").write_text("items:\n" + items, encoding="utf-8")
    config = folder / "kiosk.yaml"
    config.write_text(KIOSK % {"renderer": renderer}, encoding="utf-8")
    return config


PAGE_SLIDES = """<!doctype html><html><head><meta charset="utf-8"><style>
html,body{margin:0;background:#000;overflow:hidden;cursor:none}
.s{position:fixed;left:0;top:0;width:100vw;height:100vh;background-size:cover;opacity:0;
   transition:opacity %(fade)gs ease-in-out}
.s.on{opacity:1}
.s h1{position:absolute;left:96px;bottom:110px;margin:0;font:700 64px 'Noto Sans';color:#fff;
      text-shadow:0 2px 8px #000}
</style></head><body>%(divs)s
<script>
const s=[...document.querySelectorAll('.s')]; let i=0, z=1;
setInterval(()=>{const old=s[i]; i=(i+1)%%s.length; s[i].style.zIndex=++z; s[i].classList.add('on');
  setTimeout(()=>{old.style.transition='none'; old.classList.remove('on'); void old.offsetHeight;
                  old.style.transition='';}, %(fade_ms)d + 100);}, %(slide_ms)d);
</script></body></html>"""

PAGE_VIDEO = """<!doctype html><html><head><meta charset="utf-8"><style>
html,body{margin:0;background:#000;overflow:hidden;cursor:none}
video{position:fixed;left:0;top:0;width:100vw;height:100vh;object-fit:cover}
</style></head><body><video src="clip.mp4" autoplay muted loop playsinline></video></body></html>"""


def chromium_page(media: Path, kind: str) -> Path:
    if kind == "slides":
        divs = "".join(f'<div class="s{" on" if n == 1 else ""}" style="background-image:url(slide{n}.jpg)">'
                       f"<h1>{TITLE}</h1></div>" for n in range(1, 5))
        text = PAGE_SLIDES % {"fade": FADE_SECONDS, "divs": divs, "fade_ms": FADE_SECONDS * 1000,
                              "slide_ms": SLIDE_SECONDS * 1000}
    else:
        text = PAGE_VIDEO
    page = media / f"{kind}.html"
    page.write_text(text, encoding="utf-8")
    return page


# --- the screen, read back from the X server -------------------------------------------------------

class XScreen:
    """Small rectangles of the X root window, read with XGetImage (libX11 through ctypes: no extra package)."""

    def __init__(self, display: str) -> None:
        name = ctypes.util.find_library("X11")
        if name is None:
            raise RuntimeError("libX11 is not installed (Debian: libx11-6)")
        x = self.x = ctypes.CDLL(name)
        x.XOpenDisplay.restype = ctypes.c_void_p
        x.XOpenDisplay.argtypes = [ctypes.c_char_p]
        x.XDefaultRootWindow.restype = ctypes.c_ulong
        x.XDefaultRootWindow.argtypes = [ctypes.c_void_p]
        x.XGetImage.restype = ctypes.c_void_p
        x.XGetImage.argtypes = [ctypes.c_void_p, ctypes.c_ulong, ctypes.c_int, ctypes.c_int, ctypes.c_uint,
                                ctypes.c_uint, ctypes.c_ulong, ctypes.c_int]
        x.XDestroyImage.argtypes = [ctypes.c_void_p]
        x.XCloseDisplay.argtypes = [ctypes.c_void_p]
        self.dpy = x.XOpenDisplay(display.encode())
        if not self.dpy:
            raise RuntimeError(f"cannot open X display {display}")
        self.root = x.XDefaultRootWindow(self.dpy)

    def grab(self, rect: tuple[int, int, int, int]) -> bytes:
        """The rectangle's pixels, 4 bytes each (BGRX), row after row."""
        x0, y0, w, h = rect
        image = self.x.XGetImage(self.dpy, self.root, x0, y0, w, h, 0xFFFFFFFF, 2)  # ZPixmap
        if not image:
            return b""
        data = ctypes.c_void_p.from_address(image + 16).value  # XImage: 4 ints, then char *data
        per_line = ctypes.c_int.from_address(image + 44).value  # ... then 6 ints, then bytes_per_line
        pixels = ctypes.string_at(data, per_line * h) if data else b""
        self.x.XDestroyImage(image)
        return pixels

    def close(self) -> None:
        self.x.XCloseDisplay(self.dpy)


def frame_number(row: bytes) -> int | None:
    """The number in the clip's blocks from one row of pixels across them, or None where they are not on screen."""
    count, side, _, _ = BLOCKS
    number = 0
    for i in range(count):
        at = (i * side + side // 2) * 4
        level = sum(row[at:at + 3])
        if 150 < level < 600:  # grey: no clip there (yet)
            return None
        number = number * 2 + (level >= 384)
    return number


def sample(screen: XScreen, seconds: float, read: Callable[[XScreen], object]) -> list[tuple[float, object]]:
    """(time, value) about every 2 ms for `seconds`."""
    out = []
    end = time.monotonic() + seconds
    while (now := time.monotonic()) < end:
        out.append((now, read(screen)))
        time.sleep(0.0015)
    return out


def probe(screen: XScreen) -> object:
    return screen.grab(PROBE)


def blocks_row(screen: XScreen) -> object:
    count, side, left, top = BLOCKS
    return frame_number(screen.grab((left, top + side // 2, count * side, 1)))


@dataclass
class Fade:
    start: float
    distinct: int  # pictures shown from the first change to the new slide, both counted
    longest_hold: float  # seconds between two changes inside the fade


def fades(samples: list[tuple[float, object]], settle: float = 0.3) -> list[Fade]:
    """The fades between stills in a run of probe samples: a still is a value held for `settle` seconds."""
    changes = [(t, v) for i, (t, v) in enumerate(samples) if i == 0 or v != samples[i - 1][1]]
    ends = [t for t, _ in changes[1:]] + [samples[-1][0] if samples else 0.0]  # when each value was replaced
    stills = [i for i, (t, _) in enumerate(changes) if ends[i] - t >= settle]
    out = []
    for a, b in zip(stills, stills[1:]):
        if b - a < 2:
            continue
        inside = changes[a + 1:b + 1]  # each change after still a up to the arrival of still b
        times = [t for t, _ in inside]
        out.append(Fade(times[0], len({v for _, v in inside}), max((y - x for x, y in zip(times, times[1:])), default=0.0)))
    return out


@dataclass
class Playback:
    fps: float  # distinct clip frames shown a second
    longest_freeze: float  # seconds one frame stayed up
    seen: int
    where: str = ""  # the frame numbers either side of the longest freeze


def playback(samples: list[tuple[float, object]]) -> Playback:
    numbered = [(t, n) for t, n in samples if isinstance(n, int)]
    if len(numbered) < 2:
        return Playback(0.0, float("inf"), 0)
    changes = [(t, n) for i, (t, n) in enumerate(numbered) if i and n != numbered[i - 1][1]]
    span = numbered[-1][0] - numbered[0][0]
    marks = [numbered[0], *changes, numbered[-1]]
    gap, a, b = max((y[0] - x[0], x, y) for x, y in zip(marks, marks[1:]))
    unread = sum(1 for _, n in samples if not isinstance(n, int))
    return Playback(len(changes) / span, gap, len(changes),
                    f"frame {a[1]} -> {b[1]} at +{a[0] - numbered[0][0]:.1f} s; {unread} samples without the blocks")


# --- processes ---------------------------------------------------------------------------------

def tree(pid: int) -> list[psutil.Process]:
    try:
        root = psutil.Process(pid)
        return [root, *root.children(recursive=True)]
    except psutil.NoSuchProcess:
        return []


def tree_cpu(pid: int) -> dict[int, float]:
    out = {}
    for proc in tree(pid):
        try:
            times = proc.cpu_times()
            out[proc.pid] = times.user + times.system
        except psutil.NoSuchProcess:
            pass
    return out


def tree_pss_mb(pid: int) -> float:
    total = 0
    for proc in tree(pid):
        try:
            for line in Path(f"/proc/{proc.pid}/smaps_rollup").read_text().splitlines():
                if line.startswith("Pss:"):
                    total += int(line.split()[1])
        except OSError:
            pass
    return total / 1024


class Quota:
    """A cgroup with half a core of CPU, made by the bench; `join` runs in a child before it execs."""

    def __init__(self) -> None:
        self.path: Path | None = None
        self.why = ""
        for base, v2 in ((CGROUP_CPU, False), (Path("/sys/fs/cgroup"), True)):
            folder = base / f"kiosk-peers-{os.getpid()}"
            try:
                folder.mkdir()
                if v2:
                    (folder / "cpu.max").write_text(f"{QUOTA[0]} {QUOTA[1]}")
                else:
                    (folder / "cpu.cfs_period_us").write_text(str(QUOTA[1]))
                    (folder / "cpu.cfs_quota_us").write_text(str(QUOTA[0]))
                self.path = folder
                return
            except OSError as exc:
                self.why += f"{folder}: {exc.strerror or exc}; "
                try:
                    folder.rmdir()
                except OSError:
                    pass

    def join(self) -> None:
        assert self.path is not None
        (self.path / "cgroup.procs").write_text(str(os.getpid()))

    def close(self) -> None:
        if self.path is not None:
            try:
                self.path.rmdir()
            except OSError:
                pass


@dataclass
class Contender:
    name: str
    command: Callable[[str], list[str]]  # kind -> argv
    env: dict[str, str] = field(default_factory=dict)


def start(contender: Contender, kind: str, display: str, quota: Quota | None, log: Path) -> subprocess.Popen[bytes]:
    env = dict(os.environ, DISPLAY=display, **contender.env)
    env.pop("SDL_VIDEODRIVER", None)
    with log.open("ab") as out:
        return subprocess.Popen(contender.command(kind), env=env, stdout=out, stderr=subprocess.STDOUT,
                                preexec_fn=quota.join if quota is not None else None, start_new_session=True)


def stop(proc: subprocess.Popen[bytes]) -> None:
    try:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=5)
    except (ProcessLookupError, subprocess.TimeoutExpired):
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        proc.wait()


def wait_for_picture(screen: XScreen, kind: str, timeout: float = 30.0) -> bool:
    """Until the contender's content is on screen: the clip's blocks, or a slide's colour in the probe patch."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if kind == "video":
            if blocks_row(screen) is not None:
                return True
        else:
            patch = screen.grab(PROBE)
            if patch and sum(patch[0:3]) > 60:
                return True
        time.sleep(0.05)
    return False


@dataclass
class Run:
    cpu: float = float("nan")  # CPU-s per second of the process tree
    x_cpu: float = float("nan")  # of the X server
    pss: float = float("nan")
    fades: list[Fade] = field(default_factory=list)
    play: Playback | None = None
    load: str = ""


def measure(contender: Contender, kind: str, display: str, xvfb: int, screen: XScreen, quota: Quota | None,
            cpu_seconds: float, frame_seconds: float, log: Path) -> Run:
    run = Run(load=Path("/proc/loadavg").read_text().split(" ", 3)[0])
    proc = start(contender, kind, display, quota, log)
    try:
        if not wait_for_picture(screen, kind):
            print(f"  {contender.name} {kind}: nothing on screen within 30 s (see {log})", file=sys.stderr)
            return run
        time.sleep(2.0)  # start-up work done; past the first fade's preparation
        before, x_before, t0 = tree_cpu(proc.pid), tree_cpu(xvfb), time.monotonic()
        pss = []
        while time.monotonic() - t0 < cpu_seconds:
            time.sleep(min(1.0, cpu_seconds - (time.monotonic() - t0)))
            pss.append(tree_pss_mb(proc.pid))
        after, x_after, t1 = tree_cpu(proc.pid), tree_cpu(xvfb), time.monotonic()
        run.cpu = sum(v - before.get(p, 0.0) for p, v in after.items()) / (t1 - t0)
        run.x_cpu = sum(v - x_before.get(p, 0.0) for p, v in x_after.items()) / (t1 - t0)
        run.pss = max(pss)
        if frame_seconds > 0:
            samples = sample(screen, frame_seconds, blocks_row if kind == "video" else probe)
            if kind == "video":
                run.play = playback(samples)
            else:
                run.fades = fades(samples)
        return run
    finally:
        stop(proc)
        time.sleep(0.5)


# --- the bench ---------------------------------------------------------------------------------

def free_display(first: int) -> int:
    n = first
    while Path(f"/tmp/.X11-unix/X{n}").exists() or Path(f"/tmp/.X{n}-lock").exists():
        n += 1
    return n


def med(values: list[float]) -> float:
    values = [v for v in values if v == v]
    return statistics.median(values) if values else float("nan")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3, help="runs of each contender, interleaved (default 3)")
    parser.add_argument("--display", type=int, default=101, help="first X display number to try (default 101)")
    parser.add_argument("--quick", action="store_true", help="1 run each, shorter windows (a smoke test)")
    parser.add_argument("--only", choices=("slides", "still", "video", "quota"), action="append",
                        help="only these parts (repeatable)")
    parser.add_argument("--ours", action="store_true",
                        help="ours alone (both renderer paths), without Chromium and mpv: a before/after of our own "
                             "figures in a third of the time; the ratio lines are left out")
    args = parser.parse_args(argv)
    runs = 1 if args.quick else args.runs
    parts = args.only or ["slides", "still", "video", "quota"]
    for tool in ("Xvfb", CHROMIUM, MPV):
        if not shutil.which(tool):
            print(f"peers bench: {tool} is not installed (Debian: xvfb, chromium, mpv)", file=sys.stderr)
            return 2
    work = ROOT / "out" / "peers"
    media = work / "media"
    media.mkdir(parents=True, exist_ok=True)
    make_slides(media)
    make_clip(media)
    for kind in ("slides", "video"):
        chromium_page(media, kind)
    number = free_display(args.display)
    display = f":{number}"
    xvfb = subprocess.Popen(["Xvfb", display, "-screen", "0", "1920x1080x24", "-nolisten", "tcp"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    quota = Quota()
    tmp = Path(tempfile.mkdtemp(prefix="kiosk-peers-"))
    log = work / "contenders.log"
    log.write_bytes(b"")
    try:
        for _ in range(50):
            if Path(f"/tmp/.X11-unix/X{number}").exists():
                break
            time.sleep(0.1)
        screen = XScreen(display)
        python = sys.executable

        def ours(renderer: str) -> Contender:
            def command(kind: str) -> list[str]:
                config = our_screen(tmp / f"ours-{renderer}-{kind}", kind, media, renderer)
                return [python, "-m", "player", "--config", str(config), "run", "--windowed"]
            return Contender(f"ours-{renderer}", command, {"SDL_AUDIODRIVER": "dummy", "PYGAME_HIDE_SUPPORT_PROMPT": "1"})

        def chromium(kind: str) -> list[str]:
            profile = tmp / "chromium-profile"
            return [CHROMIUM, "--no-sandbox", "--kiosk", "--no-first-run", "--noerrdialogs", "--disable-infobars",
                    f"--user-data-dir={profile}", "--window-position=0,0", "--window-size=1920,1080",
                    "--autoplay-policy=no-user-gesture-required", "--disable-background-networking",
                    "--disable-component-update", "--disable-sync", "--password-store=basic",
                    "--disable-features=Translate,MediaRouter", "--allow-file-access-from-files",
                    (media / f"{kind}.html").as_uri()]

        def mpv(kind: str) -> list[str]:
            return [MPV, "--vo=x11", "--no-audio", "--loop=inf", "--no-border", "--geometry=1920x1080+0+0",
                    "--no-osc", "--no-input-default-bindings", "--really-quiet", str(media / "clip.mp4")]

        software, gpu = ours("software"), ours("gpu")
        peer_chromium, peer_mpv = Contender("chromium", chromium), Contender("mpv", mpv)

        def peer(*contenders: Contender) -> list[Contender]:
            return [] if args.ours else list(contenders)
        cpu_s, frame_s = (6.0, 6.0) if args.quick else (8.0, 9.0)

        def rounds(kind: str, contenders: list[Contender], use_quota: Quota | None,
                   frames: float) -> dict[str, list[Run]]:
            results: dict[str, list[Run]] = {c.name: [] for c in contenders}
            for _ in range(runs):
                for contender in contenders:
                    results[contender.name].append(
                        measure(contender, kind, display, xvfb.pid, screen, use_quota, cpu_s, frames, log))
            return results

        def line(text: str) -> None:
            print(f"{text} [loadavg {Path('/proc/loadavg').read_text().split(' ', 3)[0]}]", flush=True)

        if "slides" in parts:
            res = rounds("slides", [software, *peer(peer_chromium), gpu], None, frame_s)
            for name, rs in res.items():
                all_fades = [f for r in rs for f in r.fades]
                line(f"peers_slideshow {name}: cpu {med([r.cpu for r in rs]):.3f} CPU-s/s, X server "
                     f"{med([r.x_cpu for r in rs]):.3f} CPU-s/s, pss {med([r.pss for r in rs]):.0f} MB, "
                     f"distinct frames per 1 s fade {med([float(f.distinct) for f in all_fades]):.0f} "
                     f"(min {min((f.distinct for f in all_fades), default=0)}), longest hold in a fade "
                     f"{max((f.longest_hold for f in all_fades), default=float('nan')) * 1000:.0f} ms "
                     f"over {len(all_fades)} fades, run loads {' '.join(r.load for r in rs)}")
            if not args.ours:
                ratio = med([r.cpu for r in res["ours-software"]]) / med([r.cpu for r in res["chromium"]])
                line(f"peers_slideshow_cpu_vs_chromium {ratio:.2f}x (target <= 0.5x)")
                ours_fades = med([float(f.distinct) for r in res["ours-software"] for f in r.fades])
                their_fades = med([float(f.distinct) for r in res["chromium"] for f in r.fades])
                line(f"peers_fade_distinct_frames_vs_chromium {ours_fades / their_fades:.2f}x (target >= 1.0x)")
        if "still" in parts:
            res = rounds("still", [software, gpu], None, 0.0)
            for name, rs in res.items():
                line(f"peers_still_slide {name}: cpu {med([r.cpu for r in rs]):.4f} CPU-s/s (target <= 0.02; "
                     f"clock and ticker off), X server {med([r.x_cpu for r in rs]):.4f} CPU-s/s")
        if "video" in parts:
            res = rounds("video", [software, *peer(peer_mpv, peer_chromium), gpu], None, frame_s)
            for name, rs in res.items():
                plays = [r.play for r in rs if r.play is not None]
                line(f"peers_video_1080p30 {name}: cpu {med([r.cpu for r in rs]):.3f} CPU-s/s, X server "
                     f"{med([r.x_cpu for r in rs]):.3f}, pss {med([r.pss for r in rs]):.0f} MB (max "
                     f"{max((r.pss for r in rs), default=float('nan')):.0f}), shown {med([p.fps for p in plays]):.1f} fps, "
                     f"longest freeze {max((p.longest_freeze for p in plays), default=float('nan')) * 1000:.0f} ms "
                     f"({max(plays, key=lambda p: p.longest_freeze).where if plays else ''})")
            if not args.ours:
                ratio = med([r.cpu for r in res["ours-software"]]) / med([r.cpu for r in res["mpv"]])
                line(f"peers_video_cpu_vs_mpv {ratio:.2f}x (target <= 1.0x)")
        if "quota" in parts:
            if quota.path is None:
                line(f"peers_half_core: not measured: the bench may not make a CPU cgroup here ({quota.why.strip()})")
            else:
                res = rounds("video", [software, *peer(peer_mpv, peer_chromium)], quota, frame_s)
                for name, rs in res.items():
                    plays = [r.play for r in rs if r.play is not None]
                    line(f"peers_half_core_video {name}: shown {med([p.fps for p in plays]):.1f} fps (target >= 24), "
                         f"longest freeze {max((p.longest_freeze for p in plays), default=float('nan')) * 1000:.0f} ms "
                         f"(target <= 100; {max(plays, key=lambda p: p.longest_freeze).where if plays else ''}), "
                         f"cpu {med([r.cpu for r in rs]):.3f} CPU-s/s; quota {quota.path}")
                res = rounds("slides", [software, *peer(peer_chromium)], quota, 13.0)
                for name, rs in res.items():
                    starts = sorted(f.start for r in rs for f in r.fades)
                    gaps = [b - a for r in rs for a, b in zip([f.start for f in r.fades], [f.start for f in r.fades][1:])]
                    all_fades = [f for r in rs for f in r.fades]
                    line(f"peers_half_core_slideshow {name}: slide period {med(gaps):.2f} s (target {SLIDE_SECONDS:g}; "
                         f"range {min(gaps, default=float('nan')):.2f}-{max(gaps, default=float('nan')):.2f}), "
                         f"distinct frames per fade {med([float(f.distinct) for f in all_fades]):.0f}, "
                         f"longest hold {max((f.longest_hold for f in all_fades), default=float('nan')) * 1000:.0f} ms, "
                         f"{len(starts)} fades")
        screen.close()
    finally:
        quota.close()
        xvfb.terminate()
        xvfb.wait()
        shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
