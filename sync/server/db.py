"""The server's records (channels, staff, screens, audit, proof of play, notices, channel documents) in SQLite or
PostgreSQL, through SQLAlchemy Core: one query layer for both, the schema brought up to date at start.

SQLite (the embedded default) runs every statement through one connection, as one
process needs; PostgreSQL gets a pool, a statement timeout, and NOTIFY to the
other server processes when a channel document changes. Every call is one short
transaction, so a kill -9 at any point leaves the database consistent.
"""

from __future__ import annotations

import asyncio
import functools
import json
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Callable, Iterator, Mapping, ParamSpec, TypeVar

from sqlalchemy import (
    Connection,
    bindparam,
    Engine,
    RowMapping,
    create_engine,
    delete,
    event,
    func,
    make_url,
    select,
    text,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.pool import QueuePool

from . import migrate
from .schema import audit, channels, documents, notices, proof, releases, rollbacks, screens, software, staff
from .settings import ServerSettings, SettingsError
from .tokens import NewToken, Presented, matches

PROOF_COLUMNS = ("screen", "id", "start", "item", "playlist", "language", "planned", "actual", "status", "reason")
NOTIFY_CHANNEL = "kiosk_documents"
PROOF_INSERTED = (*PROOF_COLUMNS, "received")
PROOF_UNNEST = (f"INSERT INTO proof ({', '.join(PROOF_INSERTED)}) SELECT * FROM unnest("
                + ", ".join("%s::float8[]" if name in ("planned", "actual") else "%s::text[]" for name in PROOF_INSERTED)
                + ") ON CONFLICT DO NOTHING RETURNING id")
P = ParamSpec("P")
T = TypeVar("T")


# A heartbeat's two statements, built once: SQLAlchemy then finds their compiled form by the object's
# memoized cache key instead of building and hashing a new expression hundreds of times a second.
_LIVE_SCREEN = select(screens).where(screens.c.token_id == bindparam("token_id"), screens.c.revoked.is_(None))
_BEAT = update(screens).where(screens.c.id == bindparam("screen")).values(
    last_seen=bindparam("when"), heartbeat=bindparam("beat"), screenshot_wanted=0)


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


def make_engine(url: str | Path, pool_size: int = 5, statement_timeout_ms: int = 5000) -> Engine:
    """An engine for a SQLite file (a path or sqlite:/// URL) or a postgresql:// URL (psycopg 3)."""
    if isinstance(url, Path):
        url.parent.mkdir(parents=True, exist_ok=True)
        url = f"sqlite:///{url}"
    if url.startswith(("postgresql://", "postgres://")):
        url = "postgresql+psycopg://" + url.split("://", 1)[1]
    if url.startswith("sqlite"):
        # One connection for every thread, as the server had before: SQLite takes one writer at a time anyway.
        engine = create_engine(url, poolclass=QueuePool, pool_size=1, max_overflow=0, pool_timeout=60,
                               connect_args={"check_same_thread": False, "isolation_level": None})

        @event.listens_for(engine, "connect")
        def _pragmas(dbapi: Any, record: Any) -> None:
            for pragma in ("journal_mode=WAL", "synchronous=NORMAL", "busy_timeout=5000", "foreign_keys=OFF"):
                dbapi.execute(f"PRAGMA {pragma}")

        @event.listens_for(engine, "begin")
        def _begin(connection: Connection) -> None:
            connection.exec_driver_sql("BEGIN IMMEDIATE")  # pysqlite's own BEGIN is off (isolation_level None)

        return engine
    # No pool_pre_ping: it costs a round trip on every checkout (two per heartbeat). After the database
    # restarts, the first statement on a dead connection fails (503, the client retries) and SQLAlchemy then
    # replaces every pooled connection at once.
    return create_engine(url, pool_size=pool_size, max_overflow=pool_size, pool_timeout=10,
                         connect_args={"connect_timeout": 5, "options": f"-c statement_timeout={statement_timeout_ms}"})


class Database:
    def __init__(self, url: str | Path, pool_size: int = 5, statement_timeout_ms: int = 5000,
                 engine: Engine | None = None) -> None:
        self.engine = engine or make_engine(url, pool_size, statement_timeout_ms)
        self.engine_name = self.engine.dialect.name  # "sqlite" or "postgresql"
        self.url = self.engine.url.render_as_string(hide_password=True)
        self._threads = ThreadPoolExecutor(pool_size + 2, thread_name_prefix="db")
        self._insert = postgresql.insert if self.engine_name == "postgresql" else sqlite.insert
        self.migrated = migrate.upgrade(self.engine)

    def close(self) -> None:
        self._threads.shutdown(wait=False, cancel_futures=True)
        self.engine.dispose()

    async def run(self, fn: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        """`fn(*args)` on the database threads: the event loop never waits for a query."""
        return await asyncio.get_running_loop().run_in_executor(self._threads, functools.partial(fn, *args, **kwargs))

    @contextmanager
    def transaction(self) -> Iterator[Connection]:
        with self.engine.begin() as connection:
            yield connection

    def _rows(self, statement: Any, args: dict[str, Any] | None = None) -> list[RowMapping]:
        with self.engine.begin() as c:
            return list(c.execute(statement, args or {}).mappings())

    def _change(self, statement: Any) -> int:
        with self.engine.begin() as c:
            return c.execute(statement).rowcount

    def schema_version(self) -> str | None:
        with self.engine.connect() as c:
            return migrate.database_version(c)

    def ping(self) -> None:
        with self.engine.connect() as c:
            c.execute(text("SELECT 1"))

    # --- channels and staff --------------------------------------------------------------------------------

    def add_channel(self, name: str, root_key: str, now: str) -> None:
        statement = self._insert(channels).values(name=name, root_key=root_key, created=now)
        self._change(statement.on_conflict_do_update(index_elements=["name"], set_={"root_key": root_key}))

    def root_key(self, channel: str) -> str | None:
        rows = self._rows(select(channels.c.root_key).where(channels.c.name == channel))
        return rows[0]["root_key"] if rows else None

    def channels(self) -> list[str]:
        return [r["name"] for r in self._rows(select(channels.c.name).order_by(channels.c.name))]

    def add_staff(self, name: str, channels: list[str], admin: bool, token: NewToken, now: str) -> None:
        values = {"token_id": token.id, "token_hash": token.secret_hash, "channels": json.dumps(channels),
                  "admin": int(admin)}
        statement = self._insert(staff).values(name=name, created=now, **values)
        self._change(statement.on_conflict_do_update(index_elements=["name"], set_={**values, "revoked": None}))

    def revoke_staff(self, name: str, now: str) -> bool:
        return bool(self._change(update(staff).where(staff.c.name == name).values(revoked=now, token_hash=None)))

    def _by_token(self, table: Any, presented: Presented) -> RowMapping | None:
        """The live row whose token this is; the secret's hash is compared in constant time."""
        rows = self._rows(select(table).where(table.c.token_id == presented.id, table.c.revoked.is_(None)))
        if not rows or not rows[0]["token_hash"] or not matches(presented, rows[0]["token_hash"]):
            return None
        return rows[0]

    def staff_by_token(self, presented: Presented) -> Staff | None:
        row = self._by_token(staff, presented)
        return None if row is None else Staff(row["name"], tuple(json.loads(row["channels"])), bool(row["admin"]))

    def staff(self) -> list[dict[str, Any]]:
        return [{"name": r["name"], "channels": json.loads(r["channels"]), "admin": bool(r["admin"]),
                 "created": r["created"], "revoked": r["revoked"]} for r in self._rows(select(staff).order_by(staff.c.name))]

    # --- screens -------------------------------------------------------------------------------------------

    def add_screen(self, screen_id: str, channel: str, token: NewToken, offline_after: float | None, now: str) -> None:
        values = {"channel": channel, "token_id": token.id, "token_hash": token.secret_hash, "offline_after": offline_after}
        statement = self._insert(screens).values(id=screen_id, created=now, **values)
        self._change(statement.on_conflict_do_update(index_elements=["id"], set_={**values, "revoked": None}))

    def revoke_screen(self, screen_id: str, now: str) -> bool:
        return bool(self._change(update(screens).where(screens.c.id == screen_id).values(revoked=now, token_hash=None)))

    def screen_by_token(self, presented: Presented) -> Screen | None:
        row = self._by_token(screens, presented)
        return None if row is None else _screen(row)

    def screen(self, screen_id: str) -> Screen | None:
        rows = self._rows(select(screens).where(screens.c.id == screen_id))
        return _screen(rows[0]) if rows else None

    def screens(self) -> list[Screen]:
        return [_screen(r) for r in self._rows(select(screens).order_by(screens.c.id))]

    def screens_in_pages(self, size: int) -> Iterator[list[Screen]]:
        """Every screen, `size` at a time by id, each page its own short query."""
        after = ""
        while True:
            rows = self._rows(select(screens).where(screens.c.id > after).order_by(screens.c.id).limit(size))
            if rows:
                yield [_screen(r) for r in rows]
                after = rows[-1]["id"]
            if len(rows) < size:
                return

    def heartbeat(self, presented: Presented, when: float, beat: dict[str, Any]) -> tuple[Screen, bool] | None:
        """Store the latest heartbeat of the screen holding this token: that screen as it was before, and whether
        staff asked for a screenshot (cleared now); None, storing nothing, for an unknown or revoked token.
        The token check and the write are one transaction, one trip to the database threads per heartbeat."""
        with self.engine.begin() as c:
            rows = list(c.execute(_LIVE_SCREEN, {"token_id": presented.id}).mappings())
            if not rows or not rows[0]["token_hash"] or not matches(presented, rows[0]["token_hash"]):
                return None
            c.execute(_BEAT, {"screen": rows[0]["id"], "when": when, "beat": json.dumps(beat, ensure_ascii=False)})
        return _screen(rows[0]), bool(rows[0]["screenshot_wanted"])

    def want_screenshot(self, screen_id: str) -> bool:
        return bool(self._change(update(screens).where(screens.c.id == screen_id).values(screenshot_wanted=1)))

    def screenshot_taken(self, screen_id: str, when: float) -> None:
        self._change(update(screens).where(screens.c.id == screen_id).values(screenshot_at=when))

    def set_flag(self, screen_id: str, flag: str | None) -> None:
        self._change(update(screens).where(screens.c.id == screen_id).values(flagged=flag))

    # --- audit ---------------------------------------------------------------------------------------------

    def audit(self, now: str, actor: str, action: str, channel: str | None, detail: dict[str, Any]) -> None:
        with self.engine.begin() as c:
            add_audit(c, now, actor, action, channel, detail)

    def audit_log(self, limit: int = 200, channel: str | None = None,
                  visible: Callable[[str | None], bool] | None = None) -> list[dict[str, Any]]:
        """The newest `limit` rows (of `channel`, if given) whose channel `visible` accepts."""
        out: list[dict[str, Any]] = []
        before = 2**31 - 1  # above any seq (an INTEGER column on PostgreSQL)
        while len(out) < limit:
            query = select(audit).where(audit.c.seq < before).order_by(audit.c.seq.desc()).limit(limit)
            rows = self._rows(query.where(audit.c.channel == channel) if channel else query)
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
        query = select(audit.c.channel, audit.c.time, audit.c.detail).where(audit.c.action == "publish",
                                                                           audit.c.channel.is_not(None))
        for r in self._rows(query):
            generation, when = json.loads(r["detail"]).get("generation"), _timestamp(r["time"])
            if isinstance(generation, int) and when is not None:
                out.setdefault(r["channel"], []).append((generation, when))
        return out

    # --- proof of play -------------------------------------------------------------------------------------

    def add_proof(self, screen_id: str, lines: list[dict[str, Any]], now: str) -> int:
        """Insert the lines not already held (same screen and id), in one batch; returns how many were new."""
        if not lines:
            return 0
        rows = [{"screen": screen_id, **{k: line[k] for k in PROOF_COLUMNS[1:]}, "received": now} for line in lines]
        if self.engine_name == "postgresql":  # one statement over arrays: 5 times the rows a second of executemany
            with self.engine.begin() as c:
                return len(c.exec_driver_sql(PROOF_UNNEST, tuple([r[k] for r in rows] for k in PROOF_INSERTED)).all())
        statement = self._insert(proof).on_conflict_do_nothing(index_elements=["screen", "id"]).returning(proof.c.id)
        with self.engine.begin() as c:
            return len(c.execute(statement, rows).all())

    def proof(self, start: str | None, end: str | None, screen: str | None, item: str | None) -> Iterator[tuple[Any, ...]]:
        """Proof lines ordered by start time; `start`/`end` compare as ISO text (inclusive, exclusive)."""
        query = select(*(proof.c[name] for name in PROOF_COLUMNS))
        for column, op, value in (("start", "ge", start), ("start", "lt", end), ("screen", "eq", screen),
                                  ("item", "eq", item)):
            if value:
                query = query.where(getattr(proof.c[column], f"__{op}__")(value))
        with self.engine.connect() as c:  # plain rows (tuples): a month of one screen is 250,000 of them
            return iter(c.execute(query.order_by(proof.c.start, proof.c.screen, proof.c.id)).all())

    def purge_proof(self, before: str, batch: int = 5000) -> int:
        """Delete lines that started before `before`, `batch` at a time, each batch its own short transaction."""
        gone = 0
        while True:
            oldest = select(proof.c.screen, proof.c.id).where(proof.c.start < before).limit(batch)
            with self.engine.begin() as c:
                keys = [tuple(r) for r in c.execute(oldest)]
                for screen_id, line_id in keys:
                    c.execute(delete(proof).where(proof.c.screen == screen_id, proof.c.id == line_id))
            gone += len(keys)
            if len(keys) < batch:
                return gone

    def count(self, table: Any) -> int:
        with self.engine.connect() as c:
            return int(c.execute(select(func.count()).select_from(table)).scalar() or 0)

    # --- notices -------------------------------------------------------------------------------------------

    def add_notice(self, c: Connection, notice_id: str, envelope: bytes, channels: list[str], expires: str, who: str,
                   now: str) -> bool:
        statement = self._insert(notices).values(id=notice_id, envelope=envelope, channels=json.dumps(channels),
                                                 expires=expires, posted_by=who, posted=now)
        return c.execute(statement.on_conflict_do_nothing(index_elements=["id"]).returning(notices.c.id)).first() is not None

    def clear_notice(self, c: Connection, notice_id: str, now: str) -> bool:
        return bool(c.execute(update(notices).where(notices.c.id == notice_id, notices.c.cleared.is_(None))
                              .values(cleared=now)).rowcount)

    def notices(self, c: Connection | None = None, include_cleared: bool = False) -> list[dict[str, Any]]:
        query = select(notices).order_by(notices.c.posted, notices.c.id)
        query = query if include_cleared else query.where(notices.c.cleared.is_(None))
        rows = list(c.execute(query).mappings()) if c is not None else self._rows(query)
        return [{"id": r["id"], "envelope": bytes(r["envelope"]), "channels": json.loads(r["channels"]),
                 "expires": r["expires"], "posted_by": r["posted_by"], "posted": r["posted"], "cleared": r["cleared"]}
                for r in rows]

    # --- channel documents ---------------------------------------------------------------------------------

    def documents(self) -> dict[tuple[str, str], bytes]:
        return {(r["channel"], r["name"]): bytes(r["data"]) for r in self._rows(select(documents))}

    def document(self, channel: str, name: str) -> bytes | None:
        rows = self._rows(select(documents.c.data).where(documents.c.channel == channel, documents.c.name == name))
        return bytes(rows[0]["data"]) if rows else None

    def lock_channel(self, c: Connection, channel: str) -> str | None:
        """Hold the channel's row until the transaction ends (PostgreSQL: other processes' publishes wait);
        returns its root key, or None when there is no such channel."""
        return c.execute(select(channels.c.root_key).where(channels.c.name == channel).with_for_update()).scalar()

    def read_document(self, c: Connection, channel: str, name: str) -> bytes | None:
        found = c.execute(select(documents.c.data).where(documents.c.channel == channel, documents.c.name == name)).scalar()
        return None if found is None else bytes(found)

    def put_document(self, c: Connection, channel: str, name: str, data: bytes, now: str) -> None:
        """Write a document and tell every server process (on commit: NOTIFY is transactional)."""
        statement = self._insert(documents).values(channel=channel, name=name, data=data, changed=now)
        c.execute(statement.on_conflict_do_update(index_elements=["channel", "name"], set_={"data": data, "changed": now}))
        if self.engine_name == "postgresql":
            c.execute(text("SELECT pg_notify(:to, :what)"), {"to": NOTIFY_CHANNEL, "what": f"{channel}/{name}"})


    def delete_document(self, c: Connection, channel: str, name: str) -> None:
        """Stop serving a document (a halted release with none before it), telling every server process."""
        c.execute(delete(documents).where(documents.c.channel == channel, documents.c.name == name))
        if self.engine_name == "postgresql":
            c.execute(text("SELECT pg_notify(:to, :what)"), {"to": NOTIFY_CHANNEL, "what": f"{channel}/{name}"})

    # --- software channels (issue 16) ------------------------------------------------------------------------

    def add_software(self, name: str, root_key: str, now: str) -> None:
        statement = self._insert(software).values(name=name, root_key=root_key, created=now)
        self._change(statement.on_conflict_do_update(index_elements=["name"], set_={"root_key": root_key}))

    def software_root(self, name: str) -> str | None:
        rows = self._rows(select(software.c.root_key).where(software.c.name == name))
        return rows[0]["root_key"] if rows else None

    def lock_software(self, c: Connection, name: str) -> str | None:
        """Hold the software channel's row until the transaction ends; its root key, or None when there is none."""
        return c.execute(select(software.c.root_key).where(software.c.name == name).with_for_update()).scalar()

    def add_release(self, c: Connection, channel: str, sequence: int, version: str, envelope: bytes, now: str) -> None:
        c.execute(releases.insert().values(channel=channel, sequence=sequence, version=version, envelope=envelope,
                                           published=now))

    def releases(self, channel: str | None = None, c: Connection | None = None) -> list[dict[str, Any]]:
        """Releases published, newest first (of `channel` if given), with how many screens rolled each back."""
        count = (select(func.count()).select_from(rollbacks)
                 .where(rollbacks.c.channel == releases.c.channel, rollbacks.c.sequence == releases.c.sequence)
                 .scalar_subquery())
        query = select(releases, count.label("rollbacks")).order_by(releases.c.channel, releases.c.sequence.desc())
        if channel is not None:
            query = query.where(releases.c.channel == channel)
        rows = list(c.execute(query).mappings()) if c is not None else self._rows(query)
        return [{"channel": r["channel"], "sequence": r["sequence"], "version": r["version"],
                 "envelope": bytes(r["envelope"]), "published": r["published"], "halted": r["halted"],
                 "rollbacks": int(r["rollbacks"])} for r in rows]

    def add_rollback(self, c: Connection, channel: str, sequence: int, screen: str, version: str | None, reason: str,
                     now: str) -> int:
        """Record a screen's rollback of a release (once per screen); how many screens have rolled it back."""
        statement = self._insert(rollbacks).values(channel=channel, sequence=sequence, screen=screen, version=version,
                                                   reason=reason[:500], time=now)
        c.execute(statement.on_conflict_do_nothing(index_elements=["channel", "sequence", "screen"]))
        return int(c.execute(select(func.count()).select_from(rollbacks).where(
            rollbacks.c.channel == channel, rollbacks.c.sequence == sequence)).scalar() or 0)

    def halt_release(self, c: Connection, channel: str, sequence: int, now: str) -> bool:
        return bool(c.execute(update(releases).where(releases.c.channel == channel, releases.c.sequence == sequence,
                                                     releases.c.halted.is_(None)).values(halted=now)).rowcount)


def add_audit(c: Connection, now: str, actor: str, action: str, channel: str | None, detail: dict[str, Any]) -> None:
    c.execute(audit.insert().values(time=now, actor=actor, action=action, channel=channel,
                                    detail=json.dumps(detail, ensure_ascii=False, sort_keys=True)))


def _screen(row: RowMapping) -> Screen:
    return Screen(row["id"], row["channel"], row["offline_after"], row["last_seen"],
                  json.loads(row["heartbeat"]) if row["heartbeat"] else None, row["screenshot_at"],
                  bool(row["screenshot_wanted"]), row["flagged"], row["revoked"] is not None, _timestamp(row["created"]))


def _timestamp(iso: str | None) -> float | None:
    try:
        return datetime.fromisoformat(iso).timestamp() if iso else None
    except ValueError:
        return None


def database_url(settings: ServerSettings, environ: Mapping[str, str]) -> str | Path:
    """The settings' database with its password (from database.password_file or $KIOSK_DATABASE_PASSWORD) put in."""
    if settings.database_url is None:
        return settings.data / "server.db"
    password = environ.get("KIOSK_DATABASE_PASSWORD")
    if settings.database_password_file is not None:
        try:
            password = settings.database_password_file.read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise SettingsError(f"database.password_file: cannot read {settings.database_password_file} "
                                f"({exc.strerror})") from None
    url = make_url("postgresql+psycopg://" + settings.database_url.split("://", 1)[1])
    return (url.set(password=password) if password else url).render_as_string(hide_password=False)


def open_database(settings: ServerSettings, environ: Mapping[str, str]) -> Database:
    """The server's database as server.yaml names it, brought up to the code's schema version."""
    return Database(database_url(settings, environ), settings.database_pool, settings.statement_timeout_ms)
