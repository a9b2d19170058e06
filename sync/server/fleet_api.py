"""Routes for the fleet: screen tokens, heartbeats, screenshots, the screen list and the HTML status page."""

from __future__ import annotations

import asyncio
import io
import logging
import time
import zoneinfo
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request, Response
from fastapi import Path as PathParam
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse
from PIL import Image
from pydantic import BaseModel, Field

from ..layout import write_atomic
from .auth import db, require_channel, screen, screen_token, staff
from .bodies import BoundedJSONRoute, read_body
from .channels import Refused
from .content_api import CHANNEL, now
from .db import Screen, Staff
from .monitor import Watch, fleet_status
from .page import status_page
from .tokens import Presented, make_token

log = logging.getLogger(__name__)
router = APIRouter(route_class=BoundedJSONRoute)
SCREEN_ID = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$"
ScreenId = Annotated[str, PathParam(pattern=SCREEN_ID, description="the screen's id (kiosk.yaml screen.id)")]
PNG, JPEG = b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff"


class Heartbeat(BaseModel):
    version: str = Field(max_length=64, description="the player's software version")
    generation: int | None = Field(None, ge=0, description="content generation playing")
    item: str | None = Field(None, max_length=300, description="what is on screen now")
    playlist: str | None = Field(None, max_length=200)
    uptime: float = Field(ge=0, description="seconds since the player started")
    free_disk_mb: float | None = Field(None, ge=0)
    clock: datetime = Field(description="the screen's wall clock when it sent this, with offset")
    clock_trusted: bool = True
    last_error: str | None = Field(None, max_length=2000)
    fallback: bool = Field(False, description="the fallback slide is showing (nothing playable)")
    screen_on: bool | None = None
    skips: int | None = Field(None, ge=0, le=10**12, description="slots skipped since the player started (broken files)")
    broken: list[Annotated[str, Field(max_length=300)]] | None = Field(
        None, max_length=20, description="items whose file fails now, with why")
    frames_shown_hour: int | None = Field(None, ge=0, le=10**9, description="video frames shown in the last hour")
    frames_dropped_hour: int | None = Field(None, ge=0, le=10**9, description="video frames dropped in the last hour")
    target: str | None = Field(None, max_length=64, description="the screen's release target, e.g. "
                               "cp311-manylinux_2_36_aarch64")
    software_channel: str | None = Field(None, pattern=CHANNEL, description="the software channel it follows")
    update_state: str | None = Field(None, max_length=32, description="idle, downloading, waiting, trial, committed, "
                                     "rolled back, blocked or refused")
    update_reason: str | None = Field(None, max_length=500)
    update_sequence: int | None = Field(None, ge=0, description="the release sequence the update state is about")
    release_sequence: int | None = Field(None, ge=0, description="the highest release sequence the screen has seen")
    rollbacks: int | None = Field(None, ge=0, description="releases this screen rolled back or blocked")
    profile: dict[str, Any] | None = Field(None, description="how the screen shows content (languages, fallback, size, "
                                          "rotation, width_mm, touch); the console compares it with the channel's")


@router.post("/api/heartbeat", tags=["screens"], summary="A screen says it is alive and what it shows")
async def heartbeat(request: Request, beat: Heartbeat, token: Annotated[Presented, Depends(screen_token)]) -> dict[str, object]:
    answer = await take_heartbeat(request.app.state, beat, token, request.client.host if request.client else "")
    if answer is None:
        raise screen.unknown()
    return answer


async def take_heartbeat(state: Any, beat: Heartbeat, token: Presented, address: str) -> dict[str, object] | None:
    """Store a screen's heartbeat sent from `address` (sync/server/fastpath.py takes plain ones before FastAPI
    does); the answer, or None, storing nothing, when no live screen holds the token."""
    received = time.time()
    record = beat.model_dump(mode="json")
    if beat.clock.tzinfo is not None:
        record["clock_offset_s"] = round(beat.clock.timestamp() - received, 2)
    found = await state.db.run(state.db.heartbeat, token, received, record)
    if found is None:
        return None
    me, wanted = found
    before = state.heard_from.get(me.id)
    state.heard_from[me.id] = address
    if before is not None and before != address:
        # The access log leaves heartbeats out (10,000 screens), so this is where a token used elsewhere shows.
        log.warning("screen %s now sends heartbeats from %s (before: %s); if it did not move, its token may be in "
                    "other hands: revoke it (python -m sync server screen revoke %s) and issue a new one",
                    me.id, address, before, me.id)
    if beat.last_error and beat.last_error != (me.heartbeat or {}).get("last_error"):
        # a new last error goes into the screen's history (the console shows the last 50)
        await state.db.run(state.console.add_screen_error, me.id, now().isoformat(timespec="seconds"), beat.last_error)
    if beat.update_state == "rolled back" and beat.software_channel and beat.update_sequence:
        await state.software.rollback_reported(beat.software_channel, beat.update_sequence, me.id, beat.version,
                                               beat.update_reason or "", now())
    return {"server_time": now().isoformat(timespec="milliseconds"), "screenshot": wanted,
            "heartbeat_seconds": state.settings.heartbeat_seconds}


_IMAGE = {"requestBody": {"content": {"image/png": {"schema": {"type": "string", "format": "binary"}},
                                      "image/jpeg": {"schema": {"type": "string", "format": "binary"}}}}}


@router.put("/api/screenshot", tags=["screens"], openapi_extra=_IMAGE, status_code=204,
            summary="A screen uploads what it shows (PNG or JPEG)")
async def put_screenshot(request: Request, me: Annotated[Screen, Depends(screen)]) -> Response:
    limits = request.app.state.settings.limits
    data = await read_body(request, limits.screenshot_kb * 1024)
    await asyncio.to_thread(check_image, data, limits.screenshot_pixels)
    folder = request.app.state.settings.screenshots
    write_atomic(folder / f"{me.id}.img", data)
    await db(request).run(db(request).screenshot_taken, me.id, time.time())
    return Response(status_code=204)


