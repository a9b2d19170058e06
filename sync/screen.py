"""The sync side of one screen: its store, the polling loop, USB import, and checking the store for damage."""

from __future__ import annotations

import logging
import os
import threading
import time
from datetime import datetime
from pathlib import Path
from typing import Callable

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from player.config import KioskConfig, SyncSettings

from .client import FolderSource, HttpSource, RateFloor, Source, SyncResult, fetch_missing, run_forever, sync_once
from .errors import SyncError
from .fleet import Reporter, profile_of, read_token, screen_facts, software_version
from .notice_feed import follow_notices
from .keys import public_from_text
from .files import sha256_file
from .layout import StateFolder
from .release_follow import NotingReporter, ReleaseFollower, facts_for, follow_releases, release_source, screen_target
from .store import Store
from .update_area import area_of, read_small_json, status_file

log = logging.getLogger(__name__)


def settings_of(config: KioskConfig, need_server: bool = True) -> SyncSettings:
    if config.sync is None:
        raise SyncError(f"{config.path} has no `sync` section: add sync.server, sync.channel and sync.root_key")
    if need_server and not config.sync.server:
        raise SyncError(f"{config.path}: sync.server is empty")
    return config.sync


def http_source(settings: SyncSettings, wait: float = 0.0) -> HttpSource:
    """The screen's channel on its server, with kiosk.yaml's CA file and rate floor."""
    return HttpSource(settings.server, settings.channel, settings.ca_file, wait=wait,
                      floor=RateFloor(min_rate=settings.min_rate_kb * 1000))


def open_store(config: KioskConfig) -> Store:
    return Store(StateFolder(config.state_dir).store.root).open()


def root_key(settings: SyncSettings) -> Ed25519PublicKey:
    try:
        return public_from_text(settings.root_key)
    except ValueError as exc:
        raise SyncError(f"sync.root_key: {exc}") from None


def record(store: Store, result: SyncResult, now: datetime, how: str) -> SyncResult:
    """Keep the last sync's outcome for `python -m player status` and the heartbeat."""
    try:
        store.update_state(last_sync={"time": now.isoformat(timespec="seconds"), "status": result.status,
                                      "message": result.message, "generation": result.generation, "via": how})
    except SyncError as exc:
        log.error("%s", exc)
    return result


def import_folder(config: KioskConfig, folder: Path, now: datetime) -> SyncResult:
    """Apply a published folder (a USB stick) with the same signature, hash and rollback checks as a sync."""
    settings = settings_of(config, need_server=False)
    store = open_store(config)
    settings_limit = settings.store_limit_mb * 2**20
    result = sync_once(FolderSource(folder, settings.channel), store, root_key(settings), settings.channel,
                       settings.keep_generations, settings_limit)
    if config.update is not None and (folder / "software" / config.update.channel / "release").exists():
        check = follower(config, FolderSource(folder, config.update.channel, "software")).poll(now)
        log.info("software from %s: %s", folder, check.message)
        if check.status == "failed" and result.status != "failed":
            result = SyncResult("failed", result.generation, f"{result.message}; software: {check.message}")
    return record(store, result, now, f"import {folder}")


def follower(config: KioskConfig, source: Source) -> ReleaseFollower:
    """The software-channel follower of this screen, reading from `source` (the server, a host or a USB stick)."""
    assert config.update is not None and config.sync is not None
    return ReleaseFollower(source, area_of(config.state_dir), root_key(config.sync), config.update.channel,
                           config.screen_id, screen_target(), software_version(),
                           lambda: read_small_json(status_file(config.path.parent)))


