"""The soak's short version: one night of virtual time with every fault, on the player's real objects.

bench/soak.py runs the 7-day version; this plays 10 virtual hours (Monday 21:30 to Tuesday 07:30):
the night loop at 22:00, NTP moving the clock back and forward, a picture damaged and mended, a
generation that cannot play and a good one after it, and the loop handing back to the day at 06:00.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from bench import soak

pytestmark = pytest.mark.slow  # the simulated soak: ten virtual hours of frames

ITEM_SECONDS = 120.0
LONGEST = ITEM_SECONDS * max(soak.SPREAD.values()) + 5.0  # the longest item, and a few frames of the sped-up clock


@pytest.fixture(scope="module")
def night(tmp_path_factory):
    return soak.run_soak(tmp_path_factory.mktemp("soak"), hours=10, seconds_per_frame=1.0, item_seconds=ITEM_SECONDS,
                         size=(640, 360))


def changes(report, to: str) -> list[datetime]:
    return [datetime.fromisoformat(when) for when, _, new in report.daypart_changes if new == to]


def at(hhmm: str, day: int = 0) -> datetime:
    hour, minute = map(int, hhmm.split(":"))
    return (soak.START + timedelta(days=day)).replace(hour=hour, minute=minute)


def test_the_loop_never_breaks_stalls_or_goes_black(night):
    assert night.escaped == 0 and night.thread_deaths == 0, "\n".join(night.tracebacks)
    assert night.stalls == 0
    assert night.fallback_shows == 0 and night.black_frames == 0
    assert night.switches > 250  # 10 hours of 2-minute slots


def test_open_files_and_memory_do_not_grow(night):
    assert night.fds_end <= night.fds_warm, night.fds_new
    assert night.rss_end_mb - night.rss_warm_mb <= soak.RSS_TARGET_MB


def test_the_night_loop_takes_over_at_22_and_gives_way_at_06(night):
    to_night, to_day = changes(night, "night"), changes(night, "daytime")
    limit = timedelta(seconds=LONGEST)
    assert at("22:00") <= to_night[0] <= at("22:00") + limit, to_night
    assert any(at("06:00", 1) <= when <= at("06:00", 1) + limit for when in to_day), to_day
    assert night.worst_daypart_lag <= LONGEST


def test_clock_jumps_move_the_schedule_with_the_clock(night):
    # At 23:00 NTP sets the clock back to 21:00: the daytime loop returns within one item; at 21:45 it is
    # moved forward to 23:45 and the night loop comes back.
    limit = timedelta(seconds=LONGEST)
    assert any(at("21:00") <= when <= at("21:00") + limit for when in changes(night, "daytime")), night.daypart_changes
    assert any(at("23:45") <= when <= at("23:45") + limit for when in changes(night, "night")), night.daypart_changes
    assert night.midnights == 1


def test_the_broken_image_is_skipped_and_proof_of_play_says_so(night):
    skipped = soak.proof_of(night, "broken-poster", "skipped")
    assert len(skipped) >= 2  # tried again every 10 minutes while the day loop plays, skipped each time
    assert all("broken.jpg" in line["reason"] for line in skipped)
    assert not [p for p in night.proof if p["item"] == "broken-poster" and p["status"] != "skipped"]


def test_a_damaged_picture_is_skipped_until_it_is_mended(night):
    [(name, damaged, mended)] = night.damage
    item = soak.ITEM_OF[name]
    assert soak.proof_of(night, item, "completed", before=damaged)
    assert soak.proof_of(night, item, "skipped", damaged, mended)
    # The slot prepared before the damage may still show; after that, nothing from the damaged file.
    settled = (datetime.fromisoformat(damaged) + timedelta(seconds=LONGEST)).isoformat()
    assert not soak.proof_of(night, item, "completed", settled, mended)
    assert soak.proof_of(night, item, "completed", mended)


def test_new_content_is_picked_up_and_the_unplayable_generation_rolled_back(night):
    first, last = night.published
    [bad] = night.refused
    assert night.played == [first, last]  # never the bad one, and nothing went back to the local folders
    assert night.rolled_back == [bad] and night.current_at_end == last
    bulletins = {p["item"] for p in night.proof if p["item"].startswith("news-") and p["status"] == "completed"}
    assert {"news-1", "news-3"} <= bulletins and "news-2" not in bulletins  # the bulletins of generations 1 and 3


def test_every_slot_shown_has_a_proof_of_play_line(night):
    shown = [p for p in night.proof if p["status"] != "skipped"]
    assert len(shown) == night.switches
    assert len({p["id"] for p in night.proof}) == len(night.proof)


def test_the_script_would_exit_0(night):
    missed = [figure.line() for figure in soak.figures(night) if not figure.ok]
    assert not missed
