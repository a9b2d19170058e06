"""Publishing a draft: the manifest the browser signs, the envelope it becomes, and the draft afterwards.

The server never holds a private key: it builds the manifest's payload, the browser
signs `manifest\\n` + payload with the staff member's WebCrypto key, and the signed
envelope goes through Channels.publish_manifest, the same checks as the API's.
Blocking: call from the database threads.
"""

from __future__ import annotations

import base64
import binascii
import re
from dataclasses import dataclass
from datetime import datetime

from ...envelope import MAGIC
from ...manifest import FileEntry, build_manifest, manifest_payload, parse_manifest
from ..channels import Refused
from .drafts import PLAYLISTS, Drafts
from .records import DraftFile
from .summary import FileState, Summary, summarize

_KEY_ID = re.compile(r"[0-9a-f]{16}")


@dataclass(frozen=True)
class Prepared:
    payload: bytes
    generation: int
    summary: Summary


def states(files: dict[str, DraftFile]) -> dict[str, FileState]:
    return {p: FileState(f.sha256, f.size, f.data) for p, f in files.items()}


def published_states(service: Drafts, channel: str) -> dict[str, FileState]:
    current = service.current(channel)
    out = {}
    for f in current.files if current else ():
        data = service.blob(f.sha256) if f.path.startswith(PLAYLISTS) else None
        out[f.path] = FileState(f.sha256, f.size, data)
    return out


def prepare(service: Drafts, channel: str, files: dict[str, DraftFile], now: datetime) -> Prepared:
    """The next generation's manifest payload for the draft, and what it changes."""
    current = service.current(channel)
    generation = (current.generation if current else 0) + 1
    entries = [FileEntry(path, f.sha256, f.size) for path, f in sorted(files.items())]
    payload = manifest_payload(build_manifest(channel, generation, now, entries))
    parse_manifest(payload)  # refuse here what a screen would refuse
    return Prepared(payload, generation, summarize(published_states(service, channel), states(files)))


def envelope(payload_b64: str, signature_b64: str, key_id: str) -> tuple[bytes, bytes]:
    """(payload, the signed envelope) from what the browser posts."""
    try:
        payload = base64.b64decode(payload_b64, validate=True)
        signature = base64.b64decode(signature_b64, validate=True)
    except (binascii.Error, ValueError):
        raise Refused(422, "the signature or the manifest is not base64; reload the page and sign again") from None
    if not _KEY_ID.fullmatch(key_id) or len(signature) != 64:
        raise Refused(422, "not an Ed25519 signature with a key id; reload the page and sign again")
    return payload, MAGIC + f"manifest {key_id} ".encode() + base64.b64encode(signature) + b"\n" + payload


def check_matches(payload: bytes, files: dict[str, DraftFile], channel: str) -> None:
    """The signed manifest lists exactly the draft's files (the draft did not change since the summary)."""
    manifest = parse_manifest(payload)
    listed = {(f.path, f.sha256, f.size) for f in manifest.files}
    if manifest.channel != channel or listed != {(p, f.sha256, f.size) for p, f in files.items()}:
        raise Refused(409, "the draft changed after this summary was made; look at the new summary and sign again")


def store_playlists(service: Drafts, files: dict[str, DraftFile]) -> None:
    """The draft's playlist files as blobs, so the manifest names only blobs the server holds."""
    for f in files.values():
        if f.data is not None:
            service.channels.put_blob(f.data)


def rebase(service: Drafts, channel: str, staff: str) -> list[str]:
    """Move the draft onto the current generation: files the draft did not change take the published version,
    files it changed stay as the draft has them. Returns the files changed on both sides (shown to compare)."""
    current = service.current(channel)
    published = {f.path: f for f in current.files} if current else {}
    files = service.rows.draft_files(channel, staff)
    both = []
    for path, f in files.items():
        mine_changed = f.sha256 != f.base_sha256
        theirs = published.get(path)
        if not mine_changed:
            if theirs is None:
                service.rows.remove_file(channel, staff, path)
            elif theirs.sha256 != f.sha256:
                data = service.blob(theirs.sha256) if path.startswith(PLAYLISTS) else None
                service.rows.save_file(channel, staff, DraftFile(path, data, theirs.sha256, theirs.size, theirs.sha256),
                                       f.sha256)
        elif theirs is not None and theirs.sha256 != f.base_sha256 and theirs.sha256 != f.sha256:
            both.append(path)
    draft = service.rows.draft(channel, staff)
    removed: dict[str, str] = dict(draft.marks.get("removed", {})) if draft else {}
    for path, theirs in published.items():
        if path not in files:
            if removed.get(path) == theirs.sha256:
                continue  # the draft removed it and the new generation left it as it was: it stays removed
            # not in the draft's base, or changed there since the draft removed it: the newer version comes back
            removed.pop(path, None)
            data = service.blob(theirs.sha256) if path.startswith(PLAYLISTS) else None
            service.rows.save_file(channel, staff, DraftFile(path, data, theirs.sha256, theirs.size, theirs.sha256), None)
    bases = {path: (published[path].sha256 if path in published else None)
             for path in service.rows.draft_files(channel, staff) if path not in both}
    service.rows.rebase(channel, staff, current.generation if current else 0, bases)
    if draft is not None:
        kept = {path: sha for path, sha in removed.items() if path in published}
        service.rows.set_marks(channel, staff, {**draft.marks, "removed": kept})
    return both


def after_publish(service: Drafts, channel: str, staff: str) -> None:
    """The published draft becomes the base of the next one."""
    rebase(service, channel, staff)