def repair(store: Store, source: Source | None) -> str:
    """Find damage in the generation playing (a full read, so run it off the render loop) and mend it.

    A damaged file is fetched again and swapped in by rename; if it cannot be fetched, the
    newest other complete generation is switched in. Returns a one-line account.
    """
    current = store.current()
    if current is None:
        best = store.best_generation(deep=True)
        if best is None:
            return "no complete generation in the store"
        store.switch_to(best)
        return f"no current generation; switched to {best.name}"
    damaged = store.damaged_files(current)
    if not damaged:
        return f"generation {current.name} checked: intact"
    entries = [e for e in current.manifest.files if e.path in damaged]
    for entry in entries:
        store.forget_blob(entry.sha256)
    try:
        if source is None:
            raise SyncError("no server to fetch from")
        fetch_missing(source, store, current.manifest)
        for entry in entries:
            target = current.path / entry.path
            tmp = target.with_name(target.name + ".repair")
            tmp.unlink(missing_ok=True)
            os.link(store.blobs / entry.sha256, tmp)
            os.replace(tmp, target)
            if sha256_file(target) != entry.sha256:
                raise SyncError(f"{entry.path} still differs after repair")
        return f"generation {current.name}: repaired {', '.join(damaged)} from the server"
    except (SyncError, OSError) as exc:
        fallback = store.best_generation(exclude=[current.name], deep=True)  # it may share the damaged blob
        if fallback is None:
            return f"generation {current.name}: {', '.join(damaged)} damaged, cannot repair ({exc}); nothing older to fall back on"
        store.switch_to(fallback)
        return f"generation {current.name}: {', '.join(damaged)} damaged and not repairable ({exc}); rolled back to {fallback.name}"


LONG_POLL_SECONDS = 50.0  # under the server's long_poll_max_seconds default (60) and common proxy timeouts


def run(config: KioskConfig, stop: threading.Event, clock: Callable[[], datetime]) -> None:
    """Poll the server until `stop` is set; notices and (with a token) reports run beside it in threads.

    The store is checked for damage first, in the background.
    """
    settings = settings_of(config)
    store = open_store(config)
    key = root_key(settings)
    source = http_source(settings, wait=LONG_POLL_SECONDS)

    def check() -> None:
        try:
            log.info("store check: %s", repair(store, source))
        except Exception:  # the check must never take the poller down with it
            log.exception("store check failed")

    threading.Thread(target=check, name="store-check", daemon=True).start()
    notices = http_source(settings, wait=LONG_POLL_SECONDS)
    threading.Thread(target=_guarded(lambda: follow_notices(notices, store, key, settings.channel, config.screen_id,
                                                            clock, stop)), name="notices", daemon=True).start()
    update = config.update
    if update is not None:
        software = release_source(settings.server, update.channel, settings.ca_file)
        releases = follower(config, software)

        def follow() -> None:
            follow_releases(releases, clock, stop, lambda: 0.2 if software.long_poll else settings.poll_seconds)

        threading.Thread(target=_guarded(follow), name="releases", daemon=True).start()
    if settings.token_file:
        started = time.monotonic()
        area, install = area_of(config.state_dir), config.path.parent

        def facts() -> dict[str, object]:
            base = screen_facts(config.state_dir, store.root, started, software_version(), clock, profile_of(config))
            return {**base, **facts_for(area, status_file(install), update.channel)} if update is not None else base

        try:
            token = read_token(settings.token_file)
            reporter = (NotingReporter(settings.server, token, config.state_dir, settings.ca_file, facts, area=area,
                                       clock=clock, running=software_version()) if update is not None else
                        Reporter(settings.server, token, config.state_dir, settings.ca_file, facts))
            threading.Thread(target=_guarded(lambda: reporter.run(stop, settings.heartbeat_seconds)),
                             name="reporter", daemon=True).start()
        except SyncError as exc:
            log.error("%s; no heartbeats, screenshots or proof uploads until it is fixed", exc)

    def poll() -> SyncResult:
        result = sync_once(source, store, key, settings.channel, settings.keep_generations,
                           settings.store_limit_mb * 2**20)
        return record(store, result, clock(), settings.server)

    # A server that holds requests is asked again at once (it answers the moment a generation is
    # published); a static host is asked every poll_seconds.
    run_forever(poll, lambda: 0.2 if source.long_poll else settings.poll_seconds, stop)


def _guarded(job: Callable[[], None]) -> Callable[[], None]:
    def run_job() -> None:
        try:
            job()
        except Exception:  # a bug here must not end content sync; the thread's work is lost until restart
            log.exception("%s stopped", threading.current_thread().name)
    return run_job
