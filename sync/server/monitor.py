"""Fleet status: online/offline and flags from each screen's last heartbeat (pure), and the task that acts on them."""

from __future__ import annotations

import asyncio
import json
import logging
import urllib.request
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from .db import Database, Screen

log = logging.getLogger(__name__)

TICK_SECONDS = 5.0


@dataclass(frozen=True)
class ScreenStatus:
    id: str
    channel: str
    online: bool
    last_seen: str | None  # ISO time
    silent_seconds: float | None
    flag: str | None  # why staff should look: silent too long, showing the fallback slide
    heartbeat: dict[str, Any] | None
    screenshot_at: str | None
    revoked: bool

    def as_json(self) -> dict[str, Any]:
        return {"id": self.id, "channel": self.channel, "online": self.online, "last_seen": self.last_seen,
                "silent_seconds": None if self.silent_seconds is None else round(self.silent_seconds, 1),
                "flag": self.flag, "heartbeat": self.heartbeat, "screenshot_at": self.screenshot_at,
                "revoked": self.revoked}


def screen_status(screen: Screen, now: float, default_offline_after: float) -> ScreenStatus:
    limit = screen.offline_after or default_offline_after
    silent = None if screen.last_seen is None else max(0.0, now - screen.last_seen)
    online = silent is not None and silent <= limit
    flag = None
    if screen.revoked:
        flag = None
    elif silent is None:
        flag = "never seen"
    elif not online:
        flag = f"silent for {silent / 60:.0f} min (more than {limit / 60:.0f} min)"
    elif screen.heartbeat and screen.heartbeat.get("fallback"):
        flag = "showing the fallback slide (nothing playable)"
    return ScreenStatus(screen.id, screen.channel, online, _iso(screen.last_seen), silent, flag, screen.heartbeat,
                        _iso(screen.screenshot_at), screen.revoked)


def _iso(when: float | None) -> str | None:
    if when is None:
        return None
    return datetime.fromtimestamp(when, timezone.utc).astimezone().isoformat(timespec="seconds")


async def watch(db: Database, default_offline_after: float, webhook: str | None, clock: Any,
                on_tick: Any = None) -> None:
    """Every few seconds: flag screens that went silent or show the fallback, and call the webhook on each change."""
    while True:
        try:
            await check_once(db, default_offline_after, webhook, clock())
            if on_tick is not None:
                await on_tick()
        except Exception:  # the watcher must outlive any one bad row or webhook
            log.exception("fleet check failed")
        await asyncio.sleep(TICK_SECONDS)


async def check_once(db: Database, default_offline_after: float, webhook: str | None, now: float) -> list[ScreenStatus]:
    changed = []
    for screen in db.screens():
        status = screen_status(screen, now, default_offline_after)
        if status.flag == "never seen":
            continue
        if status.flag != screen.flagged:
            db.set_flag(screen.id, status.flag)
            stamp = datetime.fromtimestamp(now, timezone.utc).astimezone().isoformat(timespec="seconds")
            db.audit(stamp, "server", "flag" if status.flag else "recovered", screen.channel,
                     {"screen": screen.id, "flag": status.flag or ""})
            log.warning("screen %s: %s", screen.id, status.flag or "back to normal")
            changed.append(status)
    if webhook:
        for status in changed:
            await asyncio.to_thread(_post, webhook, {"event": "flagged" if status.flag else "recovered",
                                                     "screen": status.as_json()})
    return changed


def _post(url: str, body: dict[str, Any]) -> None:
    request = urllib.request.Request(url, json.dumps(body, ensure_ascii=False).encode("utf-8"),
                                     {"Content-Type": "application/json"}, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            response.read(1024)
    except OSError as exc:
        log.error("webhook %s failed: %s", url, exc)
