"""The audit log, the channel profile (a kiosk.yaml an admin uploads), and comparing a draft file with the published."""

from __future__ import annotations

import tempfile
import zoneinfo
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from player.config import parse_config
from player.errors import ContentError
from player.problem_texts import problem_text
from player.yamlsource import load_yaml

from ..channels import Refused
from .drafts import PLAYLISTS, Conflict, check_file_name
from .guard import Staffer, admin, database, field, language, read_form, redirect, render, signed_in
from .logview import audit_rows
from .routes_drafts import channel_of, drafts, now
from .texts import say

router = APIRouter()
PROFILE_LIMIT = 256 * 1024


@router.get("/console/audit")
async def audit(request: Request, who: Annotated[Staffer, Depends(signed_in)], channel: str = "") -> Response:
    db = database(request)

    def visible(about: str | None) -> bool:
        """Rows about staff accounts and log-ins (no channel) are for admins; a notice's row names its channels."""
        return who.admin if about is None else any(who.may(c) for c in about.split(","))

    rows = await db.run(db.audit_log, 300, channel or None, visible)
    zone = zoneinfo.ZoneInfo(request.app.state.settings.timezone)
    return render(request, "audit.html", who, rows=audit_rows(rows, zone))


@router.get("/console/channels/{channel}/profile")
async def profile(request: Request, channel: str, who: Annotated[Staffer, Depends(admin)]) -> Response:
    channel = await channel_of(request, who, channel)
    data = await database(request).run(request.app.state.console.profile, channel)
    return render(request, "profile.html", who, channel=channel, text=data.decode("utf-8", "replace") if data else "",
                  problems=[])


@router.post("/console/channels/{channel}/profile")
async def set_profile(request: Request, channel: str, who: Annotated[Staffer, Depends(admin)]) -> Response:
    """An admin uploads the channel's kiosk.yaml (pasted or read from a file by the page): checked by the player's
    own config parser; its languages, fallbacks, size, rotation, width and touch then apply to every draft."""
    channel = await channel_of(request, who, channel)
    form = await read_form(request)
    text = field(form, "profile")
    lang = language(request)
    if len(text.encode("utf-8")) > PROFILE_LIMIT:
        raise Refused(413, say("form-too-large", lang))
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "kiosk.yaml"
        path.write_text(text, encoding="utf-8")
        try:
            _, problems = parse_config(load_yaml(path), path)
        except ContentError as exc:
            problems = exc.problems
    errors = [p for p in problems if p.severity == "error"]
    if errors:
        said = [f"{p.key}: {problem_text(p, lang)}" for p in errors]
        return render(request, "profile.html", who, status=422, channel=channel, text=text, problems=said)
    db = database(request)
    stamp = now().isoformat(timespec="seconds")
    await db.run(request.app.state.console.set_profile, channel, text.encode("utf-8"), who.name, stamp)
    await db.run(db.audit, stamp, who.name, "profile", channel, {"bytes": len(text.encode("utf-8"))})
    return redirect(f"/console/channels/{channel}/profile")


@router.get("/console/channels/{channel}/compare/{name}")
async def compare(request: Request, channel: str, name: str, who: Annotated[Staffer, Depends(signed_in)]) -> Response:
    """The published file beside the draft's, with the same choices as after a refused save."""
    channel = await channel_of(request, who, channel)
    name = check_file_name(name)
    service, db = drafts(request), database(request)
    files = await db.run(service.rows.draft_files, channel, who.name)
    published = service.published_files(channel).get(PLAYLISTS + name)
    held = files.get(PLAYLISTS + name)
    theirs = (await db.run(service.blob, published[0])).decode("utf-8", "replace") if published else ""
    yours = (held.data or b"").decode("utf-8", "replace") if held else ""
    return render(request, "conflict.html", who, channel=channel, name=name,
                  conflict=Conflict(PLAYLISTS + name, theirs, yours, "published", published[0] if published else None))
