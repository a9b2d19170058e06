"""The console's rows in the server's database: passwords and links, sessions and lock-outs, drafts and their files,
channel profiles, media facts, screens' last errors and the timeline's kept days. Each call is one short transaction
on the database threads."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_, delete, func, select, update

from ..db import Database
from ..schema import (
    channel_profiles,
    console_sessions,
    draft_files,
    drafts,
    login_failures,
    media_info,
    password_links,
    proof,
    screen_errors,
    staff,
    staff_passwords,
    timeline_days,
)
from .passwords import NewLink
from .sessions import NewSession

ERRORS_KEPT = 50


@dataclass(frozen=True)
class SessionRow:
    id: str
    secret_hash: str
    name: str
    created: float
    seen: float
    ended: str | None


@dataclass(frozen=True)
class DraftFile:
    path: str
    data: bytes | None  # a playlist's text; None for media (a blob)
    sha256: str
    size: int
    base_sha256: str | None  # the file as the draft's base generation had it (None: added in the draft)


@dataclass(frozen=True)
class DraftRow:
    channel: str
    staff: str
    base_generation: int
    opened: str
    marks: dict[str, Any]


class ConsoleRecords:
    def __init__(self, db: Database) -> None:
        self.db = db

    # --- staff ---------------------------------------------------------------------------------------------------

    def staff_row(self, name: str) -> dict[str, Any] | None:
        """The live staff row: {"name", "channels", "admin"}; None for an unknown or revoked name."""
        with self.db.engine.begin() as c:
            row = c.execute(select(staff).where(staff.c.name == name, staff.c.revoked.is_(None))).mappings().first()
        if row is None:
            return None
        return {"name": row["name"], "channels": tuple(json.loads(row["channels"])), "admin": bool(row["admin"])}

    def password_hash(self, name: str) -> str | None:
        with self.db.engine.begin() as c:
            return c.execute(select(staff_passwords.c.hash).where(staff_passwords.c.name == name)).scalar()

    def set_password(self, name: str, hashed: str, now: str) -> None:
        with self.db.engine.begin() as c:
            c.execute(delete(staff_passwords).where(staff_passwords.c.name == name))
            c.execute(staff_passwords.insert().values(name=name, hash=hashed, changed=now))

    def add_link(self, name: str, link: NewLink, expires: float) -> None:
        """A new set-password link for `name`; earlier unused ones stop working."""
        with self.db.engine.begin() as c:
            c.execute(delete(password_links).where(password_links.c.name == name))
            c.execute(password_links.insert().values(id=link.id, name=name, secret_hash=link.secret_hash, expires=expires))

    def link(self, link_id: str) -> dict[str, Any] | None:
        with self.db.engine.begin() as c:
            row = c.execute(select(password_links).where(password_links.c.id == link_id)).mappings().first()
        return dict(row) if row else None

    def use_link(self, link_id: str, now: str) -> bool:
        with self.db.engine.begin() as c:
            return bool(c.execute(update(password_links).where(password_links.c.id == link_id,
                                                               password_links.c.used.is_(None)).values(used=now)).rowcount)

    # --- sessions and lock-outs ----------------------------------------------------------------------------------

    def add_session(self, name: str, session: NewSession, now: float) -> None:
        with self.db.engine.begin() as c:
            c.execute(console_sessions.insert().values(id=session.id, secret_hash=session.secret_hash, name=name,
                                                       created=now, seen=now))

    def session(self, session_id: str) -> SessionRow | None:
        with self.db.engine.begin() as c:
            row = c.execute(select(console_sessions).where(console_sessions.c.id == session_id)).mappings().first()
        return None if row is None else SessionRow(row["id"], row["secret_hash"], row["name"], row["created"],
                                                   row["seen"], row["ended"])

    def touch_session(self, session_id: str, now: float) -> None:
        with self.db.engine.begin() as c:
            c.execute(update(console_sessions).where(console_sessions.c.id == session_id).values(seen=now))

    def end_session(self, session_id: str, why: str) -> None:
        with self.db.engine.begin() as c:
            c.execute(update(console_sessions).where(console_sessions.c.id == session_id,
                                                     console_sessions.c.ended.is_(None)).values(ended=why))

    def end_sessions_of(self, name: str, why: str) -> int:
        with self.db.engine.begin() as c:
            return int(c.execute(update(console_sessions).where(console_sessions.c.name == name,
                                                                console_sessions.c.ended.is_(None))
                                 .values(ended=why)).rowcount)

    def failures(self, name: str) -> tuple[int, float]:
        """(wrong passwords in a row, locked until) for a name."""
        with self.db.engine.begin() as c:
            row = c.execute(select(login_failures).where(login_failures.c.name == name)).mappings().first()
        return (row["failures"], row["locked_until"]) if row else (0, 0.0)

    def set_failures(self, name: str, failures: int, locked_until: float) -> None:
        with self.db.engine.begin() as c:
            c.execute(delete(login_failures).where(login_failures.c.name == name))
            if failures:
                c.execute(login_failures.insert().values(name=name, failures=failures, locked_until=locked_until))

    # --- drafts --------------------------------------------------------------------------------------------------

    def draft(self, channel: str, name: str) -> DraftRow | None:
        with self.db.engine.begin() as c:
            row = c.execute(select(drafts).where(drafts.c.channel == channel, drafts.c.staff == name)).mappings().first()
        return None if row is None else DraftRow(row["channel"], row["staff"], row["base_generation"], row["opened"],
                                                 json.loads(row["marks"] or "{}"))

    def draft_files(self, channel: str, name: str) -> dict[str, DraftFile]:
        with self.db.engine.begin() as c:
            rows = c.execute(select(draft_files).where(draft_files.c.channel == channel, draft_files.c.staff == name)
                             .order_by(draft_files.c.path)).mappings().all()
        return {r["path"]: DraftFile(r["path"], None if r["data"] is None else bytes(r["data"]), r["sha256"], r["size"],
                                     r["base_sha256"]) for r in rows}

    def start_draft(self, channel: str, name: str, generation: int, files: list[DraftFile], now: str) -> None:
        """A new draft from a generation's files (any earlier draft of the same staff member and channel goes)."""
        with self.db.engine.begin() as c:
            self._drop(c, channel, name)
            c.execute(drafts.insert().values(channel=channel, staff=name, base_generation=generation, opened=now,
                                             marks="{}"))
            if files:
                c.execute(draft_files.insert(), [_file_row(channel, name, f) for f in files])

    def drop_draft(self, channel: str, name: str) -> None:
        with self.db.engine.begin() as c:
            self._drop(c, channel, name)

    @staticmethod
    def _drop(c: Any, channel: str, name: str) -> None:
        c.execute(delete(draft_files).where(draft_files.c.channel == channel, draft_files.c.staff == name))
        c.execute(delete(drafts).where(drafts.c.channel == channel, drafts.c.staff == name))

    def save_file(self, channel: str, name: str, file: DraftFile, expected_sha256: str | None) -> bool:
        """Write one draft file if it still is what the editor opened (`expected_sha256`; None: it must not exist).
        False when another tab or save changed it meanwhile: nothing is written."""
        key = and_(draft_files.c.channel == channel, draft_files.c.staff == name, draft_files.c.path == file.path)
        with self.db.engine.begin() as c:
            self.db.lock_channel(c, channel)
            held = c.execute(select(draft_files.c.sha256).where(key)).scalar()
            if held != expected_sha256:
                return False
            c.execute(delete(draft_files).where(key))
            c.execute(draft_files.insert().values(**_file_row(channel, name, file)))
        return True

    def remove_file(self, channel: str, name: str, path: str) -> None:
        with self.db.engine.begin() as c:
            c.execute(delete(draft_files).where(draft_files.c.channel == channel, draft_files.c.staff == name,
                                                draft_files.c.path == path))

    def rebase(self, channel: str, name: str, generation: int, bases: dict[str, str | None]) -> None:
        """The draft now builds on `generation`: each file's base becomes that generation's version of it."""
        with self.db.engine.begin() as c:
            c.execute(update(drafts).where(drafts.c.channel == channel, drafts.c.staff == name)
                      .values(base_generation=generation))
            for path, sha in bases.items():
                c.execute(update(draft_files).where(draft_files.c.channel == channel, draft_files.c.staff == name,
                                                    draft_files.c.path == path).values(base_sha256=sha))

    def set_marks(self, channel: str, name: str, marks: dict[str, Any]) -> None:
        with self.db.engine.begin() as c:
            c.execute(update(drafts).where(drafts.c.channel == channel, drafts.c.staff == name)
                      .values(marks=json.dumps(marks, sort_keys=True)))

    def media_in_drafts(self) -> dict[str, list[tuple[str, str, str]]]:
        """{sha256: [(channel, staff, path)]} of every media file some draft holds."""
        out: dict[str, list[tuple[str, str, str]]] = {}
        with self.db.engine.begin() as c:
            for r in c.execute(select(draft_files.c.channel, draft_files.c.staff, draft_files.c.path,
                                      draft_files.c.sha256).where(draft_files.c.data.is_(None))):
                out.setdefault(r.sha256, []).append((r.channel, r.staff, r.path))
        return out

    # --- profiles, media facts, screens' errors ------------------------------------------------------------------

    def profile(self, channel: str) -> bytes | None:
        with self.db.engine.begin() as c:
            found = c.execute(select(channel_profiles.c.data).where(channel_profiles.c.channel == channel)).scalar()
        return None if found is None else bytes(found)

    def set_profile(self, channel: str, data: bytes, who: str, now: str) -> None:
        with self.db.engine.begin() as c:
            c.execute(delete(channel_profiles).where(channel_profiles.c.channel == channel))
            c.execute(channel_profiles.insert().values(channel=channel, data=data, uploaded=now, uploaded_by=who))

    def media_facts(self, digests: list[str]) -> dict[str, dict[str, Any]]:
        if not digests:
            return {}
        with self.db.engine.begin() as c:
            rows = c.execute(select(media_info).where(media_info.c.sha256.in_(digests))).all()
        return {r.sha256: json.loads(r.info) for r in rows}

    def set_media_facts(self, digest: str, facts: dict[str, Any]) -> None:
        with self.db.engine.begin() as c:
            c.execute(delete(media_info).where(media_info.c.sha256 == digest))
            c.execute(media_info.insert().values(sha256=digest, info=json.dumps(facts, ensure_ascii=False)))

    def add_screen_error(self, screen: str, when: str, message: str) -> None:
        """Keep a screen's new last error, unless it is the one already kept last; at most 50 a screen."""
        with self.db.engine.begin() as c:
            last = c.execute(select(screen_errors.c.message).where(screen_errors.c.screen == screen)
                             .order_by(screen_errors.c.seq.desc()).limit(1)).scalar()
            if last == message:
                return
            c.execute(screen_errors.insert().values(screen=screen, time=when, message=message))
            old = c.execute(select(screen_errors.c.seq).where(screen_errors.c.screen == screen)
                            .order_by(screen_errors.c.seq.desc()).offset(ERRORS_KEPT)).scalars().all()
            if old:
                c.execute(delete(screen_errors).where(screen_errors.c.seq.in_(old)))

    def screen_errors(self, screen: str) -> list[dict[str, str]]:
        with self.db.engine.begin() as c:
            rows = c.execute(select(screen_errors.c.time, screen_errors.c.message).where(screen_errors.c.screen == screen)
                             .order_by(screen_errors.c.seq.desc()).limit(ERRORS_KEPT)).all()
        return [{"time": r.time, "message": r.message} for r in rows]

    # --- the days staff keep for the timeline --------------------------------------------------------------------

    def timeline_days(self, channel: str) -> list[tuple[str, str]]:
        """[(ISO day, name)] of the channel, in date order."""
        with self.db.engine.begin() as c:
            rows = c.execute(select(timeline_days.c.day, timeline_days.c.name).where(timeline_days.c.channel == channel)
                             .order_by(timeline_days.c.day)).all()
        return [(r.day, r.name) for r in rows]

    def keep_day(self, channel: str, day: str, name: str, who: str) -> None:
        """Add a day (a day already kept takes the new name)."""
        with self.db.engine.begin() as c:
            c.execute(delete(timeline_days).where(timeline_days.c.channel == channel, timeline_days.c.day == day))
            c.execute(timeline_days.insert().values(channel=channel, day=day, name=name, added_by=who))

    def forget_day(self, channel: str, day: str) -> None:
        with self.db.engine.begin() as c:
            c.execute(delete(timeline_days).where(timeline_days.c.channel == channel, timeline_days.c.day == day))


def _file_row(channel: str, name: str, f: DraftFile) -> dict[str, Any]:
    return {"channel": channel, "staff": name, "path": f.path, "data": f.data, "sha256": f.sha256, "size": f.size,
            "base_sha256": f.base_sha256}


def proof_totals(db: Database, screen: str, since: str) -> list[dict[str, Any]]:
    """A screen's proof of play since a day (ISO), per item and day: how often it showed and for how long."""
    day = func.substr(proof.c.start, 1, 10)
    query = (select(proof.c.item, day.label("day"), func.count().label("shown"), func.sum(proof.c.actual).label("seconds"))
             .where(proof.c.screen == screen, proof.c.start >= since).group_by(proof.c.item, day)
             .order_by(day.desc(), proof.c.item))
    with db.engine.begin() as c:
        return [{"item": r.item, "day": r.day, "shown": int(r.shown), "seconds": float(r.seconds or 0)}
                for r in c.execute(query)]
