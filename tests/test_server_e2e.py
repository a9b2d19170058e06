"""End to end with the central server: staff publish and post a notice with the real commands; a headless player
follows the channel, shows the notice over everything, reports heartbeats and a screenshot, and uploads its proof."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pygame
import pytest
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat

from player.notices import COLORS
from sync.keys import public_text
from sync.notice import build_notice
from sync.upload import seal_notice
from tests.conftest import REPO, make_screen
from tests.server_rig import Rig, start_rig

pytestmark = pytest.mark.slow  # real server, player and sync processes for tens of seconds

ENV = dict(os.environ, PYTHONPATH=str(REPO), SDL_VIDEODRIVER="dummy", SDL_AUDIODRIVER="dummy")


def wait_for(condition, seconds: float = 20.0):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.1)
    return None


def publish(rig: Rig, tmp: Path, title: str) -> subprocess.CompletedProcess[str]:
    office = make_screen(tmp / "office", {"main.yaml": (
        "items:\n  - id: news\n    type: text\n    duration: 1.0\n"
        f"    text: {{vi: {{title: '{title}'}}, en: {{title: 'News'}}}}\n")})
    key, token = tmp / "office.key", tmp / "staff.token"
    if not key.exists():
        key.write_bytes(rig.publisher.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption()))
        token.write_text(rig.admin_token)
    return subprocess.run([sys.executable, "-m", "sync", "publish", "--channel", "gate", "--to", rig.url, "--key", str(key),
                           "--config", str(office), "--token-file", str(token)], env=ENV, capture_output=True, text=True,
                          timeout=120)


def screen_config(rig: Rig, root: Path) -> Path:
    config = make_screen(root, {"local.yaml": "items:\n  - {id: local, type: text, duration: 1.0, text: {vi: 'Tại chỗ'}}\n"})
    (root / "screen.token").write_text(rig.add_screen("kiosk-1"))
    config.write_text(config.read_text() + f'sync: {{server: "{rig.url}", channel: gate, root_key: '
                      f'"{public_text(rig.root.public_key())}", token_file: screen.token, heartbeat_seconds: 5, '
                      "screenshot_seconds: 30}\n", encoding="utf-8")
    return config


def test_publish_notice_heartbeat_screenshot_and_proof_round_trip(tmp_path, database):
    rig = start_rig(tmp_path / "server", database)
    try:
        assert publish(rig, tmp_path, "Tin mới số 1").returncode == 0
        screen = tmp_path / "screen"
        screen_config(rig, screen)
        player = subprocess.Popen([sys.executable, "-m", "player", "run", "--headless", "--seconds", "90"], cwd=screen,
                                  env=ENV, stderr=subprocess.PIPE, text=True)
        staff = rig.staff()
        seen = wait_for(lambda: [s for s in staff.get(f"{rig.url}/api/screens").json()
                                 if (s["heartbeat"] or {}).get("generation") == 1])
        assert seen and seen[0]["online"] and seen[0]["heartbeat"]["version"]

        second = publish(rig, tmp_path, "Tin mới số 2")
        assert second.returncode == 0, second.stderr
        state = screen / "state" / "store" / "state.json"
        assert wait_for(lambda: json.loads(state.read_text()).get("generation") == 2, 10)

        now = datetime.now(timezone.utc).replace(microsecond=0)
        notice = build_notice("gate-closed-01", "urgent", [("vi", "Cổng tạm đóng"), ("en", "Gate closed")], ["gate"], [],
                              now, now + timedelta(minutes=10))
        staff.post(f"{rig.url}/api/notices", data=seal_notice(notice, rig.publisher)).raise_for_status()
        notices = screen / "state" / "store" / "notices.json"
        assert wait_for(lambda: notices.exists() and "gate-closed-01" in notices.read_text(), 10)
        asked = time.time()
        staff.post(f"{rig.url}/api/screens/kiosk-1/screenshot-request").raise_for_status()
        shot = wait_for(lambda: _screenshot_after(rig, asked), 25)
        assert shot is not None, "no screenshot after the request"
        picture = pygame.image.load(io.BytesIO(shot))
        middle = picture.get_at((picture.get_width() // 2, picture.get_height() - 6))[:3]
        assert all(abs(a - b) < 30 for a, b in zip(middle, COLORS["urgent"])), middle  # the notice covers the screen
        staff.delete(f"{rig.url}/api/notices/gate-closed-01").raise_for_status()
        assert wait_for(lambda: "gate-closed-01" not in notices.read_text(), 10)
        time.sleep(1.0)  # the board notices the clearing within a quarter second and writes the notice's proof line
        player.terminate()  # as systemd stops it: the frame ends, the last proof lines are written
        _, log = player.communicate(timeout=90)
        assert player.returncode == 0, log[-3000:]
        assert "showing urgent notice gate-closed-01" in log

        local = [json.loads(line) for line in (screen / "state" / "proof-of-play.jsonl").read_text().splitlines()]
        uploaded_before_exit = wait_for(lambda: _proof_rows(rig), 5) or []
        assert {row["id"] for row in uploaded_before_exit} <= {line["id"] for line in local}
        assert len(uploaded_before_exit) == len({row["id"] for row in uploaded_before_exit})  # none counted twice
        assert any(row["item"] == "news" for row in uploaded_before_exit)
        assert any(line["item"] == "notice:gate-closed-01" for line in local)  # the notice's own proof line
    finally:
        rig.stop()


def test_a_notice_survives_a_restart_without_the_server(tmp_path, database):
    rig = start_rig(tmp_path / "server", database)
    screen = tmp_path / "screen"
    screen_config(rig, screen)
    now = datetime.now(timezone.utc).replace(microsecond=0)
    notice = build_notice("queue-info-01", "warning", [("vi", "Quầy 3 đã mở"), ("en", "Counter 3 is open")], ["gate"], [],
                          now, now + timedelta(minutes=10))
    rig.staff().post(f"{rig.url}/api/notices", data=seal_notice(notice, rig.publisher)).raise_for_status()
    first = subprocess.Popen([sys.executable, "-m", "player", "run", "--headless", "--seconds", "6"], cwd=screen, env=ENV,
                             stderr=subprocess.PIPE, text=True)
    _, log = first.communicate(timeout=60)
    assert "showing warning notice queue-info-01" in log
    rig.stop()  # the link is down from here on
    again = subprocess.Popen([sys.executable, "-m", "player", "run", "--headless", "--seconds", "4"], cwd=screen, env=ENV,
                             stderr=subprocess.PIPE, text=True)
    _, log = again.communicate(timeout=60)
    assert again.returncode == 0 and "showing warning notice queue-info-01" in log


def _screenshot_after(rig: Rig, when: float) -> bytes | None:
    listed = rig.staff().get(f"{rig.url}/api/screens").json()
    taken = listed[0]["screenshot_at"] if listed else None
    if not taken or datetime.fromisoformat(taken).timestamp() < when - 1:
        return None
    return rig.staff().get(f"{rig.url}/api/screens/kiosk-1/screenshot").content


def _proof_rows(rig: Rig) -> list[dict[str, str]]:
    text = rig.staff().get(f"{rig.url}/api/proof.csv").text
    return list(csv.DictReader(io.StringIO(text)))
