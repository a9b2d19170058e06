"""The fleet as staff watch it: every screen refreshed every 10 s, and per screen its screenshot (a fresh one on
request), its last 50 errors, proof of play per item and day, and the CSV export."""

from __future__ import annotations

import tempfile
import time
import zoneinfo
from datetime import datetime, timedelta
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import FileResponse, Response, StreamingResponse

from ...fleet import profile_of
from ..channels import Refused
from ..fleet_api import PNG
from ..monitor import ScreenStatus, Watch, fleet_status
from ..records_api import proof_csv
from .guard import Staffer, database, language, read_form, records, redirect, render, signed_in
from .logview import local_time
from .records import proof_totals
from .routes_drafts import drafts, now
from .texts import say

router = APIRouter()
PROFILE_KEYS = ("languages", "fallback", "size", "rotation", "width_mm", "touch")


def profile_differences(expected: dict[str, Any] | None, reported: dict[str, Any] | None) -> list[str]:
    """Which parts of a screen's reported profile differ from its channel's (pure); [] when either is missing."""
    if not expected or not reported:
        return []
    return [key for key in PROFILE_KEYS if key in reported and _same(expected.get(key)) != _same(reported.get(key))]


def _same(value: Any) -> Any:
    return [_same(v) for v in value] if isinstance(value, (list, tuple)) else \
        {k: _same(v) for k, v in value.items()} if isinstance(value, dict) else value


async def channel_profiles(request: Request, channels: set[str]) -> dict[str, dict[str, Any] | None]:
    """Each channel's profile (kiosk.yaml an admin uploaded) in the shape screens report theirs."""
    service = drafts(request)

    def read() -> dict[str, dict[str, Any] | None]:
        out: dict[str, dict[str, Any] | None] = {}
        with tempfile.TemporaryDirectory(dir=service.work) as tmp:
            for channel in channels:
                config = service.config(channel, Path(tmp))
                out[channel] = profile_of(config) if config else None
        return out

    return await database(request).run(read)


async def _fleet(request: Request, who: Staffer) -> list[dict[str, Any]]:
    db, settings = database(request), request.app.state.settings
    statuses: list[ScreenStatus] = await db.run(fleet_status, db, time.time(),
                                                Watch(settings.offline_after, settings.lagging_after))
    mine = [s for s in statuses if who.may(s.channel) and not s.revoked]
    profiles = await channel_profiles(request, {s.channel for s in mine})
    zone = zoneinfo.ZoneInfo(settings.timezone)
    rows = []
    for s in mine:
        beat = s.heartbeat or {}
        rows.append({"id": s.id, "channel": s.channel, "online": s.online, "flag": s.flag,
                     "flag_kind": (s.flag_kind or "").replace(" ", "-"), "broken": beat.get("broken") or [],
                     "skips": beat.get("skips"), "update_state": beat.get("update_state"),
                     "seen": local_time(s.last_seen, zone), "generation": beat.get("generation"),
                     "channel_generation": s.channel_generation, "item": beat.get("item"),
                     "playlist": beat.get("playlist"), "version": beat.get("version"),
                     "shot": s.screenshot_at is not None, "shot_at": local_time(s.screenshot_at, zone),
                     "profile": profile_differences(profiles.get(s.channel), beat.get("profile"))})
    return rows


@router.get("/console/screens")
async def fleet(request: Request, who: Annotated[Staffer, Depends(signed_in)]) -> Response:
    return render(request, "screens.html", who, screens=await _fleet(request, who), stamp=int(time.time()))


@router.get("/console/screens/table")
async def fleet_table(request: Request, who: Annotated[Staffer, Depends(signed_in)]) -> Response:
    """The table alone, which the page fetches every 10 s and swaps in."""
    return render(request, "_screens_table.html", who, screens=await _fleet(request, who), stamp=int(time.time()))


async def _screen(request: Request, who: Staffer, screen_id: str) -> Any:
    found = await database(request).run(database(request).screen, screen_id)
    if found is None or not who.may(found.channel):
        raise Refused(404, say("no-screen", language(request)).format(screen=screen_id))
    return found


@router.get("/console/screens/{screen_id}")
async def screen(request: Request, screen_id: str, who: Annotated[Staffer, Depends(signed_in)]) -> Response:
    found = await _screen(request, who, screen_id)
    db = database(request)
    today = now().astimezone(zoneinfo.ZoneInfo(request.app.state.settings.timezone)).date()  # the office's day
    since = (today - timedelta(days=7)).isoformat()
    totals = await db.run(proof_totals, db, found.id, since)
    errors = await db.run(records(request).screen_errors, found.id)
    row = next((r for r in await _fleet(request, who) if r["id"] == found.id), None)
    return render(request, "screen.html", who, screen=row, errors=errors, totals=totals, since=since,
                  today=today.isoformat(), asked=request.query_params.get("asked"), stamp=int(time.time()))


@router.post("/console/screens/{screen_id}/screenshot")
async def ask_screenshot(request: Request, screen_id: str, who: Annotated[Staffer, Depends(signed_in)]) -> Response:
    await read_form(request)
    found = await _screen(request, who, screen_id)
    await database(request).run(database(request).want_screenshot, found.id)
    return redirect(f"/console/screens/{found.id}?asked=1")


@router.get("/console/screens/{screen_id}/screenshot")
async def screenshot(request: Request, screen_id: str, who: Annotated[Staffer, Depends(signed_in)]) -> Response:
    found = await _screen(request, who, screen_id)
    path = request.app.state.settings.screenshots / f"{found.id}.img"
    if not path.is_file():
        raise Refused(404, say("no-screenshot", language(request)))
    with path.open("rb") as f:
        kind = "image/png" if f.read(8) == PNG else "image/jpeg"
    return FileResponse(path, media_type=kind, headers={"Cache-Control": "no-store", "X-Content-Type-Options": "nosniff"})


@router.get("/console/screens/{screen_id}/proof.csv")
async def proof_export(request: Request, screen_id: str, who: Annotated[Staffer, Depends(signed_in)],
                       start: str = "", end: str = "") -> Response:
    found = await _screen(request, who, screen_id)
    db = database(request)
    try:
        first = datetime.fromisoformat(start).date().isoformat() if start else None
        last = (datetime.fromisoformat(end).date() + timedelta(days=1)).isoformat() if end else None
    except ValueError:
        raise Refused(422, say("bad-date", language(request))) from None
    rows = await db.run(db.proof, first, last, found.id, None)
    name = f"proof-of-play-{found.id}-{start or 'start'}-{end or 'now'}.csv"
    return StreamingResponse(proof_csv(rows, {found.id}), media_type="text/csv; charset=utf-8",
                             headers={"Content-Disposition": f'attachment; filename="{name}"'})
