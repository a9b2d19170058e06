"""Judging a new version on trial (pure): keep it, keep watching, or roll back and say why.

Healthy means: READY=1 from the new version within `ready_seconds`, then no restart
and no watchdog kill for `trial_seconds`; at the end a non-fallback item playing if
the old version had one, and, if the host answered the old version before the
switch, a release check (and a heartbeat, if the old one sent them) by the new one.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from .services import PlayerState
from .state import Trial


@dataclass(frozen=True)
class Evidence:
    """What the screen shows at one moment of the trial, read at the edges."""

    elapsed: float  # seconds since this watch began (monotonic)
    player: PlayerState
    item: str | None  # what now-playing.json says, when the running player wrote it; else None
    answered: bool  # the new version's sync client heard from the host since the switch
    heartbeat: bool  # the new version's heartbeat went through since the switch


@dataclass(frozen=True)
class Watch:
    """What the judge remembers between looks."""

    stale: str | None = None  # the run before the switch's restart: its READY says nothing of the new version
    invocation: str | None = None  # the player run under watch, once READY
    restarts: int | None = None  # the service's restart count when it became READY
    ready_at: float | None = None


@dataclass(frozen=True)
class Verdict:
    action: str  # "watch", "commit" or "rollback"
    reason: str = ""
    watch: Watch = Watch()


def judge(trial: Trial, watch: Watch, seen: Evidence, trial_seconds: float, ready_seconds: float) -> Verdict:
    player = seen.player
    if watch.invocation is None:
        if player.ready and player.invocation != watch.stale:
            watch = Watch(watch.stale, player.invocation, player.restarts, seen.elapsed)
        elif seen.elapsed >= ready_seconds:
            return Verdict("rollback", f"no READY from {trial.version} within {ready_seconds:g} s"
                           f"{_detail(player)}", watch)
        else:
            return Verdict("watch", "waiting for READY", watch)
    if player.invocation != watch.invocation or (watch.restarts is not None and player.restarts > watch.restarts):
        return Verdict("rollback", f"{trial.version} was restarted during its trial{_detail(player)}", watch)
    assert watch.ready_at is not None
    if seen.elapsed - watch.ready_at < trial_seconds:
        return Verdict("watch", f"on trial for {seen.elapsed - watch.ready_at:.0f} of {trial_seconds:g} s", watch)
    if trial.had_item and (seen.item is None or seen.item == "_fallback"):
        return Verdict("rollback", f"{trial.version} shows only the fallback slide; {trial.previous} played content", watch)
    if trial.server_answered and not seen.answered:
        return Verdict("rollback", f"{trial.version}'s sync client did not reach the server during the trial "
                       "(it could not take the next fix)", watch)
    if trial.needs_heartbeat and not seen.heartbeat:
        return Verdict("rollback", f"{trial.version} sent no heartbeat to the server during the trial", watch)
    return Verdict("commit", f"{trial.version} ran well for {trial_seconds:g} s", replace(watch))


def _detail(player: PlayerState) -> str:
    return f" ({player.detail})" if player.detail else ""
