"""Screen power: on and off at set times, carried out by a command; nothing is drawn while off."""

from __future__ import annotations

import json
from datetime import datetime, timedelta

import pytest

from player.fields import Reader
from player.power import should_be_on
from player.when import parse_when
from tests.conftest import VN, at, make_screen
from tests.test_cli import PLAYLIST, player

WEEKDAYS_LATE = [{"weekdays": ["mon", "tue", "wed", "thu", "fri"], "times": ["05:30-23:30"]},
                 {"weekdays": ["sat"], "times": ["07:00-01:00"]}]


def rules(raw):
    reader = Reader("kiosk.yaml")
    out = tuple(parse_when(reader, rule, f"power.on[{i}]", 1) for i, rule in enumerate(raw))
    assert not reader.problems
    return out


@pytest.mark.parametrize("moment, on", [
    ("2026-11-27 05:29", False),  # Friday, before the panel comes on
    ("2026-11-27 05:30", True),
    ("2026-11-27 23:29", True),
    ("2026-11-27 23:30", False),
    ("2026-11-28 06:59", False),  # Saturday morning
    ("2026-11-28 23:59", True),
    ("2026-11-29 00:30", True),  # Saturday's late window runs past midnight into Sunday
    ("2026-11-29 01:00", False),
    ("2026-11-29 12:00", False),  # Sunday: off all day
])
def test_on_and_off_times(moment, on):
    assert should_be_on(rules(WEEKDAYS_LATE), at(moment)) is on


def test_no_rules_means_always_on():
    assert should_be_on((), at("2026-11-29 03:00"))


@pytest.mark.slow  # a player process for seconds
def test_the_panel_is_switched_off_by_its_command_and_nothing_is_drawn(tmp_path):
    config = make_screen(tmp_path, {"main.yaml": PLAYLIST}, images={"river.jpg": (640, 360)})
    later = datetime.now(VN) + timedelta(hours=2)  # on only in a window that has not started yet
    window = f"{later:%H}:00-{(later + timedelta(hours=1)):%H}:00"
    log = tmp_path / "panel.log"
    config.write_text(config.read_text() + (
        f"power:\n  on:\n    - {{times: [\"{window}\"]}}\n  method: command\n"
        f"  on_command: [sh, -c, \"echo on >> {log}\"]\n  off_command: [sh, -c, \"echo off >> {log}\"]\n"),
        encoding="utf-8")
    result = player("run", "--headless", "--seconds", "3", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert log.read_text().split() == ["off"]
    proof = tmp_path / "state" / "proof-of-play.jsonl"
    lines = [json.loads(line) for line in proof.read_text().splitlines()] if proof.exists() else []
    assert not [line for line in lines if line["status"] == "completed"]  # nothing was on screen to prove
    status = player("status", cwd=tmp_path)
    assert "screen power off since" in status.stdout


@pytest.mark.parametrize("yaml, message", [
    ("power: {method: hdmi}", "power.method: must be one of none, cec, vcgencmd, xset, command"),
    ("power: {method: command}", "power.method: `command` needs both on_command and off_command"),
    ("power: {on: [{times: ['25:00-26:00']}]}", "power.on[0].times[0]"),
    ("power: {on: []}", "power.on: must be a list of rules"),
])
def test_bad_power_settings_are_named(tmp_path, yaml, message):
    from player.config import load_config
    from player.errors import ContentError
    (tmp_path / "kiosk.yaml").write_text("screen: {id: gate-01}\n" + yaml + "\n", encoding="utf-8")
    with pytest.raises(ContentError) as caught:
        load_config(tmp_path / "kiosk.yaml")
    assert any(message in f"{p.key}: {p.message}" for p in caught.value.problems), caught.value.problems
