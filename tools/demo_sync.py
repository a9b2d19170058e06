"""The whole path on one machine: publish the demo content to a local channel, serve it, play it synced.

Keys, the published folder and the screen's state go under out/demo-sync/. Run by ./demo-sync;
extra arguments go to `python -m player run`.
"""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import datetime
from pathlib import Path

from sync.keys import read_private
from sync.publish import keygen, publish, read_public, sign_publishers
from sync.statichost import StaticHost

REPO = Path(__file__).resolve().parent.parent

CHANNEL = "demo"


def prepare(work: Path) -> Path:
    keys, channel = work / "keys", work / "channel"
    keys.mkdir(parents=True, exist_ok=True)
    for name in ("root", "office"):
        if not (keys / f"{name}.key").exists():
            keygen(name, keys)
    if not (channel / "channels" / CHANNEL / "publishers").exists():
        sign_publishers(read_private(keys / "root.key"), CHANNEL, channel, 1, [("office", read_public(keys / "office.pub"))])
    plan = publish(CHANNEL, channel, read_private(keys / "office.key"), REPO, REPO / "kiosk.yaml", datetime.now().astimezone())
    print(f"published the demo content to {channel}: generation {plan.manifest.generation}" if plan.writes_manifest
          else f"demo content already published in {channel}")
    return channel


def demo_kiosk_text() -> str:
    """The demo's kiosk.yaml with its content folders made absolute, for a screen folder elsewhere."""
    text = (REPO / "kiosk.yaml").read_text(encoding="utf-8")
    return text.replace("  playlists: playlists", f"  playlists: {REPO / 'playlists'}").replace(
        "  media: media", f"  media: {REPO / 'media'}")


def screen_config(work: Path, url: str) -> Path:
    screen = work / "screen"
    screen.mkdir(parents=True, exist_ok=True)
    root_key = (work / "keys" / "root.pub").read_text().strip()
    text = demo_kiosk_text()
    text += f'\n# Added by tools/demo_sync.py: follow the local demo channel.\nsync:\n  server: "{url}"\n  channel: {CHANNEL}\n' \
            f'  root_key: "{root_key}"\n  poll_seconds: 5\n'
    config = screen / "kiosk.yaml"
    config.write_text(text, encoding="utf-8")
    return config


def main(argv: list[str]) -> int:
    work = REPO / "out" / "demo-sync"
    channel = prepare(work)
    with StaticHost(channel) as host:
        print(f"serving {channel} at {host.url}")
        config = screen_config(work, host.url)
        run = [sys.executable, "-m", "player", "--config", str(config), "run", *argv]
        if not argv and not os.environ.get("DISPLAY") and not os.environ.get("WAYLAND_DISPLAY"):
            run += ["--headless", "--seconds", "20"]
            print("no display: playing headless for 20 s")
        code = subprocess.call(run, cwd=REPO)
        subprocess.call([sys.executable, "-m", "player", "--config", str(config), "status"], cwd=REPO)
    return code


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
