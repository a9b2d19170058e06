"""Channels: checked publishing into the database, mirrored to the static layout screens read, with long-poll wake-ups.

    content/blobs/<sha256>                 uploaded, hash-checked, renamed into place
    content/channels/<name>/publishers     root-signed list of publisher keys
    content/channels/<name>/manifest       publisher-signed
    content/channels/<name>/notices        the live signed notices (rebuilt from the notices table)

The three documents' source of truth is the database's documents table: a
manifest is written there, with its audit line, in one transaction, only after
its signature, channel, generation and every blob it names have been checked;
then it is mirrored to the content folder (by rename) for static hosts, and
every server process serves it from memory and wakes its long-polls (the others
hear of it by PostgreSQL NOTIFY). A kill -9 at any moment leaves either the old
generation or the new one, never half of one.
"""

from __future__ import annotations

import asyncio
import fcntl
import hashlib
import logging
import os
import secrets
import socket
import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import AsyncIterator, Callable, Iterable, Sequence

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from sqlalchemy import Connection

from ..client import verify_manifest
from ..envelope import open_sealed, signer_of
from ..errors import ManifestError, SignatureError, SyncError
from ..layout import fsync_dir, write_atomic
from ..keys import PublisherList, open_publishers, public_from_text
from ..manifest import Manifest, check_channel, parse_manifest
from ..notice import Notice, notices_document, parse_notice
from .db import Database, add_audit
from .waiters import Waiters

log = logging.getLogger(__name__)

