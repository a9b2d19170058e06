"""kiosk.yaml's `update` section: every key checked with file and line, and when a screen may switch versions."""

from __future__ import annotations

import pytest

from player.config import load_config
from player.errors import ContentError
from tests.conftest import at

UPDATE = """\
screen: {id: gate-1}
sync: {server: "http://127.0.0.1:1/", channel: gate, root_key: "%s"}
update:
%s
"""
ROOT_KEY = "A" * 43 + "="


@pytest.mark.parametrize("section, problem", [
    ("  channel: pilot", None),
    ("  window: any", None),
    ("  window: [\"01:00-04:00\", \"13:00-13:30\"]", None),
    ("  window: \"25:00-26:00\"", "update.window"),
    ("  window: []", "empty list"),
    ("  channel: Stable!", "lower-case"),
    ("  trial_seconds: 1", "at least 5"),
    ("  colour: red", "unknown key"),
])
def test_the_update_section(tmp_path, section, problem):
    path = tmp_path / "kiosk.yaml"
    path.write_text(UPDATE % (ROOT_KEY, section), encoding="utf-8")
    if problem is None:
        assert load_config(path).update is not None
    else:
        with pytest.raises(ContentError) as caught:
            load_config(path)
        assert problem in "\n".join(str(p) for p in caught.value.problems)
        assert "line" in str(caught.value.problems[0]) or ":" in str(caught.value.problems[0])


def test_update_needs_sync(tmp_path):
    path = tmp_path / "kiosk.yaml"
    path.write_text("screen: {id: gate-1}\nupdate: {channel: stable}\n", encoding="utf-8")
    with pytest.raises(ContentError, match="needs a `sync` section"):
        load_config(path)


@pytest.mark.parametrize("window, power, moment, allowed", [
    ("", "", "2026-11-27 03:00", True),  # no power schedule: 02:00-05:00
    ("", "", "2026-11-27 09:00", False),
    ("", "power: {on: [{times: [\"06:00-22:00\"]}]}\n", "2026-11-27 23:00", True),  # panel off
    ("", "power: {on: [{times: [\"06:00-22:00\"]}]}\n", "2026-11-27 03:00", True),
    ("", "power: {on: [{times: [\"06:00-22:00\"]}]}\n", "2026-11-27 12:00", False),
    ("  window: any\n", "", "2026-11-27 12:00", True),
    ("  window: \"12:00-12:30\"\n", "", "2026-11-27 12:10", True),
    ("  window: \"12:00-12:30\"\n", "", "2026-11-27 03:00", False),
])
def test_when_a_screen_may_switch(tmp_path, window, power, moment, allowed):
    path = tmp_path / "kiosk.yaml"
    path.write_text(UPDATE % (ROOT_KEY, window or "  channel: stable\n") + power, encoding="utf-8")
    config = load_config(path)
    assert config.update is not None
    assert config.update.may_switch(config.power.on, at(moment)) is allowed


def test_the_demo_kiosk_yaml_shows_a_valid_update_section(tmp_path):
    from tests.conftest import REPO
    text = (REPO / "kiosk.yaml").read_text(encoding="utf-8")
    commented = text[text.index("# update:"):].splitlines()
    section = "\n".join(line[2:] for line in commented if line.startswith("# "))
    path = tmp_path / "kiosk.yaml"
    path.write_text((UPDATE % (ROOT_KEY, "  channel: stable")).split("update:")[0] + section + "\n", encoding="utf-8")
    update = load_config(path).update
    assert update is not None and update.trial_seconds == 600 and update.window is not None
