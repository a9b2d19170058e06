"""The screen's side of software updates (user kiosk): follow a software channel, fetch a release, leave it ready.

Runs in the sync client beside the content poller, through the same HttpSource
(long-poll on the central server, conditional GETs on a static host, Range
resume, the rate floor, backoff). It checks everything a screen can check (the
releasers list against the root key, the signature, the sequence, expiry,
target, this screen's rollout, free disk) so it never downloads what would be
refused, but the root updater checks it all again: nothing here is trusted.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import platform
import shutil
import sys
import threading
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Callable

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from .client import HttpSource, Source, SyncResult, run_forever
from .errors import FetchError, SyncError
from .layout import write_atomic
from .fleet import Reporter
from .keys import PublisherList, open_publishers
from .manifest import FileEntry
from .release import Release, check_for_screen, open_release
from .store import Store, disk_error, payload_of
from .update_area import UpdateArea, read_small_json
from .wheeltags import Target, TargetError, machine_target

log = logging.getLogger(__name__)

DISK_MARGIN = 200 * 2**20  # besides twice the release: the venv it unpacks into, logs, proof of play
LONG_POLL_SECONDS = 50.0


@dataclass(frozen=True)
class ReleaseCheck:
    status: str  # "unchanged", "ready", "skipped" (not for this screen now) or "failed"
    message: str
    downloaded: int = 0


def screen_target() -> Target:
    """This machine as a release target (CPython, glibc, CPU)."""
    libc = os.confstr("CS_GNU_LIBC_VERSION") if "CS_GNU_LIBC_VERSION" in os.confstr_names else ""
    return machine_target((sys.version_info.major, sys.version_info.minor), libc or "", platform.machine())


class ReleaseFollower:
    """One screen's view of its software channel: `poll` once; the first poll asks unconditionally."""

    def __init__(self, source: Source, area: UpdateArea, root: Ed25519PublicKey, channel: str, screen_id: str,
                 target: Target, running: str, status: Callable[[], dict[str, Any]],
                 free_bytes: Callable[[Path], int] = lambda path: shutil.disk_usage(path).free) -> None:
        self.source, self.area, self.root, self.channel = source, area, root, channel
        self.screen_id, self.target, self.running = screen_id, target, running
        self.status = status  # the root updater's status.json
        self.free_bytes = free_bytes
        self.first = True

    def poll(self, now: datetime) -> ReleaseCheck:
        try:
            return self._poll(now)
        except SyncError as exc:
            self._note(state="failed" if isinstance(exc, FetchError) else "refused", reason=str(exc)[:500])
            return ReleaseCheck("failed", str(exc))

    def _poll(self, now: datetime) -> ReleaseCheck:
        client = self.area.client()
        data, etag = self.source.get("release", None if self.first else client.get("release_etag"))
        self.first = False
        # The host answered (a 304 too): during a trial this shows the new version can still be updated.
        self._note(answered=now.isoformat(timespec="seconds"), answered_by=self.running)
        if data is None:
            return ReleaseCheck("unchanged", "release not modified")
        plist = self._releasers(client)
        release = open_release(data, plist.key, self.channel)
        seen = int(self.area.client().get("sequence_seen") or 0)
        if release.sequence != seen:  # the same document again is fine; an older one is refused
            check_for_screen(release, self.target, now, seen)
        else:
            check_for_screen(release, self.target, now, seen - 1)
        # The ETag is kept only once the release is dealt with: until then the next poll asks again.
        self._note(sequence_seen=release.sequence)
        reason = self._skip(release)
        if reason:
            self._note(state="idle", reason=reason, release_etag=etag)
            return ReleaseCheck("skipped", reason)
        digest = hashlib.sha256(data).hexdigest()
        if read_small_json(self.area.ready).get("sha256") == digest:
            self._note(release_etag=etag)
            return ReleaseCheck("unchanged", f"release {release.version} is ready; waiting for the updater")
        downloaded = self._download(release)
        write_atomic(self.area.release, data)
        self._prune(release)
        marker = {"version": release.version, "sequence": release.sequence, "sha256": digest}
        write_atomic(self.area.ready, json.dumps(marker).encode("utf-8"))  # last: the updater's .path unit sees it
        self._note(state="ready", reason=f"release {release.version} (sequence {release.sequence}) downloaded",
                   release_etag=etag)
        log.info("release %s (sequence %d) is ready for the updater: %d bytes fetched", release.version,
                 release.sequence, downloaded)
        return ReleaseCheck("ready", f"release {release.version} ready", downloaded)

    def _releasers(self, client: dict[str, Any]) -> PublisherList:
        """The releasers list to trust; a newer one resets the sequence seen (recovery from a runaway key)."""
        data, etag = self.source.get("releasers", client.get("releasers_etag"))
        held = _read(self.area.releasers)
        have = int(client.get("releasers_version") or 0)
        if data is None:
            if held is None:
                raise FetchError("releasers list not modified on the host, but none is kept here")
            data = held
        plist = open_publishers(data, self.root, self.channel, have, kind="releasers")
        if held is None or plist.version > have:
            write_atomic(self.area.releasers, data)
            changes: dict[str, Any] = {"releasers_version": plist.version, "releasers_etag": etag}
            if have and plist.version > have:
                changes["sequence_seen"] = 0
                log.warning("releasers list version %d replaces %d: the highest release sequence seen is forgotten",
                            plist.version, have)
            self._note(**changes)
        elif held is not None and payload_of(held) != payload_of(data):
            log.warning("releasers list version %d served with other contents than the one held; keeping the held one",
                        plist.version)
            return open_publishers(held, self.root, self.channel, have, kind="releasers")
        return plist

    def _skip(self, release: Release) -> str | None:
        status = self.status()
        if release.version == self.running:
            return f"running {release.version} already"
        if release.sequence in (status.get("failed") or []):
            return f"release sequence {release.sequence} failed here before; waiting for a higher one"
        if not release.rollout.selects(self.screen_id):
            return f"not in the rollout of {release.version} ({release.rollout.percent} %)"
        return None

    def _download(self, release: Release) -> int:
        store = Store(self.area.root)
        try:
            self.area.blobs.mkdir(parents=True, exist_ok=True)
            store.partial.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise disk_error(exc, f"making {self.area.root}") from None
        missing = [w for w in release.wheels if not (self.area.blobs / w.sha256).is_file()]
        need = 2 * release.total_bytes + DISK_MARGIN
        free = self.free_bytes(self.area.root)
        if missing and free < need:
            raise SyncError(f"not enough disk for release {release.version}: {free // 2**20} MB free, it needs "
                            f"{need // 2**20} MB (twice its {release.total_bytes // 2**20} MB plus 200 MB); nothing "
                            "was downloaded")
        self._note(state="downloading", reason=f"release {release.version}: {len(missing)} wheel(s)")
        fetched = 0
        for wheel in missing:
            fetched += self.source.fetch_blob(FileEntry(wheel.name, wheel.sha256, wheel.size), store)
        return fetched

    def _prune(self, release: Release) -> None:
        """Only this release's wheels are kept: the next release that changes our code fetches one small wheel."""
        keep = {w.sha256 for w in release.wheels}
        for folder in (self.area.blobs, self.area.root / "partial"):
            for path in folder.iterdir() if folder.is_dir() else ():
                if path.name[:64] not in keep:
                    path.unlink(missing_ok=True)

    def _note(self, **changes: Any) -> None:
        try:
            self.area.note(**changes)
        except OSError as exc:
            log.error("%s", disk_error(exc, f"writing {self.area.client_file}"))


