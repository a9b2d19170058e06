"""Every file under tests/data/bad/ must produce the message (and line) its first comment lines promise."""

from __future__ import annotations

import re
import shutil
from datetime import date
from pathlib import Path

import pytest

from player.config import load_config
from player.touch.browse import load_menu
from player.content import load_content
from player.errors import ContentError
from player.yamlsource import parse_yaml
from tests.conftest import DATA, at

BAD = sorted((DATA / "bad").glob("*.yaml"))


def expectation(path: Path) -> tuple[str, int | None]:
    text = path.read_bytes().decode("utf-8", "replace")  # a bad file may be bad in its encoding too
    expect = re.search(r"^# expect: (.*)$", text, re.M)
    line = re.search(r"^# line: (\d+)$", text, re.M)
    assert expect, f"{path} has no '# expect:' line"
    return expect.group(1), int(line.group(1)) if line else None


def problems_of(path: Path, tmp_path: Path):
    if path.name.startswith("kiosk-"):
        try:
            load_config(path)
        except ContentError as exc:
            return exc.problems
        return []
    playlists = tmp_path / "playlists"
    playlists.mkdir()
    if path.name.startswith("browse-"):
        shutil.copy(path, playlists / "browse.yaml")
        return load_menu(playlists, ("vi", "en", "km", "zh"), lambda code: code in ("vi", "en", "km", "zh"))[1]
    if path.name.startswith("schedule-"):
        (playlists / "main.yaml").write_text("items:\n  - {id: a, type: text, text: {vi: Chào}}\n", encoding="utf-8")
        shutil.copy(path, playlists / "schedule.yaml")
    else:
        shutil.copy(path, playlists / "main.yaml")
    try:
        _, problems = load_content(playlists, tmp_path / "media", ("vi", "en", "km", "zh"),
                                   lambda code: code in ("vi", "en", "km", "zh", "fr"), at("2026-11-27 09:00"))
    except ContentError as exc:
        return exc.problems
    return problems


@pytest.mark.parametrize("path", BAD, ids=[p.stem for p in BAD])
def test_bad_input_is_named(path, tmp_path):
    message, line = expectation(path)
    problems = [p for p in problems_of(path, tmp_path) if p.severity == "error"]
    texts = [f"{p.key}: {p.message}" if p.key else p.message for p in problems]
    assert any(message in text for text in texts), f"{path.name}: wanted {message!r}, got {texts}"
    hit = next(p for p, text in zip(problems, texts) if message in text)
    assert hit.file.endswith(".yaml")
    if line is not None:
        assert hit.line == line, f"{path.name}: reported line {hit.line}, the problem is on line {line}"


def test_one_bad_item_leaves_the_rest_playing(tmp_path):
    playlists = tmp_path / "playlists"
    playlists.mkdir()
    (playlists / "main.yaml").write_text(
        "items:\n  - {id: ok, type: text, text: {vi: Chào}}\n  - {id: bad, type: text, duration: -1, text: {vi: x}}\n",
        encoding="utf-8")
    content, problems = load_content(playlists, tmp_path, ("vi",), lambda c: True, at("2026-11-27 09:00"))
    assert [i.id for i in content.playlists[0].items] == ["ok"]
    assert any("duration" in p.key for p in problems)


def test_every_problem_is_listed_at_once(tmp_path):
    config = tmp_path / "kiosk.yaml"
    config.write_text("screen: {id: 'bad id!'}\ndisplay: {rotation: 45, fps: 0}\nlanguages: {order: [kh]}\n"
                      "overlays: {clock: yes}\ntouch: {exit_taps: 2}\naudio: {volume: 3}\n", encoding="utf-8")
    with pytest.raises(ContentError) as caught:
        load_config(config)
    keys = {p.key: p.line for p in caught.value.problems}
    assert {"screen.id", "display.rotation", "display.fps", "languages.order[0]", "overlays.clock", "touch.exit_taps",
            "audio.volume"} <= set(keys)
    assert (keys["display.rotation"], keys["languages.order[0]"], keys["audio.volume"]) == (2, 3, 6)


def test_a_byte_order_mark_before_kiosk_yaml_is_not_content(tmp_path):
    config = tmp_path / "kiosk.yaml"
    config.write_bytes("\ufeffscreen: {id: gate-01}\n".encode("utf-8"))  # as Windows Notepad saves it
    assert load_config(config).screen_id == "gate-01"


def test_numbers_read_as_in_yaml_1_2_times_and_leading_zeros_stay_text():
    data = parse_yaml("a: 07:30\nb: 017\nc: 0x1F\nd: 1.5\ne: 8\nf: -2\ng: 1e3\nh: 1_000\ni: 2026-12-31\n", "t.yaml")
    assert data == {"a": "07:30", "b": "017", "c": 31, "d": 1.5, "e": 8, "f": -2, "g": 1000.0, "h": 1000,
                    "i": date(2026, 12, 31)}


@pytest.mark.parametrize("key, name", [("1", "1"), ("true", "true"), ("2026-01-01", "2026-01-01"), ("no", "no")])
def test_a_key_is_the_name_it_was_written_as(key, name):
    assert list(parse_yaml(f"{key}: x\n", "t.yaml")) == [name]
