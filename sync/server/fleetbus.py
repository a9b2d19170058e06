"""Several server processes kept in step on PostgreSQL: LISTEN for changed channel documents, one leader per fleet.

Each process holds its long-polls in memory; a publish or notice committed by
one process NOTIFYs the others, which read the document and wake their waiters.
Heartbeat-driven decisions (offline flags, the webhook, notice expiry, the proof
purge) are taken by the one process holding a PostgreSQL advisory lock; if it
dies, its session ends, the lock is free, and another process takes over within
a tick. On SQLite there is one process, which is always the leader.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Awaitable, Callable

import psycopg

from .db import NOTIFY_CHANNEL, Database

log = logging.getLogger(__name__)

LEADER_LOCK = 7_240_002  # pg_try_advisory_lock key: the fleet leader


def conninfo(db: Database) -> str:
    """A libpq URI for the same database as the engine's (psycopg's own connections, outside the pool)."""
    return db.engine.url.set(drivername="postgresql").render_as_string(hide_password=False)


async def listen(db: Database, changed: Callable[[str, str], Awaitable[None]],
                 missed: Callable[[], Awaitable[None]], retry_seconds: float = 1.0) -> None:
    """Call `changed(channel, name)` for every document another process writes; `missed()` after each (re)connect,
    since notifications sent while this process was not listening are lost. Runs until cancelled."""
    while True:
        try:
            async with await psycopg.AsyncConnection.connect(conninfo(db), autocommit=True, connect_timeout=5) as conn:
                await conn.execute(f"LISTEN {NOTIFY_CHANNEL}")
                await missed()
                async for note in conn.notifies():
                    channel, _, name = note.payload.partition("/")
                    await changed(channel, name)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # the database stopped or the network dropped: listen again shortly
            log.warning("not hearing other server processes (%s); trying again in %.0f s", _short(exc), retry_seconds)
        await asyncio.sleep(retry_seconds)


class Leadership:
    """Whether this process leads the fleet checks: always on SQLite; on PostgreSQL while it holds the lock."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self._conn: psycopg.AsyncConnection[tuple[object, ...]] | None = None
        self._held = False

    async def held(self) -> bool:
        if self.db.engine_name != "postgresql":
            return True
        try:
            if self._conn is None or self._conn.closed:
                self._held = False
                self._conn = await psycopg.AsyncConnection.connect(conninfo(self.db), autocommit=True,
                                                                   connect_timeout=5)
            if self._held:
                await self._conn.execute("SELECT 1")  # still connected, so still holding it
            else:
                cursor = await self._conn.execute("SELECT pg_try_advisory_lock(%s)", (LEADER_LOCK,))
                row = await cursor.fetchone()
                self._held = bool(row and row[0])
                if self._held:
                    log.info("this server process now leads the fleet checks")
        except Exception as exc:
            if self._held:
                log.warning("lost the fleet lead (%s)", _short(exc))
            self._held = False
            await self.close()
        return self._held

    async def close(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            try:
                await conn.close()
            except Exception:
                pass


def _short(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return text[:200]
