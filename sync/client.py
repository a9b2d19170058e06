"""The screen's sync client: fetch a channel's signed manifest, the blobs it lacks, and switch generations.

Sources need only GET, ETag and Range, so a folder served by nginx, object
storage or a CDN works as well as the central server; a folder on a USB stick
works through the same checks.
"""

from __future__ import annotations

import errno
import hashlib
import logging
import random
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Protocol

import requests
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from .envelope import key_id, open_sealed, signer_of
from .errors import FetchError, ManifestError, RollbackError, SignatureError, SyncError
from .keys import PublisherList, open_publishers
from .manifest import MAX_MANIFEST_BYTES, FileEntry, Manifest, missing_blobs, parse_manifest
from .store import Store, disk_error, payload_of

log = logging.getLogger(__name__)

PARALLEL_DOWNLOADS = 3
CHUNK = 1 << 18  # larger reads are faster, but a cut loses the read in progress


class Source(Protocol):
    def get(self, name: str, etag: str | None) -> tuple[bytes | None, str | None]:
        """(content, etag) of channels/<channel>/<name>; content None when unchanged since `etag`."""

    def fetch_blob(self, entry: FileEntry, store: Store) -> int:
        """Put blob `entry.sha256` into the store (verified); returns bytes transferred."""


class HttpSource:
    """A channel on any static HTTP host (or the central server): base/channels/<channel>/…, base/blobs/<sha256>."""

    def __init__(self, base_url: str, channel: str, ca_file: str | None = None, timeout: float = 20.0,
                 wait: float = 0.0) -> None:
        self.base = base_url.rstrip("/") + "/"
        self.channel = channel
        self.session = requests.Session()
        # Passed with every request: a Session's own `verify` loses to REQUESTS_CA_BUNDLE in the environment.
        self.verify: str | bool = ca_file or True
        self.timeout = (5.0, timeout)
        self.wait = wait  # long-poll: ask the central server to hold an unchanged answer this long
        self.long_poll = False  # the host said it holds requests (the central server); a static host does not

    def get(self, name: str, etag: str | None) -> tuple[bytes | None, str | None]:
        url = f"{self.base}channels/{self.channel}/{name}"
        headers = {"If-None-Match": etag} if etag else {}
        params, timeout = {}, self.timeout
        if etag and self.wait > 0 and name != "publishers":
            params, timeout = {"wait": f"{self.wait:g}"}, (self.timeout[0], self.timeout[1] + self.wait)
        try:
            with self.session.get(url, headers=headers, params=params, timeout=timeout, stream=True,
                                  verify=self.verify) as response:
                if "X-Long-Poll-Max" in response.headers:
                    self.long_poll = True
                if response.status_code == 304:
                    return None, etag
                if response.status_code == 404:
                    raise FetchError(f"{url}: not found (nothing published to channel {self.channel!r} yet?)")
                response.raise_for_status()
                body = bytearray()
                for chunk in response.iter_content(CHUNK):
                    body += chunk
                    if len(body) > MAX_MANIFEST_BYTES:
                        raise ManifestError(f"{url} is larger than {MAX_MANIFEST_BYTES // 2**20} MB; refused")
                return bytes(body), response.headers.get("ETag")
        except requests.RequestException as exc:
            raise FetchError(f"{url}: {_short(exc)}") from None

    def fetch_blob(self, entry: FileEntry, store: Store) -> int:
        url = f"{self.base}blobs/{entry.sha256}"
        part = store.partial_path(entry.sha256)
        have = part.stat().st_size if part.exists() else 0
        if have > entry.size:
            part.unlink()
            have = 0
        if have == entry.size:
            return 0
        headers = {"Range": f"bytes={have}-"} if have else {}
        received = 0
        digest = hashlib.sha256()  # hashed as it arrives, so the blob is not read a second time
        try:
            with self.session.get(url, headers=headers, timeout=self.timeout, stream=True, verify=self.verify) as response:
                if response.status_code == 416:  # we already have it all
                    store.adopt_partial(entry.sha256)
                    return 0
                response.raise_for_status()
                resuming = response.status_code == 206 and have > 0  # a host without Range sends it all
                if resuming:
                    with part.open("rb") as kept:
                        while block := kept.read(CHUNK):
                            digest.update(block)
                with part.open("ab" if resuming else "wb") as out:
                    for chunk in response.iter_content(CHUNK):
                        out.write(chunk)
                        digest.update(chunk)
                        received += len(chunk)
                        if out.tell() > entry.size:
                            raise FetchError(f"{url}: more bytes than the manifest's {entry.size}")
        except requests.RequestException as exc:
            raise FetchError(f"{url}: {_short(exc)} (kept {have + received} bytes to resume)") from None
        except OSError as exc:
            if exc.errno == errno.ENOSPC:
                part.unlink(missing_ok=True)  # leave the disk room for logs; the download starts over later
            raise disk_error(exc, f"downloading {entry.path}") from None
        store.adopt_partial(entry.sha256, digest.hexdigest())
        return received


