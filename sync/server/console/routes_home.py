"""The console's front page: the channels this staff member may edit, with generation, screens and draft."""

from __future__ import annotations

import time
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from ..monitor import Watch, fleet_status
from .guard import Staffer, database, records, redirect, render, signed_in

router = APIRouter()


@router.get("/console")
async def bare() -> Response:
    return redirect("/console/")


@router.get("/console/")
async def home(request: Request, who: Annotated[Staffer, Depends(signed_in)]) -> Response:
    db, rows = database(request), records(request)
    settings = request.app.state.settings
    statuses = await db.run(fleet_status, db, time.time(), Watch(settings.offline_after, settings.lagging_after))
    channels = []
    for name in await db.run(db.channels):
        if not who.may(name):
            continue
        current = request.app.state.channels.current(name)
        draft = await db.run(rows.draft, name, who.name)
        mine = [s for s in statuses if s.channel == name and not s.revoked]
        channels.append({"name": name, "generation": current.generation if current else 0,
                         "draft": draft.base_generation if draft else None, "screens": len(mine),
                         "online": sum(1 for s in mine if s.online)})
    return render(request, "home.html", who, channels=channels)
