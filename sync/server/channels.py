"""Channels on the server's disk, in the static layout screens read, with checked publishing and long-poll wake-ups.

    content/blobs/<sha256>                 uploaded, hash-checked, renamed into place
    content/channels/<name>/publishers     root-signed list of publisher keys
    content/channels/<name>/manifest       publisher-signed; replaced by rename only after every check
    content/channels/<name>/notices        the live signed notices (rebuilt from the database)

A manifest is announced (written and its waiters woken) only after its signature,
channel, generation and every blob it names have been checked, so a kill -9 at
any moment leaves either the old generation or the new one, never half of one.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import os
import secrets
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import AsyncIterator, Iterable

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from ..client import verify_manifest
from ..envelope import open_sealed, signer_of
from ..errors import ManifestError, SignatureError, SyncError
from ..files import fsync_dir, write_atomic
from ..keys import PublisherList, open_publishers, public_from_text
from ..manifest import Manifest, check_channel, parse_manifest
from ..notice import Notice, notices_document, parse_notice
from .db import Database

log = logging.getLogger(__name__)

DOCUMENTS = ("manifest", "publishers", "notices")
PUBLISHED_MODE = 0o644


class Refused(Exception):
    """A request the server will not carry out: an HTTP status and a message that says what to do."""

    def __init__(self, status: int, message: str, **extra: object) -> None:
        super().__init__(message)
        self.status, self.message, self.extra = status, message, extra


@dataclass(frozen=True)
class Document:
    data: bytes
    etag: str  # quoted, as in the header


def etag_of(data: bytes) -> str:
    return '"' + hashlib.sha256(data).hexdigest()[:32] + '"'


NO_NOTICES = Document(notices_document([]), etag_of(notices_document([])))


class Channels:
    def __init__(self, content: Path, db: Database) -> None:
        self.content, self.db = content, db
        self.blobs = content / "blobs"
        self.blobs.mkdir(parents=True, exist_ok=True)
        (content / "channels").mkdir(parents=True, exist_ok=True)
        self._docs: dict[tuple[str, str], Document] = {}
        self._changed: dict[tuple[str, str], asyncio.Event] = {}
        self._locks: dict[str, asyncio.Lock] = {}
        for stale in self.blobs.glob(".upload-*"):  # uploads cut by a crash
            stale.unlink(missing_ok=True)
        for folder in (content / "channels").iterdir():
            for name in DOCUMENTS:
                path = folder / name
                if path.is_file():
                    data = path.read_bytes()
                    self._docs[(folder.name, name)] = Document(data, etag_of(data))
            self._audit_unlogged(folder.name)

    def _audit_unlogged(self, channel: str) -> None:
        """A generation written just before a crash, without its audit line, gets one now (the signer is known)."""
        current = self.current(channel)
        if current is None:
            return
        logged = [e["detail"].get("generation", 0) for e in self.db.audit_log(1000, channel) if e["action"] == "publish"]
        if current.generation > max(logged, default=0):
            doc = self._docs[(channel, "manifest")]
            self.db.audit(datetime.now().astimezone().isoformat(timespec="seconds"), "unknown (logged at restart)",
                          "publish", channel, {"generation": current.generation, "files": len(current.files),
                                               "bytes": current.total_bytes, "signed_by": signer_of(doc.data, "manifest")})

    # --- reading -------------------------------------------------------------------------------------------

    def document(self, channel: str, name: str) -> Document | None:
        """What is served; a channel that never had a notice serves an empty list, so screens can long-poll it."""
        doc = self._docs.get((channel, name))
        return NO_NOTICES if doc is None and name == "notices" else doc

    async def wait_for_change(self, channel: str, name: str, etag: str | None, seconds: float) -> Document | None:
        """The document once its ETag differs from `etag` (at once if it already does), or None after `seconds`."""
        doc = self.document(channel, name)
        if doc is not None and doc.etag != etag:
            return doc
        event = self._changed.setdefault((channel, name), asyncio.Event())
        try:
            await asyncio.wait_for(event.wait(), seconds)
        except TimeoutError:
            return None
        except asyncio.CancelledError:  # the server is stopping: answer "unchanged" rather than log a traceback
            return None
        doc = self.document(channel, name)
        return doc if doc is not None and doc.etag != etag else None

    def blob_path(self, digest: str) -> Path:
        return self.blobs / digest

    def missing(self, wanted: dict[str, int]) -> list[str]:
        """Which of {sha256: size} the server lacks (a file of another size counts as missing)."""
        out = []
        for digest, size in wanted.items():
            try:
                if os.stat(self.blobs / digest).st_size == size:
                    continue
            except OSError:
                pass
            out.append(digest)
        return out

    def current(self, channel: str) -> Manifest | None:
        doc = self._docs.get((channel, "manifest"))
        if doc is None:
            return None
        return parse_manifest(doc.data[doc.data.index(b"\n") + 1:])

    # --- writing -------------------------------------------------------------------------------------------

    async def receive_blob(self, digest: str, chunks: AsyncIterator[bytes], limit: int) -> int:
        """Stream an upload to a temporary file, check its SHA-256, then rename it into place."""
        tmp = self.blobs / f".upload-{digest[:16]}-{secrets.token_hex(4)}"
        hasher, size = hashlib.sha256(), 0
        try:
            with tmp.open("wb") as out:
                async for chunk in chunks:
                    size += len(chunk)
                    if size > limit:
                        raise Refused(413, f"blob is larger than the server's limit of {limit} bytes (limits.blob_mb)")
                    hasher.update(chunk)
                    out.write(chunk)
                await asyncio.to_thread(_flush, out)
            if hasher.hexdigest() != digest:
                raise Refused(422, f"the uploaded bytes hash to {hasher.hexdigest()}, not {digest}; nothing was kept")
            os.chmod(tmp, PUBLISHED_MODE)
            os.replace(tmp, self.blobs / digest)
            fsync_dir(self.blobs)
            return size
        finally:
            tmp.unlink(missing_ok=True)

    async def publish_manifest(self, channel: str, envelope: bytes, actor: str, now: datetime) -> Manifest:
        """Check a signed manifest against the channel's publishers, generation and blobs; then announce it."""
        async with self._lock(channel):
            plist = self._publishers(channel)
            try:
                manifest = verify_manifest(envelope, plist, channel)
            except SignatureError as exc:
                raise Refused(422, f"{exc}; the publisher list of {channel} (version {plist.version}) names: "
                              f"{', '.join(f'{p.name} ({p.id})' for p in plist.publishers)}") from None
            except ManifestError as exc:
                raise Refused(422, str(exc)) from None
            current = self.current(channel)
            have = current.generation if current else 0
            if manifest.generation <= have:
                raise Refused(409, f"generation {manifest.generation} is stale: {channel} is at generation {have}; "
                              f"publish generation {have + 1} (someone else may have published meanwhile)",
                              current_generation=have)
            lacking = self.missing({f.sha256: f.size for f in manifest.files})
            if lacking:
                raise Refused(409, f"the manifest names {len(lacking)} blob(s) the server does not hold; upload them "
                              "first (PUT /api/blobs/SHA256)", missing=lacking[:100])
            await asyncio.to_thread(self._write, channel, "manifest", envelope)
            self.announce(channel, "manifest", envelope)
            self.db.audit(now.isoformat(timespec="seconds"), actor, "publish", channel, {
                "generation": manifest.generation, "files": len(manifest.files), "bytes": manifest.total_bytes,
                "signed_by": signer_of(envelope, "manifest"), "previous": have})
            log.info("%s published %s generation %d (%d files)", actor, channel, manifest.generation, len(manifest.files))
            return manifest

    async def set_publishers(self, channel: str, envelope: bytes, actor: str, now: datetime) -> PublisherList:
        async with self._lock(channel):
            root = self._root(channel)
            doc = self._docs.get((channel, "publishers"))
            have = self._held_version(doc, root, channel)
            try:
                plist = open_publishers(envelope, root, channel)
            except (SignatureError, ManifestError) as exc:
                raise Refused(422, f"{exc} (the list must be signed by the root key registered for {channel})") from None
            if plist.version <= have:
                raise Refused(409, f"publisher list version {plist.version} is not newer than the {have} held; "
                              f"sign version {have + 1}", current_version=have)
            await asyncio.to_thread(self._write, channel, "publishers", envelope)
            self.announce(channel, "publishers", envelope)
            self.db.audit(now.isoformat(timespec="seconds"), actor, "publishers", channel, {
                "version": plist.version, "publishers": [f"{p.name} ({p.id})" for p in plist.publishers]})
            return plist

    @staticmethod
    def _held_version(doc: Document | None, root: Ed25519PublicKey, channel: str) -> int:
        """The version of the list held, which a new one must pass; 0 when none is held or the root key changed
        (an admin rotated it with PUT /api/channels/NAME): a new root counts its versions from 1."""
        if doc is None:
            return 0
        try:
            return open_publishers(doc.data, root, channel).version
        except SyncError:
            return 0

    def check_notice(self, envelope: bytes) -> Notice:
        """A notice signed by a key every channel it names trusts (the server cannot make one itself).

        The signature is checked before a byte of the payload is parsed: the signer's key is looked up in
        every publisher list the server holds, then the payload is read, then each channel it names must list
        that same key.
        """
        try:
            signer = signer_of(envelope, "notice")
            key = self._publisher_key(signer)
            if key is None:
                raise SignatureError(f"notice is signed by key {signer}, which no publisher list on this server "
                                     "names; the server does not trust it (unknown or revoked)")
            _, payload = open_sealed(envelope, "notice", lambda claimed: key if claimed == signer else None)
        except SignatureError as exc:
            raise Refused(422, str(exc)) from None
        try:
            notice = parse_notice(payload)
        except ManifestError as exc:
            raise Refused(422, str(exc)) from None
        for channel in notice.channels:
            listed = self._publishers(channel).key(signer)
            if listed is None or listed.public_bytes_raw() != key.public_bytes_raw():
                raise Refused(422, f"notice is signed by key {signer}, which the publisher list of channel "
                              f"{channel} does not name; the channel does not trust it")
        return notice

    def _publisher_key(self, key_id: str) -> Ed25519PublicKey | None:
        """The publisher key with this id in any channel's held list that still verifies against its root."""
        for (channel, name), doc in list(self._docs.items()):
            if name != "publishers":
                continue
            try:
                found = open_publishers(doc.data, self._root(channel), channel).key(key_id)
            except (SyncError, Refused):
                continue
            if found is not None:
                return found
        return None

    async def rebuild_notices(self, channels: Iterable[str], now: datetime) -> None:
        """Rewrite each channel's notices from the live ones, where they changed; screens waiting on it wake up."""
        rows = [r for r in self.db.notices() if datetime.fromisoformat(r["expires"]) > now]
        for channel in channels:
            data = notices_document([r["envelope"] for r in rows if channel in r["channels"]])
            if self.document(channel, "notices") != Document(data, etag_of(data)):
                await asyncio.to_thread(self._write, channel, "notices", data)
                self.announce(channel, "notices", data)

    # --- inside --------------------------------------------------------------------------------------------

    def _lock(self, channel: str) -> asyncio.Lock:
        return self._locks.setdefault(channel, asyncio.Lock())

    def _root(self, channel: str) -> Ed25519PublicKey:
        text = self.db.root_key(channel)
        if text is None:
            raise Refused(404, f"no channel {channel!r} on this server; an admin adds it with "
                          f"python -m sync server channel add {channel} --root ROOT.pub")
        return public_from_text(text)

    def _publishers(self, channel: str) -> PublisherList:
        root = self._root(channel)
        doc = self._docs.get((channel, "publishers"))
        if doc is None:
            raise Refused(409, f"channel {channel} has no publisher list yet; whoever holds the root key runs "
                          f"python -m sync sign-publishers --channel {channel} --to SERVER_URL ...")
        try:
            return open_publishers(doc.data, root, channel)
        except SyncError as exc:
            raise Refused(409, f"the publisher list held for {channel} does not verify against its root key ({exc}); "
                          "sign a new one") from None

    def _write(self, channel: str, name: str, data: bytes) -> None:
        write_atomic(self.content / "channels" / check_channel(channel) / name, data, PUBLISHED_MODE)

    def announce(self, channel: str, name: str, data: bytes) -> None:
        """Serve `data` from now on and wake everyone long-polling it (call on the event loop)."""
        self._docs[(channel, name)] = Document(data, etag_of(data))
        event = self._changed.pop((channel, name), None)
        if event is not None:
            event.set()


def _flush(out: object) -> None:
    out.flush()  # type: ignore[attr-defined]
    os.fsync(out.fileno())  # type: ignore[attr-defined]


