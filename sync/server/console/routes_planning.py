"""The schedule timeline (a day hour by hour, and why an item is not playing) and the translation board."""

from __future__ import annotations

import tempfile
import zoneinfo
from datetime import date
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from player.config import DEFAULT_FALLBACK, KioskConfig, follow_fallback
from player.content import load_content
from player.fontfiles import has_font_for, missing_font
from player.model import Content

from ..channels import Refused
from .guard import Staffer, database, field, language, read_form, redirect, render, signed_in
from .planning import board, timeline
from .routes_drafts import channel_of, drafts, now
from .texts import say

router = APIRouter()


def draft_content(request: Request, channel: str, staff: str) -> tuple[Content, KioskConfig | None]:
    """The draft's content as the player loads it, with the channel profile (blocking: the database threads)."""
    service = drafts(request)
    files = service.rows.draft_files(channel, staff)
    with tempfile.TemporaryDirectory(dir=service.work) as tmp:
        folder = Path(tmp)
        service.materialize(files, folder, media=False)
        config = service.config(channel, folder)
        languages = config.languages if config else ("vi", "en", "km", "zh")
        has_font = has_font_for(config) if config else (lambda c: missing_font(c) is None)
        content, _ = load_content(folder / "playlists", folder / "media", languages, has_font, None)
    return content, config


def resolver(config: KioskConfig | None) -> Any:
    if config is not None:
        return config.resolve_language

    return lambda language, available: follow_fallback(language, available, DEFAULT_FALLBACK)


@router.get("/console/channels/{channel}/timeline")
async def day_timeline(request: Request, channel: str, who: Annotated[Staffer, Depends(signed_in)], day: str = "",
                       item: str = "") -> Response:
    channel = await channel_of(request, who, channel)
    db = database(request)
    await db.run(drafts(request).open, channel, who.name, now())
    content, config = await db.run(draft_content, request, channel, who.name)
    zone = config.tz if config else zoneinfo.ZoneInfo(request.app.state.settings.timezone)
    try:
        chosen = date.fromisoformat(day) if day else now().astimezone(zone).date()
    except ValueError:
        chosen = now().astimezone(zone).date()
    languages = config.languages if config else ("vi", "en", "km", "zh")
    hours = timeline(content, languages, resolver(config), chosen, zone, item or None)
    items = [f"{p.id}/{i.id}" for p in content.playlists for i in p.items]
    kept = await db.run(request.app.state.console.timeline_days, channel)
    return render(request, "timeline.html", who, channel=channel, hours=hours, day=chosen.isoformat(), item=item,
                  items=items, special=special_days(chosen.year, language(request)), kept=kept)


@router.post("/console/channels/{channel}/timeline/days")
async def keep_day(request: Request, channel: str, who: Annotated[Staffer, Depends(signed_in)]) -> Response:
    """Add a day to the channel's list (a festival, a holiday with its own schedule), or take one off."""
    channel = await channel_of(request, who, channel)
    form = await read_form(request)
    rows, db, lang = request.app.state.console, database(request), language(request)
    try:
        day = date.fromisoformat(field(form, "day")).isoformat()
    except ValueError:
        raise Refused(422, say("bad-date", lang)) from None
    stamp = now().isoformat(timespec="seconds")
    if field(form, "action") == "forget":
        await db.run(rows.forget_day, channel, day)
        await db.run(db.audit, stamp, who.name, "day removed", channel, {"day": day})
        return redirect(f"/console/channels/{channel}/timeline?day={day}")
    name = " ".join(field(form, "name").split())[:80]
    if not name:
        raise Refused(422, say("day-name-required", lang))
    await db.run(rows.keep_day, channel, day, name, who.name)
    await db.run(db.audit, stamp, who.name, "day kept", channel, {"day": day, "name": name})
    return redirect(f"/console/channels/{channel}/timeline?day={day}")


def special_days(year: int, lang: str) -> list[tuple[str, str]]:
    """Days staff check often: Tết and Khmer New Year (dates from the lunar calendars, kept in a list), and others."""
    table = {2026: (("2026-02-17", "tet"), ("2026-04-14", "khmer-new-year")),
             2027: (("2027-02-06", "tet"), ("2027-04-14", "khmer-new-year")),
             2028: (("2028-01-26", "tet"), ("2028-04-13", "khmer-new-year"))}
    fixed = ((f"{year}-04-30", "reunification"), (f"{year}-05-01", "labour-day"), (f"{year}-09-02", "national-day"))
    return [(day, say(f"day-{name}", lang)) for day, name in (*table.get(year, ()), *fixed)]


@router.get("/console/channels/{channel}/translations")
async def translations(request: Request, channel: str, who: Annotated[Staffer, Depends(signed_in)]) -> Response:
    channel = await channel_of(request, who, channel)
    service, db = drafts(request), database(request)
    draft, _ = await db.run(service.open, channel, who.name, now())
    content, config = await db.run(draft_content, request, channel, who.name)
    languages = config.languages if config else ("vi", "en", "km", "zh")
    rows = board(content.playlists, languages, resolver(config), set(draft.marks.get("check", [])))
    return render(request, "translations.html", who, channel=channel, rows=rows, languages=languages)


@router.post("/console/channels/{channel}/translations")
async def confirm(request: Request, channel: str, who: Annotated[Staffer, Depends(signed_in)]) -> Response:
    """Confirm a translation (or all of them) as checked against the Vietnamese as it is now."""
    channel = await channel_of(request, who, channel)
    form = await read_form(request)
    service, db = drafts(request), database(request)
    draft, _ = await db.run(service.open, channel, who.name, now())
    wanted = field(form, "key")
    pending = set(draft.marks.get("check", []))
    pending = set() if wanted == "*" else pending - {wanted}
    await db.run(service.rows.set_marks, channel, who.name, {**draft.marks, "check": sorted(pending)})
    return redirect(f"/console/channels/{channel}/translations")
