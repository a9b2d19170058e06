"""The trial's verdicts (pure) and what systemd's `show` says about the player."""

from __future__ import annotations

import pytest

from updater.services import PlayerState, parse_show
from updater.state import Trial
from updater.trial import Evidence, Watch, judge

TRIAL = Trial("0.3.0", "0.2.0", 7, "2026-11-27T03:00:00+07:00", 0, server_answered=True, needs_heartbeat=True,
              had_item=True)
OLD = PlayerState("old", True, 0, 10)
NEW = PlayerState("new", True, 0, 11)


def look(elapsed, player=NEW, item="hours", answered=True, heartbeat=True):
    return Evidence(elapsed, player, item, answered, heartbeat)


def run(looks, trial=TRIAL, stale="old"):
    watch = Watch(stale)
    verdict = None
    for seen in looks:
        verdict = judge(trial, watch, seen, trial_seconds=600, ready_seconds=90)
        watch = verdict.watch
        if verdict.action != "watch":
            break
    return verdict


@pytest.mark.parametrize("looks, action, reason", [
    ([look(1, OLD), look(5), look(300), look(606)], "commit", "ran well"),
    ([look(1, OLD), look(91, PlayerState("new", False, 0, 11))], "rollback", "no READY from 0.3.0 within 90 s"),
    ([look(1, OLD), look(89, OLD), look(91, OLD)], "rollback", "no READY"),  # the old run's READY does not count
    ([look(1, PlayerState("new", False, 3, None, "exit status 3")), look(95, PlayerState("new2", False, 5, None,
      "exit status 3"))], "rollback", "(exit status 3)"),
    ([look(5), look(200, PlayerState("new", True, 1, 11, "watchdog, exit status 6"))], "rollback", "restarted during"),
    ([look(5), look(200, PlayerState("newer", True, 0, 12))], "rollback", "restarted during"),
    ([look(5), look(606, item="_fallback")], "rollback", "only the fallback slide"),
    ([look(5), look(606, item=None)], "rollback", "only the fallback slide"),
    ([look(5), look(606, answered=False)], "rollback", "did not reach the server"),
    ([look(5), look(606, heartbeat=False)], "rollback", "no heartbeat"),
])
def test_verdicts(looks, action, reason):
    verdict = run(looks)
    assert verdict.action == action and reason in verdict.reason


def test_what_the_old_version_did_not_do_is_not_asked_of_the_new():
    quiet = Trial("0.3.0", "0.2.0", 7, "2026-11-27T03:00:00+07:00")
    assert run([look(5, item="_fallback", answered=False, heartbeat=False), look(606, item="_fallback",
                answered=False, heartbeat=False)], quiet).action == "commit"


def test_a_resumed_trial_accepts_the_run_it_finds():
    assert run([look(5, OLD), look(606, OLD)], stale=None).action == "commit"


def test_systemd_show():
    text = ("InvocationID=4d1c\nActiveState=active\nSubState=running\nNRestarts=2\nMainPID=812\n"
            "Result=success\nExecMainStatus=0\n")
    assert parse_show(text) == PlayerState("4d1c", True, 2, 812, "")
    starting = parse_show("InvocationID=9\nActiveState=activating\nSubState=start\nNRestarts=3\nMainPID=0\n"
                          "Result=watchdog\nExecMainStatus=6\n")
    assert starting == PlayerState("9", False, 3, None, "watchdog, exit status 6")


def test_no_switch_under_an_urgent_notice_or_during_a_touch_visit(tmp_path):
    import json
    from datetime import datetime, timedelta, timezone

    from updater.busy import busy_reason

    now = datetime(2026, 11, 27, 3, 0, tzinfo=timezone(timedelta(hours=7)))
    notices, proof = tmp_path / "notices.json", tmp_path / "proof-of-play.jsonl"
    assert busy_reason(notices, proof, now, 60) is None
    notices.write_text(json.dumps({"notices": [{"id": "n1", "level": "urgent", "expires": (now + timedelta(hours=1)).isoformat()}]}))
    assert "urgent notice" in str(busy_reason(notices, proof, now, 60))
    notices.write_text(json.dumps({"notices": [{"id": "n1", "level": "urgent", "expires": (now - timedelta(hours=1)).isoformat()}]}))
    view = {"kind": "touch", "start": (now - timedelta(seconds=20)).isoformat(), "seconds": 8, "ended": "page"}
    proof.write_text(json.dumps({"item": "hours"}) + "\n" + json.dumps(view) + "\n")
    assert "visitor" in str(busy_reason(notices, proof, now, 60))
    proof.write_text(json.dumps(dict(view, ended="idle")) + "\n")
    assert busy_reason(notices, proof, now, 60) is None
    proof.write_text(json.dumps(dict(view, start=(now - timedelta(minutes=10)).isoformat())) + "\n")
    assert busy_reason(notices, proof, now, 60) is None