def check_image(data: bytes, max_pixels: int) -> None:
    """Refuse what is not a PNG or JPEG that decodes whole, or that has more than `max_pixels` (checked from its
    header, before anything is decoded): staff browsers show what is kept."""
    try:
        with Image.open(io.BytesIO(data), formats=("PNG", "JPEG")) as image:
            width, height = image.size
            if width * height > max_pixels:
                raise Refused(413, f"the screenshot is {width}×{height} pixels; at most {max_pixels:,} pixels "
                              "(limits.screenshot_pixels)")
            image.load()
    except Image.DecompressionBombError:
        raise Refused(413, f"the screenshot has far more than {max_pixels:,} pixels (limits.screenshot_pixels)") from None
    except Refused:
        raise
    except Exception as exc:  # Pillow raises OSError, SyntaxError, ValueError… for broken files
        raise Refused(415, f"a screenshot must be a PNG or JPEG image that decodes whole ({exc})") from None


class NewScreen(BaseModel):
    id: str = Field(pattern=SCREEN_ID, description="the screen's id, as in its kiosk.yaml screen.id")
    channel: str = Field(pattern=CHANNEL)
    offline_after: float | None = Field(None, ge=30, le=604800,
                                        description="seconds of silence before it is flagged (default: the server's)")


@router.post("/api/screens", tags=["fleet"], status_code=201,
             summary="Issue a screen's token (shown once; issuing again replaces the old one)")
async def add_screen(request: Request, body: NewScreen, who: Annotated[Staff, Depends(staff)]) -> dict[str, str]:
    require_channel(who, body.channel)
    records = db(request)
    existing = await records.run(records.screen, body.id)
    if existing is not None:
        require_channel(who, existing.channel)
    token = make_token("screen")
    stamp = now().isoformat(timespec="seconds")
    await records.run(records.add_screen, body.id, body.channel, token, body.offline_after, stamp)
    await records.run(records.audit, stamp, who.name, "screen token", body.channel, {"screen": body.id})
    return {"id": body.id, "channel": body.channel, "token": token.text}


@router.delete("/api/screens/{screen_id}/token", tags=["fleet"], status_code=204,
               summary="Revoke a screen's token (a stolen screen can no longer report)")
async def revoke_screen(request: Request, screen_id: ScreenId, who: Annotated[Staff, Depends(staff)]) -> Response:
    found = await _screen(request, screen_id, who)
    stamp = now().isoformat(timespec="seconds")
    await db(request).run(db(request).revoke_screen, found.id, stamp)
    await db(request).run(db(request).audit, stamp, who.name, "screen revoked", found.channel, {"screen": found.id})
    return Response(status_code=204)


@router.get("/api/screens", tags=["fleet"], summary="Every screen: online or offline, last seen, flags, last heartbeat")
async def list_screens(request: Request, who: Annotated[Staff, Depends(staff)]) -> list[dict[str, object]]:
    settings = request.app.state.settings
    statuses = await db(request).run(fleet_status, db(request), time.time(), Watch(settings.offline_after,
                                                                                  settings.lagging_after))
    return [s.as_json() for s in statuses if who.may(s.channel)]


@router.post("/api/screens/{screen_id}/screenshot-request", tags=["fleet"], status_code=202,
             summary="Ask a screen for a fresh screenshot (it sends one after its next heartbeat)")
async def request_screenshot(request: Request, screen_id: ScreenId, who: Annotated[Staff, Depends(staff)]) -> dict[str, str]:
    found = await _screen(request, screen_id, who)
    await db(request).run(db(request).want_screenshot, found.id)
    return {"screen": found.id, "status": "requested"}


@router.get("/api/screens/{screen_id}/screenshot", tags=["fleet"], summary="The screen's latest screenshot",
            responses={200: {"content": {"image/png": {}, "image/jpeg": {}}}, 404: {"description": "none yet"}})
async def get_screenshot(request: Request, screen_id: ScreenId, who: Annotated[Staff, Depends(staff)]) -> Response:
    found = await _screen(request, screen_id, who)
    path = request.app.state.settings.screenshots / f"{found.id}.img"
    if not path.is_file():
        raise Refused(404, f"screen {found.id} has not sent a screenshot yet")
    with path.open("rb") as f:
        kind = "image/png" if f.read(8) == PNG else "image/jpeg"
    return FileResponse(path, media_type=kind, headers={"Cache-Control": "no-store", "X-Content-Type-Options": "nosniff"})


@router.get("/status", tags=["fleet"], response_class=HTMLResponse,
            summary="The status page for staff: every screen with its latest screenshot (log in with your token)")
async def status(request: Request) -> Response:
    try:
        who = await db(request).run(staff, request)
    except Refused as exc:
        return JSONResponse({"error": exc.message, "status": exc.status}, status_code=exc.status,
                            headers={"WWW-Authenticate": 'Basic realm="kiosk status: any name, your staff token as password"'})
    settings = request.app.state.settings
    statuses = await db(request).run(fleet_status, db(request), time.time(), Watch(settings.offline_after,
                                                                                  settings.lagging_after))
    rows = [s for s in statuses if who.may(s.channel)]
    return HTMLResponse(status_page(rows, now().astimezone(zoneinfo.ZoneInfo(settings.timezone))))


async def _screen(request: Request, screen_id: str, who: Staff) -> Screen:
    found = await db(request).run(db(request).screen, screen_id)
    if found is None:
        raise Refused(404, f"no screen {screen_id!r}; issue its token with POST /api/screens")
    require_channel(who, found.channel)
    return found
