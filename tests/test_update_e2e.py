"""One screen, one real release built from this repository, and the releases that follow it in a fleet's life.

The real player runs headless under the stand-in supervisor (READY and WATCHDOG on a
real NOTIFY_SOCKET), its own sync client fetches each release from a real HTTP host,
and the real updater (from the committed version's venv, as on a screen) installs,
switches, trials and commits or rolls back. The releases after the first are the
real one with our wheel changed the way real mistakes change it.
"""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from sync.statichost import StaticHost
from tests.update_rig import Screen, SoftwareChannel, boot, build_real_release, kill_at, kill_drill

# Real releases built, installed with pip and trialled by a headless player: tens of seconds each.
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def fleet(tmp_path_factory):
    real = build_real_release()
    root = tmp_path_factory.mktemp("fleet")
    channel = SoftwareChannel(root / "dest", real)
    with StaticHost(channel.dest) as host:
        screen = Screen(root / "screen", host.url, channel.root_text)
        screen.seed(real)
        screen.start()
        try:
            yield channel, screen
        finally:
            screen.stop()


def apply(screen: Screen) -> str:
    done = screen.updater("apply")
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def test_the_real_release_switches_trials_and_commits(fleet):
    channel, screen = fleet
    first = screen.wait_playing()
    assert screen.current() == screen.committed() == channel.draft.version
    switch = datetime.now(timezone.utc)
    channel.publish("90.0.0")
    screen.wait_ready_release("90.0.0")
    outcome = apply(screen)
    assert outcome == "committed 90.0.0", outcome + screen.updater("status").stdout
    assert screen.current() == screen.committed() == "90.0.0"
    after = screen.wait_playing()
    assert after["pid"] != first["pid"]
    assert screen.running_from() == str(screen.layout.python("90.0.0"))
    assert screen.outcome()["state"] == "committed"
    assert max(screen.proof_gaps(switch)) <= 10  # no gap beyond the restart
    assert sorted(p.name for p in screen.layout.releases.iterdir() if p.is_dir()) == sorted([channel.draft.version, "90.0.0"])


@pytest.mark.parametrize("version, change, reason", [
    ("90.0.1", ("player/__main__.py", "from .cli import main", "if 'run' in __import__('sys').argv:\n"
                "    raise SystemExit(3)\nfrom .cli import main"), "no READY from 90.0.1"),
    ("90.0.2", ("player/notify.py", 'return self.send("READY=1"', 'return False and self.send("READY=1"'),
     "no READY from 90.0.2"),
    ("90.0.3", ("sync/release_follow.py", 'folder="software"', 'folder="softwares"'), "did not reach the server"),
])
def test_a_broken_release_rolls_back_by_itself(fleet, version, change, reason):
    channel, screen = fleet
    screen.wait_playing()
    before = screen.current()
    channel.publish(version, channel.patched(*change))
    screen.wait_ready_release(version)
    outcome = apply(screen)
    assert outcome.startswith(f"rolled back to {before}") and reason in outcome, outcome
    assert screen.current() == screen.committed() == before
    assert screen.outcome()["state"] == "rolled back" and reason in str(screen.outcome()["reason"])
    screen.wait_playing()
    assert not screen.layout.release_dir(version).exists()
    # Never tried again: the client does not fetch it, the updater does not take it.
    assert "failed here before" in apply(screen)


def test_a_release_that_fails_validate_is_never_switched_to(fleet):
    channel, screen = fleet
    playing = screen.wait_playing()
    before = screen.current()
    channel.publish("90.0.4", channel.patched("player/update_settings.py", '"trial_seconds", ', ""))
    screen.wait_ready_release("90.0.4")
    outcome = apply(screen)
    assert outcome.startswith("blocked:") and "player validate" in outcome and "update.trial_seconds" in outcome
    assert screen.current() == before and screen.playing()["pid"] == playing["pid"]  # not even restarted
    assert screen.outcome()["state"] == "blocked"


def test_a_power_cut_mid_trial_resumes_it_and_two_boots_without_commit_roll_back(fleet):
    channel, screen = fleet
    screen.wait_playing()
    before = screen.current()
    channel.publish("92.0.0")
    screen.wait_ready_release("92.0.0")
    kill_at(screen, "restarted")  # the new version is on trial when the power goes
    assert boot(screen) == "current 92.0.0, 92.0.0 on trial (boot 1)"
    assert screen.running_from() == str(screen.layout.python("92.0.0"))
    said = boot(screen)  # and again, before the trial could end
    assert said == f"current {before}" and screen.committed() == before
    assert screen.outcome()["state"] == "rolled back" and "two boots" in str(screen.outcome()["reason"])
    assert screen.running_from() == str(screen.layout.python(before))


def test_kill_9_of_the_updater_at_pip_the_swap_the_trial_and_the_commit(fleet):
    """After each kill, the boot check: a complete version behind `current` and the screen playing; the update
    finishes later. (`bench/update_drill.py` kills at all 11 steps.)"""
    channel, screen = fleet
    screen.wait_playing()
    said = kill_drill(screen, channel, ["pip", "swapped"], ["restarted", "committing"], "0")
    assert "on trial (boot 1)" in said[1], said  # killed after the swap: the boot counts, the trial goes on
    assert said[3].startswith("committing: current 91.0.1"), said  # killed mid-commit: finished at boot
