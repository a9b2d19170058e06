"""The screen's reports to the central server: heartbeats, screenshots, and proof of play queued while offline.

Runs in the sync process beside the content poller. The player never waits on it:
they meet at files under STATE_DIR (now-playing.json, screenshot.png, the proof
log). Proof lines are sent from a cursor kept on disk and only advanced after the
server has stored them; the server ignores lines it already holds, so a retry or a
restart neither loses nor doubles a line.
"""

from __future__ import annotations

import json
import logging
import shutil
import threading
import time
from dataclasses import dataclass
from importlib.metadata import version
from datetime import datetime
from pathlib import Path
from typing import Any, Callable

import requests

from player.config import KioskConfig
from player.status import last_errors, read_json

from .errors import FetchError
from .layout import PROOF_KEEP_OLD, StateFolder, StoreFolder, rotated, write_atomic

log = logging.getLogger(__name__)

BATCH_LINES = 1000


@dataclass(frozen=True)
class Cursor:
    inode: int
    offset: int


def proof_files(state_dir: Path) -> list[Path]:
    """The proof log and its rotated copies, oldest first (.3, .2, .1, then the live file)."""
    base = StateFolder(state_dir).proof
    older = [rotated(base, n) for n in range(PROOF_KEEP_OLD, 0, -1)]
    return [p for p in older + [base] if p.exists()]


def read_cursor(state_dir: Path) -> Cursor | None:
    try:
        raw = json.loads(StateFolder(state_dir).proof_cursor.read_text(encoding="utf-8"))
        return Cursor(int(raw["inode"]), int(raw["offset"]))
    except (OSError, ValueError, KeyError, TypeError):
        return None


def pending_lines(state_dir: Path, cursor: Cursor | None, limit: int) -> tuple[list[dict[str, Any]], Cursor | None]:
    """Up to `limit` complete proof lines after `cursor`, and the cursor just past the last one returned."""
    files = proof_files(state_dir)
    inodes = [p.stat().st_ino for p in files]
    start, offset = 0, 0
    if cursor is not None and cursor.inode in inodes:
        start, offset = inodes.index(cursor.inode), cursor.offset
    lines: list[dict[str, Any]] = []
    end = cursor
    for index in range(start, len(files)):
        with files[index].open("rb") as src:
            src.seek(offset if index == start else 0)
            position = src.tell()
            for raw in src:
                if not raw.endswith(b"\n"):
                    break  # the writer is mid-line: next time
                position += len(raw)
                end = Cursor(inodes[index], position)
                try:
                    line = json.loads(raw)
                except ValueError:
                    continue  # a line cut by a power loss
                record = upload_record(line)
                if record is not None:
                    lines.append(record)
                if len(lines) >= limit:
                    return lines, end
    return lines, end


PLAY_FIELDS = ("id", "screen", "item", "playlist", "language", "start", "planned", "actual", "status", "reason")


def upload_record(line: object) -> dict[str, Any] | None:
    """A proof line as the server takes it; a touch kiosk's view becomes item "touch:TOPIC/PAGE". None: not a line."""
    if not isinstance(line, dict) or not isinstance(line.get("id"), str):
        return None
    if line.get("kind") == "touch":
        where = "/".join(part for part in (line.get("topic") or "home", line.get("page") or "") if part)
        return {"id": line["id"], "screen": line.get("screen"), "item": f"touch:{where}"[:300], "playlist": "_touch",
                "language": str(line.get("language", ""))[:16], "start": line.get("start"), "planned": None,
                "actual": line.get("seconds", 0), "status": "viewed", "reason": str(line.get("ended", ""))[:500]}
    if line.get("kind") is not None:
        return None  # a kind this version does not know: kept on the screen, not sent
    return {key: line.get(key, "" if key == "reason" else None) for key in PLAY_FIELDS}


