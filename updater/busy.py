"""Whether the screen is busy with people right now (an urgent notice up, a visitor browsing): then no switch.

Read from the files the player and the sync client keep; a file that cannot be
read says "not busy", since the window check already keeps switches to quiet hours.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sync.update_area import read_small_json

TAIL_BYTES = 64 * 1024
VISIT_ENDS = ("idle", "exit", "stopped", "notice")  # a view ended this way ends the visit


def busy_reason(notices_file: Path, proof_file: Path, now: datetime, idle_timeout: float) -> str | None:
    for notice in read_small_json(notices_file).get("notices") or []:
        try:
            if notice.get("level") == "urgent" and datetime.fromisoformat(notice["expires"]) > now:
                return f"an urgent notice ({notice.get('id')}) is on screen"
        except (AttributeError, KeyError, TypeError, ValueError):
            continue
    last = last_touch_view(proof_file)
    if last is not None:
        try:
            ended = datetime.fromisoformat(last["start"]) + timedelta(seconds=float(last.get("seconds") or 0))
        except (KeyError, TypeError, ValueError):
            return None
        if last.get("ended") not in VISIT_ENDS and now - ended < timedelta(seconds=idle_timeout + 10):
            return "a visitor is using the touch screen"
    return None


def last_touch_view(proof_file: Path) -> dict[str, Any] | None:
    """The last touch-view line in the tail of the proof-of-play log, if any."""
    try:
        with proof_file.open("rb") as src:
            src.seek(max(0, proof_file.stat().st_size - TAIL_BYTES))
            lines = src.read().splitlines()
    except OSError:
        return None
    for raw in reversed(lines):
        try:
            line = json.loads(raw)
        except ValueError:
            continue
        if isinstance(line, dict) and line.get("kind") == "touch":
            return line
    return None
