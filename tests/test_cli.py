"""The commands as staff and installers use them: run headless, validate, preview."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pygame
import pytest

from tests.conftest import REPO, make_screen

PLAYLIST = """\
ticker: {vi: "Chào mừng quý khách", en: "Welcome"}
items:
  - id: hours
    type: text
    duration: 1
    text:
      vi: {title: "Giờ mở cửa", body: "Hằng ngày 06:00 – 22:00"}
      en: {title: "Opening hours", body: "Daily 06:00 – 22:00"}
      km: {title: "ម៉ោងបើក", body: "រៀងរាល់ថ្ងៃ 06:00 – 22:00"}
      zh: {title: "开放时间", body: "每天 06:00 – 22:00"}
  - id: photo
    type: image
    duration: 1
    media: river.jpg
    fit: fill
    text: {vi: {caption: "Rừng tràm Trà Sư"}, en: {caption: "Tra Su cajuput forest"}}
"""


def player(*args: str, cwd: Path, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, SDL_VIDEODRIVER="dummy", SDL_AUDIODRIVER="dummy", PYTHONPATH=str(REPO))
    return subprocess.run([sys.executable, "-m", "player", *args], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=timeout)


@pytest.mark.slow  # a player process for seconds
def test_headless_run_plays_and_writes_proof_of_play(tmp_path):
    make_screen(tmp_path, {"main.yaml": PLAYLIST}, images={"river.jpg": (1280, 720)})
    result = player("run", "--headless", "--seconds", "5", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    lines = [json.loads(line) for line in (tmp_path / "state" / "proof-of-play.jsonl").read_text().splitlines()]
    shown = [(line["item"], line["language"]) for line in lines]
    assert shown[:6] == [("hours", "vi"), ("hours", "en"), ("hours", "km"), ("hours", "zh"), ("photo", "vi"), ("photo", "en")][:len(shown[:6])]
    assert len(shown) >= 4
    first = lines[0]
    assert first["screen"] == "test-01" and first["playlist"] == "main" and first["status"] == "completed"
    assert first["planned"] == 1.0 and 0.9 < first["actual"] < 1.3
    assert first["start"].endswith("+07:00")
    assert (tmp_path / "state" / "clock.json").exists()


def test_run_refuses_a_bad_config_before_opening_a_window(tmp_path):
    (tmp_path / "kiosk.yaml").write_text("screen: {id: x}\ndisplay: {rotation: 45}\n", encoding="utf-8")
    result = player("run", "--headless", "--seconds", "1", cwd=tmp_path)
    assert result.returncode == 1
    assert "kiosk.yaml:2 [display.rotation]: must be one of 0, 90, 180, 270" in result.stderr


@pytest.mark.slow  # a player process for seconds
def test_a_broken_file_is_skipped_and_the_rest_plays(tmp_path):
    make_screen(tmp_path, {"main.yaml": PLAYLIST}, images={})
    (tmp_path / "media" / "river.jpg").write_bytes(b"not a jpeg at all")
    result = player("run", "--headless", "--seconds", "5", cwd=tmp_path)
    assert result.returncode == 0
    assert "river.jpg" in result.stderr and "skipping main/photo" in result.stderr
    lines = [json.loads(line) for line in (tmp_path / "state" / "proof-of-play.jsonl").read_text().splitlines()]
    assert any(line["item"] == "photo" and line["status"] == "skipped" and "river.jpg" in line["reason"] for line in lines)
    assert sum(line["status"] == "completed" for line in lines) >= 3


def test_validate_lists_every_problem_and_exits_1(tmp_path):
    bad = PLAYLIST.replace("duration: 1\n    text:", "duration: -1\n    text:", 1).replace("river.jpg", "missing.jpg")
    bad += "  - {id: more, type: text, text: {kh: 'សួស្ដី'}}\n"
    make_screen(tmp_path, {"main.yaml": bad})
    result = player("validate", cwd=tmp_path)
    assert result.returncode == 1
    out = result.stdout
    assert "[items[0] (hours).duration]: must be more than 0, not -1" in out
    assert "missing.jpg does not exist" in out
    assert "'kh' is not a language code; did you mean 'km' (Khmer)?" in out
    assert "main.yaml:" in out


def test_validate_passes_with_warnings_only(tmp_path):
    make_screen(tmp_path, {"main.yaml": PLAYLIST.replace("      zh: {title: \"开放时间\", body: \"每天 06:00 – 22:00\"}\n", "")},
                images={"river.jpg": (640, 360)})
    result = player("validate", cwd=tmp_path)
    assert result.returncode == 0, result.stdout
    assert "warning:" in result.stdout and "no zh text" in result.stdout


def test_validate_a_single_playlist_file(tmp_path):
    make_screen(tmp_path, {"main.yaml": PLAYLIST}, images={"river.jpg": (640, 360)})
    assert player("validate", "playlists/main.yaml", cwd=tmp_path).returncode == 0
    (tmp_path / "other.yaml").write_text("items: [{id: x, type: text}]\n", encoding="utf-8")
    result = player("validate", "other.yaml", cwd=tmp_path)
    assert result.returncode == 1 and "a text item needs text" in result.stdout


def test_preview_renders_each_slot_and_a_contact_sheet(tmp_path):
    make_screen(tmp_path, {"main.yaml": PLAYLIST}, images={"river.jpg": (1280, 720)})
    result = player("preview", "main", "--out", "shots", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    names = sorted(p.name for p in (tmp_path / "shots").glob("*.png"))
    assert "main-01-hours-vi.png" in names and "main-04-hours-zh.png" in names and "main-06-photo-en.png" in names
    assert "contact-sheet.png" in names and "fallback.png" in names
    shot = pygame.image.load(str(tmp_path / "shots" / "main-03-hours-km.png"))
    assert shot.get_size() == (960, 540)


@pytest.mark.slow  # a player process for seconds
def test_a_clock_behind_the_last_time_seen_is_treated_as_unset(tmp_path):
    make_screen(tmp_path, {"main.yaml": PLAYLIST}, images={"river.jpg": (640, 360)})
    (tmp_path / "state").mkdir()
    (tmp_path / "state" / "clock.json").write_text('{"last_seen": "2030-01-01T10:00:00+07:00"}', encoding="utf-8")
    result = player("run", "--headless", "--seconds", "2.5", cwd=tmp_path)
    assert result.returncode == 0
    assert "earlier than the last time seen" in result.stderr
    first = json.loads((tmp_path / "state" / "proof-of-play.jsonl").read_text().splitlines()[0])
    assert first["start"].startswith("2030-01-01T10:00")
    # The wrong wall clock (2026) is never written back: the saved time carries on from the estimate.
    saved = json.loads((tmp_path / "state" / "clock.json").read_text())["last_seen"]
    assert "2030-01-01T10:00:00" <= saved < "2030-01-01T10:01"


def test_portrait_screen_lays_out_for_the_turned_panel(tmp_path):
    config = make_screen(tmp_path, {"main.yaml": PLAYLIST}, images={"river.jpg": (1280, 720)})
    config.write_text(config.read_text().replace("display: {", "display: {rotation: 90, "), encoding="utf-8")
    result = player("preview", "main", "--out", "shots", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    shot = pygame.image.load(str(tmp_path / "shots" / "main-01-hours-vi.png"))
    assert shot.get_size() == (540, 960)  # staff see the picture upright, as travellers will
    band = pygame.transform.average_color(shot, pygame.Rect(0, 940, 540, 20))
    rest = pygame.transform.average_color(shot, pygame.Rect(0, 300, 540, 400))
    assert sum(band[:3]) < 60 and sum(rest[:3]) > sum(band[:3]) + 60  # the ticker band is at the bottom


@pytest.mark.parametrize("rotation, dark_edge", [(90, "right"), (270, "left"), (180, "top"), (0, "bottom")])
def test_the_panel_gets_the_picture_turned_against_its_mounting(rotation, dark_edge):
    from player.transitions import to_panel
    portrait = rotation in (90, 270)
    canvas = pygame.Surface((540, 960) if portrait else (960, 540))
    canvas.fill((200, 200, 200))
    width, height = canvas.get_size()
    canvas.fill((0, 0, 0), pygame.Rect(0, height - 40, width, 40))  # the ticker band, at the viewer's bottom
    panel = to_panel(canvas, rotation)
    assert panel.get_size() == (960, 540)
    edges = {"right": (955, 270), "left": (4, 270), "top": (480, 4), "bottom": (480, 535)}
    # Turning the panel clockwise by 90 puts its framebuffer's right edge at the viewer's bottom.
    assert tuple(panel.get_at(edges[dark_edge]))[:3] == (0, 0, 0)
    assert sum(1 for edge in edges.values() if tuple(panel.get_at(edge))[:3] == (0, 0, 0)) == 1


def test_sigterm_stops_cleanly_with_a_last_proof_line(tmp_path):
    import signal
    import time
    make_screen(tmp_path, {"main.yaml": PLAYLIST}, images={"river.jpg": (640, 360)})
    env = dict(os.environ, SDL_VIDEODRIVER="dummy", SDL_AUDIODRIVER="dummy", PYTHONPATH=str(REPO))
    proc = subprocess.Popen([sys.executable, "-m", "player", "run", "--headless"], cwd=tmp_path, env=env,
                            stderr=subprocess.PIPE, text=True)
    for line in proc.stderr:
        if "first frame" in line:
            break
    time.sleep(1.5)
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=10) == 0
    lines = [json.loads(line) for line in (tmp_path / "state" / "proof-of-play.jsonl").read_text().splitlines()]
    assert lines[-1]["status"] == "cut" and lines[-1]["reason"] == "player stopped"


@pytest.mark.slow  # a player process for seconds
def test_status_shows_the_last_errors(tmp_path):
    make_screen(tmp_path, {"main.yaml": PLAYLIST}, images={})
    (tmp_path / "media" / "river.jpg").write_bytes(b"broken")
    assert player("run", "--headless", "--seconds", "6", cwd=tmp_path).returncode == 0  # past the photo at 4 s
    status = player("status", cwd=tmp_path)
    assert "last errors  " in status.stdout and "river.jpg" in status.stdout
    assert "player       not running (last seen)" in status.stdout
