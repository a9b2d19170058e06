"""Software channels on the server: releases checked and served like manifests, halted after two rollbacks.

    content/software/<name>/releasers    root-signed list of release keys (the root registered for <name>)
    content/software/<name>/release      the release screens are served: the newest one not halted

A release is taken only if a key in the held releasers list signed it, its sequence
is above every one published before (409 says which to use), and every wheel it
names is a blob the server holds. Like a content channel's documents, the two are
kept in the database's documents table (as software/release, software/releasers),
written with their audit line in one transaction, mirrored to the content folder,
and long-polled through Channels, so every server process serves the same release.
When two screens report a rollback of the release served, it is halted: the
previous release is served again (screens that did not take the halted one yet
never will) until a higher sequence is published. The server checks signatures;
it never holds a key that could sign.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from sqlalchemy import Connection

from ..errors import ManifestError, SignatureError, SyncError
from ..keys import PublisherList, open_publishers, public_from_text
from ..release import Release, check_shape, open_release
from .channels import SOFTWARE, Channels, Document, Refused
from .db import Database, add_audit

log = logging.getLogger(__name__)

RELEASE, RELEASERS = SOFTWARE + "release", SOFTWARE + "releasers"
HALT_AFTER = 2  # screens that rolled a release back before it is halted


class Software:
    def __init__(self, channels: Channels, db: Database) -> None:
        self.channels, self.db = channels, db
        self._locks: dict[str, asyncio.Lock] = {}

    # --- reading (the same long-poll as a content channel's manifest) ----------------------------------------

    def document(self, channel: str, name: str) -> Document | None:
        return self.channels.document(channel, SOFTWARE + name)

    async def wait_for_change(self, channel: str, name: str, etag: str | None, seconds: float) -> Document | None:
        return await self.channels.wait_for_change(channel, SOFTWARE + name, etag, seconds)

    # --- writing -----------------------------------------------------------------------------------------------

    async def set_releasers(self, channel: str, envelope: bytes, actor: str, now: datetime) -> PublisherList:
        def write() -> PublisherList:
            with self.db.transaction() as c:
                root = self._root(c, channel)
                held = self.db.read_document(c, channel, RELEASERS)
                have = 0
                if held is not None:
                    try:
                        have = open_publishers(held, root, channel, kind="releasers").version
                    except SyncError:
                        have = 0  # the root key was changed: a new root counts its versions from 1
                try:
                    plist = open_publishers(envelope, root, channel, kind="releasers")
                except (SignatureError, ManifestError) as exc:
                    raise Refused(422, f"{exc} (the list must be signed by the root key registered for software "
                                  f"channel {channel})") from None
                if plist.version <= have:
                    raise Refused(409, f"releasers list version {plist.version} is not newer than the {have} held; "
                                  f"sign version {have + 1}", current_version=have)
                stamp = now.isoformat(timespec="seconds")
                self.db.put_document(c, channel, RELEASERS, envelope, stamp)
                add_audit(c, stamp, actor, "releasers", channel, {
                    "version": plist.version, "releasers": [f"{p.name} ({p.id})" for p in plist.publishers]})
                return plist

        async with self._lock(channel):
            plist = await self.db.run(write)
            await self.channels.published([(channel, RELEASERS, envelope)])
            return plist

    async def publish(self, channel: str, envelope: bytes, actor: str, now: datetime) -> Release:
        def check() -> Release:
            with self.db.transaction() as c:
                plist = self._releasers(c, channel)
            try:
                release = open_release(envelope, plist.key, channel)
                check_shape(release)
            except SignatureError as exc:
                raise Refused(422, f"{exc}; the releasers list of {channel} (version {plist.version}) names: "
                              f"{', '.join(f'{p.name} ({p.id})' for p in plist.publishers)}") from None
            except ManifestError as exc:
                raise Refused(422, str(exc)) from None
            return release

        def write(release: Release) -> int:
            with self.db.transaction() as c:
                self._root(c, channel)  # holds the channel's row: another process publishing waits here
                published = self.db.releases(channel, c)
                have = max((int(r["sequence"]) for r in published), default=0)  # halted ones count: only up
                if release.sequence <= have:
                    raise Refused(409, f"release sequence {release.sequence} is stale: {channel} is at sequence "
                                  f"{have}; sign sequence {have + 1} (someone else may have published meanwhile)",
                                  current_sequence=have)
                stamp = now.isoformat(timespec="seconds")
                self.db.add_release(c, channel, release.sequence, release.version, envelope, stamp)
                self.db.put_document(c, channel, RELEASE, envelope, stamp)
                add_audit(c, stamp, actor, "release", channel, {
                    "sequence": release.sequence, "version": release.version, "target": release.target,
                    "rollout": {"percent": release.rollout.percent, "screens": list(release.rollout.screens)},
                    "wheels": len(release.wheels), "previous": have})
                return have

        async with self._lock(channel):
            release = await self.db.run(check)
            lacking = await asyncio.to_thread(self.channels.missing, {w.sha256: w.size for w in release.wheels})
            if lacking:
                raise Refused(409, f"the release names {len(lacking)} wheel(s) the server does not hold; upload them "
                              "first (PUT /api/blobs/SHA256)", missing=lacking[:100])
            await self.db.run(write, release)
            await self.channels.published([(channel, RELEASE, envelope)])
            log.info("%s published release %s on %s as sequence %d", actor, release.version, channel, release.sequence)
            return release

    async def rollback_reported(self, channel: str, sequence: int, screen: str, version: str | None, reason: str,
                                now: datetime) -> None:
        """A screen rolled `sequence` back; at the second screen the release served is halted."""
        stamp = now.isoformat(timespec="seconds")

        def write() -> list[tuple[str, str, bytes | None]]:
            with self.db.transaction() as c:
                if self.db.lock_software(c, channel) is None:
                    return []
                count = self.db.add_rollback(c, channel, sequence, screen, version, reason, stamp)
                served = next((r for r in self.db.releases(channel, c) if not r["halted"]), None)
                if count < HALT_AFTER or served is None or served["sequence"] != sequence:
                    return []
                self.db.halt_release(c, channel, sequence, stamp)
                previous = next((r for r in self.db.releases(channel, c) if not r["halted"]), None)
                if previous is not None:
                    self.db.put_document(c, channel, RELEASE, previous["envelope"], stamp)
                else:
                    self.db.delete_document(c, channel, RELEASE)
                add_audit(c, stamp, "server", "halt", channel, {
                    "sequence": sequence, "version": served["version"], "rollbacks": count,
                    "serving": previous["sequence"] if previous else None})
                log.error("release %s (sequence %d) on %s halted after %d rollbacks; serving %s", served["version"],
                          sequence, channel, count, f"sequence {previous['sequence']}" if previous else "nothing")
                return [(channel, RELEASE, previous["envelope"] if previous else None)]

        async with self._lock(channel):
            await self.channels.published(await self.db.run(write))

    # --- inside ------------------------------------------------------------------------------------------------

    def _lock(self, channel: str) -> asyncio.Lock:
        return self._locks.setdefault(channel, asyncio.Lock())

    def _root(self, c: Connection, channel: str) -> Ed25519PublicKey:
        text = self.db.lock_software(c, channel)
        if text is None:
            raise Refused(404, f"no software channel {channel!r} on this server; an admin adds it with "
                          f"python -m sync server software add {channel} --root ROOT.pub")
        return public_from_text(text)

    def _releasers(self, c: Connection, channel: str) -> PublisherList:
        root = self._root(c, channel)
        held = self.db.read_document(c, channel, RELEASERS)
        if held is None:
            raise Refused(409, f"software channel {channel} has no releasers list yet; whoever holds the root key runs "
                          f"python -m sync sign-releasers --channel {channel} --to SERVER_URL ...")
        try:
            return open_publishers(held, root, channel, kind="releasers")
        except SyncError as exc:
            raise Refused(409, f"the releasers list held for {channel} does not verify against its root key ({exc}); "
                          "sign a new one") from None
