"""Routes for content: the static layout screens read (with long-poll) and the publish API staff write with."""

from __future__ import annotations

import asyncio
import random
from datetime import datetime, timezone
from typing import Annotated

from fastapi import APIRouter, Depends, Header, Query, Request, Response
from fastapi import Path as PathParam
from fastapi.responses import FileResponse, JSONResponse
from pydantic import BaseModel, Field

from ..errors import ManifestError
from ..keys import public_from_text
from ..manifest import check_channel
from .auth import admin, db, require_channel, staff
from .bodies import BoundedJSONRoute, read_body
from .channels import Channels, Refused
from .db import Staff

router = APIRouter(route_class=BoundedJSONRoute)
SHA256 = r"^[0-9a-f]{64}$"
CHANNEL = r"^[a-z0-9][a-z0-9_-]{0,63}$"
ChannelName = Annotated[str, PathParam(pattern=CHANNEL, description="channel name")]
Digest = Annotated[str, PathParam(pattern=SHA256, description="the blob's SHA-256, lower-case hex")]
# Raw bodies (blobs, signed envelopes) described for the OpenAPI spec, which FastAPI cannot infer.
BINARY_BODY = {"requestBody": {"content": {"application/octet-stream": {"schema": {"type": "string", "format": "binary"}}}}}


def channels(request: Request) -> Channels:
    return request.app.state.channels  # type: ignore[no-any-return]


def now() -> datetime:
    return datetime.now(timezone.utc).astimezone()


# --- what screens read (any static host serves the same) -----------------------------------------------------

@router.get("/channels/{channel}/{name}", tags=["screens"], summary="A channel's manifest, publisher list or notices",
            responses={304: {"description": "not modified (If-None-Match)"}, 404: {"description": "nothing published"}})
async def channel_document(request: Request, channel: ChannelName,
                           name: Annotated[str, PathParam(pattern=r"^(manifest|publishers|notices)$")],
                           wait: Annotated[float, Query(ge=0, le=600, description="long-poll: seconds to wait for a "
                                                        "change when If-None-Match matches")] = 0,
                           if_none_match: Annotated[str | None, Header()] = None) -> Response:
    store = channels(request)
    limit = request.app.state.settings.long_poll_max_seconds
    doc = store.document(channel, name)
    if doc is not None and doc.etag != if_none_match:
        return _document(doc.data, doc.etag, limit)
    if wait > 0 and doc is not None:
        # Held for 90-100% of the wait: after a publish wakes every screen at once, their next 304s
        # spread out instead of arriving together every `wait` seconds for as long as the server runs.
        hold = min(wait, limit) * random.uniform(0.9, 1.0)
        changed = await store.wait_for_change(channel, name, if_none_match, hold)
        if changed is not None:
            return _document(changed.data, changed.etag, limit)
    if doc is None:
        raise Refused(404, f"nothing is published to channel {channel!r} yet")
    return Response(status_code=304, headers={"ETag": doc.etag, "X-Long-Poll-Max": f"{limit:g}"})


def _document(data: bytes, etag: str, limit: float) -> Response:
    """The document; X-Long-Poll-Max tells the screen's client this host holds requests (a static host does not)."""
    return Response(data, media_type="application/octet-stream",
                    headers={"ETag": etag, "Cache-Control": "no-cache", "X-Long-Poll-Max": f"{limit:g}"})


@router.get("/blobs/{digest}", tags=["screens"], summary="A file's bytes by SHA-256 (supports Range)",
            responses={206: {"description": "partial content"}, 404: {"description": "no such blob"}})
async def blob(request: Request, digest: Digest) -> Response:
    path = channels(request).blob_path(digest)
    if not path.is_file():
        raise Refused(404, f"no blob {digest} on this server")
    return FileResponse(path, media_type="application/octet-stream",
                        headers={"ETag": f'"{digest}"', "Cache-Control": "public, max-age=31536000, immutable"})


# --- publishing ----------------------------------------------------------------------------------------------

class BlobList(BaseModel):
    blobs: dict[Annotated[str, Field(pattern=SHA256)], Annotated[int, Field(ge=0)]] = Field(
        description="{sha256: size} of the files a manifest will name", max_length=20000)


