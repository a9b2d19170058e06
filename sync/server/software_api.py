"""Routes for software channels: the release and releasers screens long-poll, and the admin routes that publish them."""

from __future__ import annotations

import random
from typing import Annotated

from fastapi import APIRouter, Depends, Header, Query, Request, Response
from fastapi import Path as PathParam
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from .auth import admin, staff
from .bodies import BoundedJSONRoute, read_body
from .channels import Refused
from .content_api import BINARY_BODY, ChannelName, checked_root_key, now
from .db import Staff
from .software import Software

router = APIRouter(route_class=BoundedJSONRoute)


def software(request: Request) -> Software:
    return request.app.state.software  # type: ignore[no-any-return]


@router.get("/software/{channel}/{name}", tags=["screens"], summary="A software channel's release or releasers list",
            responses={304: {"description": "not modified (If-None-Match)"}, 404: {"description": "nothing published"}})
async def software_document(request: Request, channel: ChannelName,
                            name: Annotated[str, PathParam(pattern=r"^(release|releasers)$")],
                            wait: Annotated[float, Query(ge=0, le=600, description="long-poll: seconds to wait for a "
                                                         "change when If-None-Match matches")] = 0,
                            if_none_match: Annotated[str | None, Header()] = None) -> Response:
    store = software(request)
    limit = request.app.state.settings.long_poll_max_seconds
    doc = store.document(channel, name)
    if doc is not None and doc.etag != if_none_match:
        return _document(doc.data, doc.etag, limit)
    if wait > 0 and doc is not None:
        changed = await store.wait_for_change(channel, name, if_none_match, min(wait, limit) * random.uniform(0.9, 1.0))
        if changed is not None:
            return _document(changed.data, changed.etag, limit)
    if doc is None:
        raise Refused(404, f"nothing is published to software channel {channel!r} yet")
    return Response(status_code=304, headers={"ETag": doc.etag, "X-Long-Poll-Max": f"{limit:g}"})


def _document(data: bytes, etag: str, limit: float) -> Response:
    return Response(data, media_type="application/octet-stream",
                    headers={"ETag": etag, "Cache-Control": "no-cache", "X-Long-Poll-Max": f"{limit:g}"})


@router.post("/api/software/{channel}/release", tags=["publish"], openapi_extra=BINARY_BODY,
             summary="Publish a signed release (admin); its wheels must be uploaded first as blobs")
async def publish_release(request: Request, channel: ChannelName, who: Annotated[Staff, Depends(admin)]) -> JSONResponse:
    envelope = await read_body(request, 1024 * 1024 + 512)
    release = await software(request).publish(channel, envelope, who.name, now())
    return JSONResponse({"channel": channel, "sequence": release.sequence, "version": release.version,
                         "wheels": len(release.wheels)}, status_code=201)


@router.put("/api/software/{channel}/releasers", tags=["publish"], openapi_extra=BINARY_BODY,
            summary="Replace the software channel's releasers list (signed by its root key, version going up; admin)")
async def put_releasers(request: Request, channel: ChannelName, who: Annotated[Staff, Depends(admin)]) -> dict[str, object]:
    envelope = await read_body(request, 256 * 1024)
    plist = await software(request).set_releasers(channel, envelope, who.name, now())
    return {"channel": channel, "version": plist.version, "releasers": [p.name for p in plist.publishers]}


class NewSoftware(BaseModel):
    root_key: str = Field(description="the root public key that signs the releasers list: 44 characters of base64")


@router.put("/api/software/{channel}", tags=["admin"], summary="Add a software channel, or change its root key (admin)")
async def put_software(request: Request, channel: ChannelName, body: NewSoftware,
                       who: Annotated[Staff, Depends(admin)]) -> dict[str, str]:
    root_key = checked_root_key(channel, body.root_key)
    stamp, records = now().isoformat(timespec="seconds"), request.app.state.db
    await records.run(records.add_software, channel, root_key, stamp)
    await records.run(records.audit, stamp, who.name, "software", channel, {"root_key": root_key})
    return {"channel": channel}


@router.get("/api/software", tags=["fleet"], summary="Every release published, newest first, with rollbacks and halts")
async def list_releases(request: Request, who: Annotated[Staff, Depends(staff)]) -> list[dict[str, object]]:
    records = request.app.state.db
    return [{k: v for k, v in row.items() if k != "envelope"} for row in await records.run(records.releases)]
