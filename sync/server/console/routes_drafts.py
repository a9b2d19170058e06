"""A channel's draft: its files, the editors (playlists, schedule, browse menu) and saving with checks and conflicts."""

from __future__ import annotations

import copy
import logging
from urllib.parse import quote
from datetime import datetime, timezone
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from ...manifest import check_channel
from ..channels import Refused
from .drafts import MEDIA, PLAYLISTS, Conflict, Drafts, check_file_name, sha256
from .forms import FormError, apply_action, apply_fields
from .planning import after_edit
from .summary import FileState, summarize
from .guard import Staffer, database, field, language, may, read_form, redirect, render, signed_in
from .records import DraftFile
from .texts import say
from .views import file_view
from .yamledit import EditError, load
from .yamledit import render as render_yaml

log = logging.getLogger(__name__)
router = APIRouter()
LANGUAGES_DEFAULT = ("vi", "en", "km", "zh")


def drafts(request: Request) -> Drafts:
    return request.app.state.drafts  # type: ignore[no-any-return]


def now() -> datetime:
    return datetime.now(timezone.utc).astimezone()


async def channel_of(request: Request, who: Staffer, channel: str) -> str:
    try:
        check_channel(channel)
    except Exception:
        raise Refused(404, say("no-channel", language(request)).format(channel=channel)) from None
    may(who, channel, request)
    if await database(request).run(database(request).root_key, channel) is None:
        raise Refused(404, say("no-channel", language(request)).format(channel=channel))
    return channel


async def languages_of(request: Request, channel: str) -> tuple[str, ...]:
    """The channel profile's languages (its kiosk.yaml), or the four of the gate."""
    service = drafts(request)

    def read() -> tuple[str, ...]:
        import tempfile
        from pathlib import Path

        with tempfile.TemporaryDirectory(dir=service.work) as tmp:
            config = service.config(channel, Path(tmp))
        return config.languages if config else LANGUAGES_DEFAULT

    return await database(request).run(read)


@router.get("/console/channels/{channel}/")
async def overview(request: Request, channel: str, who: Annotated[Staffer, Depends(signed_in)]) -> Response:
    channel = await channel_of(request, who, channel)
    service, db = drafts(request), database(request)
    draft, files = await db.run(service.open, channel, who.name, now())
    checked = await db.run(service.check, channel, files, now())
    current = service.current(channel)
    published = service.published_files(channel)
    rows = []
    for path, f in files.items():
        if not path.startswith(PLAYLISTS):
            continue
        problems = checked.of(path)
        rows.append({"path": path, "name": path[len(PLAYLISTS):], "size": f.size,
                     "errors": sum(p.severity == "error" for p in problems),
                     "warnings": sum(p.severity == "warning" for p in problems),
                     "changed": published.get(path, (None,))[0] != f.sha256})
    gone = [p for p in published if p not in files]
    media = sum(1 for p in files if p.startswith(MEDIA))
    return render(request, "channel.html", who, channel=channel, draft=draft, files=rows, removed=gone, media=media,
                  generation=current.generation if current else 0, errors=checked.errors,
                  behind=(current.generation if current else 0) > draft.base_generation)


@router.post("/console/channels/{channel}/draft")
async def draft_action(request: Request, channel: str, who: Annotated[Staffer, Depends(signed_in)]) -> Response:
    channel = await channel_of(request, who, channel)
    form = await read_form(request)
    service, db, action = drafts(request), database(request), field(form, "action")
    if action == "discard":
        await db.run(service.rows.drop_draft, channel, who.name)
        await db.run(service.start, channel, who.name, now())
    elif action == "new-playlist":
        try:
            name = check_file_name(field(form, "name").strip().removesuffix(".yaml") + ".yaml")
        except ValueError as exc:
            raise Refused(422, str(exc)) from None
        path = PLAYLISTS + name
        text = f"id: {name.removesuffix('.yaml')}\nitems:\n  - id: welcome\n    type: text\n    text:\n      vi: {{title: \"…\"}}\n"
        conflict = await db.run(service.save, channel, who.name, path, text, None)
        if conflict is not None:
            raise Refused(409, say("file-exists", language(request)).format(name=name))
        return redirect(f"/console/channels/{channel}/edit/{name}")
    elif action == "remove-file":
        path = PLAYLISTS + check_file_name(field(form, "name"))
        await db.run(service.remove, channel, who.name, path)
        await db.run(db.audit, now().isoformat(timespec="seconds"), who.name, "delete", channel, {"file": path})
    else:
        raise Refused(422, f"no action {action!r}")
    return redirect(f"/console/channels/{channel}/")


async def _editor(request: Request, who: Staffer, channel: str, name: str, text: str | None = None,
                  status: int = 200, notice: str | None = None, open_node: str | None = None) -> Response:
    service, db, lang = drafts(request), database(request), language(request)
    draft, files = await db.run(service.open, channel, who.name, now())
    path = PLAYLISTS + name
    held = files.get(path)
    if text is None:
        if held is None:
            raise Refused(404, say("no-file", lang).format(name=name))
        text = (held.data or b"").decode("utf-8")
    source = text
    checked = await db.run(service.check, channel, files, now())
    try:
        document = load(source)
    except Exception as exc:  # YAML the round-trip parser cannot read: show it, and the validator's words
        return render(request, "raw.html", who, status=422, channel=channel, name=name, text=source,
                      problem=f"{say('yaml-broken', lang)} ({exc})")
    view = file_view(path, document, checked.of(path), lang)
    languages = await languages_of(request, channel)
    media = sorted(p[len(MEDIA):] for p in files if p.startswith(MEDIA))
    playlists = sorted(p[len(PLAYLISTS):].removesuffix(".yaml") for p in files
                       if p.startswith(PLAYLISTS) and p not in (PLAYLISTS + "schedule.yaml", PLAYLISTS + "browse.yaml"))
    return render(request, f"edit_{view.kind}.html", who, status=status, channel=channel, name=name, view=view,
                  languages=languages, media=media, playlists=playlists, opened=held.sha256 if held else "",
                  notice=notice, open_node=open_node, draft=draft)


