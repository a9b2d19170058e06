"""`player run` in touch mode is locked down: QUIT, Escape and Alt+F4 do nothing, SIGTERM stops it, staff exit with 64.

Each test runs the real entry point in a child process; a thread there posts the events an X server,
a keyboard or a touch panel would (SDL's event queue takes events from any thread).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from player.touch.lockdown import hash_pin
from tests.conftest import REPO, make_screen

POKE = """\
import sys, threading, time
import pygame
from pathlib import Path
from player.app import run
from player.config import load_config
from player.touch.layout import Layout

config = load_config(Path("kiosk.yaml"))
w, h = config.display.canvas

def tap(x, y):
    for kind in (pygame.FINGERDOWN, pygame.FINGERUP):
        pygame.event.post(pygame.event.Event(kind, x=x / w, y=y / h, dx=0.0, dy=0.0, finger_id=1, touch_id=1, pressure=1.0))
    time.sleep(0.12)

def poke():
    time.sleep(2.0)
    pygame.event.post(pygame.event.Event(pygame.QUIT))
    pygame.event.post(pygame.event.Event(pygame.KEYDOWN, key=pygame.K_ESCAPE, mod=0, unicode="\\x1b", scancode=41))
    pygame.event.post(pygame.event.Event(pygame.KEYDOWN, key=pygame.K_F4, mod=pygame.KMOD_LALT, unicode="", scancode=61))
    if sys.argv[1] == "exit":
        time.sleep(0.5)
        for _ in range(5):
            tap(4, 4)
        time.sleep(1.0)
        keys = dict(Layout(config.display.canvas, config.display.px_per_mm, config.languages).keypad()[2])
        for label in "2468":
            tap(*keys[label].center)
        tap(*keys["ok"].center)

threading.Thread(target=poke, daemon=True).start()
start = time.monotonic()
status = run(config, seconds=float(sys.argv[2]), headless=True)
print(f"{status} {time.monotonic() - start:.1f}")
sys.exit(status)
"""

def screen(root: Path, touch: bool) -> dict[str, str]:
    config = make_screen(root, {"main.yaml": "items:\n  - {id: a, type: text, duration: 3, text: {vi: {title: Chào}}}\n"})
    (root / "playlists" / "browse.yaml").write_text(
        "topics:\n  - {id: t, title: {vi: Hải quan}, pages: [{id: p, type: text, text: {vi: Khai báo}}]}\n", encoding="utf-8")
    with config.open("a", encoding="utf-8") as out:
        out.write(f"touch: {{enabled: {str(touch).lower()}, exit_pin_hash: '{hash_pin('2468', iterations=1000)}'}}\n")
    (root / "poke.py").write_text(POKE, encoding="utf-8")
    return dict(os.environ, SDL_VIDEODRIVER="dummy", SDL_AUDIODRIVER="dummy", PYTHONPATH=str(REPO))

def poke(root: Path, mode: str, seconds: float) -> tuple[int, float]:
    env = screen(root, mode != "signage")
    result = subprocess.run([sys.executable, "poke.py", mode, str(seconds)], cwd=root, env=env, capture_output=True,
                            text=True, timeout=60)
    status, took = result.stdout.split()[-2:]
    return int(status), float(took)

def test_a_signage_screen_quits_on_window_close(tmp_path):
    status, took = poke(tmp_path, "signage", 8)
    assert status == 0 and took < 5

@pytest.mark.slow  # a player process for seconds
def test_a_touch_kiosk_ignores_window_close_escape_and_alt_f4(tmp_path):
    status, took = poke(tmp_path, "touch", 5)
    assert status == 0 and took >= 5, "something a visitor can do ended the program"

@pytest.mark.slow  # a player process for seconds
def test_the_staff_exit_ends_the_program_with_status_64(tmp_path):
    status, took = poke(tmp_path, "exit", 30)
    assert status == 64 and took < 20
    lines = [json.loads(line) for line in (tmp_path / "state" / "proof-of-play.jsonl").read_text().splitlines()]
    assert any(line.get("kind") == "touch" and line["ended"] == "exit" for line in lines)

def test_sigterm_still_stops_a_touch_kiosk(tmp_path):
    env = screen(tmp_path, True)
    proc = subprocess.Popen([sys.executable, "-m", "player", "run", "--headless"], cwd=tmp_path, env=env,
                            stderr=subprocess.PIPE, text=True)
    assert proc.stderr is not None
    for line in proc.stderr:
        if "first frame" in line:
            break
    time.sleep(1.0)
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=10) == 0

def test_the_service_unit_agrees_on_the_staff_exit_status():
    from player.touch.kiosk import STAFF_EXIT
    unit = (REPO / "deploy" / "kiosk-player.service").read_text(encoding="utf-8")
    assert f"RestartPreventExitStatus={STAFF_EXIT}" in unit and f"SuccessExitStatus={STAFF_EXIT}" in unit
