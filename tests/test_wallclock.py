"""A kiosk that boots into the past runs its schedule from the last time it saw, until the clock is set."""

from __future__ import annotations

from datetime import timedelta

from player.app import read_last_seen, write_last_seen
from player.wallclock import schedule_now, skew_seconds, start_trust
from tests.conftest import at

LAST = at("2026-11-27 18:00")


def test_a_sane_clock_is_trusted():
    trust = start_trust(at("2026-11-27 18:05"), 100.0, LAST)
    assert trust.trusted
    assert schedule_now(trust, at("2026-11-27 18:06"), 160.0)[0] == at("2026-11-27 18:06")


def test_first_boot_without_a_saved_time_trusts_the_clock():
    assert start_trust(at("1970-01-01 07:00"), 5.0, None).trusted


def test_a_clock_in_the_past_runs_from_the_last_time_seen_plus_time_since_boot():
    booted = at("2000-01-01 07:00")  # no RTC battery: the clock starts in 2000
    trust = start_trust(booted, 10.0, LAST)
    assert not trust.trusted
    now, trust = schedule_now(trust, booted + timedelta(seconds=600), 610.0)
    assert now == LAST + timedelta(seconds=600)
    assert not trust.trusted
    assert skew_seconds(trust, booted + timedelta(seconds=600), 610.0) > 26 * 365 * 86400


def test_once_ntp_sets_the_clock_it_is_followed_again():
    trust = start_trust(at("2000-01-01 07:00"), 10.0, LAST)
    real = at("2026-11-28 06:30")  # the power cut lasted the night
    now, trust = schedule_now(trust, real, 700.0)
    assert trust.trusted and now == real
    # and later readings follow the wall clock, even when NTP nudges it back a little
    assert schedule_now(trust, real - timedelta(seconds=30), 710.0)[0] == real - timedelta(seconds=30)


def test_last_seen_survives_on_disk_and_a_damaged_file_counts_as_none(tmp_path):
    write_last_seen(tmp_path, LAST)
    assert read_last_seen(tmp_path) == LAST
    (tmp_path / "clock.json").write_text("{not json", encoding="utf-8")
    assert read_last_seen(tmp_path) is None