class FolderSource:
    """A published folder (USB stick, rsync copy): the same layout read from disk."""

    def __init__(self, folder: Path, channel: str) -> None:
        self.folder = folder
        self.channel = channel

    def get(self, name: str, etag: str | None) -> tuple[bytes | None, str | None]:
        path = self.folder / "channels" / self.channel / name
        try:
            if path.stat().st_size > MAX_MANIFEST_BYTES:
                raise ManifestError(f"{path} is larger than {MAX_MANIFEST_BYTES // 2**20} MB; refused")
            return path.read_bytes(), None
        except FileNotFoundError:
            raise FetchError(f"{path}: not found (is this a folder made by `python -m sync publish`?)") from None
        except OSError as exc:
            raise FetchError(f"{path}: {exc.strerror}") from None

    def fetch_blob(self, entry: FileEntry, store: Store) -> int:
        source = self.folder / "blobs" / entry.sha256
        if not source.is_file():
            raise FetchError(f"{source}: missing from the published folder")
        store.add_blob_from(source, entry.sha256)
        return entry.size


@dataclass(frozen=True)
class SyncResult:
    status: str  # "unchanged", "updated" or "failed"
    generation: int | None
    message: str
    downloaded: int = 0


def check_publishers(store: Store, data: bytes, root: Ed25519PublicKey, channel: str) -> PublisherList:
    have = store.read_state().get("publishers_version", 0)
    held = store.publishers()
    if held is not None and _signer(held) != key_id(root):  # kiosk.yaml has a new root: it counts from 1
        have = 0
    plist = open_publishers(data, root, channel, have)
    if plist.version > have or store.publishers() is None:
        store.save_publishers(data)
        store.update_state(publishers_version=plist.version)
    return plist


def _signer(envelope: bytes) -> str | None:
    try:
        return signer_of(envelope, "publishers")
    except SignatureError:
        return None


def verify_manifest(envelope: bytes, plist: PublisherList, channel: str) -> Manifest:
    """Signature first (by a publisher the root key lists), then parsing, then the channel."""
    _, payload = open_sealed(envelope, "manifest", plist.key)
    manifest = parse_manifest(payload)
    if manifest.channel != channel:
        raise ManifestError(f"manifest is for channel {manifest.channel!r}, this screen follows {channel!r}")
    return manifest


