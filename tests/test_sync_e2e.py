"""End to end on one machine: staff publish with the real commands, a static host serves the folder,
and a headless player with a sync section switches to the new content at an item boundary."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import REPO, make_screen
from tests.static_host import StaticHost

pytestmark = pytest.mark.slow  # real player and sync processes for tens of seconds


def sync_cli(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, PYTHONPATH=str(REPO), SDL_VIDEODRIVER="dummy")
    return subprocess.run([sys.executable, "-m", "sync", *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=120)


def office_content(root: Path, title: str) -> Path:
    items = (f"items:\n  - id: news\n    type: text\n    duration: 0.7\n"
             f"    text: {{vi: {{title: '{title}'}}, en: {{title: 'News'}}}}\n")
    return make_screen(root, {"main.yaml": items})


def test_published_content_reaches_a_playing_screen(tmp_path):
    keys, dest = tmp_path / "keys", tmp_path / "published"
    keys.mkdir()
    assert sync_cli("keygen", "--name", "root", "--out", str(keys), cwd=tmp_path).returncode == 0
    assert sync_cli("keygen", "--name", "office", "--out", str(keys), cwd=tmp_path).returncode == 0
    signed = sync_cli("sign-publishers", "--root", str(keys / "root.key"), "--channel", "gate", "--to", str(dest),
                      "--version", "1", "--add", f"office={keys / 'office.pub'}", cwd=tmp_path)
    assert signed.returncode == 0, signed.stderr
    office = office_content(tmp_path / "office", "Tin mới số 1")
    first = sync_cli("publish", "--channel", "gate", "--to", str(dest), "--key", str(keys / "office.key"),
                     "--config", str(office), cwd=tmp_path)
    assert first.returncode == 0, first.stderr

    screen = tmp_path / "screen"
    config = make_screen(screen, {"local.yaml": "items:\n  - {id: local, type: text, duration: 0.7, text: {vi: 'Nội dung tại chỗ'}}\n"})
    root_key = (keys / "root.pub").read_text().strip()
    with StaticHost(dest) as host:
        config.write_text(config.read_text() + f'sync: {{server: "{host.url}", channel: gate, root_key: "{root_key}", '
                          "poll_seconds: 1}\n", encoding="utf-8")
        env = dict(os.environ, SDL_VIDEODRIVER="dummy", SDL_AUDIODRIVER="dummy", PYTHONPATH=str(REPO))
        player = subprocess.Popen([sys.executable, "-m", "player", "run", "--headless", "--seconds", "12"], cwd=screen,
                                  env=env, stderr=subprocess.PIPE, text=True)
        time.sleep(6)
        office_content(tmp_path / "office", "Tin mới số 2")
        second = sync_cli("publish", "--channel", "gate", "--to", str(dest), "--key", str(keys / "office.key"),
                          "--config", str(office), cwd=tmp_path)
        assert second.returncode == 0, second.stderr
        _, log = player.communicate(timeout=60)
    assert player.returncode == 0, log
    lines = [json.loads(line) for line in (screen / "state" / "proof-of-play.jsonl").read_text().splitlines()]
    items = [line["item"] for line in lines]
    assert "news" in items, log
    status = subprocess.run([sys.executable, "-m", "player", "status"], cwd=screen, env=env, capture_output=True, text=True)
    assert "gate-0000000002" in status.stdout, status.stdout + log  # the second publish reached the screen
    assert "updated" in status.stdout or "unchanged" in status.stdout
    assert "playing content generation gate-0000000002" in log
