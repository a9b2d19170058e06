"""Publishing a draft: the summary by item, signing in the browser, posting through the server's own checks; and
the signing key page."""

from __future__ import annotations

import base64
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from ...errors import ManifestError
from ..channels import Refused
from .guard import Staffer, database, field, language, read_form, redirect, render, signed_in
from .publishing import after_publish, check_matches, envelope, prepare, rebase, store_playlists
from .routes_drafts import channel_of, drafts, now
from .texts import say

router = APIRouter()


@router.get("/console/channels/{channel}/publish")
async def summary(request: Request, channel: str, who: Annotated[Staffer, Depends(signed_in)]) -> Response:
    channel = await channel_of(request, who, channel)
    service, db = drafts(request), database(request)
    draft, files = await db.run(service.open, channel, who.name, now())
    checked = await db.run(service.check, channel, files, now())
    try:
        prepared = await db.run(prepare, service, channel, files, now())
    except ManifestError as exc:
        raise Refused(422, str(exc)) from None
    warnings = [(path, p) for path, p in checked.problems if p.severity == "warning"]
    return render(request, "publish.html", who, channel=channel, draft=draft, summary=prepared.summary,
                  generation=prepared.generation, errors=checked.errors, warnings=warnings,
                  payload=base64.b64encode(prepared.payload).decode("ascii"),
                  listed=" ".join(service.channels.publisher_ids(channel)))


@router.post("/console/channels/{channel}/publish")
async def publish(request: Request, channel: str, who: Annotated[Staffer, Depends(signed_in)]) -> Response:
    channel = await channel_of(request, who, channel)
    form = await read_form(request)
    service, db, lang = drafts(request), database(request), language(request)
    payload, signed = envelope(field(form, "payload"), field(form, "signature"), field(form, "key_id"))
    files = await db.run(service.rows.draft_files, channel, who.name)
    check_matches(payload, files, channel)
    checked = await db.run(service.check, channel, files, now())
    if checked.errors:
        raise Refused(422, say("draft-errors", lang).format(count=checked.errors))
    prepared = await db.run(prepare, service, channel, files, now())
    if prepared.summary.empty:  # a generation like the last one: screens would fetch nothing, the log would mislead
        raise Refused(422, say("summary-nothing", lang))
    await db.run(store_playlists, service, files)
    try:
        manifest = await service.channels.publish_manifest(channel, signed, who.name, now(),
                                                           summary=prepared.summary.as_json())
    except Refused as exc:
        if exc.status == 409 and "current_generation" in exc.extra:
            return render(request, "stale.html", who, status=409, channel=channel, problem=exc.message)
        raise
    await db.run(after_publish, service, channel, who.name)
    return render(request, "published.html", who, channel=channel, generation=manifest.generation,
                  notice=say("published", lang).format(generation=manifest.generation))


@router.post("/console/channels/{channel}/rebase")
async def rebase_draft(request: Request, channel: str, who: Annotated[Staffer, Depends(signed_in)]) -> Response:
    channel = await channel_of(request, who, channel)
    await read_form(request)
    both = await database(request).run(rebase, drafts(request), channel, who.name)
    if both:
        return render(request, "rebased.html", who, channel=channel, both=[p.removeprefix("playlists/") for p in both])
    return redirect(f"/console/channels/{channel}/publish")


@router.get("/console/keys")
async def keys(request: Request, who: Annotated[Staffer, Depends(signed_in)]) -> Response:
    db = database(request)
    lists = {name: request.app.state.channels.publisher_ids(name) for name in await db.run(db.channels) if who.may(name)}
    return render(request, "keys.html", who, lists=lists, listed=" ".join(sorted({i for ids in lists.values() for i in ids})))