def follow_releases(follower: ReleaseFollower, clock: Callable[[], datetime], stop: threading.Event,
                    interval: Callable[[], float]) -> None:
    """Poll the software channel until `stop`; failures back off like content syncs."""
    def poll() -> SyncResult:
        check = follower.poll(clock())
        status = {"ready": "updated", "skipped": "unchanged"}.get(check.status, check.status)
        return SyncResult(status, None, f"software: {check.message}", check.downloaded)

    run_forever(poll, interval, stop)


def release_source(server: str, channel: str, ca_file: str | None) -> HttpSource:
    return HttpSource(server, channel, ca_file, wait=LONG_POLL_SECONDS, folder="software")


class NotingReporter(Reporter):
    """The heartbeat reporter, also noting each heartbeat that went through (a trial asks for one)."""

    def __init__(self, *args: Any, area: UpdateArea, clock: Callable[[], datetime], running: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.area, self.clock, self.running = area, clock, running

    def heartbeat(self) -> dict[str, Any]:
        answer = super().heartbeat()
        try:
            self.area.note(heartbeat=self.clock().isoformat(timespec="seconds"), heartbeat_by=self.running)
        except OSError:
            pass  # reporting goes on; only the trial's evidence is missing
        return answer


def update_facts(client: dict[str, Any], status: dict[str, Any], target: str | None,
                 channel: str | None = None) -> dict[str, Any]:
    """What a heartbeat says about updates: the target, one state with its reason, the release sequence seen.

    The updater's word counts for the release it worked on last; before it has one, the client's.
    """
    seen = client.get("sequence_seen")
    state, reason = client.get("state") or "idle", client.get("reason")
    about = seen
    root_state = status.get("state")
    if root_state in ("waiting", "installing", "trial") or (
            root_state and status.get("sequence") is not None and status.get("sequence") == seen
            and state not in ("downloading",)):
        state, reason, about = root_state, status.get("reason"), status.get("sequence")
    elif state == "ready":
        state = "waiting"
    names = {"installing": "waiting", "failed": "idle"}  # a failed fetch: idle, with the reason
    return {"target": target, "software_channel": channel, "update_state": names.get(state, state),
            "update_reason": (str(reason)[:500] if reason else None), "update_sequence": about,
            "release_sequence": seen, "rollbacks": len(status.get("failed") or [])}


def facts_for(area: UpdateArea, status_path: Path, channel: str) -> dict[str, Any]:
    try:
        target: str | None = str(screen_target())
    except TargetError:
        target = None
    return update_facts(area.client(), read_small_json(status_path), target, channel)


def _read(path: Path) -> bytes | None:
    try:
        return path.read_bytes()
    except OSError:
        return None
