"""The server's records in SQLite: channels, staff, screens, the audit log, proof of play and notices.

One connection in WAL mode behind a lock: every call is a short transaction, so a
kill -9 at any point leaves the file consistent (SQLite's journal rolls back the
transaction in flight).
"""

from __future__ import annotations

import json
import sqlite3
import threading
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Callable, Iterator

from .tokens import NewToken, Presented, matches

SCHEMA = """
CREATE TABLE IF NOT EXISTS channels (
    name TEXT PRIMARY KEY, root_key TEXT NOT NULL, created TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS staff (
    name TEXT PRIMARY KEY, token_id TEXT UNIQUE, token_hash TEXT, channels TEXT NOT NULL,
    admin INTEGER NOT NULL DEFAULT 0, created TEXT NOT NULL, revoked TEXT);
CREATE TABLE IF NOT EXISTS screens (
    id TEXT PRIMARY KEY, channel TEXT NOT NULL, token_id TEXT UNIQUE, token_hash TEXT,
    offline_after REAL, created TEXT NOT NULL, revoked TEXT, last_seen REAL, heartbeat TEXT,
    screenshot_at REAL, screenshot_wanted INTEGER NOT NULL DEFAULT 0, flagged TEXT);
CREATE TABLE IF NOT EXISTS audit (
    seq INTEGER PRIMARY KEY AUTOINCREMENT, time TEXT NOT NULL, actor TEXT NOT NULL, action TEXT NOT NULL,
    channel TEXT, detail TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS proof (
    screen TEXT NOT NULL, id TEXT NOT NULL, start TEXT NOT NULL, item TEXT NOT NULL, playlist TEXT NOT NULL,
    language TEXT NOT NULL, planned REAL, actual REAL NOT NULL, status TEXT NOT NULL, reason TEXT NOT NULL,
    received TEXT NOT NULL, PRIMARY KEY (screen, id));
CREATE INDEX IF NOT EXISTS proof_start ON proof (start);
CREATE TABLE IF NOT EXISTS notices (
    id TEXT PRIMARY KEY, envelope BLOB NOT NULL, channels TEXT NOT NULL, expires TEXT NOT NULL,
    posted_by TEXT NOT NULL, posted TEXT NOT NULL, cleared TEXT);
CREATE TABLE IF NOT EXISTS software (
    name TEXT PRIMARY KEY, root_key TEXT NOT NULL, created TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS releases (
    channel TEXT NOT NULL, sequence INTEGER NOT NULL, version TEXT NOT NULL, envelope BLOB NOT NULL,
    published TEXT NOT NULL, halted TEXT, PRIMARY KEY (channel, sequence));
CREATE TABLE IF NOT EXISTS rollbacks (
    channel TEXT NOT NULL, sequence INTEGER NOT NULL, screen TEXT NOT NULL, version TEXT, reason TEXT NOT NULL,
    time TEXT NOT NULL, PRIMARY KEY (channel, sequence, screen));
"""

PROOF_COLUMNS = ("screen", "id", "start", "item", "playlist", "language", "planned", "actual", "status", "reason")


@dataclass(frozen=True)
class Staff:
    name: str
    channels: tuple[str, ...]  # ("*",) for every channel
    admin: bool

    def may(self, channel: str) -> bool:
        return self.admin or "*" in self.channels or channel in self.channels


@dataclass(frozen=True)
class Screen:
    id: str
    channel: str
    offline_after: float | None
    last_seen: float | None
    heartbeat: dict[str, Any] | None
    screenshot_at: float | None
    screenshot_wanted: bool
    flagged: str | None
    revoked: bool
    created: float | None = None  # when its token was first issued


