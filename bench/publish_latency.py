"""Publish-to-screen and notice-to-screen times with the real pieces: the central server, a headless player and
its sync process, on loopback. One summary line per figure.

    publish_to_switch_s   the publish call returning -> the new generation switched in on the screen (target 2)
    notice_to_shown_s     the notice POST returning -> the player drawing it over everything (target 2)

    .venv/bin/python -m bench.publish_latency [--rounds 5]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

from sync.keys import public_text
from sync.layout import StateFolder
from sync.notice import build_notice
from sync.upload import seal_notice
from tests.server_rig import start_rig

REPO = Path(__file__).resolve().parent.parent

SHOWN = re.compile(r"^(\S+ \S+) WARNING player.notices: showing \w+ notice (\S+)", re.M)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    env = dict(os.environ, PYTHONPATH=str(REPO), SDL_VIDEODRIVER="dummy", SDL_AUDIODRIVER="dummy")
    with tempfile.TemporaryDirectory(prefix="publish-latency-") as tmp:
        root = Path(tmp)
        rig = start_rig(root / "server")
        try:
            rig.publish(1, {"playlists/main.yaml": playlist(1)}).raise_for_status()
            screen = root / "screen"
            (screen / "playlists").mkdir(parents=True)
            (screen / "kiosk.yaml").write_text(
                "screen: {id: bench-1}\ndisplay: {fullscreen: false, size: [960, 540], width_mm: 476}\nstate_dir: state\n"
                f'sync: {{server: "{rig.url}", channel: gate, root_key: "{public_text(rig.root.public_key())}"}}\n',
                encoding="utf-8")
            player = subprocess.Popen([sys.executable, "-m", "player", "run", "--headless", "--seconds",
                                       str(30 + 12 * args.rounds)], cwd=screen, env=env,
                                      stderr=subprocess.PIPE, text=True)
            state = StateFolder(screen / "state").store.state
            wait(lambda: generation(state) == 1, 30)
            switches, notices = [], []
            for n in range(2, 2 + args.rounds):
                rig.upload(playlist(n))
                response = rig.staff().post(f"{rig.url}/api/channels/gate/manifest",
                                            data=rig.manifest(n, {"playlists/main.yaml": playlist(n)}))
                returned = time.time()
                response.raise_for_status()
                if wait(lambda: generation(state) == n, 20):
                    switches.append(os.stat(state).st_mtime - returned)
                now = datetime.now(timezone.utc).replace(microsecond=0)
                notice = build_notice(f"bench-notice-{n:04d}", "urgent", [("vi", f"Thông báo {n}"), ("en", f"Notice {n}")],
                                      ["gate"], [], now, now + timedelta(seconds=4))
                rig.staff().post(f"{rig.url}/api/notices", data=seal_notice(notice, rig.publisher)).raise_for_status()
                notices.append((notice.id, time.time()))
                time.sleep(6)
            player.terminate()
            _, log = player.communicate(timeout=60)
        finally:
            rig.stop()
    shown = {m.group(2): parse_log_time(m.group(1)) for m in SHOWN.finditer(log)}
    delays = [shown[i] - posted for i, posted in notices if i in shown]
    report("publish_to_switch_s", switches, args.rounds)
    report("notice_to_shown_s", delays, args.rounds)
    return 0


def playlist(n: int) -> bytes:
    return f"items:\n  - {{id: news, type: text, duration: 2, text: {{vi: 'Tin số {n}'}}}}\n".encode()


def generation(state: Path) -> int | None:
    try:
        return json.loads(state.read_text(encoding="utf-8")).get("generation")  # type: ignore[no-any-return]
    except (OSError, ValueError):
        return None


def wait(condition, seconds: float) -> bool:  # noqa: ANN001
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.01)
    return False


def parse_log_time(text: str) -> float:
    return datetime.strptime(text, "%Y-%m-%d %H:%M:%S,%f").astimezone().timestamp()


def report(name: str, values: list[float], rounds: int) -> None:
    if not values:
        print(f"{name} none of {rounds} reached the screen (target <= 2)")
        return
    print(f"{name} median {statistics.median(values):.2f} max {max(values):.2f} over {len(values)} of {rounds} "
          "(target <= 2)")


if __name__ == "__main__":
    raise SystemExit(main())
