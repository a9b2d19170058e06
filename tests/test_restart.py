"""kill -9 in the middle of playback, then a restart (what systemd does): playing again within seconds."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest

from tests.conftest import REPO, make_screen
from tests.test_cli import PLAYLIST

pytestmark = pytest.mark.slow  # a kill -9 round of the real player process


def start(cwd):  # noqa: ANN001, ANN201
    env = dict(os.environ, SDL_VIDEODRIVER="dummy", SDL_AUDIODRIVER="dummy", PYTHONPATH=str(REPO))
    began = time.monotonic()
    proc = subprocess.Popen([sys.executable, "-m", "player", "run", "--headless"], cwd=cwd, env=env,
                            stderr=subprocess.PIPE, text=True)
    for line in proc.stderr:
        if "first frame" in line:
            return proc, time.monotonic() - began
    raise AssertionError("the player never showed a first frame")


def test_after_kill_9_a_restart_plays_again_within_5_seconds(tmp_path):
    make_screen(tmp_path, {"main.yaml": PLAYLIST}, images={"river.jpg": (1280, 720)})
    proc, _ = start(tmp_path)
    time.sleep(2.5)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    before = (tmp_path / "state" / "proof-of-play.jsonl").read_text().splitlines()
    again, seconds = start(tmp_path)
    try:
        assert seconds < 5.0, f"first frame {seconds:.1f} s after the restart"
        time.sleep(1.5)
    finally:
        again.send_signal(signal.SIGTERM)
        again.wait(timeout=10)
    from player.proof import read_proof
    records = read_proof(tmp_path / "state" / "proof-of-play.jsonl")
    assert len(records) > len(before)  # it played on after the restart
    assert records[-1]["status"] == "cut" and records[-1]["reason"] == "player stopped"


def test_a_proof_line_cut_by_a_power_loss_does_not_swallow_the_next(tmp_path):
    from player.proof import Background, PlayRecord, ProofLog, read_proof
    path = tmp_path / "proof-of-play.jsonl"
    path.write_text('{"screen": "a", "item": "x"}\n{"screen": "a", "item": "cut sho', encoding="utf-8")
    writer = Background()
    ProofLog(path, writer).record(PlayRecord("a", "next", "main", "vi", "2026-11-27T09:00:00+07:00", 10.0, 10.0, "completed"))
    writer.close()
    assert [line["item"] for line in read_proof(path)] == ["x", "next"]