DOCUMENTS = ("manifest", "publishers", "notices")
SOFTWARE = "software/"  # documents named software/release, software/releasers belong to a software channel
PUBLISHED_MODE = 0o644
STALE_UPLOAD_SECONDS = 3600  # another machine's partial upload untouched this long is a crash's


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
        self._waiters = Waiters()  # held long-polls, by (channel, name)
        self._locks: dict[str, asyncio.Lock] = {}
        self.sweep_uploads(time.time())
        self._adopt_files()
        for (channel, name), data in db.documents().items():
            self._docs[(channel, name)] = Document(data, etag_of(data))
            self._mirror(channel, name, data)

    def _adopt_files(self) -> None:
        """Documents on disk that the database lacks (kept by a server from before documents were in the
        database) are copied in; a generation written just before a crash, without its audit line, gets one."""
        held = self.db.documents()
        stamp = datetime.now().astimezone().isoformat(timespec="seconds")
        for folder in sorted((self.content / "channels").iterdir()):
            for name in DOCUMENTS:
                path = folder / name
                if (folder.name, name) in held or not path.is_file():
                    continue
                data = path.read_bytes()
                unlogged = self._unlogged(folder.name, data) if name == "manifest" else None
                with self.db.transaction() as c:
                    self.db.put_document(c, folder.name, name, data, stamp)
                    if unlogged is not None:
                        add_audit(c, stamp, "unknown (logged at restart)", "publish", folder.name, unlogged)
                log.info("copied %s of channel %s from the content folder into the database", name, folder.name)

    def _unlogged(self, channel: str, data: bytes) -> dict[str, object] | None:
        """The audit detail for a manifest whose publish has no audit line (written just before a crash)."""
        current = _manifest_of(data)
        logged = [e["detail"].get("generation", 0) for e in self.db.audit_log(1000, channel) if e["action"] == "publish"]
        if current is None or current.generation <= max(logged, default=0):
            return None
        return {"generation": current.generation, "files": len(current.files), "bytes": current.total_bytes,
                "signed_by": signer_of(data, "manifest")}

    def _path(self, channel: str, name: str) -> Path:
        """Where a document is mirrored: content/channels/<channel>/<name>, content/software/<channel>/<name>."""
        if name.startswith(SOFTWARE):
            return self.content / "software" / check_channel(channel) / name[len(SOFTWARE):]
        return self.content / "channels" / check_channel(channel) / name

    def _mirror(self, channel: str, name: str, data: bytes | None) -> None:
        """The content folder's copy, for static hosts and rsync; rewritten where it differs from the database
        (`data` None: the document is no longer served)."""
        path = self._path(channel, name)
        if data is None:
            path.unlink(missing_ok=True)
            return
        try:
            if path.read_bytes() == data:
                return
        except OSError:
            pass
        write_atomic(path, data, PUBLISHED_MODE)

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
        if not await self._waiters.wait((channel, name), seconds):
            return None  # the server is stopping: answer "unchanged" rather than log a traceback
        doc = self.document(channel, name)
        return doc if doc is not None and doc.etag != etag else None

    def sweep_uploads(self, now: float) -> int:
        """Remove partial uploads a crash left. A process receiving one holds a lock on it (flock), so another
        server process on this content folder (`serve --workers`, a container beside it) leaves it alone; one
        nobody holds is this machine's crash leftover, or, written by another machine (its name says whose:
        .upload-HOST-…), a leftover once untouched for an hour, since a lock may not reach across machines.
        Returns how many went."""
        gone, here = 0, socket.gethostname()
        for partial in self.blobs.glob(".upload-*"):
            try:
                with open(partial, "rb") as probe:
                    try:
                        fcntl.flock(probe, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    except BlockingIOError:
                        continue  # being received right now
                    if _uploader(partial.name) == here or now - os.fstat(probe.fileno()).st_mtime > STALE_UPLOAD_SECONDS:
                        partial.unlink()
                        gone += 1
            except OSError:
                pass  # finished or removed meanwhile
        return gone

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

    def publisher_ids(self, channel: str) -> list[str]:
        """The key ids the channel's held publisher list names (checked against its root); [] without one."""
        try:
            return [p.id for p in self._publishers(channel).publishers]
        except Refused:
            return []

    def put_blob(self, data: bytes) -> str:
        """Keep bytes the server made itself (a draft's playlist) as a blob; returns its SHA-256."""
        digest = hashlib.sha256(data).hexdigest()
        if not (self.blobs / digest).is_file():
            write_atomic(self.blobs / digest, data, PUBLISHED_MODE)
        return digest

    def current(self, channel: str) -> Manifest | None:
        doc = self._docs.get((channel, "manifest"))
        return None if doc is None else _manifest_of(doc.data)

    # --- hearing of other processes' changes -------------------------------------------------------------------

    async def refresh(self, channel: str, name: str) -> None:
        """Another server process changed a document: serve the database's copy and wake this process's waiters."""
        data = await self.db.run(self.db.document, channel, name)
        if data is None and (channel, name) in self._docs:
            self.forget(channel, name)
        elif data is not None and self.document(channel, name) != Document(data, etag_of(data)):
            self.announce(channel, name, data)

    async def refresh_all(self) -> None:
        """After missing notifications (the database connection was lost): every document again."""
        for (channel, name), data in (await self.db.run(self.db.documents)).items():
            if self.document(channel, name) != Document(data, etag_of(data)):
                self.announce(channel, name, data)

    # --- writing -------------------------------------------------------------------------------------------

    async def receive_blob(self, digest: str, chunks: AsyncIterator[bytes], limit: int) -> int:
        """Stream an upload to a temporary file, check its SHA-256, then rename it into place."""
        tmp = self.blobs / f".upload-{socket.gethostname()}-{os.getpid()}-{digest[:16]}-{secrets.token_hex(4)}"
        hasher, size = hashlib.sha256(), 0
        try:
            with tmp.open("wb") as out:
                fcntl.flock(out, fcntl.LOCK_EX)  # this upload is alive: sweep_uploads leaves it alone
                async for chunk in chunks:
                    size += len(chunk)
                    if size > limit:
                        raise Refused(413, f"blob is larger than the server's limit of {limit} bytes (limits.blob_mb)")
                    hasher.update(chunk)
                    out.write(chunk)
                await asyncio.to_thread(_flush, out)
            if hasher.hexdigest() != digest:
                raise Refused(422, f"the uploaded bytes hash to {hasher.hexdigest()}, not {digest}; nothing was kept")
            try:
                os.chmod(tmp, PUBLISHED_MODE)
                os.replace(tmp, self.blobs / digest)
            except FileNotFoundError:
                raise Refused(409, "the partial upload went away before it was complete (removed as a leftover "
                              "after stalling for an hour?); nothing was kept, send it again") from None
            fsync_dir(self.blobs)
            return size
        finally:
            tmp.unlink(missing_ok=True)

    async def publish_manifest(self, channel: str, envelope: bytes, actor: str, now: datetime,
                               summary: dict[str, object] | None = None) -> Manifest:
        """Check a signed manifest against the channel's publishers, generation and blobs; then announce it.
        `summary` (the console's, item by item) goes into the audit line."""
        async with self._lock(channel):
            plist = await self.db.run(self._publishers, channel)
            try:
                manifest = await asyncio.to_thread(verify_manifest, envelope, plist, channel)
            except SignatureError as exc:
                raise Refused(422, f"{exc}; the publisher list of {channel} (version {plist.version}) names: "
                              f"{', '.join(f'{p.name} ({p.id})' for p in plist.publishers)}") from None
            except ManifestError as exc:
                raise Refused(422, str(exc)) from None
            lacking = await asyncio.to_thread(self.missing, {f.sha256: f.size for f in manifest.files})
            if lacking:
                raise Refused(409, f"the manifest names {len(lacking)} blob(s) the server does not hold; upload them "
                              "first (PUT /api/blobs/SHA256)", missing=lacking[:100])

            def write() -> int:
                with self.db.transaction() as c:
                    self.db.lock_channel(c, channel)  # another process publishing to it waits here
                    held = self.db.read_document(c, channel, "manifest")
                    current = _manifest_of(held) if held else None
                    have = current.generation if current else 0
                    if manifest.generation <= have:
                        raise Refused(409, f"generation {manifest.generation} is stale: {channel} is at generation "
                                      f"{have}; publish generation {have + 1} (someone else may have published "
                                      "meanwhile)", current_generation=have)
                    stamp = now.isoformat(timespec="seconds")
                    self.db.put_document(c, channel, "manifest", envelope, stamp)
                    add_audit(c, stamp, actor, "publish", channel, {
                        "generation": manifest.generation, "files": len(manifest.files), "bytes": manifest.total_bytes,
                        "signed_by": signer_of(envelope, "manifest"), "previous": have,
                        **({"summary": summary} if summary else {})})
                return have

            await self.db.run(write)
            await self.published([(channel, "manifest", envelope)])
            log.info("%s published %s generation %d (%d files)", actor, channel, manifest.generation, len(manifest.files))
            return manifest

    async def set_publishers(self, channel: str, envelope: bytes, actor: str, now: datetime) -> PublisherList:
        def write() -> PublisherList:
            with self.db.transaction() as c:
                root_text = self.db.lock_channel(c, channel)
                if root_text is None:
                    raise self._no_channel(channel)
                root = public_from_text(root_text)
                have = self._held_version(self.db.read_document(c, channel, "publishers"), root, channel)
                try:
                    plist = open_publishers(envelope, root, channel)
                except (SignatureError, ManifestError) as exc:
                    raise Refused(422, f"{exc} (the list must be signed by the root key registered for {channel})") from None
                if plist.version <= have:
                    raise Refused(409, f"publisher list version {plist.version} is not newer than the {have} held; "
                                  f"sign version {have + 1}", current_version=have)
                stamp = now.isoformat(timespec="seconds")
                self.db.put_document(c, channel, "publishers", envelope, stamp)
                add_audit(c, stamp, actor, "publishers", channel, {
                    "version": plist.version, "publishers": [f"{p.name} ({p.id})" for p in plist.publishers]})
                return plist

        async with self._lock(channel):
            plist = await self.db.run(write)
            await self.published([(channel, "publishers", envelope)])
            return plist

    @staticmethod
    def _held_version(data: bytes | None, root: Ed25519PublicKey, channel: str) -> int:
        """The version of the list held, which a new one must pass; 0 when none is held or the root key changed
        (an admin rotated it with PUT /api/channels/NAME): a new root counts its versions from 1."""
        if data is None:
            return 0
        try:
            return open_publishers(data, root, channel).version
        except SyncError:
            return 0

    def check_notice(self, envelope: bytes) -> Notice:
        """A notice signed by a key every channel it names trusts (the server cannot make one itself).

        The signature is checked before a byte of the payload is parsed: the signer's key is looked up in
        every publisher list the server holds, then the payload is read, then each channel it names must list
        that same key. Blocking (database reads): call it on the database threads.
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

    async def post_notice(self, notice: Notice, envelope: bytes, actor: str, now: datetime) -> None:
        """Keep a checked notice, with its audit line and the channels' rebuilt notices, in one transaction."""
        stamp = now.isoformat(timespec="seconds")

        def write() -> list[tuple[str, str, bytes]]:
            with self.db.transaction() as c:
                if not self.db.add_notice(c, notice.id, envelope, list(notice.channels), notice.expires.isoformat(),
                                          actor, stamp):
                    raise Refused(409, f"a notice with id {notice.id} was posted already; a new notice needs a new id")
                add_audit(c, stamp, actor, "notice", ",".join(notice.channels), {
                    "id": notice.id, "level": notice.level, "expires": notice.expires.isoformat(),
                    "screens": list(notice.screens), "texts": dict(notice.texts)})
                return self._rebuild(c, notice.channels, now)

        await self.published(await self.db.run(write))

    async def clear_notice(self, notice_id: str, allowed: Callable[[list[str]], None], actor: str,
                           now: datetime) -> None:
        """Clear a live notice (`allowed` raises Refused for a channel the actor may not act on)."""
        stamp = now.isoformat(timespec="seconds")

        def write() -> list[tuple[str, str, bytes]]:
            with self.db.transaction() as c:
                rows = {r["id"]: r for r in self.db.notices(c)}
                if notice_id not in rows:
                    raise Refused(404, f"no live notice {notice_id!r} (already cleared, or never posted)")
                allowed(rows[notice_id]["channels"])
                self.db.clear_notice(c, notice_id, stamp)
                add_audit(c, stamp, actor, "notice cleared", ",".join(rows[notice_id]["channels"]), {"id": notice_id})
                return self._rebuild(c, rows[notice_id]["channels"], now)

        await self.published(await self.db.run(write))

    async def rebuild_notices(self, channels: Iterable[str], now: datetime) -> None:
        """Drop expired notices from the channels' documents (the fleet leader's periodic task)."""
        def write() -> list[tuple[str, str, bytes]]:
            with self.db.transaction() as c:
                return self._rebuild(c, channels, now)

        await self.published(await self.db.run(write))

    def _rebuild(self, c: Connection, channels: Iterable[str], now: datetime) -> list[tuple[str, str, bytes]]:
        """Each channel's notices document from its live notices, written where it changed."""
        rows = [r for r in self.db.notices(c) if datetime.fromisoformat(r["expires"]) > now]
        changed = []
        for channel in channels:
            data = notices_document([r["envelope"] for r in rows if channel in r["channels"]])
            if (self.db.read_document(c, channel, "notices") or NO_NOTICES.data) != data:
                self.db.put_document(c, channel, "notices", data, now.isoformat(timespec="seconds"))
                changed.append((channel, "notices", data))
        return changed

    async def published(self, changes: Sequence[tuple[str, str, bytes | None]]) -> None:
        """After the commit: mirror each changed document to the content folder, serve it, wake its waiters
        (None: a document no longer served)."""
        for channel, name, data in changes:
            await asyncio.to_thread(self._mirror, channel, name, data)
            if data is None:
                self.forget(channel, name)
            else:
                self.announce(channel, name, data)

    # --- inside --------------------------------------------------------------------------------------------

    def _lock(self, channel: str) -> asyncio.Lock:
        return self._locks.setdefault(channel, asyncio.Lock())

    @staticmethod
    def _no_channel(channel: str) -> Refused:
        return Refused(404, f"no channel {channel!r} on this server; an admin adds it with "
                       f"python -m sync server channel add {channel} --root ROOT.pub")

    def _root(self, channel: str) -> Ed25519PublicKey:
        text = self.db.root_key(channel)
        if text is None:
            raise self._no_channel(channel)
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

    def forget(self, channel: str, name: str) -> None:
        """Serve the document no more (a halted release with none before it); waiters get "not modified"."""
        self._docs.pop((channel, name), None)
        self._waiters.wake((channel, name))

    def announce(self, channel: str, name: str, data: bytes) -> None:
        """Serve `data` from now on and wake everyone long-polling it (call on the event loop)."""
        self._docs[(channel, name)] = Document(data, etag_of(data))
        self._waiters.wake((channel, name))


def _manifest_of(data: bytes) -> Manifest | None:
    """The payload of a manifest the server accepted once (verified then; read, not verified, again)."""
    try:
        return parse_manifest(data[data.index(b"\n") + 1:])
    except (ValueError, ManifestError):
        return None


def _flush(out: object) -> None:
    out.flush()  # type: ignore[attr-defined]
    os.fsync(out.fileno())  # type: ignore[attr-defined]


def _uploader(name: str) -> str:
    """The host a partial upload's name says wrote it (.upload-HOST-PID-DIGEST16-RANDOM)."""
    rest = name.removeprefix(".upload-")
    for _ in range(3):
        rest = rest.rpartition("-")[0]
    return rest
