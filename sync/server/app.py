"""The FastAPI application: records, channels and routes put together, with JSON errors that say what is wrong."""

from __future__ import annotations

import asyncio
import logging
import os
import time
from contextlib import asynccontextmanager
from datetime import datetime, timedelta, timezone
from typing import AsyncIterator

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from sqlalchemy.exc import DataError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from starlette.exceptions import HTTPException

from ..fleet import software_version
from . import content_api, fleet_api, migrate, records_api, software_api
from .console import mount as console
from .bodies import BodyLimit
from .channels import Channels, Refused
from .db import open_database
from .fleetbus import Leadership, listen
from .monitor import Watch, watch_fleet
from .settings import ServerSettings
from .software import Software

log = logging.getLogger(__name__)

DESCRIPTION = """The Tịnh Biên central server. Screens read channels in the static layout
(`GET /channels/{channel}/manifest`, `/publishers`, `/notices`, `GET /blobs/{sha256}` with Range;
software releases at `GET /software/{channel}/release` and `/releasers`),
long-polling with `If-None-Match` and `?wait=`; staff publish, watch the fleet, export proof of play
and post signed urgent notices with `Authorization: Bearer staff.…` tokens. Errors are JSON:
`{"error": "what is wrong and what to do", "status": 4xx}`."""


# The JSON errors, for FastAPI's exception handlers and for sync/server/fastpath.py, which answers before FastAPI.
DATABASE_ERRORS = (OperationalError, InterfaceError, PoolTimeout)


def refused_json(exc: Refused) -> JSONResponse:
    return JSONResponse({"error": exc.message, "status": exc.status, **exc.extra}, status_code=exc.status)


def database_down_json(method: str, path: str, exc: Exception) -> JSONResponse:
    log.warning("%s %s: the database does not answer (%s)", method, path,
                str(exc).strip().splitlines()[0][:200] if str(exc).strip() else type(exc).__name__)
    return JSONResponse({"error": "the server's database does not answer; nothing was changed, try again shortly "
                         "(screens keep playing and send their reports later)", "status": 503},
                        status_code=503, headers={"Retry-After": "10"})


def unstorable_json(exc: DataError) -> JSONResponse:
    reason = str(exc.orig).strip().splitlines()[0][:200] if exc.orig else "a value is out of range"
    return JSONResponse({"error": f"the database cannot store a value of this request ({reason})", "status": 422},
                        status_code=422)


