"""`python -m player status`: what the screen is playing, its content generation, the last sync, the store."""

from __future__ import annotations

import json
import os
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sync.layout import StateFolder, write_atomic

from .config import KioskConfig
from .sequence import Decision

if TYPE_CHECKING:  # the loop draws with pygame; the sync client reads this module's files without it
    from .loop import Health


def now_playing(decision: Decision, when: datetime, generation: str | None, clock: str,
                started: float | None = None, health: Health | None = None) -> dict[str, Any]:
    slot = decision.slot
    return {"since": when.isoformat(timespec="seconds"), "playlist": slot.playlist if slot else None,
            "item": slot.item.id if slot else "_fallback", "language": "+".join(slot.languages) if slot else None,
            "generation": generation or "local folders", "clock": clock, "pid": os.getpid(), "started": started,
            **(health.as_json() if health is not None else {})}


def write_json(path: Path, data: dict[str, Any]) -> None:
    """A small state file the other process reads: whole or not at all (sync/layout.py's write_atomic)."""
    write_atomic(path, json.dumps(data, ensure_ascii=False, indent=1).encode("utf-8"))


def read_json(path: Path) -> dict[str, Any]:
    """A small JSON state file as a dict; {} when it is missing, unreadable or not an object."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return data if isinstance(data, dict) else {}
    except (OSError, ValueError):
        return {}


def _running(pid: object) -> bool:
    """Whether a process with this id runs on this machine (one we may not signal counts)."""
    if not isinstance(pid, int):
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def last_errors(log_file: Path, count: int = 3, tail_bytes: int = 256_000) -> list[str]:
    """The last few ERROR lines of the player's log (only its tail is read)."""
    try:
        with log_file.open("rb") as src:
            src.seek(max(0, log_file.stat().st_size - tail_bytes))
            text = src.read().decode("utf-8", "replace")
    except OSError:
        return []
    return [line[:200] for line in text.splitlines() if " ERROR " in line][-count:]


def _health_lines(playing: dict[str, Any]) -> list[str]:
    """Skipped slots and files broken now; video frames shown and dropped in the last hour."""
    skips, broken = playing.get("skips"), playing.get("broken")
    if not isinstance(skips, int):
        return []
    lines = [f"skipped      {skips} slot(s) since the player started" + ("" if skips else " (no broken files)")]
    for n, entry in enumerate(broken if isinstance(broken, list) else []):
        lines.append(f"{'broken now' if n == 0 else '':13}{entry}")
    shown, dropped = playing.get("frames_shown_hour"), playing.get("frames_dropped_hour")
    if isinstance(shown, int) and isinstance(dropped, int) and shown + dropped:
        lines.append(f"video        {shown} frames shown, {dropped} dropped ({100 * dropped / (shown + dropped):.1f} %) "
                     "in the last hour")
    return lines


def status_lines(config: KioskConfig) -> list[str]:
    files = StateFolder(config.state_dir)
    playing = read_json(files.now_playing)
    lines = [f"screen       {config.screen_id}"]
    if playing:
        state = "running" if _running(playing.get("pid")) else "not running (last seen)"
        what = f"{playing.get('playlist')}/{playing.get('item')} [{playing.get('language')}]"
        lines.append(f"player       {state}: {what} since {playing.get('since')}")
        lines.append(f"generation   {playing.get('generation')}")
        lines.append(f"clock        {playing.get('clock')}")
        lines += _health_lines(playing)
    else:
        lines.append("player       has not played anything yet")
    power = read_json(files.power)
    if power:
        lines.append(f"screen power {'on' if power.get('on') else 'off'} since {power.get('since')} "
                     f"(method {power.get('method')})")
    errors = last_errors(files.log)
    lines.append("last errors  " + ("none in the log" if not errors else errors[0]))
    lines += [f"             {line}" for line in errors[1:]]
    if config.sync is None:
        lines.append("sync         off (no `sync` section in kiosk.yaml): content from "
                     f"{config.playlists_dir} and {config.media_dir}")
        return lines
    store = files.store
    store_state = read_json(store.state)
    last = store_state.get("last_sync")
    if last:
        lines.append(f"last sync    {last.get('time')}: {last.get('status')} ({last.get('message')}) via {last.get('via')}")
    else:
        lines.append(f"last sync    none yet (server {config.sync.server}, channel {config.sync.channel})")
    try:
        current = os.readlink(store.current)
    except OSError:
        current = "none"
    blobs = store.blobs
    size = sum(p.stat().st_size for p in blobs.iterdir() if p.is_file()) if blobs.is_dir() else 0
    lines.append(f"store        {store.root}: current {Path(current).name}, {size / 2**20:.1f} MB of "
                 f"{config.sync.store_limit_mb} MB")
    notices = read_json(store.notices).get("notices") or []
    for notice in notices if isinstance(notices, list) else []:
        if isinstance(notice, dict):
            lines.append(f"notice       {notice.get('level')} {notice.get('id')} until {notice.get('expires')}: "
                         f"{(notice.get('texts') or {}).get('vi', '')}")
    if store_state.get("last_rollback"):
        rollback = store_state["last_rollback"]
        lines.append(f"rollback     {rollback.get('generation')}: {rollback.get('reason')}")
    return lines