@router.get("/console/channels/{channel}/edit/{name}")
async def edit(request: Request, channel: str, name: str, who: Annotated[Staffer, Depends(signed_in)],
               node: str = "", saved: str = "", taken: str = "") -> Response:
    channel = await channel_of(request, who, channel)
    # Either notice also tells the page's script to let go of what this tab had typed (data-saved).
    notice = say("taken", language(request)) if taken else say("saved", language(request)) if saved else None
    return await _editor(request, who, channel, check_file_name(name), open_node=node or None, notice=notice)


@router.post("/console/channels/{channel}/edit/{name}")
async def save(request: Request, channel: str, name: str, who: Annotated[Staffer, Depends(signed_in)]) -> Response:
    channel = await channel_of(request, who, channel)
    name = check_file_name(name)
    form = await read_form(request)
    service, db, lang = drafts(request), database(request), language(request)
    files = await db.run(service.rows.draft_files, channel, who.name)
    path = PLAYLISTS + name
    held = files.get(path)
    original = (held.data or b"").decode("utf-8") if held else ""
    opened = field(form, "opened") or None
    open_node = None
    if "raw" in form:  # the plain-text fallback for a file the forms cannot read
        text = form["raw"][0]
    else:
        try:
            document = load(original)
            unedited = copy.deepcopy(document)
            changed = apply_fields(document, form, await languages_of(request, channel))
            # the item staff were working on stays open after the page comes back
            open_node = apply_action(document, field(form, "action", "save")) or \
                next((c.partition("|")[0] for c in changed if c.partition("|")[0]), None)
            text = render_yaml(original, unedited, document)
        except (FormError, EditError) as exc:
            return render(request, "refused.html", who, status=422, problem=str(exc), title=say("refused", lang))
    if held is not None and text == original and opened == held.sha256:
        return await _editor(request, who, channel, name, notice=say("saved", lang), open_node=open_node)
    conflict = await db.run(service.save, channel, who.name, path, text, opened, field(form, "keep") == "mine")
    if conflict is not None:
        return _conflict(request, who, channel, name, conflict)
    await db.run(db.audit, now().isoformat(timespec="seconds"), who.name, "save", channel,
                 {"file": path, "bytes": len(text.encode("utf-8"))})
    await db.run(mark_translations, service, channel, who.name, path, original, text,
                 await languages_of(request, channel))
    saved = "saved=1&" if field(form, "action", "save") == "save" else ""
    return redirect(f"/console/channels/{channel}/edit/{name}?{saved}node={quote(open_node or '')}#{open_node or ''}")


def mark_translations(service: Drafts, channel: str, staff: str, path: str, before: str, after: str,
                      languages: tuple[str, ...]) -> None:
    """After a save: a changed Vietnamese text marks the item's translations "check"; an edited translation is
    checked again (the translation board shows both)."""
    change = summarize({path: FileState(sha256(before.encode()), 0, before.encode())},
                       {path: FileState(sha256(after.encode()), 0, after.encode())}).playlists
    if not change or not change[0].texts:
        return
    draft = service.rows.draft(channel, staff)
    if draft is None:
        return
    playlist = str((load(after) or {}).get("id") or path[len(PLAYLISTS):].removesuffix(".yaml"))
    pending = after_edit(set(draft.marks.get("check", [])), playlist, change[0].texts, languages)
    service.rows.set_marks(channel, staff, {**draft.marks, "check": sorted(pending)})


def _conflict(request: Request, who: Staffer, channel: str, name: str, conflict: Conflict) -> Response:
    return render(request, "conflict.html", who, status=409, channel=channel, name=name, conflict=conflict)


@router.post("/console/channels/{channel}/resolve/{name}")
async def resolve(request: Request, channel: str, name: str, who: Annotated[Staffer, Depends(signed_in)]) -> Response:
    """After a refused save: keep mine (saved over theirs) or take theirs."""
    channel = await channel_of(request, who, channel)
    name = check_file_name(name)
    form = await read_form(request)
    service, db = drafts(request), database(request)
    path = PLAYLISTS + name
    if field(form, "choice") == "theirs":
        if field(form, "source") == "published":
            await db.run(service.take_published, channel, who.name, path)
        # ?taken: the page must not put back what this tab had typed, which the other version replaced
        return redirect(f"/console/channels/{channel}/edit/{name}?taken=1")
    files = await db.run(service.rows.draft_files, channel, who.name)
    held: DraftFile | None = files.get(path)
    conflict = await db.run(service.save, channel, who.name, path, field(form, "yours"), held.sha256 if held else None,
                            True)
    if conflict is not None:
        return _conflict(request, who, channel, name, conflict)
    await db.run(db.audit, now().isoformat(timespec="seconds"), who.name, "save", channel,
                 {"file": path, "over": field(form, "source")})
    return redirect(f"/console/channels/{channel}/edit/{name}?saved=1")
