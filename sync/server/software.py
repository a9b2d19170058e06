"""Software channels on the server: releases checked and served like manifests, halted after two rollbacks.

    content/software/<name>/releasers    root-signed list of release keys (the root registered for <name>)
    content/software/<name>/release      the release screens are served: the newest one not halted

A release is taken only if a key in the held releasers list signed it, its sequence
is above every one published before (409 says which to use), and every wheel it
names is a blob the server holds. When two screens report a rollback of the
release served, it is halted: the previous release is served again (screens that
did not take the halted one yet never will) until a higher sequence is published.
The server checks signatures; it never holds a key that could sign.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from ..errors import ManifestError, SignatureError, SyncError
from ..files import write_atomic
from ..keys import PublisherList, open_publishers, public_from_text
from ..manifest import check_channel
from ..release import Release, check_shape, open_release
from .channels import PUBLISHED_MODE, Channels, Document, Refused, etag_of
from .db import Database

log = logging.getLogger(__name__)

NAMES = ("release", "releasers")
HALT_AFTER = 2  # screens that rolled a release back before it is halted


class Software:
    def __init__(self, content: Path, db: Database, channels: Channels) -> None:
        self.folder, self.db, self.channels = content / "software", db, channels
        self.folder.mkdir(parents=True, exist_ok=True)
        self._docs: dict[tuple[str, str], Document] = {}
        self._changed: dict[tuple[str, str], asyncio.Event] = {}
        self._lock = asyncio.Lock()
        for channel in self.folder.iterdir():
            for name in NAMES:
                path = channel / name
                if path.is_file():
                    data = path.read_bytes()
                    self._docs[(channel.name, name)] = Document(data, etag_of(data))

    # --- reading (the same long-poll as a content channel's manifest) ----------------------------------------

    def document(self, channel: str, name: str) -> Document | None:
        return self._docs.get((channel, name))

    async def wait_for_change(self, channel: str, name: str, etag: str | None, seconds: float) -> Document | None:
        doc = self.document(channel, name)
        if doc is not None and doc.etag != etag:
            return doc
        event = self._changed.setdefault((channel, name), asyncio.Event())
        try:
            await asyncio.wait_for(event.wait(), seconds)
        except (TimeoutError, asyncio.CancelledError):
            return None
        doc = self.document(channel, name)
        return doc if doc is not None and doc.etag != etag else None

    def served(self, channel: str) -> dict[str, object] | None:
        """The release row served now (the newest not halted), or None."""
        return next((r for r in self.db.releases(channel) if not r["halted"]), None)

    # --- writing -----------------------------------------------------------------------------------------------

    async def set_releasers(self, channel: str, envelope: bytes, actor: str, now: datetime) -> PublisherList:
        async with self._lock:
            root = self._root(channel)
            held = self._docs.get((channel, "releasers"))
            have = 0
            if held is not None:
                try:
                    have = open_publishers(held.data, root, channel, kind="releasers").version
                except SyncError:
                    have = 0  # the root key was changed: a new root counts its versions from 1
            try:
                plist = open_publishers(envelope, root, channel, kind="releasers")
            except (SignatureError, ManifestError) as exc:
                raise Refused(422, f"{exc} (the list must be signed by the root key registered for software "
                              f"channel {channel})") from None
            if plist.version <= have:
                raise Refused(409, f"releasers list version {plist.version} is not newer than the {have} held; sign "
                              f"version {have + 1}", current_version=have)
            await asyncio.to_thread(self._write, channel, "releasers", envelope)
            self._announce(channel, "releasers", envelope)
            self.db.audit(now.isoformat(timespec="seconds"), actor, "releasers", channel,
                          {"version": plist.version, "releasers": [f"{p.name} ({p.id})" for p in plist.publishers]})
            return plist

    async def publish(self, channel: str, envelope: bytes, actor: str, now: datetime) -> Release:
        async with self._lock:
            plist = self._releasers(channel)
            try:
                release = open_release(envelope, plist.key, channel)
                check_shape(release)
            except SignatureError as exc:
                raise Refused(422, f"{exc}; the releasers list of {channel} (version {plist.version}) names: "
                              f"{', '.join(f'{p.name} ({p.id})' for p in plist.publishers)}") from None
            except ManifestError as exc:
                raise Refused(422, str(exc)) from None
            published = self.db.releases(channel)
            have = max((int(r["sequence"]) for r in published), default=0)  # halted ones count: sequences only go up
            if release.sequence <= have:
                raise Refused(409, f"release sequence {release.sequence} is stale: {channel} is at sequence {have}; "
                              f"sign sequence {have + 1} (someone else may have published meanwhile)",
                              current_sequence=have)
            lacking = self.channels.missing({w.sha256: w.size for w in release.wheels})
            if lacking:
                raise Refused(409, f"the release names {len(lacking)} wheel(s) the server does not hold; upload them "
                              "first (PUT /api/blobs/SHA256)", missing=lacking[:100])
            stamp = now.isoformat(timespec="seconds")
            self.db.add_release(channel, release.sequence, release.version, envelope, stamp)
            await asyncio.to_thread(self._write, channel, "release", envelope)
            self._announce(channel, "release", envelope)
            self.db.audit(stamp, actor, "release", channel, {
                "sequence": release.sequence, "version": release.version, "target": release.target,
                "rollout": {"percent": release.rollout.percent, "screens": list(release.rollout.screens)},
                "wheels": len(release.wheels), "previous": have})
            log.info("%s published release %s on %s as sequence %d", actor, release.version, channel, release.sequence)
            return release

    async def rollback_reported(self, channel: str, sequence: int, screen: str, version: str | None, reason: str,
                                now: datetime) -> None:
        """A screen rolled `sequence` back; at the second screen the release served is halted."""
        stamp = now.isoformat(timespec="seconds")
        count = self.db.add_rollback(channel, sequence, screen, version, reason, stamp)
        served = self.served(channel)
        if count < HALT_AFTER or served is None or served["sequence"] != sequence:
            return
        async with self._lock:
            if not self.db.halt_release(channel, sequence, stamp):
                return
            previous = self.served(channel)
            data = previous["envelope"] if previous else None
            if isinstance(data, bytes):
                await asyncio.to_thread(self._write, channel, "release", data)
                self._announce(channel, "release", data)
            else:
                await asyncio.to_thread((self.folder / channel / "release").unlink, True)
                self._docs.pop((channel, "release"), None)
            self.db.audit(stamp, "server", "halt", channel, {
                "sequence": sequence, "version": served["version"], "rollbacks": count,
                "serving": previous["sequence"] if previous else None})
            log.error("release %s (sequence %d) on %s halted after %d rollbacks; serving %s", served["version"],
                      sequence, channel, count, f"sequence {previous['sequence']}" if previous else "nothing")

    # --- inside ------------------------------------------------------------------------------------------------

    def _root(self, channel: str) -> Ed25519PublicKey:
        text = self.db.software_root(channel)
        if text is None:
            raise Refused(404, f"no software channel {channel!r} on this server; an admin adds it with "
                          f"python -m sync server software add {channel} --root ROOT.pub")
        return public_from_text(text)

    def _releasers(self, channel: str) -> PublisherList:
        root = self._root(channel)
        doc = self._docs.get((channel, "releasers"))
        if doc is None:
            raise Refused(409, f"software channel {channel} has no releasers list yet; whoever holds the root key runs "
                          f"python -m sync sign-releasers --channel {channel} --to SERVER_URL ...")
        try:
            return open_publishers(doc.data, root, channel, kind="releasers")
        except SyncError as exc:
            raise Refused(409, f"the releasers list held for {channel} does not verify against its root key ({exc}); "
                          "sign a new one") from None

    def _write(self, channel: str, name: str, data: bytes) -> None:
        write_atomic(self.folder / check_channel(channel) / name, data, PUBLISHED_MODE)

    def _announce(self, channel: str, name: str, data: bytes) -> None:
        self._docs[(channel, name)] = Document(data, etag_of(data))
        event = self._changed.pop((channel, name), None)
        if event is not None:
            event.set()
