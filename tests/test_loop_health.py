"""What a screen says about its own playback: a broken file logged once (and once when it plays again),
its skips counted, and video frames shown and dropped, in proof of play, `player status` and the heartbeat."""

from __future__ import annotations

import logging
import time
from datetime import timedelta
from pathlib import Path

import pygame
import pytest
from PIL import Image

from player.config import load_config
from player.loop import SKIP_RETRY_SECONDS
from player.proof import read_proof
from player.screen import Screen, build_screen
from player.status import read_json, status_lines
from sync.fleet import screen_facts
from sync.layout import StateFolder
from tests.conftest import at, make_screen
from tools import make_test_clips as clips

PLAYLIST = """\
items:
  - {id: hours, type: text, duration: 1, transition: {type: cut}, text: {vi: {title: "Giờ mở cửa"}}}
  - {id: photo, type: image, duration: 1, transition: {type: cut}, media: river.jpg, text: {vi: {title: "Sông"}}}
"""


def screen_with_broken_photo(tmp_path: Path) -> Screen:
    config = make_screen(tmp_path, {"main.yaml": PLAYLIST}, size=(320, 180), width_mm=300, images={})
    (tmp_path / "media" / "river.jpg").write_bytes(b"not a jpeg at all")
    with config.open("a", encoding="utf-8") as out:
        out.write("overlays: {clock: false, ticker: false}\n")
    return build_screen(load_config(config), at("2026-11-27 09:00"))


def run_virtual(screen: Screen, until: float, mono: float, step: float = 7.0) -> float:
    """Frames on a sped-up monotonic clock (`step` seconds a frame), with real time between them for the preparer."""
    target = pygame.Surface((320, 180))
    while mono < until:
        screen.frame(target, mono, screen.now, step)
        time.sleep(0.01)  # the preparer thread, not the loop, decodes and draws the next slot
        mono += step
        screen.now = screen.now + timedelta(seconds=step)
    return mono


@pytest.mark.slow
def test_a_broken_file_logs_once_is_counted_each_time_and_logs_once_more_when_it_plays_again(tmp_path, caplog):
    screen = screen_with_broken_photo(tmp_path)
    caplog.set_level(logging.INFO, logger="player")
    mono = 1000.0
    try:
        screen.start(mono)
        mono = run_virtual(screen, mono + 5 * SKIP_RETRY_SECONDS, mono)
        health = screen.loop.health(mono)
        errors = [r for r in caplog.records if r.levelno >= logging.ERROR and "main/photo" in r.getMessage()]
        assert len(errors) == 1, [r.getMessage() for r in errors]  # not one every 10 minutes
        assert health.skips >= 5 and [key for key, _ in health.broken] == ["main/photo"]
        assert "river.jpg" in health.broken[0][1]

        Image.new("RGB", (320, 180), (30, 140, 70)).save(tmp_path / "media" / "river.jpg", "JPEG")  # sync fixed it
        mono = run_virtual(screen, mono + 2 * SKIP_RETRY_SECONDS, mono)
        again = [r for r in caplog.records if "main/photo plays again" in r.getMessage()]
        assert len(again) == 1
        assert screen.loop.health(mono).broken == ()
    finally:
        screen.close(mono)
    skipped = [line for line in read_proof(tmp_path / "state" / "proof-of-play.jsonl") if line["status"] == "skipped"]
    assert len(skipped) == health.skips  # each skip still has its proof line


def test_player_status_and_the_heartbeat_tell_the_skips_and_the_broken_file(tmp_path):
    screen = screen_with_broken_photo(tmp_path)
    mono = 1000.0
    try:
        screen.start(mono)
        mono = run_virtual(screen, mono + 3 * SKIP_RETRY_SECONDS, mono)
    finally:
        screen.close(mono)
    state = StateFolder(tmp_path / "state")
    playing = read_json(state.now_playing)
    assert playing["skips"] >= 3 and playing["broken"][0].startswith("main/photo: ")
    status = "\n".join(status_lines(load_config(tmp_path / "kiosk.yaml")))
    assert f"skipped      {playing['skips']} slot(s)" in status
    assert "broken now   main/photo: " in status and "river.jpg" in status
    facts = screen_facts(state.path, state.store.root, time.monotonic(), "0.1.0", lambda: at("2026-11-27 10:00"))
    assert facts["skips"] == playing["skips"] and facts["broken"] == playing["broken"]


def test_a_clip_shown_on_a_slow_screen_counts_its_frames_shown_and_dropped(tmp_path):
    playlist = ("items:\n  - {id: hello, type: text, duration: 1, transition: {type: cut}, text: {vi: 'Xin chào'}}\n"
                "  - {id: clip, type: video, media: clip.mp4, transition: {type: cut}}\n")
    config = make_screen(tmp_path, {"main.yaml": playlist}, size=(320, 180), width_mm=300)
    clips.make_h264_mp4(tmp_path / "media", seconds=2.0).rename(tmp_path / "media" / "clip.mp4")
    with config.open("a", encoding="utf-8") as out:
        out.write("overlays: {clock: false, ticker: false}\n")
    screen = build_screen(load_config(config), at("2026-11-27 09:00"))
    mono = 1000.0
    try:
        screen.start(mono)
        # 0.1 s a frame: a 30 fps clip offers three pictures a frame, so two of each three are dropped
        mono = run_virtual(screen, mono + 8.0, mono, step=0.1)
        health = screen.loop.health(mono)
    finally:
        screen.close(mono)
    lines = [line for line in read_proof(tmp_path / "state" / "proof-of-play.jsonl") if line["item"] == "clip"]
    assert lines and lines[0]["status"] == "completed"
    first = lines[0]
    assert 10 <= first["frames_shown"] <= 25 and first["frames_dropped"] >= 25
    assert 55 <= first["frames_shown"] + first["frames_dropped"] <= 61  # 2 s at 30 fps: every frame accounted for
    slides = [line for line in read_proof(tmp_path / "state" / "proof-of-play.jsonl") if line["item"] == "hello"]
    assert "frames_shown" not in slides[0]  # a slide's line has no frame counts
    assert health.frames_shown >= first["frames_shown"] and health.frames_dropped >= first["frames_dropped"]
