"""Fleet status: online/offline and flags from each screen's last heartbeat (pure), and the task that acts on them."""

from __future__ import annotations

import asyncio
import json
import logging
import time
import urllib.request
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Sequence

from .db import Database, Screen

log = logging.getLogger(__name__)

TICK_SECONDS = 5.0
# The leader's check reads PAGE screens at a time and lets go of the interpreter between pages: read at once,
# 10,000 screens held it for a few hundred ms every tick, and the event loop, which needs it for every
# request, answered heartbeats up to 1.5 s late meanwhile (bench/server_load.py).
PAGE, PAUSE_SECONDS = 250, 0.005
DROP_SHARE = 0.01  # more than 1 % of a screen's video frames dropped in the last hour is worth a look
DROP_SAMPLE = 300  # frames (10 s of video) before a share means anything


@dataclass(frozen=True)
class ScreenStatus:
    id: str
    channel: str
    online: bool
    last_seen: str | None  # ISO time
    silent_seconds: float | None
    flag: str | None  # why staff should look, in words: silent too long, behind the channel, the fallback slide
    heartbeat: dict[str, Any] | None
    screenshot_at: str | None
    revoked: bool
    flag_kind: str | None = None  # "never seen", "silent", "behind", "fallback", "software behind" or "dropping":
    # a change calls the webhook
    channel_generation: int = 0

    def as_json(self) -> dict[str, Any]:
        return {"id": self.id, "channel": self.channel, "online": self.online, "last_seen": self.last_seen,
                "silent_seconds": None if self.silent_seconds is None else round(self.silent_seconds, 1),
                "flag": self.flag, "flag_kind": self.flag_kind, "lagging": self.flag_kind == "behind",
                "channel_generation": self.channel_generation, "heartbeat": self.heartbeat,
                "screenshot_at": self.screenshot_at, "revoked": self.revoked}


@dataclass(frozen=True)
class Watch:
    """What decides a flag: seconds of silence (unless the screen has its own), seconds behind the channel."""

    offline_after: float = 180.0
    lagging_after: float = 900.0
    release_lagging_after: float = 86400.0  # a screen that has not seen a release published a day ago is frozen


def behind_since(publishes: Sequence[tuple[int, float]], generation: int | None) -> float | None:
    """When the channel first published a generation newer than `generation` (None: it has none newer)."""
    newer = [when for published, when in publishes if published > (generation or 0)]
    return min(newer) if newer else None


def screen_status(screen: Screen, now: float, watch: Watch, publishes: Sequence[tuple[int, float]] = (),
                  releases: dict[str, list[tuple[int, float]]] | None = None) -> ScreenStatus:
    limit = screen.offline_after or watch.offline_after
    silent = None if screen.last_seen is None else max(0.0, now - screen.last_seen)
    online = silent is not None and silent <= limit
    beat = screen.heartbeat or {}
    generation = beat.get("generation") if isinstance(beat.get("generation"), int) else None
    current = max((g for g, _ in publishes), default=0)
    lag = behind_since(publishes, generation)
    kind, flag = None, None
    if screen.revoked:
        pass
    elif silent is None:
        if screen.created is None or now - screen.created > limit:
            kind, flag = "never seen", "never seen (no heartbeat since its token was issued)"
    elif not online:
        kind, flag = "silent", f"silent for {silent / 60:.0f} min (more than {limit / 60:.0f} min)"
    elif lag is not None and now - lag > watch.lagging_after:
        kind = "behind"
        flag = (f"behind the channel: playing generation {generation if generation is not None else 'none'}, "
                f"generation {current} published; more than {watch.lagging_after / 60:.0f} min behind "
                "(a host answering 'not modified', or a sync failing)")
    elif beat.get("fallback"):
        kind, flag = "fallback", "showing the fallback slide (nothing playable)"
    elif (frozen := release_frozen(beat, releases or {}, now, watch)) is not None:
        kind, flag = "software behind", frozen
    elif (share := dropped_share(beat)) is not None and share > DROP_SHARE:
        kind, flag = "dropping", (f"drops {100 * share:.1f} % of its video frames (last hour; more than "
                                  f"{100 * DROP_SHARE:.0f} %): a decoder or panel too slow for the clips")
    return ScreenStatus(screen.id, screen.channel, online, _iso(screen.last_seen), silent, flag, screen.heartbeat,
                        _iso(screen.screenshot_at), screen.revoked, kind, current)