class Database:
    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._lock = threading.Lock()
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._db.row_factory = sqlite3.Row
        with self._lock:
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._db.execute("PRAGMA busy_timeout=5000")
            self._db.executescript(SCHEMA)

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def _run(self, sql: str, args: tuple[Any, ...] = ()) -> list[sqlite3.Row]:
        with self._lock:
            return self._db.execute(sql, args).fetchall()

    def _many(self, statements: list[tuple[str, tuple[Any, ...]]]) -> int:
        """Several statements in one transaction; returns the rows changed."""
        with self._lock:
            changed = 0
            self._db.execute("BEGIN IMMEDIATE")
            try:
                for sql, args in statements:
                    changed += self._db.execute(sql, args).rowcount
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            return changed

    # --- channels and staff --------------------------------------------------------------------------------

    def add_channel(self, name: str, root_key: str, now: str) -> None:
        self._run("INSERT INTO channels (name, root_key, created) VALUES (?, ?, ?) "
                  "ON CONFLICT (name) DO UPDATE SET root_key = excluded.root_key", (name, root_key, now))

    def root_key(self, channel: str) -> str | None:
        rows = self._run("SELECT root_key FROM channels WHERE name = ?", (channel,))
        return rows[0]["root_key"] if rows else None

    def channels(self) -> list[str]:
        return [r["name"] for r in self._run("SELECT name FROM channels ORDER BY name")]

    def add_staff(self, name: str, channels: list[str], admin: bool, token: NewToken, now: str) -> None:
        self._run("INSERT INTO staff (name, token_id, token_hash, channels, admin, created) VALUES (?, ?, ?, ?, ?, ?) "
                  "ON CONFLICT (name) DO UPDATE SET token_id = excluded.token_id, token_hash = excluded.token_hash, "
                  "channels = excluded.channels, admin = excluded.admin, revoked = NULL",
                  (name, token.id, token.secret_hash, json.dumps(channels), int(admin), now))

    def revoke_staff(self, name: str, now: str) -> bool:
        return bool(self._many([("UPDATE staff SET revoked = ?, token_hash = NULL WHERE name = ?", (now, name))]))

    def _by_token(self, table: str, presented: Presented) -> sqlite3.Row | None:
        """The live row whose token this is; the secret's hash is compared in constant time."""
        rows = self._run(f"SELECT * FROM {table} WHERE token_id = ? AND revoked IS NULL", (presented.id,))
        if not rows or not rows[0]["token_hash"] or not matches(presented, rows[0]["token_hash"]):
            return None
        return rows[0]

    def staff_by_token(self, presented: Presented) -> Staff | None:
        row = self._by_token("staff", presented)
        return None if row is None else Staff(row["name"], tuple(json.loads(row["channels"])), bool(row["admin"]))

    def staff(self) -> list[dict[str, Any]]:
        return [{"name": r["name"], "channels": json.loads(r["channels"]), "admin": bool(r["admin"]),
                 "created": r["created"], "revoked": r["revoked"]} for r in self._run("SELECT * FROM staff ORDER BY name")]

    # --- screens -------------------------------------------------------------------------------------------

    def add_screen(self, screen_id: str, channel: str, token: NewToken, offline_after: float | None, now: str) -> None:
        self._run("INSERT INTO screens (id, channel, token_id, token_hash, offline_after, created) VALUES (?, ?, ?, ?, ?, ?) "
                  "ON CONFLICT (id) DO UPDATE SET channel = excluded.channel, token_id = excluded.token_id, "
                  "token_hash = excluded.token_hash, offline_after = excluded.offline_after, revoked = NULL",
                  (screen_id, channel, token.id, token.secret_hash, offline_after, now))

    def revoke_screen(self, screen_id: str, now: str) -> bool:
        return bool(self._many([("UPDATE screens SET revoked = ?, token_hash = NULL WHERE id = ?", (now, screen_id))]))

    def screen_by_token(self, presented: Presented) -> Screen | None:
        row = self._by_token("screens", presented)
        return None if row is None else _screen(row)

    def screen(self, screen_id: str) -> Screen | None:
        rows = self._run("SELECT * FROM screens WHERE id = ?", (screen_id,))
        return _screen(rows[0]) if rows else None

    def screens(self) -> list[Screen]:
        return [_screen(r) for r in self._run("SELECT * FROM screens ORDER BY id")]

    def heartbeat(self, screen_id: str, when: float, beat: dict[str, Any]) -> bool:
        """Store the latest heartbeat; returns (and clears) whether staff asked for a screenshot."""
        with self._lock:
            row = self._db.execute("SELECT screenshot_wanted FROM screens WHERE id = ?", (screen_id,)).fetchone()
            self._db.execute("UPDATE screens SET last_seen = ?, heartbeat = ?, screenshot_wanted = 0 WHERE id = ?",
                             (when, json.dumps(beat, ensure_ascii=False), screen_id))
        return bool(row and row[0])

    def want_screenshot(self, screen_id: str) -> bool:
        return bool(self._many([("UPDATE screens SET screenshot_wanted = 1 WHERE id = ?", (screen_id,))]))

    def screenshot_taken(self, screen_id: str, when: float) -> None:
        self._run("UPDATE screens SET screenshot_at = ? WHERE id = ?", (when, screen_id))

    def set_flag(self, screen_id: str, flag: str | None) -> None:
        self._run("UPDATE screens SET flagged = ? WHERE id = ?", (flag, screen_id))

    # --- audit ---------------------------------------------------------------------------------------------

    def audit(self, now: str, actor: str, action: str, channel: str | None, detail: dict[str, Any]) -> None:
        self._run("INSERT INTO audit (time, actor, action, channel, detail) VALUES (?, ?, ?, ?, ?)",
                  (now, actor, action, channel, json.dumps(detail, ensure_ascii=False, sort_keys=True)))

    def audit_log(self, limit: int = 200, channel: str | None = None,
                  visible: Callable[[str | None], bool] | None = None) -> list[dict[str, Any]]:
        """The newest `limit` rows (of `channel`, if given) whose channel `visible` accepts."""
        out: list[dict[str, Any]] = []
        before = 2**62
        while len(out) < limit:
            where, args = ("AND channel = ?", (channel,)) if channel else ("", ())
            rows = self._run(f"SELECT * FROM audit WHERE seq < ? {where} ORDER BY seq DESC LIMIT ?",
                             (before, *args, limit))
            out += [{"seq": r["seq"], "time": r["time"], "actor": r["actor"], "action": r["action"],
                     "channel": r["channel"], "detail": json.loads(r["detail"])}
                    for r in rows if visible is None or visible(r["channel"])]
            if len(rows) < limit:
                break
            before = rows[-1]["seq"]
        return out[:limit]

    def publishes(self) -> dict[str, list[tuple[int, float]]]:
        """{channel: [(generation, when published)]} from the audit log (the fleet check measures lag with it)."""
        out: dict[str, list[tuple[int, float]]] = {}
        for r in self._run("SELECT channel, time, detail FROM audit WHERE action = 'publish' AND channel IS NOT NULL"):
            generation, when = json.loads(r["detail"]).get("generation"), _timestamp(r["time"])
            if isinstance(generation, int) and when is not None:
                out.setdefault(r["channel"], []).append((generation, when))
        return out

    # --- proof of play -------------------------------------------------------------------------------------

    def add_proof(self, screen_id: str, lines: list[dict[str, Any]], now: str) -> int:
        """Insert the lines not already held (same screen and id); returns how many were new."""
        sql = ("INSERT OR IGNORE INTO proof (screen, id, start, item, playlist, language, planned, actual, status, "
               "reason, received) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")
        return self._many([(sql, (screen_id, line["id"], line["start"], line["item"], line["playlist"],
                                  line["language"], line["planned"], line["actual"], line["status"], line["reason"], now))
                           for line in lines])

    def proof(self, start: str | None, end: str | None, screen: str | None, item: str | None) -> Iterator[tuple[Any, ...]]:
        """Proof lines ordered by start time; `start`/`end` compare as ISO text (inclusive, exclusive)."""
        clauses, args = [], []
        for sql, value in (("start >= ?", start), ("start < ?", end), ("screen = ?", screen), ("item = ?", item)):
            if value:
                clauses.append(sql)
                args.append(value)
        where = ("WHERE " + " AND ".join(clauses)) if clauses else ""
        rows = self._run(f"SELECT {', '.join(PROOF_COLUMNS)} FROM proof {where} ORDER BY start, screen, id", tuple(args))
        return (tuple(r) for r in rows)

    # --- notices -------------------------------------------------------------------------------------------

    def add_notice(self, notice_id: str, envelope: bytes, channels: list[str], expires: str, who: str, now: str) -> bool:
        return bool(self._many([("INSERT OR IGNORE INTO notices (id, envelope, channels, expires, posted_by, posted) "
                                 "VALUES (?, ?, ?, ?, ?, ?)", (notice_id, envelope, json.dumps(channels), expires, who, now))]))

    def clear_notice(self, notice_id: str, now: str) -> list[str] | None:
        """Mark a notice cleared; returns its channels, or None when there is no such live notice."""
        with self._lock:
            row = self._db.execute("UPDATE notices SET cleared = ? WHERE id = ? AND cleared IS NULL RETURNING channels",
                                   (now, notice_id)).fetchone()
        return json.loads(row[0]) if row else None

    def notices(self, include_cleared: bool = False) -> list[dict[str, Any]]:
        where = "" if include_cleared else "WHERE cleared IS NULL"
        return [{"id": r["id"], "envelope": bytes(r["envelope"]), "channels": json.loads(r["channels"]),
                 "expires": r["expires"], "posted_by": r["posted_by"], "posted": r["posted"], "cleared": r["cleared"]}
                for r in self._run(f"SELECT * FROM notices {where} ORDER BY posted")]

    # --- software releases ---------------------------------------------------------------------------------

    def add_software(self, name: str, root_key: str, now: str) -> None:
        self._run("INSERT INTO software (name, root_key, created) VALUES (?, ?, ?) "
                  "ON CONFLICT (name) DO UPDATE SET root_key = excluded.root_key", (name, root_key, now))

    def software_root(self, name: str) -> str | None:
        rows = self._run("SELECT root_key FROM software WHERE name = ?", (name,))
        return rows[0]["root_key"] if rows else None

    def add_release(self, channel: str, sequence: int, version: str, envelope: bytes, now: str) -> None:
        self._run("INSERT INTO releases (channel, sequence, version, envelope, published) VALUES (?, ?, ?, ?, ?)",
                  (channel, sequence, version, envelope, now))

    def releases(self, channel: str | None = None) -> list[dict[str, Any]]:
        """Releases published, newest first (of `channel` if given), with their rollbacks counted."""
        where, args = ("WHERE r.channel = ?", (channel,)) if channel else ("", ())
        rows = self._run("SELECT r.*, (SELECT COUNT(*) FROM rollbacks b WHERE b.channel = r.channel AND "
                         f"b.sequence = r.sequence) AS rollbacks FROM releases r {where} "
                         "ORDER BY r.channel, r.sequence DESC", args)
        return [{"channel": r["channel"], "sequence": r["sequence"], "version": r["version"],
                 "envelope": bytes(r["envelope"]), "published": r["published"], "halted": r["halted"],
                 "rollbacks": r["rollbacks"]} for r in rows]

    def add_rollback(self, channel: str, sequence: int, screen: str, version: str | None, reason: str, now: str) -> int:
        """Record a screen's rollback of a release (once per screen); returns how many screens rolled it back."""
        with self._lock:
            self._db.execute("INSERT OR IGNORE INTO rollbacks (channel, sequence, screen, version, reason, time) "
                             "VALUES (?, ?, ?, ?, ?, ?)", (channel, sequence, screen, version, reason[:500], now))
            row = self._db.execute("SELECT COUNT(*) FROM rollbacks WHERE channel = ? AND sequence = ?",
                                   (channel, sequence)).fetchone()
        return int(row[0])

    def halt_release(self, channel: str, sequence: int, now: str) -> bool:
        return bool(self._many([("UPDATE releases SET halted = ? WHERE channel = ? AND sequence = ? AND halted IS NULL",
                                 (now, channel, sequence))]))


def _screen(row: sqlite3.Row) -> Screen:
    return Screen(row["id"], row["channel"], row["offline_after"], row["last_seen"],
                  json.loads(row["heartbeat"]) if row["heartbeat"] else None, row["screenshot_at"],
                  bool(row["screenshot_wanted"]), row["flagged"], row["revoked"] is not None, _timestamp(row["created"]))


def _timestamp(iso: str | None) -> float | None:
    try:
        return datetime.fromisoformat(iso).timestamp() if iso else None
    except ValueError:
        return None
