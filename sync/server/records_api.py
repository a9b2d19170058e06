"""Routes for proof of play (batched upload, deduplicated; CSV export) and urgent notices (signed; post, list, clear)."""

from __future__ import annotations

import csv
import io
from datetime import date, timedelta
from typing import Annotated, Iterator

from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi import Path as PathParam
from fastapi.responses import JSONResponse, StreamingResponse
from pydantic import BaseModel, Field

from ..notice import parse_notice
from .auth import db, require_channel, screen, staff
from .bodies import BoundedJSONRoute, read_body
from .channels import Refused
from .content_api import BINARY_BODY, channels, now
from .db import PROOF_COLUMNS, Screen, Staff
from .fleet_api import SCREEN_ID

router = APIRouter(route_class=BoundedJSONRoute)


class ProofLine(BaseModel):
    id: str = Field(pattern=r"^[A-Za-z0-9_-]{8,64}$", description="the line's unique id (the player's uuid)")
    screen: str | None = Field(None, max_length=64)
    item: str = Field(max_length=300)
    playlist: str = Field(max_length=200)
    language: str = Field(max_length=16)
    start: str = Field(min_length=10, max_length=40, description="ISO 8601 time it started, with offset")
    planned: float | None = None
    actual: float = Field(ge=0)
    status: str = Field(max_length=32)
    reason: str = Field("", max_length=500)


class ProofBatch(BaseModel):
    lines: list[ProofLine] = Field(max_length=100000)


@router.post("/api/proof", tags=["screens"], summary="A screen uploads proof-of-play lines; lines already held are ignored")
async def upload_proof(request: Request, batch: ProofBatch, me: Annotated[Screen, Depends(screen)]) -> dict[str, int]:
    limit = request.app.state.settings.limits.proof_batch
    if len(batch.lines) > limit:
        raise Refused(413, f"{len(batch.lines)} lines in one batch; send at most {limit} (limits.proof_batch)")
    lines = [line.model_dump() for line in batch.lines]
    added = await db(request).run(db(request).add_proof, me.id, lines, now().isoformat(timespec="seconds"))
    return {"received": len(lines), "added": added, "duplicates": len(lines) - added}


@router.get("/api/proof.csv", tags=["fleet"], response_class=StreamingResponse,
            summary="Proof of play as CSV, by date range (screen's local dates), screen and item",
            responses={200: {"content": {"text/csv": {}}}})
async def export_proof(request: Request, who: Annotated[Staff, Depends(staff)],
                       start: Annotated[date | None, Query(alias="from", description="first day, YYYY-MM-DD")] = None,
                       end: Annotated[date | None, Query(alias="to", description="last day (inclusive), YYYY-MM-DD")] = None,
                       screen_id: Annotated[str | None, Query(alias="screen", pattern=SCREEN_ID)] = None,
                       item: Annotated[str | None, Query(max_length=300)] = None) -> Response:
    if start and end and end < start:
        raise Refused(422, f"to ({end}) is before from ({start})")
    records = db(request)
    allowed = {s.id for s in await records.run(records.screens) if who.may(s.channel)}
    if screen_id is not None and screen_id not in allowed:
        raise Refused(404 if await records.run(records.screen, screen_id) is None else 403,
                      f"no screen {screen_id!r} you may see")
    rows = await records.run(records.proof, start.isoformat() if start else None,
                             (end + timedelta(days=1)).isoformat() if end else None, screen_id, item)
    name = f"proof-of-play-{start or 'start'}-{end or 'now'}.csv"
    return StreamingResponse(proof_csv(rows, allowed), media_type="text/csv; charset=utf-8",
                             headers={"Content-Disposition": f'attachment; filename="{name}"'})


# Text a spreadsheet would run as a formula (=, +, -, @, tab or CR first) gets a leading ' and stays text.
FORMULA_START = frozenset("=+-@\t\r")


def proof_csv(rows: Iterator[tuple[object, ...]], allowed: set[str]) -> Iterator[str]:
    """Proof lines of the screens in `allowed` as CSV text, 64 KB at a time (the API's export and the console's)."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(PROOF_COLUMNS)
    for row in rows:
        if row[0] in allowed:
            # inline rather than a function: this runs for every value of a month's export
            writer.writerow([("'" + v) if v.__class__ is str and v[:1] in FORMULA_START else v for v in row])
        if out.tell() > 65536:
            yield out.getvalue()
            out.seek(0)
            out.truncate()
    yield out.getvalue()


@router.post("/api/notices", tags=["notices"], openapi_extra=BINARY_BODY, status_code=201,
             summary="Post an urgent notice, signed with a publisher key (python -m sync notice makes one)")
async def post_notice(request: Request, who: Annotated[Staff, Depends(staff)]) -> JSONResponse:
    envelope = await read_body(request, request.app.state.settings.limits.request_kb * 1024)
    store = channels(request)
    notice = await db(request).run(store.check_notice, envelope)
    for channel in notice.channels:
        require_channel(who, channel)
    stamp = now()
    if notice.expires <= stamp:
        raise Refused(422, f"the notice expired at {notice.expires.isoformat()}; nothing was posted")
    await store.post_notice(notice, envelope, who.name, stamp)
    return JSONResponse({"id": notice.id, "channels": list(notice.channels), "expires": notice.expires.isoformat()},
                        status_code=201)


@router.get("/api/notices", tags=["notices"], summary="Notices not cleared (expired ones included, marked)")
async def list_notices(request: Request, who: Annotated[Staff, Depends(staff)]) -> list[dict[str, object]]:
    stamp = now()
    out: list[dict[str, object]] = []
    for row in await db(request).run(db(request).notices):
        if any(who.may(c) for c in row["channels"]):
            # Verified when posted; read, not verified again (a publisher revoked since must not hide the list).
            notice = parse_notice(row["envelope"].split(b"\n", 1)[1])
            out.append({"id": row["id"], "level": notice.level, "texts": dict(notice.texts), "channels": row["channels"],
                        "screens": list(notice.screens), "expires": row["expires"], "posted_by": row["posted_by"],
                        "posted": row["posted"], "expired": notice.expires <= stamp})
    return out


@router.delete("/api/notices/{notice_id}", tags=["notices"], status_code=204, summary="Clear a notice before it expires")
async def clear_notice(request: Request, notice_id: Annotated[str, PathParam(pattern=r"^[A-Za-z0-9_-]{8,64}$")],
                       who: Annotated[Staff, Depends(staff)]) -> Response:
    def allowed(notice_channels: list[str]) -> None:
        for channel in notice_channels:
            require_channel(who, channel)

    await channels(request).clear_notice(notice_id, allowed, who.name, now())
    return Response(status_code=204)