def release_frozen(beat: dict[str, Any], releases: dict[str, list[tuple[int, float]]], now: float,
                   watch: Watch) -> str | None:
    """Why a screen looks frozen on software (a host holding it on an old release document), or None."""
    channel, seen = beat.get("software_channel"), beat.get("release_sequence")
    if not isinstance(channel, str) or channel not in releases:
        return None
    since = behind_since(releases[channel], seen if isinstance(seen, int) else None)
    if since is None or now - since <= watch.release_lagging_after:
        return None
    newest = max(sequence for sequence, _ in releases[channel])
    return (f"behind on software: has seen release sequence {seen if seen is not None else 'none'} of {channel}, "
            f"sequence {newest} was published more than {watch.release_lagging_after / 3600:.0f} h ago "
            "(a host answering 'not modified', or its release checks failing)")


def release_publishes(db: Database) -> dict[str, list[tuple[int, float]]]:
    """{software channel: [(sequence, when published)]} of the releases not halted."""
    out: dict[str, list[tuple[int, float]]] = {}
    for row in db.releases():
        if not row["halted"]:
            out.setdefault(row["channel"], []).append(
                (int(row["sequence"]), datetime.fromisoformat(row["published"]).timestamp()))
    return out


def dropped_share(beat: dict[str, Any]) -> float | None:
    """The share of video frames a heartbeat says were dropped in the last hour; None below DROP_SAMPLE frames."""
    shown, dropped = beat.get("frames_shown_hour"), beat.get("frames_dropped_hour")
    if not isinstance(shown, int) or not isinstance(dropped, int) or shown + dropped < DROP_SAMPLE:
        return None
    return dropped / (shown + dropped)


def fleet_status(db: Database, now: float, watch: Watch) -> list[ScreenStatus]:
    """Every screen's status, each measured against its channel's publishes and its software channel's releases."""
    publishes, releases = db.publishes(), release_publishes(db)
    return [screen_status(s, now, watch, publishes.get(s.channel, []), releases) for s in db.screens()]


def _iso(when: float | None) -> str | None:
    if when is None:
        return None
    return datetime.fromtimestamp(when, timezone.utc).astimezone().isoformat(timespec="seconds")


async def watch_fleet(db: Database, watch: Watch, webhook: str | None, clock: Any, leadership: Any,
                      on_tick: Any = None) -> None:
    """Every few seconds, in the one process that leads the fleet: flag screens that went silent, lag or show the
    fallback; call the webhook on each change; then `on_tick` (notice expiry, the daily purge)."""
    while True:
        try:
            if await leadership.held():
                await check_once(db, watch, webhook, clock())
                if on_tick is not None:
                    await on_tick()
        except Exception:  # the watcher must outlive any one bad row or webhook
            log.exception("fleet check failed")
        await asyncio.sleep(TICK_SECONDS)


async def check_once(db: Database, watch: Watch, webhook: str | None, now: float) -> list[ScreenStatus]:
    """Store each screen's flag kind where it changed (one audit line each) and tell the webhook."""
    changed = await db.run(_store_flags, db, watch, now)
    if webhook:
        for status in changed:
            await asyncio.to_thread(_post, webhook, {"event": "flagged" if status.flag else "recovered",
                                                     "screen": status.as_json()})
    return changed


def _after_a_pause(page: list[Screen]) -> list[Screen]:
    time.sleep(PAUSE_SECONDS)  # on a database thread: the event loop takes the interpreter meanwhile
    return page


def _store_flags(db: Database, watch: Watch, now: float) -> list[ScreenStatus]:
    changed = []
    publishes, releases = db.publishes(), release_publishes(db)
    for screen in (s for page in db.screens_in_pages(PAGE) for s in _after_a_pause(page)):
        status = screen_status(screen, now, watch, publishes.get(screen.channel, []), releases)
        if status.flag_kind != screen.flagged:
            db.set_flag(screen.id, status.flag_kind)
            stamp = datetime.fromtimestamp(now, timezone.utc).astimezone().isoformat(timespec="seconds")
            db.audit(stamp, "server", "flag" if status.flag else "recovered", screen.channel,
                     {"screen": screen.id, "flag": status.flag or ""})
            log.warning("screen %s: %s", screen.id, status.flag or "back to normal")
            changed.append(status)
    return changed


def _post(url: str, body: dict[str, Any]) -> None:
    request = urllib.request.Request(url, json.dumps(body, ensure_ascii=False).encode("utf-8"),
                                     {"Content-Type": "application/json"}, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            response.read(1024)
    except OSError as exc:
        log.error("webhook %s failed: %s", url, exc)