def create_app(settings: ServerSettings) -> FastAPI:
    settings.data.mkdir(parents=True, exist_ok=True)
    db = open_database(settings, os.environ)
    channels = Channels(settings.content, db)
    software = Software(channels, db)
    leadership = Leadership(db)

    async def tick() -> None:
        """The fleet leader's periodic work besides flags: notices past expiry leave the channels' documents, and
        once a day proof of play older than proof_days goes, in small batches that never hold heartbeats up, and
        so do partial uploads a crash left."""
        stamp = datetime.now(timezone.utc)
        await channels.rebuild_notices(await db.run(db.channels), stamp)
        if time.monotonic() >= purge_due[0]:
            purge_due[0] = time.monotonic() + 86400
            await asyncio.to_thread(channels.sweep_uploads, time.time())  # a crashed process's partial uploads
            cutoff = (stamp - timedelta(days=settings.proof_days)).date().isoformat()
            gone = await db.run(db.purge_proof, cutoff)
            if gone:
                log.info("purged %d proof-of-play lines that started before %s (proof_days %d)", gone, cutoff,
                         settings.proof_days)

    purge_due = [time.monotonic() + 60]

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        watch = Watch(settings.offline_after, settings.lagging_after)
        tasks = [asyncio.create_task(watch_fleet(db, watch, settings.webhook, time.time, leadership, tick)),
                 asyncio.create_task(tell_systemd())]
        if db.engine_name == "postgresql":
            tasks.append(asyncio.create_task(listen(db, channels.refresh, channels.refresh_all)))
        try:
            yield
        finally:
            for task in tasks:
                task.cancel()
            await leadership.close()
            app.state.render_worker.close()
            db.close()

    app = FastAPI(title="Tịnh Biên kiosk server", version=software_version(), description=DESCRIPTION, lifespan=lifespan)
    app.state.settings, app.state.db, app.state.channels, app.state.software = settings, db, channels, software
    app.state.heard_from = {}  # screen id -> the address its last heartbeat came from (fleet_api.take_heartbeat)
    app.add_middleware(BodyLimit, limit=settings.limits.request_kb * 1024,
                       exempt=r"^/api/(blobs/[0-9a-f]{64}|channels/[^/]+/(manifest|publishers)|screenshot)$"
                              r"|^/console/uploads/[0-9a-f]+$")
    app.include_router(content_api.router)
    app.include_router(fleet_api.router)
    app.include_router(records_api.router)
    app.include_router(software_api.router)
    console.install(app)

    @app.exception_handler(Refused)
    async def refused(request: Request, exc: Refused) -> Response:
        if request.url.path.startswith("/console/"):
            return console.refused_page(request, exc)
        return refused_json(exc)

    @app.exception_handler(OperationalError)
    @app.exception_handler(InterfaceError)
    @app.exception_handler(PoolTimeout)
    async def database_down(request: Request, exc: Exception) -> JSONResponse:
        return database_down_json(request.method, request.url.path, exc)

    @app.exception_handler(DataError)
    async def unstorable(request: Request, exc: DataError) -> JSONResponse:
        return unstorable_json(exc)

    @app.get("/api/health", tags=["fleet"], summary="For a load balancer: engine, schema version, process, database")
    async def health() -> JSONResponse:
        answer: dict[str, object] = {"engine": db.engine_name, "schema_version": migrate.code_version(),
                                     "process": os.getpid(), "version": software_version()}
        try:
            answer["schema_version"] = await asyncio.wait_for(db.run(db.schema_version), 5)
        except Exception as exc:
            return JSONResponse({**answer, "database": "down", "error": f"the database does not answer ({type(exc).__name__})",
                                 "status": 503}, status_code=503)
        fast = getattr(app.state, "fast_path", None)  # sync/server/fastpath.py, when it serves in front
        counts = {"fast_path": dict(fast.answered)} if fast is not None else {}
        return JSONResponse({**answer, "database": "up", "leader": await leadership.held(), **counts})

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        problems = []
        for error in exc.errors():
            where = ".".join(str(part) for part in error.get("loc", ()))
            problems.append(f"{where}: {error.get('msg', 'invalid')}")
        return JSONResponse({"error": "; ".join(problems[:10]) or "the request is malformed", "status": 422},
                            status_code=422)

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, exc: HTTPException) -> JSONResponse:
        message = exc.detail if isinstance(exc.detail, str) else "request refused"
        if exc.status_code == 404:
            message = f"no such resource: {request.url.path} (the API is described at /docs and /openapi.json)"
        elif exc.status_code == 405:
            message = f"{request.method} is not allowed on {request.url.path}"
        return JSONResponse({"error": message, "status": exc.status_code}, status_code=exc.status_code,
                            headers=getattr(exc, "headers", None))

    return app


async def tell_systemd() -> None:
    """READY once serving, then watchdog pings from the event loop itself: a frozen loop stops them and
    systemd restarts the server (Type=notify, WatchdogSec= in deploy/kiosk-server.service). A no-op elsewhere."""
    from player.notify import Notifier, Watchdog

    notifier = Notifier.from_env(os.environ)
    if not notifier.enabled:
        return
    watchdog = Watchdog.from_env(notifier, os.environ, os.getpid())
    await asyncio.sleep(0.2)  # uvicorn binds its socket right after the lifespan starts
    notifier.ready("serving")
    try:
        while True:
            watchdog.beat(time.monotonic())
            await asyncio.sleep(1.0)
    finally:
        notifier.stopping()
        notifier.close()
