"""A screen in a temp folder for the update tests: the real player under the stand-in supervisor, a software channel
on a real HTTP host, releases made from the real release built from this repository, and the real updater."""

from __future__ import annotations

import functools
import getpass
import json
import os
import signal
import subprocess
import sys
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from sync.keys import PublisherList, make_publisher, public_text, seal_publishers
from sync.release import Release, Rollout
from sync.release_follow import screen_target
from sync.release_tools import FolderDest, publish_release, read_draft
from sync.update_area import area_of, read_small_json
from sync.wheeltags import parse_wheel_name
from tests.conftest import REPO
from tests.release_rig import rewrap_wheel, write_draft
from updater.layout import Layout

CACHE = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "tinhbien-kiosk-tests"

PLAYLIST = """\
id: main
duration: 2
transition: cut
items:
  - {id: hours, type: text, text: {vi: "Giờ mở cửa 06:00 – 22:00", en: "Open 06:00 – 22:00"}}
  - {id: money, type: text, text: {vi: "Đổi tiền", en: "Currency exchange"}}
"""

KIOSK = """\
screen: {id: gate-hall-1}
display: {fullscreen: false, size: [320, 180], width_mm: 300, fps: 10}
languages: {order: [vi, en]}
overlays: {clock: false, ticker: false}
sync: {server: "%(server)s", channel: gate, root_key: "%(root)s", poll_seconds: 1}
update: {channel: stable, window: any, trial_seconds: %(trial)s, ready_seconds: %(ready)s}
"""


@functools.cache
def build_real_release() -> Path:
    """`python -m sync release build` of this repository for this machine, into a wheelhouse kept between runs
    (our wheel is built again each session, the dependencies' wheels are fetched once)."""
    house = CACHE / f"wheelhouse-{screen_target()}"
    done = subprocess.run([sys.executable, "-m", "sync", "release", "build", "--target", str(screen_target()),
                           "--wheelhouse", str(house), "--project", str(REPO)], capture_output=True, text=True,
                          cwd=REPO, timeout=600)
    if done.returncode != 0:
        raise AssertionError(f"release build failed:\n{done.stdout}\n{done.stderr}")
    return house


class SoftwareChannel:
    """DEST with a root-signed releasers list; releases made from the real one with our wheel changed."""

    def __init__(self, dest: Path, real: Path) -> None:
        self.dest, self.real = dest, real
        self.root, self.releaser = Ed25519PrivateKey.generate(), Ed25519PrivateKey.generate()
        plist = PublisherList("stable", 1, (make_publisher("build-pc", self.releaser.public_key()),))
        path = dest / "software" / "stable" / "releasers"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(seal_publishers(plist, self.root, "releasers"))
        self.draft = read_draft(real)

    @property
    def root_text(self) -> str:
        return public_text(self.root.public_key())

    def ours(self) -> Path:
        return next(self.real / w.name for w in self.draft.wheels if parse_wheel_name(w.name).project == "tinhbien_kiosk")

    def publish(self, version: str, changes: dict[str, bytes] | None = None, now: datetime | None = None) -> Release:
        """Our real wheel as `version` with `changes` (path in the wheel: new bytes), beside the real dependencies."""
        house = self.dest.parent / f"wheels-{version}"
        ours = rewrap_wheel(self.ours(), house, version, changes or {})
        deps = []
        for wheel in self.draft.wheels:
            if parse_wheel_name(wheel.name).project != "tinhbien_kiosk":
                link = house / wheel.name
                if not link.exists():
                    os.link(self.real / wheel.name, link)
                deps.append(link)
        write_draft(house, version, [ours, *deps], str(screen_target()), ())
        release, _ = publish_release(read_draft(house), "stable", FolderDest(self.dest), str(self.dest), self.releaser,
                                     now or datetime.now(timezone.utc), 30, Rollout(100, ()))
        return release

    def patched(self, module: str, old: str, new: str) -> dict[str, bytes]:
        """A change to one of our modules, as the wheel holds it: `old` text replaced by `new` (it must be there)."""
        import zipfile
        with zipfile.ZipFile(self.ours()) as zf:
            text = zf.read(module).decode("utf-8")
        assert old in text, f"{old!r} is not in {module}"
        return {module: text.replace(old, new, 1).encode("utf-8")}


