"""Video items in the running player: played once with their captions, and a broken clip never stops the loop."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO, make_screen
from tests.test_cli import player
from tools import make_test_clips as clips

PLAYLIST = """\
items:
  - {id: hello, type: text, duration: 0.8, text: {vi: "Xin chào", en: "Hello"}}
  - id: clip
    type: video
    media: clip.mp4
    transition: crossfade
    text: {vi: {title: "Sông nước"}, en: {title: "Rivers"}}
  - {id: broken, type: video, media: broken.mp4}
"""


def proof(root: Path) -> list[dict]:
    return [json.loads(line) for line in (root / "state" / "proof-of-play.jsonl").read_text().splitlines()]


@pytest.mark.slow  # a player process plays clips in real time
def test_a_clip_plays_once_to_its_end_between_slides(tmp_path):
    make_screen(tmp_path, {"main.yaml": PLAYLIST})
    clip = clips.make_h264_mp4(tmp_path / "media", seconds=1.5)
    clip.rename(tmp_path / "media" / "clip.mp4")
    data = (tmp_path / "media" / "clip.mp4").read_bytes()
    (tmp_path / "media" / "broken.mp4").write_bytes(data[: len(data) // 2])  # a download cut half way
    result = player("run", "--headless", "--seconds", "7", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    lines = proof(tmp_path)
    clip_lines = [line for line in lines if line["item"] == "clip"]
    assert clip_lines and clip_lines[0]["language"] == "vi+en"  # one showing, captions stacked
    assert clip_lines[0]["status"] == "completed" and 1.3 < clip_lines[0]["actual"] < 1.9
    assert clip_lines[0]["frames_shown"] + clip_lines[0]["frames_dropped"] >= 40  # 1.5 s at 30 fps, each counted
    broken = [line for line in lines if line["item"] == "broken"]
    assert broken and broken[0]["status"] in ("skipped", "cut") and "broken.mp4" in broken[0]["reason"]
    assert "broken.mp4" in result.stderr
    # and the loop went on: the slide after the broken clip came round again
    assert [line["item"] for line in lines].count("hello") >= 4


def _clip_screen(tmp_path: Path, volume: str) -> None:
    playlist = ("items:\n  - {id: hello, type: text, duration: 0.6, text: {vi: 'Xin chào'}}\n"
                f"  - {{id: clip, type: video, media: clip.mp4{volume}}}\n")
    make_screen(tmp_path, {"main.yaml": playlist})
    made = clips.make_clip(tmp_path / "media", "clip", seconds=1.5, audio="tone")
    made.rename(tmp_path / "media" / "clip.mp4")


@pytest.mark.slow  # audio timing
@pytest.mark.realtime
def test_a_clip_with_sound_on_plays_through_the_sound_device(tmp_path):
    _clip_screen(tmp_path, ", volume: 0.5")
    sound = tmp_path / "sound.raw"
    env = {"SDL_AUDIODRIVER": "disk", "SDL_DISKAUDIOFILE": str(sound)}
    result = player_with_env(env, tmp_path, "run", "--headless", "--seconds", "4")
    assert result.returncode == 0, result.stderr
    lines = proof(tmp_path)
    clip = next(line for line in lines if line["item"] == "clip")
    assert clip["status"] == "completed" and 1.3 < clip["actual"] < 2.0
    # SDL's disk driver starts its file again each time the device opens, so it holds the last play's sound: as long
    # as that play was on screen (48 kHz stereo 16-bit). How far a second play gets in 4 s is the machine's business.
    last = [line for line in lines if line["item"] == "clip"][-1]
    heard = sound.stat().st_size / (48_000 * 4)
    assert heard >= 0.5 and abs(heard - last["actual"]) < 0.3, (heard, last)


@pytest.mark.slow  # audio timing
def test_no_sound_device_plays_the_clip_silently(tmp_path):
    _clip_screen(tmp_path, ", volume: 0.5")
    result = player_with_env({"SDL_AUDIODRIVER": "nonesuch"}, tmp_path, "run", "--headless", "--seconds", "4")
    assert result.returncode == 0, result.stderr
    clip = next(line for line in proof(tmp_path) if line["item"] == "clip")
    assert clip["status"] == "completed"
    assert "sound" in result.stderr.lower()


def player_with_env(extra: dict[str, str], cwd: Path, *args: str):  # noqa: ANN201
    import os
    import subprocess
    env = dict(os.environ, SDL_VIDEODRIVER="dummy", PYTHONPATH=str(REPO), **extra)
    return subprocess.run([sys.executable, "-m", "player", *args], cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=60)


@pytest.mark.slow  # a player process plays clips in real time
def test_a_set_duration_cuts_a_clip_and_loop_repeats_it_until_then(tmp_path):
    playlist = ("items:\n  - {id: hello, type: text, duration: 0.5, text: {vi: 'Xin chào'}}\n"
                "  - {id: short, type: video, media: clip.mp4, duration: 0.6}\n"
                "  - {id: looped, type: video, media: clip.mp4, duration: 2.4, loop: true}\n")
    make_screen(tmp_path, {"main.yaml": playlist})
    clips.make_h264_mp4(tmp_path / "media", seconds=1.0).rename(tmp_path / "media" / "clip.mp4")
    result = player_with_env({}, tmp_path, "run", "--headless", "--seconds", "5")
    assert result.returncode == 0, result.stderr
    lines = {line["item"]: line for line in reversed(proof(tmp_path))}  # the first showing of each
    assert lines["short"]["status"] == "completed" and 0.5 < lines["short"]["actual"] < 0.8
    assert lines["looped"]["status"] == "completed" and 2.3 < lines["looped"]["actual"] < 2.7  # past the 1 s clip
