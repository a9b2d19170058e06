"""Whether to trust the wall clock: a kiosk without a real-time clock boots into the past.

Pure: the caller passes the wall time, the monotonic time and the last wall
time kept on disk. A wall clock earlier than the last one seen at start counts
as unset; the schedule then runs from the last time seen plus the monotonic
time since, until the wall clock catches up (someone or NTP set it).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

SET_TOLERANCE = timedelta(seconds=90)  # a wall clock this close to our estimate counts as set


@dataclass(frozen=True)
class ClockTrust:
    trusted: bool
    anchor_wall: datetime  # the schedule time at anchor_mono
    anchor_mono: float

    @property
    def label(self) -> str:
        return "set" if self.trusted else "unset (running from the last time seen)"


def start_trust(wall: datetime, mono: float, last_seen: datetime | None) -> ClockTrust:
    if last_seen is not None and wall < last_seen:
        return ClockTrust(False, last_seen, mono)
    return ClockTrust(True, wall, mono)


def schedule_now(trust: ClockTrust, wall: datetime, mono: float) -> tuple[datetime, ClockTrust]:
    """The time the schedule should use, and the trust to carry to the next call."""
    if trust.trusted:
        return wall, trust
    estimate = trust.anchor_wall + timedelta(seconds=max(0.0, mono - trust.anchor_mono))
    if wall >= estimate - SET_TOLERANCE:
        return wall, ClockTrust(True, wall, mono)
    return estimate.astimezone(wall.tzinfo), trust


def skew_seconds(trust: ClockTrust, wall: datetime, mono: float) -> float:
    """How far the wall clock is behind the schedule's estimate (0 when trusted)."""
    if trust.trusted:
        return 0.0
    estimate = trust.anchor_wall + timedelta(seconds=max(0.0, mono - trust.anchor_mono))
    return (estimate - wall).total_seconds()
