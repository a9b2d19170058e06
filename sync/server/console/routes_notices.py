"""Urgent notices from the console: written per language, signed in the browser, posted through the server's own
notice checks; where each is live, and clearing one."""

from __future__ import annotations

import base64
import binascii
import re
import time
import uuid
import zoneinfo
from datetime import timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from ...envelope import MAGIC
from ...errors import ManifestError
from ...notice import LEVELS, MAX_TEXT, build_notice, notice_payload, parse_notice
from ..channels import Refused
from ..monitor import Watch, fleet_status
from .guard import Staffer, database, field, language, read_form, redirect, render, signed_in
from .routes_drafts import now
from .texts import say

router = APIRouter()
LANGUAGES = ("vi", "en", "km", "zh")
LASTING = {"30m": timedelta(minutes=30), "1h": timedelta(hours=1), "2h": timedelta(hours=2),
           "4h": timedelta(hours=4), "12h": timedelta(hours=12), "1d": timedelta(days=1), "3d": timedelta(days=3),
           "7d": timedelta(days=7), "14d": timedelta(days=14)}
_KEY_ID = re.compile(r"[0-9a-f]{16}")


async def _context(request: Request, who: Staffer) -> dict[str, Any]:
    db = database(request)
    settings = request.app.state.settings
    channels = [c for c in await db.run(db.channels) if who.may(c)]
    statuses = await db.run(fleet_status, db, time.time(), Watch(settings.offline_after, settings.lagging_after))
    screens = {c: [s.id for s in statuses if s.channel == c and not s.revoked] for c in channels}
    stamp = now()
    zone = zoneinfo.ZoneInfo(settings.timezone)  # the office's clock, whatever the server machine's zone
    live = []
    for row in await db.run(db.notices):
        if not any(who.may(c) for c in row["channels"]):
            continue
        notice = parse_notice(row["envelope"].split(b"\n", 1)[1])
        on = [s for c in notice.channels for s in screens.get(c, []) if not notice.screens or s in notice.screens]
        live.append({"id": row["id"], "level": notice.level, "texts": dict(notice.texts), "channels": row["channels"],
                     "screens": list(notice.screens), "on": on, "expires": notice.expires.astimezone(zone),
                     "expired": notice.expires <= stamp, "posted_by": row["posted_by"]})
    return {"channels": channels, "screens": screens, "live": live, "levels": LEVELS, "lasting": list(LASTING),
            "max_text": MAX_TEXT, "note_languages": LANGUAGES}


@router.get("/console/notices")
async def notices(request: Request, who: Annotated[Staffer, Depends(signed_in)]) -> Response:
    posted = bool(request.query_params.get("posted"))  # just posted: the form starts empty, not with the last text
    return render(request, "notices.html", who, values={}, posted=posted, **await _context(request, who))


@router.post("/console/notices/prepare")
async def prepare(request: Request, who: Annotated[Staffer, Depends(signed_in)]) -> Response:
    """Check what was written and show it to be signed (the browser signs; nothing is posted yet)."""
    form = await read_form(request)
    lang = language(request)
    texts = [(code, field(form, f"text.{code}").strip()) for code in LANGUAGES]
    texts = [(code, text) for code, text in texts if text]
    channels = [c for c in form.get("channel", []) if who.may(c)]
    screens = [s for s in form.get("screen", []) if s]
    values = {k: v[0] for k, v in form.items() if k != "csrf"}
    problem = None
    if not dict(texts).get("vi"):
        problem = say("notice-vi-required", lang)
    elif not channels:
        problem = say("notice-channel-required", lang)
    elif field(form, "lasting") not in LASTING:
        problem = say("notice-lasting", lang)
    if problem is None:
        created = now()
        try:
            notice = build_notice(uuid.uuid4().hex, field(form, "level", "urgent"), texts, channels, screens, created,
                                  created + LASTING[field(form, "lasting")])
        except ManifestError as exc:
            problem = str(exc)
    if problem is not None:
        return render(request, "notices.html", who, status=422, problem=problem, values=values,
                      **await _context(request, who))
    payload = notice_payload(notice)
    listed = " ".join(sorted({i for c in channels for i in request.app.state.channels.publisher_ids(c)}))
    until = notice.expires.astimezone(zoneinfo.ZoneInfo(request.app.state.settings.timezone))
    return render(request, "notice_sign.html", who, notice=notice, payload=base64.b64encode(payload).decode("ascii"),
                  listed=listed, until=until)


@router.post("/console/notices/post")
async def post(request: Request, who: Annotated[Staffer, Depends(signed_in)]) -> Response:
    form = await read_form(request)
    try:
        payload = base64.b64decode(field(form, "payload"), validate=True)
        signature = base64.b64decode(field(form, "signature"), validate=True)
    except (binascii.Error, ValueError):
        raise Refused(422, say("sign-again", language(request))) from None
    key_id = field(form, "key_id")
    if not _KEY_ID.fullmatch(key_id) or len(signature) != 64:
        raise Refused(422, say("sign-again", language(request)))
    signed = MAGIC + f"notice {key_id} ".encode() + base64.b64encode(signature) + b"\n" + payload
    store, db = request.app.state.channels, database(request)
    notice = await db.run(store.check_notice, signed)  # the API's checks: signature, key trusted by every channel
    for channel in notice.channels:
        if not who.may(channel):
            raise Refused(403, say("channel-not-yours", language(request)).format(channel=channel))
    stamp = now()
    if notice.expires <= stamp:
        raise Refused(422, say("notice-expired", language(request)))
    await store.post_notice(notice, signed, who.name, stamp)
    return redirect("/console/notices?posted=" + notice.id)


@router.post("/console/notices/{notice_id}/clear")
async def clear(request: Request, notice_id: str, who: Annotated[Staffer, Depends(signed_in)]) -> Response:
    await read_form(request)

    def allowed(channels: list[str]) -> None:
        for channel in channels:
            if not who.may(channel):
                raise Refused(403, say("channel-not-yours", language(request)).format(channel=channel))

    await request.app.state.channels.clear_notice(notice_id, allowed, who.name, now())
    return redirect("/console/notices")
