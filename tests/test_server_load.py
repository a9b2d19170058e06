"""The server-load bench's short version: 100 screens long-poll and heart-beat for 8 s while a generation is published.

bench/server_load.py runs 1,000 screens for a minute and holds the timing targets; this holds what
staff and screens would notice at any speed: every screen hears of the publish, no request fails.
"""

from __future__ import annotations


import pytest

from bench import server_load

pytestmark = pytest.mark.slow  # the server load test: a hundred screens for seconds of real time

SCREENS, SECONDS, HEARTBEAT = 100, 8.0, 3.0


@pytest.fixture(scope="module")
def load(tmp_path_factory):
    return server_load.run_load(tmp_path_factory.mktemp("load"), screens=SCREENS, seconds=SECONDS, heartbeat=HEARTBEAT,
                                wait=3.0, publish_at=4.0, ramp=1.0)


def test_every_screen_long_polling_hears_of_the_publish(load):
    assert load.told == SCREENS
    assert load.long_polls["manifest 304"] > 0  # and kept long-polling after waits that ended unchanged


def test_no_request_fails_and_every_heartbeat_is_answered(load):
    assert load.error_count == 0, (load.errors, load.error_samples)
    sent = sum(1 for n in range(SCREENS) for k in range(10) if HEARTBEAT * n / SCREENS + HEARTBEAT * k < SECONDS)
    assert len(load.heartbeat_ms) == sent