class Reporter:
    """Heartbeats, screenshots and proof uploads for one screen (its own token)."""

    def __init__(self, base_url: str, token: str, state_dir: Path, ca_file: str | None,
                 facts: Callable[[], dict[str, Any]]) -> None:
        self.base = base_url.rstrip("/")
        self.state_dir = state_dir
        self.files = StateFolder(state_dir)
        self.session = requests.Session()
        self.session.headers["Authorization"] = f"Bearer {token}"
        self.verify: str | bool = ca_file or True
        self.facts = facts
        self.sent_screenshot = 0.0
        self.online = True

    def _call(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        url = self.base + path
        try:
            response = self.session.request(method, url, timeout=(5.0, 30.0), verify=self.verify, **kwargs)
        except requests.RequestException as exc:
            raise FetchError(f"{url}: {exc}") from None
        if response.status_code >= 400:
            try:
                message = response.json().get("error", response.text[:200])
            except ValueError:
                message = response.text[:200]
            raise FetchError(f"{url}: {response.status_code} {message}")
        return response

    def heartbeat(self) -> dict[str, Any]:
        answer: dict[str, Any] = self._call("POST", "/api/heartbeat", json=self.facts()).json()
        if answer.get("screenshot"):  # staff asked: the player takes one within a second or two
            self.files.screenshot_request.touch()
        return answer

    def send_screenshot(self) -> bool:
        path = self.files.screenshot
        try:
            mtime = path.stat().st_mtime
        except OSError:
            return False
        if mtime <= self.sent_screenshot:
            return False
        self._call("PUT", "/api/screenshot", data=path.read_bytes(), headers={"Content-Type": "image/png"})
        self.sent_screenshot = mtime
        return True

    def send_proof(self, limit: int = BATCH_LINES) -> int:
        """Upload every pending proof line in batches; returns how many the server had not seen before."""
        added = 0
        cursor = read_cursor(self.state_dir)
        while True:
            lines, end = pending_lines(self.state_dir, cursor, limit)
            if lines:
                added += int(self._call("POST", "/api/proof", json={"lines": lines}).json()["added"])
            if end is not None and end != cursor:
                write_atomic(self.files.proof_cursor, json.dumps({"inode": end.inode, "offset": end.offset}).encode())
                cursor = end
            if len(lines) < limit:
                return added

    def run(self, stop: threading.Event, heartbeat_seconds: float) -> None:
        """Every `heartbeat_seconds` a heartbeat and the proof lines written since; a new screenshot within 2 s."""
        next_beat = time.monotonic()
        while not stop.is_set():
            now = time.monotonic()
            try:
                if now >= next_beat:
                    next_beat = now + heartbeat_seconds
                    self.heartbeat()
                    if not self.online:
                        log.info("the central server answers again; sending the proof of play queued meanwhile")
                    self.online = True
                    sent = self.send_proof()
                    if sent:
                        log.debug("sent %d proof-of-play line(s)", sent)
                self.send_screenshot()
            except (FetchError, OSError) as exc:
                if self.online:
                    log.warning("reporting to the central server failed: %s; proof of play stays queued on disk", exc)
                self.online = False
            except Exception:  # an answer no check foresaw (not JSON, the wrong shape): report again next time
                if self.online:
                    log.exception("reporting to the central server failed; proof of play stays queued on disk")
                self.online = False
            stop.wait(2.0)


def profile_of(config: KioskConfig) -> dict[str, Any]:
    """The parts of a screen's kiosk.yaml that decide how content shows (the console compares them with the
    channel's profile)."""
    return {"languages": list(config.languages), "fallback": dict(config.fallback_chain),
            "size": list(config.display.size), "rotation": config.display.rotation,
            "width_mm": config.display.width_mm, "touch": config.touch.enabled}


def screen_facts(state_dir: Path, store_root: Path, started: float, version: str,
                 clock: Callable[[], datetime], profile: dict[str, Any] | None = None) -> dict[str, Any]:
    """What a heartbeat says, read from the files the player and the sync client keep."""
    files = StateFolder(state_dir)
    playing = read_json(files.now_playing)
    store_state = read_json(StoreFolder(store_root).state)
    power = read_json(files.power)
    last_sync = store_state.get("last_sync") or {}
    error = None
    if last_sync.get("status") == "failed":
        error = f"sync: {last_sync.get('message')}"
    else:
        errors = last_errors(files.log, 1)
        error = errors[0] if errors else None
    try:
        free = shutil.disk_usage(state_dir).free / 2**20
    except OSError:
        free = None
    player_started = playing.get("started")
    uptime = time.time() - player_started if isinstance(player_started, (int, float)) else time.monotonic() - started
    return {"version": version, "generation": store_state.get("generation"), "item": playing.get("item"),
            "playlist": playing.get("playlist"), "uptime": round(max(0.0, uptime), 1),
            "free_disk_mb": None if free is None else round(free, 1),
            "clock": clock().isoformat(timespec="milliseconds"),
            "clock_trusted": not str(playing.get("clock", "set")).startswith("unset"),
            "last_error": error[:2000] if error else None, "fallback": playing.get("item") == "_fallback",
            "screen_on": power.get("on") if power else None, **_health(playing),
            **({"profile": profile} if profile else {})}


def _health(playing: dict[str, Any]) -> dict[str, Any]:
    """The player's skips, broken files and last hour of video frames, as it wrote them at its last item boundary."""
    out: dict[str, Any] = {}
    for key in ("skips", "frames_shown_hour", "frames_dropped_hour"):
        if isinstance(playing.get(key), int) and not isinstance(playing.get(key), bool):
            out[key] = max(0, playing[key])
    broken = playing.get("broken")
    if isinstance(broken, list):
        out["broken"] = [str(entry)[:300] for entry in broken[:20]]
    return out


def read_token(path: str) -> str:
    try:
        return Path(path).read_text(encoding="ascii").strip()
    except (OSError, UnicodeDecodeError) as exc:
        raise FetchError(f"sync.token_file {path}: cannot read the screen's token ({exc})") from None


def software_version() -> str:
    try:
        return version("tinhbien-kiosk")
    except Exception:  # a bare checkout, not installed
        return "0"


