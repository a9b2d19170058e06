"""The media library of a draft: uploads in resumable chunks, thumbnails and facts from the render worker, where
each file is used, deleting what nothing uses."""

from __future__ import annotations

import re
import time
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import FileResponse, JSONResponse, PlainTextResponse, Response

from ..channels import Refused
from .drafts import MEDIA, PLAYLISTS
from .guard import Staffer, checked_change, database, field, language, read_form, redirect, render, signed_in
from .preview import PreviewFailed
from .routes_drafts import channel_of, drafts, now
from .routes_preview import worker
from .texts import say
from .uploads import Uploads
from .yamledit import load

router = APIRouter()
BIG = 1920 * 1080
_SHA = re.compile(r"[0-9a-f]{64}")


def uploads(request: Request) -> Uploads:
    return request.app.state.uploads  # type: ignore[no-any-return]


def used_where(files: dict[str, Any]) -> dict[str, list[str]]:
    """{media name: ["daytime.yaml: welcome", …]} from the draft's playlists and browse menu (pure)."""
    out: dict[str, list[str]] = {}

    def visit(node: Any, file: str, label: str) -> None:
        if isinstance(node, dict):
            here = str(node.get("id", label))
            for key in ("media", "background", "icon"):
                value = node.get(key)
                names = [value] if isinstance(value, str) else list(value.values()) if isinstance(value, dict) else []
                for name in names:
                    if isinstance(name, str):
                        out.setdefault(name, []).append(f"{file}: {here}")
            for value in node.values():
                visit(value, file, here)
        elif isinstance(node, list):
            for value in node:
                visit(value, file, label)

    for path, f in files.items():
        if path.startswith(PLAYLISTS) and f.data is not None:
            try:
                visit(load(f.data.decode("utf-8", "replace")), path[len(PLAYLISTS):], "")
            except Exception:  # a file the validator reports as broken
                continue
    return out


@router.get("/console/channels/{channel}/media")
async def library(request: Request, channel: str, who: Annotated[Staffer, Depends(signed_in)]) -> Response:
    channel = await channel_of(request, who, channel)
    service, db = drafts(request), database(request)
    _, files = await db.run(service.open, channel, who.name, now())
    media = {p[len(MEDIA):]: f for p, f in files.items() if p.startswith(MEDIA)}
    facts = await db.run(request.app.state.console.media_facts, [f.sha256 for f in media.values()])
    # files published from the command line were never probed: probe some now, so the page says what they are
    # and still answers within a second or so; the rest are probed when their thumbnails are asked for
    started = time.monotonic()
    for f in media.values():
        if f.sha256 not in facts and time.monotonic() - started < 1.0:
            facts[f.sha256] = await probe(request, f.sha256)
    used = used_where(files)
    rows = []
    for name, f in sorted(media.items()):
        info = facts.get(f.sha256, {})
        rows.append({"name": name, "size": f.size, "sha256": f.sha256, "info": info, "used": used.get(name, []),
                     "big": (info.get("width") or 0) * (info.get("height") or 0) > BIG})
    return render(request, "media.html", who, channel=channel, rows=rows)


@router.post("/console/uploads")
async def start_upload(request: Request, who: Annotated[Staffer, Depends(signed_in)]) -> Response:
    form = await read_form(request)
    channel = await channel_of(request, who, field(form, "channel"))
    try:
        size = int(field(form, "size"))
    except ValueError:
        raise Refused(422, "size must be a number of bytes") from None
    limit = request.app.state.settings.limits.blob_mb * 2**20
    upload = uploads(request).start(field(form, "name"), size, who.name, channel, limit)
    return JSONResponse({"id": upload.id, "name": upload.name, "received": 0})


@router.get("/console/uploads/{upload_id}")
async def upload_state(request: Request, upload_id: str, who: Annotated[Staffer, Depends(signed_in)]) -> Response:
    upload = uploads(request).get(upload_id, who.name)
    return JSONResponse({"received": upload.received, "size": upload.size, "name": upload.name})


@router.put("/console/uploads/{upload_id}")
async def upload_chunk(request: Request, upload_id: str, offset: int,
                       who: Annotated[Staffer, Depends(checked_change)]) -> Response:
    upload = uploads(request).get(upload_id, who.name)
    received = await uploads(request).append(upload, offset, request.stream())
    return JSONResponse({"received": received, "size": upload.size})


@router.post("/console/uploads/{upload_id}/finish")
async def finish_upload(request: Request, upload_id: str, who: Annotated[Staffer, Depends(signed_in)]) -> Response:
    await read_form(request)
    store = uploads(request)
    upload = store.get(upload_id, who.name)
    channel = await channel_of(request, who, upload.channel)
    db = database(request)
    digest = await db.run(store.finish, upload)
    facts = await probe(request, digest)
    # the draft must exist before the file joins it: one started later would begin from the published files only
    await db.run(drafts(request).open, channel, who.name, now())
    await db.run(drafts(request).add_media, channel, who.name, upload.name, digest, upload.size)
    await db.run(db.audit, now().isoformat(timespec="seconds"), who.name, "upload", channel,
                 {"file": upload.name, "sha256": digest, "bytes": upload.size, "kind": facts.get("kind")})
    return PlainTextResponse(say("uploaded", language(request)).format(name=upload.name))


async def probe(request: Request, digest: str) -> dict[str, Any]:
    """Facts and a thumbnail of a blob, from the render worker (kept, so each file is probed once)."""
    rows = request.app.state.console
    known: dict[str, Any] | None = (await database(request).run(rows.media_facts, [digest])).get(digest)
    if known is not None:
        return known
    thumb = thumbs(request) / f"{digest}.jpg"
    try:
        answer = await worker(request).ask({"do": "probe", "file": str(request.app.state.channels.blob_path(digest)),
                                            "out": str(thumb)})
        facts = {k: answer.get(k) for k in ("kind", "width", "height", "duration", "codec", "error")}
    except PreviewFailed as exc:
        # a busy, stuck or restarted worker says nothing about the file: ask again next time, keep nothing
        return {"kind": "", "error": str(exc)}
    await database(request).run(rows.set_media_facts, digest, facts)
    return facts


def thumbs(request: Request) -> Any:
    folder = request.app.state.settings.data / "console" / "thumbs"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@router.get("/console/media/{digest}.jpg")
async def thumbnail(request: Request, digest: str, who: Annotated[Staffer, Depends(signed_in)]) -> Response:
    if not _SHA.fullmatch(digest):
        raise Refused(404, "no such thumbnail")
    path = thumbs(request) / f"{digest}.jpg"
    if not path.is_file():
        await probe(request, digest)
    if not path.is_file():
        raise Refused(404, "no thumbnail")
    return FileResponse(path, media_type="image/jpeg", headers={"Cache-Control": "private, max-age=86400"})


@router.post("/console/channels/{channel}/media/delete")
async def delete_media(request: Request, channel: str, who: Annotated[Staffer, Depends(signed_in)]) -> Response:
    channel = await channel_of(request, who, channel)
    form = await read_form(request)
    name = field(form, "name")
    service, db = drafts(request), database(request)
    files = await db.run(service.rows.draft_files, channel, who.name)
    if MEDIA + name not in files:
        raise Refused(404, say("no-file", language(request)).format(name=name))
    if used_where(files).get(name):
        raise Refused(409, say("media-in-use", language(request)).format(name=name))
    await db.run(service.remove, channel, who.name, MEDIA + name)
    await db.run(db.audit, now().isoformat(timespec="seconds"), who.name, "delete", channel, {"file": MEDIA + name})
    return redirect(f"/console/channels/{channel}/media")