def sync_once(source: Source, store: Store, root: Ed25519PublicKey, channel: str,
              keep: int = 3, limit_bytes: int = 2**40) -> SyncResult:
    """One poll: nothing changes on the screen unless a complete, verified, newer generation is ready."""
    state = store.read_state()
    try:
        envelope, etag = source.get("manifest", state.get("manifest_etag"))
        current = store.current()
        if envelope is None:  # the usual poll: one conditional request, answered 304
            return SyncResult("unchanged", current.manifest.generation if current else None, "manifest not modified")
        # Only a changed manifest needs the publisher list: fetched (conditionally) now, so a key revoked
        # since the last change is refused.
        publishers_data, publishers_etag = source.get("publishers", state.get("publishers_etag"))
        if publishers_data is None:
            publishers_data = store.publishers()
            if publishers_data is None:
                raise FetchError("publisher list not modified on the server, but none is kept here")
        plist = check_publishers(store, publishers_data, root, channel)
        manifest = verify_manifest(envelope, plist, channel)
        have = current.manifest.generation if current else 0
        name = store.generation_name(manifest)
        if current is not None and manifest.generation == have and payload_of(envelope) == payload_of(
                (current.path / "manifest").read_bytes()):
            store.update_state(manifest_etag=etag, publishers_etag=publishers_etag)
            return SyncResult("unchanged", have, "same generation")
        if manifest.generation <= have:
            raise RollbackError(f"generation {manifest.generation} is not newer than the {have} playing; refused")
        if name in store.bad_generations():
            return SyncResult("unchanged", have, f"generation {manifest.generation} could not be played before; waiting for a newer one")
        downloaded = fetch_missing(source, store, manifest)
        generation = store.write_generation(manifest, envelope)
        store.switch_to(generation)
        store.update_state(manifest_etag=etag, publishers_etag=publishers_etag, generation=manifest.generation)
        store.prune(keep, limit_bytes)
        return SyncResult("updated", manifest.generation,
                          f"generation {manifest.generation}: {len(manifest.files)} files, {downloaded} bytes fetched", downloaded)
    except SyncError as exc:
        current = store.current()
        return SyncResult("failed", current.manifest.generation if current else None, str(exc))


def fetch_missing(source: Source, store: Store, manifest: Manifest) -> int:
    """Download every blob the store lacks, a few at a time; each is verified before it counts."""
    missing = missing_blobs(manifest, store.blob_ids())

    def one(entry: FileEntry) -> int:
        return source.fetch_blob(entry, store)

    if not missing:
        return 0
    with ThreadPoolExecutor(max_workers=PARALLEL_DOWNLOADS) as pool:
        return sum(pool.map(one, missing))


def backoff_seconds(failures: int, base: float, ceiling: float, rng: random.Random) -> float:
    """Exponential backoff with jitter, so a fleet coming back online does not arrive at once."""
    return min(ceiling, base * 2 ** min(failures, 16)) * rng.uniform(0.5, 1.5)


def run_forever(poll: Callable[[], SyncResult], interval: float | Callable[[], float], stop: threading.Event,
                rng: random.Random | None = None, max_backoff: float = 900.0) -> None:
    """Poll every `interval` seconds; after failures wait longer (with jitter) until one succeeds.

    `interval` may be a function: a long-polled server is asked again at once, a static host after poll_seconds.
    """
    rng = rng or random.Random()
    failures = 0
    while not stop.is_set():
        result = poll()
        base = interval() if callable(interval) else interval
        if result.status == "failed":
            failures += 1
            wait = backoff_seconds(failures, min(base, 10.0) or 1.0, max(base, max_backoff), rng)
            log.warning("sync failed (%d in a row): %s; next try in %.0f s", failures, result.message, wait)
        else:
            if failures or result.status == "updated":
                log.info("sync %s: %s", result.status, result.message)
            failures = 0
            wait = base
        stop.wait(wait)


def _short(exc: Exception) -> str:
    if isinstance(exc, requests.exceptions.SSLError) and "CERTIFICATE_VERIFY_FAILED" in str(exc):
        return ("the server's HTTPS certificate is not trusted here: name its private CA's PEM file in "
                "kiosk.yaml's sync.ca_file (or the certificate does not match the server's name)")
    text = str(exc)
    return text if len(text) < 200 else text[:200] + "…"
