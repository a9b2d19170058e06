"""Video items in the running player: played once with their captions, and a broken clip never stops the loop."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from tests.conftest import REPO, make_screen
from tests.test_cli import player

sys.path.insert(0, str(REPO / "tools"))
import make_test_clips as clips  # noqa: E402

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
    broken = [line for line in lines if line["item"] == "broken"]
    assert broken and broken[0]["status"] in ("skipped", "cut") and "broken.mp4" in broken[0]["reason"]
    assert "broken.mp4" in result.stderr
    # and the loop went on: the slide after the broken clip came round again
    assert [line["item"] for line in lines].count("hello") >= 4