@router.post("/api/blobs/missing", tags=["publish"], summary="Which of these blobs the server lacks")
async def missing_blobs(request: Request, body: BlobList, who: Annotated[Staff, Depends(staff)]) -> dict[str, list[str]]:
    return {"missing": await asyncio.to_thread(channels(request).missing, body.blobs)}


@router.put("/api/blobs/{digest}", tags=["publish"], summary="Upload one file's bytes; kept only if they hash to DIGEST",
            openapi_extra=BINARY_BODY)
async def upload_blob(request: Request, digest: Digest, who: Annotated[Staff, Depends(staff)]) -> JSONResponse:
    store = channels(request)
    limit = request.app.state.settings.limits.blob_mb * 2**20
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        raise Refused(413, f"blob is {declared} bytes; the server takes at most {limit} (limits.blob_mb)")
    size = await store.receive_blob(digest, request.stream(), limit)
    return JSONResponse({"sha256": digest, "size": size}, status_code=201)


@router.post("/api/channels/{channel}/manifest", tags=["publish"], openapi_extra=BINARY_BODY,
             summary="Publish a signed manifest (KIOSK-SIGNED envelope); screens are told at once")
async def publish_manifest(request: Request, channel: ChannelName, who: Annotated[Staff, Depends(staff)]) -> JSONResponse:
    require_channel(who, channel)
    envelope = await read_body(request, request.app.state.settings.limits.manifest_kb * 1024)
    manifest = await channels(request).publish_manifest(channel, envelope, who.name, now())
    return JSONResponse({"channel": channel, "generation": manifest.generation, "files": len(manifest.files)},
                        status_code=201)


@router.put("/api/channels/{channel}/publishers", tags=["publish"], openapi_extra=BINARY_BODY,
            summary="Replace the channel's publisher list (signed by its root key, version going up)")
async def put_publishers(request: Request, channel: ChannelName, who: Annotated[Staff, Depends(staff)]) -> dict[str, object]:
    require_channel(who, channel)
    envelope = await read_body(request, 256 * 1024)
    plist = await channels(request).set_publishers(channel, envelope, who.name, now())
    return {"channel": channel, "version": plist.version, "publishers": [p.name for p in plist.publishers]}


def checked_root_key(channel: str, text: str) -> str:
    """A new channel's (content or software) name and root key checked, the key as it is kept; 422 otherwise."""
    try:
        public_from_text(text)
        check_channel(channel)
    except (ValueError, ManifestError) as exc:
        raise Refused(422, f"root_key: {exc}") from None
    return text.strip()


class NewChannel(BaseModel):
    root_key: str = Field(description="the channel's root public key: 44 characters of base64 (ROOT.pub)")


@router.put("/api/channels/{channel}", tags=["admin"], summary="Add a channel, or change its root key (admin)")
async def put_channel(request: Request, channel: ChannelName, body: NewChannel,
                      who: Annotated[Staff, Depends(admin)]) -> dict[str, str]:
    root_key = checked_root_key(channel, body.root_key)
    stamp = now().isoformat(timespec="seconds")
    records = db(request)
    await records.run(records.add_channel, channel, root_key, stamp)
    await records.run(records.audit, stamp, who.name, "channel", channel, {"root_key": root_key})
    return {"channel": channel}


@router.get("/api/channels", tags=["publish"], summary="Channels with their current generation")
async def list_channels(request: Request, who: Annotated[Staff, Depends(staff)]) -> list[dict[str, object]]:
    store = channels(request)
    out: list[dict[str, object]] = []
    for name in await db(request).run(db(request).channels):
        current = store.current(name)
        out.append({"channel": name, "generation": current.generation if current else 0,
                    "created": current.created if current else None, "files": len(current.files) if current else 0,
                    "may_publish": who.may(name)})
    return out


@router.get("/api/audit", tags=["publish"], summary="Who published what and when, newest first")
async def audit(request: Request, who: Annotated[Staff, Depends(staff)],
                channel: Annotated[str | None, Query(pattern=CHANNEL)] = None,
                limit: Annotated[int, Query(ge=1, le=10000)] = 200) -> list[dict[str, object]]:
    if channel:
        require_channel(who, channel)

    def visible(about: str | None) -> bool:
        """Rows about staff accounts (no channel) are for admins; a notice's row names all its channels."""
        return who.admin if about is None else any(who.may(c) for c in about.split(","))

    return await db(request).run(db(request).audit_log, limit, channel, visible)

