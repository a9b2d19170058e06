"""Software update figures, one summary line each: frames the playing screen drops while a release downloads and
installs, what an idle update check costs, and the bytes a code-only release sends.

    .venv/bin/python -m bench.update_bench [--seconds 20]

Builds the real release of this repository for this machine (cached like the tests), seeds a screen in a
temp folder, then runs our render loop at 60 fps (player/bench.py's rig, 1920x1080 on SDL's dummy driver) in
this process while, in other processes as on a screen, the sync client downloads a release from a static
host on 127.0.0.1 and the updater (at the unit's nice 10) installs and checks it. A frame is dropped when it
starts more than 1.5 periods after the one before.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import threading
import time
from datetime import datetime, timezone
from pathlib import Path

os.environ.setdefault("SDL_VIDEODRIVER", "dummy")
os.environ.setdefault("SDL_AUDIODRIVER", "dummy")
os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")

import pygame  # noqa: E402
import pygame.freetype  # noqa: E402,F401

from player.benchscreen import make_bench_screen  # noqa: E402
from player.config import load_config  # noqa: E402
from player.screen import build_screen  # noqa: E402
from sync.client import HttpSource  # noqa: E402
from sync.keys import public_from_text  # noqa: E402
from sync.release_follow import ReleaseFollower, screen_target  # noqa: E402
from sync.statichost import StaticHost  # noqa: E402
from sync.update_area import UpdateArea  # noqa: E402
from tests.update_rig import Screen, SoftwareChannel, build_real_release  # noqa: E402

REPO = Path(__file__).resolve().parent.parent

FPS = 60


def frames(seconds: float, stop: threading.Event | None = None) -> tuple[int, int]:
    """(frames, dropped) of our loop at 60 fps for `seconds` (or until `stop`)."""
    with tempfile.TemporaryDirectory() as tmp:
        config = make_bench_screen(Path(tmp))
        now = datetime(2026, 11, 27, 9, 30).astimezone()
        pygame.display.init()
        pygame.font.init()
        pygame.freetype.init()  # type: ignore[attr-defined]
        canvas = pygame.display.set_mode((1920, 1080))
        screen = build_screen(load_config(config), now)  # what `player run` plays
        period = 1.0 / FPS
        screen.start(time.monotonic())
        starts: list[float] = []
        begin = next_frame = time.monotonic()
        while time.monotonic() - begin < seconds and not (stop is not None and stop.is_set()):
            starts.append(time.monotonic())
            screen.frame(canvas, time.monotonic(), now, period)
            pygame.display.flip()
            next_frame += period
            time.sleep(max(0.0, next_frame - time.monotonic()))
        screen.close(time.monotonic())
        pygame.display.quit()
    dropped = sum(1 for a, b in zip(starts, starts[1:]) if b - a > 1.5 * period)
    return len(starts), dropped


def download(url: str, root_key: str, state: Path) -> None:
    """The sync client's part, as its own process: follow the channel until the release is ready."""
    follower = ReleaseFollower(HttpSource(url, "stable", folder="software"), UpdateArea(state / "update"),
                               public_from_text(root_key), "stable", "gate-hall-1", screen_target(), "0", lambda: {})
    while follower.poll(datetime.now(timezone.utc)).status != "ready":
        time.sleep(0.5)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=20.0, help="length of the baseline run (default 20)")
    parser.add_argument("--download", nargs=3, metavar=("URL", "ROOT_KEY", "STATE"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.download:
        download(args.download[0], args.download[1], Path(args.download[2]))
        return 0
    real = build_real_release()
    with tempfile.TemporaryDirectory(prefix="update-bench-") as tmp:
        root = Path(tmp)
        channel = SoftwareChannel(root / "dest", real)
        with StaticHost(channel.dest) as host:
            screen = Screen(root / "screen", host.url, channel.root_text)
            screen.seed(real)
            release = channel.publish("93.0.0")

            total, dropped = frames(args.seconds)
            print(f"update: baseline, nothing else running: {dropped} of {total} frames dropped at 60 fps")

            stop = threading.Event()
            work_seconds: list[float] = []

            def work() -> None:
                began = time.monotonic()
                env = dict(os.environ, PYTHONPATH=str(REPO))
                subprocess.run([sys.executable, "-m", "bench.update_bench", "--download", host.url, channel.root_text,
                                str(screen.state)], env=env, cwd=REPO, check=True)
                env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
                env["KIOSK_UPDATE_STOP_AT"] = "complete"  # installed and checked: where the switch would begin
                updater = subprocess.Popen(["nice", "-n", "10", *screen.updater_command("apply")], env=env,
                                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                while not screen.layout.is_complete("93.0.0") and updater.poll() is None:
                    time.sleep(0.2)
                updater.kill()
                work_seconds.append(time.monotonic() - began)
                stop.set()

            worker = threading.Thread(target=work)
            worker.start()
            total, dropped = frames(3600, stop)
            worker.join()
            print(f"update: downloading {release.total_bytes / 1e6:.0f} MB and installing it (venv, pip, import and "
                  f"validate check) took {work_seconds[0]:.1f} s: {dropped} of {total} frames dropped at 60 fps "
                  "(target <= 2)")

            before = len(host.state.requests("/software/"))
            follower = ReleaseFollower(HttpSource(host.url, "stable", folder="software"), screen.area,
                                       channel.root.public_key(), "stable", "gate-hall-1", screen_target(), "0",
                                       lambda: {})
            follower.first = False
            for _ in range(10):
                follower.poll(datetime.now(timezone.utc))
            idle = host.state.requests("/software/")[before:]
            print(f"update: idle check: {len(idle) / 10:.0f} request per poll, answered "
                  f"{'/'.join(sorted({str(s) for _, _, s, _ in idle}))} with {sum(b for *_, b in idle)} body bytes in "
                  "10 polls (a static host is asked every sync.poll_seconds; the central server holds it 50 s)")

            sent_before = sum(b for *_, b in host.state.requests("/blobs/"))
            channel.publish("93.0.1", channel.patched("player/__init__.py", '__version__ = "', '__version__ = "9'))
            follower.poll(datetime.now(timezone.utc))
            sent = sum(b for *_, b in host.state.requests("/blobs/")) - sent_before
            print(f"update: a release that changes only our code sent {sent / 1e6:.2f} MB to the screen (target < 1 MB)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
