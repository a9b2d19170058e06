"""Previews by the player's own renderer (in the render worker): an item in each language, the loop as a contact
sheet, the browse menu's screens, a notice."""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
import shutil
from pathlib import Path
from typing import Annotated, Any

import yaml
from fastapi import APIRouter, Depends, Request
from fastapi.responses import FileResponse, Response

from ...errors import ManifestError
from ...notice import parse_notice
from ..channels import Refused
from .drafts import Drafts
from .guard import Staffer, database, language, render, signed_in
from .preview import PreviewFailed, RenderWorker
from .records import DraftFile
from .routes_drafts import channel_of, drafts, now
from .texts import say

router = APIRouter()
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.+-]{0,200}\.(png|jpg)")
_FOLDER = re.compile(r"[a-z0-9_-]+~[A-Za-z0-9_.-]+(~[A-Za-z0-9_.-]+)?")
DEFAULT_PROFILE = {"screen": {"id": "console-preview"}, "display": {"fullscreen": False, "size": [1920, 1080]},
                   "languages": {"order": ["vi", "en", "km", "zh"]}}


def worker(request: Request) -> RenderWorker:
    return request.app.state.render_worker  # type: ignore[no-any-return]


def previews_root(request: Request) -> Path:
    root: Path = request.app.state.settings.data / "console" / "previews"
    return root


def draft_folder(service: Drafts, channel: str, staff: str, files: dict[str, DraftFile]) -> Path:
    """The draft as a content folder the worker reads, kept at one place per draft so the worker's renderer (fonts,
    layouts) stays warm: playlists written, media hard-linked from the blobs, kiosk.yaml from the channel profile."""
    folder = service.work / f"draft~{channel}~{staff}"
    raw = service.rows.profile(channel)
    # previews are asked again and again of a draft that did not change: lay the folder out only when it did,
    # which keeps the server's own share of a preview (file links, writes) off the event loop's time
    signature = hashlib.sha256(repr(sorted((p, f.sha256) for p, f in files.items())).encode() + (raw or b"")).hexdigest()
    stamp = folder / ".draft-signature"
    if stamp.is_file() and stamp.read_text(encoding="ascii") == signature and (folder / "kiosk.yaml").is_file():
        return folder
    stamp.unlink(missing_ok=True)
    for sub in ("playlists", "media"):
        shutil.rmtree(folder / sub, ignore_errors=True)
    service.materialize(files, folder)
    profile: dict[str, Any] = dict(DEFAULT_PROFILE)
    if raw is not None:
        try:
            loaded = yaml.safe_load(raw.decode("utf-8"))
            profile = loaded if isinstance(loaded, dict) else profile
        except (yaml.YAMLError, UnicodeDecodeError):
            pass
    profile = {k: v for k, v in profile.items() if k not in ("sync", "power", "content", "state_dir")}
    profile.setdefault("screen", {"id": "console-preview"})
    profile["content"] = {"playlists": "playlists", "media": "media"}
    profile["state_dir"] = "state"
    text = yaml.safe_dump(profile, allow_unicode=True, sort_keys=False)
    config = folder / "kiosk.yaml"
    if not config.is_file() or config.read_text(encoding="utf-8") != text:
        config.write_text(text, encoding="utf-8")
    stamp.write_text(signature, encoding="ascii")
    return folder


async def _render(request: Request, who: Staffer, channel: str, ask: dict[str, Any], label: str) -> tuple[str, dict[str, Any]]:
    service, db = drafts(request), database(request)
    _, files = await db.run(service.open, channel, who.name, now())
    folder = await db.run(draft_folder, service, channel, who.name, files)
    name = f"{channel}~{who.name}~{label}"
    out = previews_root(request) / name
    shutil.rmtree(out, ignore_errors=True)
    try:
        answer = await worker(request).ask({**ask, "config": str(folder / "kiosk.yaml"), "out": str(out)})
    except PreviewFailed as exc:
        raise Refused(503, f"{say('preview-failed', language(request))} ({exc})") from None
    return name, answer


@router.get("/console/channels/{channel}/preview/{file}/{item}")
async def item_preview(request: Request, channel: str, file: str, item: str,
                       who: Annotated[Staffer, Depends(signed_in)]) -> Response:
    channel = await channel_of(request, who, channel)
    playlist = file.removesuffix(".yaml")
    name, answer = await _render(request, who, channel, {"do": "item", "playlist": playlist, "item": item},
                                 f"{playlist}-{item}")
    return render(request, "preview.html", who, channel=channel, title=f"{playlist} · {item}", folder=name,
                  files=answer.get("files", []), warnings=answer.get("warnings", []), back=f"edit/{file}")


@router.get("/console/channels/{channel}/preview")
async def loop_preview(request: Request, channel: str, who: Annotated[Staffer, Depends(signed_in)]) -> Response:
    channel = await channel_of(request, who, channel)
    name, answer = await _render(request, who, channel, {"do": "sheet", "playlist": ""}, "sheet")
    return render(request, "preview.html", who, channel=channel, title=say("preview-loop", language(request)),
                  folder=name, files=answer.get("files", []), warnings=[], back="")


@router.get("/console/channels/{channel}/preview-browse")
async def browse_preview(request: Request, channel: str, who: Annotated[Staffer, Depends(signed_in)]) -> Response:
    channel = await channel_of(request, who, channel)
    name, answer = await _render(request, who, channel, {"do": "browse"}, "browse")
    return render(request, "preview.html", who, channel=channel, title=say("browse", language(request)), folder=name,
                  files=answer.get("files", []), warnings=answer.get("problems", []), back="edit/browse.yaml")


@router.get("/console/notices/preview.png")
async def notice_preview(request: Request, payload: str, who: Annotated[Staffer, Depends(signed_in)]) -> Response:
    try:
        notice = parse_notice(base64.b64decode(payload, validate=True))
    except (binascii.Error, ValueError, ManifestError) as exc:
        raise Refused(422, str(exc)) from None
    channel = next((c for c in notice.channels if who.may(c)), None)
    if channel is None:
        raise Refused(403, say("channel-not-yours", language(request)).format(channel=",".join(notice.channels)))
    name, answer = await _render(request, who, channel, {"do": "notice", "id": notice.id, "level": notice.level,
                                                         "texts": [list(t) for t in notice.texts]}, "notice")
    files = answer.get("files") or []
    if not files:
        raise Refused(404, say("preview-failed", language(request)))
    return FileResponse(previews_root(request) / name / files[0], media_type="image/png",
                        headers={"Cache-Control": "no-store"})


@router.get("/console/previews/{folder}/{name}")
async def preview_file(request: Request, folder: str, name: str, who: Annotated[Staffer, Depends(signed_in)]) -> Response:
    if not _FOLDER.fullmatch(folder) or not _NAME.fullmatch(name):
        raise Refused(404, "no such preview")
    channel, staff = folder.split("~")[:2]
    if staff != who.name or not who.may(channel):
        raise Refused(404, "no such preview")
    path = previews_root(request) / folder / name
    if not path.is_file():
        raise Refused(404, "no such preview")
    return FileResponse(path, media_type="image/png" if name.endswith(".png") else "image/jpeg",
                        headers={"Cache-Control": "no-store"})