class Screen:
    def __init__(self, root: Path, server: str, root_key: str, trial: float = 8, ready: float = 10) -> None:
        self.root = root
        self.layout = Layout.under(root)
        self.install = self.layout.install
        self.run = root / "run" / "kiosk"
        self.install.mkdir(parents=True)
        (self.install / "playlists").mkdir()
        (self.install / "playlists" / "main.yaml").write_text(PLAYLIST, encoding="utf-8")
        self.config = self.install / "kiosk.yaml"
        self.config.write_text(KIOSK % {"server": server, "root": root_key, "trial": trial, "ready": ready},
                               encoding="utf-8")
        self.state = self.install / "state"
        self.area = area_of(self.state)
        self.supervisor: subprocess.Popen[bytes] | None = None
        self.log = root / "supervisor.log"

    # --- the updater, run from the committed version as kiosk-update.service does -------------------------------

    def python(self) -> str:
        committed = self.layout.version_of(self.layout.committed)
        return str(self.layout.python(committed)) if committed else sys.executable

    def updater_command(self, *args: str) -> list[str]:
        return [self.python(), "-P", "-m", "updater", "--root", str(self.root), "--services", "supervisor",
                "--run", str(self.run), "--python", sys.executable, "--user", getpass.getuser(), *args]

    def updater(self, *args: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
        env = dict(os.environ)
        env.pop("PYTHONPATH", None)
        return subprocess.run(self.updater_command(*args), capture_output=True, text=True, timeout=timeout, env=env,
                              cwd=self.root)

    def seed(self, house: Path) -> None:
        env = dict(os.environ, PYTHONPATH=str(REPO))
        done = subprocess.run([sys.executable, "-m", "updater", "--root", str(self.root), "--python", sys.executable,
                               "seed", "--wheelhouse", str(house)], capture_output=True, text=True, timeout=300,
                              env=env, cwd=REPO)
        assert done.returncode == 0, done.stderr

    # --- the player under the stand-in supervisor ---------------------------------------------------------------

    def start(self) -> None:
        player = (f'exec "$(readlink -f {self.layout.current})/venv/bin/python" -P -m player --config {self.config} '
                  "run --headless")
        env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "NOTIFY_SOCKET", "WATCHDOG_USEC")}
        env.update(SDL_VIDEODRIVER="dummy", SDL_AUDIODRIVER="dummy", PYGAME_HIDE_SUPPORT_PROMPT="1")
        # From the committed version (never this checkout: the player must run the code of the version
        # `current` points at, so no PYTHONPATH may reach it).
        with self.log.open("ab") as out:
            self.supervisor = subprocess.Popen(
                [self.python(), "-P", "-m", "updater.supervisor", "--run", str(self.run), "--restart-sec", "1",
                 "--watchdog-sec", "20", "--", "/bin/sh", "-c", player],
                cwd=self.install, env=env, stdout=out, stderr=out)

    def stop(self) -> None:
        if self.supervisor is not None and self.supervisor.poll() is None:
            self.supervisor.send_signal(signal.SIGTERM)
            try:
                self.supervisor.wait(30)
            except subprocess.TimeoutExpired:
                self.supervisor.kill()

    def status(self) -> dict[str, object]:
        return read_small_json(self.run / "status.json")

    def playing(self) -> dict[str, object]:
        return read_small_json(self.state / "now-playing.json")

    def wait_playing(self, timeout: float = 60) -> dict[str, object]:
        """READY from the player, and its own now-playing line naming a real item."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            status, playing = self.status(), self.playing()
            if status.get("ready") and playing.get("pid") == status.get("pid") and playing.get("item") not in (None, "_fallback"):
                return playing
            time.sleep(0.2)
        raise AssertionError(f"the screen is not playing after {timeout} s: {self.status()} {self.playing()}\n"
                             + self.log.read_text(errors="replace")[-3000:])

    def wait_ready_release(self, version: str, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if read_small_json(self.area.ready).get("version") == version:
                return
            time.sleep(0.2)
        raise AssertionError(f"release {version} never became ready: {self.area.client()}")

    def running_from(self) -> str:
        """The release folder of the running player's Python (its command line, as exec'd)."""
        pid = self.status().get("pid")
        return Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")[0].decode() if pid else ""

    def current(self) -> str | None:
        return self.layout.version_of(self.layout.current)

    def committed(self) -> str | None:
        return self.layout.version_of(self.layout.committed)

    def outcome(self) -> dict[str, object]:
        return read_small_json(self.layout.status)

    def proof_gaps(self, since: datetime) -> list[float]:
        """Seconds between one proof-of-play line's end and the next one's start, for lines after `since`."""
        lines = []
        for raw in (self.state / "proof-of-play.jsonl").read_text(encoding="utf-8").splitlines():
            line = json.loads(raw)
            start = datetime.fromisoformat(line["start"])
            if start >= since:
                lines.append((start, start + timedelta(seconds=float(line.get("actual") or 0))))
        lines.sort()
        return [(b[0] - a[1]).total_seconds() for a, b in zip(lines, lines[1:])]


# --- kill -9 of the updater at named steps -------------------------------------------------------------------

POINTS_BEFORE_SWITCH = ["copied", "ratcheted", "venv", "pip", "installed", "checked", "complete", "trial-recorded",
                        "swapped"]
POINTS_AFTER_SWITCH = ["restarted", "committing"]


def kill_at(screen: Screen, point: str, timeout: float = 300) -> None:
    """Run `updater apply` until it reaches `point` (where it stops itself), then kill -9 it and all it started."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env["KIOSK_UPDATE_STOP_AT"] = point
    process = subprocess.Popen(screen.updater_command("apply"), env=env, cwd=screen.root, start_new_session=True,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"the updater ended before {point}: {process.stdout.read().decode()[-2000:]}")
        try:
            state = Path(f"/proc/{process.pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            state = ""
        if state == "T":
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
            return
        time.sleep(0.05)
    os.killpg(process.pid, signal.SIGKILL)
    raise AssertionError(f"the updater did not reach {point} in {timeout} s")


def boot(screen: Screen) -> str:
    """What a power cut ends with: the boot check, then the player started again; it must play."""
    done = screen.updater("boot")
    assert done.returncode == 0, done.stderr
    current = screen.current()
    assert screen.layout.is_complete(current), f"current -> {current} is not a complete version"
    old = screen.status().get("invocation")
    os.kill(int((screen.run / "supervisor.pid").read_text()), signal.SIGHUP)
    deadline = time.monotonic() + 30
    while screen.status().get("invocation") == old and time.monotonic() < deadline:
        time.sleep(0.1)
    screen.wait_playing()
    return done.stdout.strip()


def kill_drill(screen: Screen, channel: SoftwareChannel, before: list[str], after: list[str], tag: str) -> list[str]:
    """Kill the updater at each point of `before` on one release, and of `after` on the next; returns what boot said."""
    said = []
    first, second = f"91.{tag}.0", f"91.{tag}.1"
    channel.publish(first)
    screen.wait_ready_release(first)
    for point in before:
        kill_at(screen, point)
        said.append(f"{point}: {boot(screen)}")
    done = screen.updater("apply")
    assert done.stdout.strip() == f"committed {first}", done.stdout + done.stderr
    channel.publish(second)
    screen.wait_ready_release(second)
    for point in after:
        kill_at(screen, point)
        said.append(f"{point}: {boot(screen)}")
    if screen.committed() != second:  # the last kill came before the commit was written: the trial goes on
        done = screen.updater("apply")
        assert done.stdout.strip() == f"committed {second}", done.stdout + done.stderr
    assert screen.current() == screen.committed() == second
    return said
