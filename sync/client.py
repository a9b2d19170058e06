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
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterator, Protocol

import requests
import urllib3
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from .envelope import key_id, open_sealed, signer_of
from .errors import FetchError, ManifestError, RollbackError, SignatureError, SyncError
from .files import open_regular
from .keys import PublisherList, open_publishers
from .manifest import MAX_MANIFEST_BYTES, FileEntry, Manifest, missing_blobs, parse_manifest
from .store import Store, disk_error, payload_of

log = logging.getLogger(__name__)

PARALLEL_DOWNLOADS = 3
CHUNK = 1 << 18  # larger reads are faster, but a cut loses the read in progress
MIN_RATE = 10_000  # bytes/s a transfer must average once its grace time is over; slower is cut and resumed later
GRACE_SECONDS = 30.0


class Source(Protocol):
    def get(self, name: str, etag: str | None) -> tuple[bytes | None, str | None]:
        """(content, etag) of channels/<channel>/<name>; content None when unchanged since `etag`."""

    def fetch_blob(self, entry: FileEntry, store: Store) -> int:
        """Put blob `entry.sha256` into the store (verified); returns bytes transferred."""


@dataclass(frozen=True)
class RateFloor:
    """The slowest a transfer may be: after `grace` seconds it must average `min_rate` bytes/s, or it is cut.

    The per-read timeout never fires on a host that trickles a byte every few seconds; this
    bounds the whole request by its size, so a slow host holds the client minutes, not days.
    """

    min_rate: float = MIN_RATE
    grace: float = GRACE_SECONDS

    def allows(self, received: int, elapsed: float) -> bool:
        return elapsed <= self.grace + received / self.min_rate


class HttpSource:
    """A channel on any static HTTP host (or the central server): base/channels/<channel>/…, base/blobs/<sha256>.

    `folder="software"` reads a software channel (base/software/<channel>/release) the same way.
    """

    def __init__(self, base_url: str, channel: str, ca_file: str | None = None, timeout: float = 20.0,
                 wait: float = 0.0, floor: RateFloor = RateFloor(), folder: str = "channels") -> None:
        self.base = base_url.rstrip("/") + "/"
        self.channel = channel
        self.folder = folder
        self.session = requests.Session()
        # Passed with every request: a Session's own `verify` loses to REQUESTS_CA_BUNDLE in the environment.
        self.verify: str | bool = ca_file or True
        self.timeout = (5.0, timeout)
        self.wait = wait  # long-poll: ask the central server to hold an unchanged answer this long
        self.long_poll = False  # the host said it holds requests (the central server); a static host does not
        self.floor = floor

    def get(self, name: str, etag: str | None) -> tuple[bytes | None, str | None]:
        url = f"{self.base}{self.folder}/{self.channel}/{name}"
        headers = {"If-None-Match": etag} if etag else {}
        params, timeout = {}, self.timeout
        if etag and self.wait > 0 and name not in ("publishers", "releasers"):
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
                for chunk in self._chunks(response, url):
                    body += chunk
                    if len(body) > MAX_MANIFEST_BYTES:
                        raise ManifestError(f"{url} is larger than {MAX_MANIFEST_BYTES // 2**20} MB; refused")
                return bytes(body), response.headers.get("ETag")
        except (requests.RequestException, urllib3.exceptions.HTTPError) as exc:
            raise FetchError(f"{url}: {_short(exc)}") from None

    def _chunks(self, response: requests.Response, url: str) -> Iterator[bytes]:
        """The body as it arrives (one socket read at a time, so a trickle is seen), cut when below the rate floor."""
        started, received = time.monotonic(), 0
        while chunk := response.raw.read1(CHUNK, decode_content=True):
            received += len(chunk)
            yield chunk
            elapsed = time.monotonic() - started
            if not self.floor.allows(received, elapsed):
                raise FetchError(f"{url}: too slow ({received} bytes in {elapsed:.0f} s, under "
                                 f"{self.floor.min_rate / 1000:g} kB/s); cut, to resume later")

    def fetch_blob(self, entry: FileEntry, store: Store) -> int:
        url = f"{self.base}blobs/{entry.sha256}"
        part = store.partial_path(entry.sha256)
        have = part.stat().st_size if part.exists() else 0
        if have > entry.size:
            part.unlink()
            have = 0
        if have == entry.size:
            # Every byte is here already (an empty file; a cut or a kill after the last byte): keep
            # it if it hashes right, otherwise it was thrown away and is fetched again from the start.
            if store.settle_partial(entry.sha256):
                return 0
            have = 0
        headers = {"Range": f"bytes={have}-"} if have else {}
        received, resuming = 0, False
        digest = hashlib.sha256()  # hashed as it arrives, so the blob is not read a second time
        try:
            with self.session.get(url, headers=headers, timeout=self.timeout, stream=True, verify=self.verify) as response:
                if response.status_code == 416:  # the host says there is nothing past what we have
                    store.adopt_partial(entry.sha256)
                    return 0
                response.raise_for_status()
                resuming = response.status_code == 206 and have > 0  # a host without Range sends it all
                if resuming:
                    with part.open("rb") as earlier:
                        while block := earlier.read(CHUNK):
                            digest.update(block)
                with part.open("ab" if resuming else "wb") as out:
                    for chunk in self._chunks(response, url):
                        out.write(chunk)
                        digest.update(chunk)
                        received += len(chunk)
                        if out.tell() > entry.size:
                            raise FetchError(f"{url}: more bytes than the manifest's {entry.size}")
        except (requests.RequestException, urllib3.exceptions.HTTPError, FetchError) as exc:
            kept = (have if resuming else 0) + received
            if kept == entry.size and digest.hexdigest() == entry.sha256:
                # Cut after the last byte (a proxy that stalls after the body, a chunked answer
                # without its final chunk): the blob is whole, so it counts.
                store.adopt_partial(entry.sha256, entry.sha256)
                return received
            raise FetchError(f"{url}: {_short(exc)} (kept {kept} bytes to resume)") from None
        except OSError as exc:
            if exc.errno == errno.ENOSPC:
                part.unlink(missing_ok=True)  # leave the disk room for logs; the download starts over later
            raise disk_error(exc, f"downloading {entry.path}") from None
        store.adopt_partial(entry.sha256, digest.hexdigest())
        return received


class FolderSource:
    """A published folder (USB stick, rsync copy): the same layout read from disk."""

    def __init__(self, folder: Path, channel: str, kind: str = "channels") -> None:
        self.folder = folder
        self.channel = channel
        self.kind = kind  # "software" for a software channel

    def get(self, name: str, etag: str | None) -> tuple[bytes | None, str | None]:
        path = self.folder / self.kind / self.channel / name
        try:
            with open_regular(path) as src:
                data = src.read(MAX_MANIFEST_BYTES + 1)
        except FileNotFoundError:
            raise FetchError(f"{path}: not found (is this a folder made by `python -m sync publish`?)") from None
        except OSError as exc:
            raise FetchError(f"{path}: {exc.strerror or exc}") from None
        if len(data) > MAX_MANIFEST_BYTES:
            raise ManifestError(f"{path} is larger than {MAX_MANIFEST_BYTES // 2**20} MB; refused")
        return data, None

    def fetch_blob(self, entry: FileEntry, store: Store) -> int:
        source = self.folder / "blobs" / entry.sha256
        try:
            src = open_regular(source)
        except FileNotFoundError:
            raise FetchError(f"{source}: missing from the published folder") from None
        except OSError as exc:
            raise FetchError(f"{source}: {exc.strerror or exc}") from None
        with src:
            store.add_blob_from(src, entry, str(source))
        return entry.size


@dataclass(frozen=True)
class SyncResult:
    status: str  # "unchanged", "updated" or "failed"
    generation: int | None
    message: str
    downloaded: int = 0


def check_publishers(store: Store, data: bytes, root: Ed25519PublicKey, channel: str) -> PublisherList:
    """The publisher list to trust: `data` if the root signed it and it is newer, else the one held.

    A different list under the version already held is refused: otherwise a revocation
    re-signed at the same version could be undone by serving the list from before it.
    """
    have = store.read_state().get("publishers_version", 0)
    held = store.publishers()
    if held is not None and _signer(held) != key_id(root):  # kiosk.yaml has a new root: it counts from 1
        have, held = 0, None
    plist = open_publishers(data, root, channel, have)
    if held is None or plist.version > have:
        store.save_publishers(data)
        store.update_state(publishers_version=plist.version)
    elif payload_of(held) != payload_of(data):
        log.warning("publisher list version %d served with other contents than the one held; refused, keeping the "
                    "held list (a changed list needs a higher version: sign-publishers raises it)", plist.version)
        return open_publishers(held, root, channel, have)
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
        current = store.current()
        # A generation lost or damaged on disk is fetched again: ask without the ETag, or a host would
        # answer "not modified" until the next publish while the screen plays kiosk.yaml's folders.
        intact = current is not None and store.is_complete(current)
        envelope, etag = source.get("manifest", state.get("manifest_etag") if intact else None)
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
        have = max(current.manifest.generation if current else 0, int(state.get("generation") or 0))
        name = store.generation_name(manifest)
        if intact and current is not None and manifest.generation == have and payload_of(envelope) == payload_of(
                (current.path / "manifest").read_bytes()):
            store.update_state(manifest_etag=etag, publishers_etag=publishers_etag)
            return SyncResult("unchanged", have, "same generation")
        if name in store.bad_generations():
            return SyncResult("unchanged", current.manifest.generation if current else None,
                              f"generation {manifest.generation} could not be played before; waiting for a newer one")
        if manifest.generation < have or (manifest.generation == have and intact):
            raise RollbackError(f"generation {manifest.generation} is not newer than the {have} this screen has; refused")
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
    return min(ceiling, base * 2.0 ** min(failures, 16)) * rng.uniform(0.5, 1.5)


def run_forever(poll: Callable[[], SyncResult], interval: float | Callable[[], float], stop: threading.Event,
                rng: random.Random | None = None, max_backoff: float = 900.0) -> None:
    """Poll every `interval` seconds; after failures wait longer (with jitter) until one succeeds.

    `interval` may be a function: a long-polled server is asked again at once, a static host after poll_seconds.
    """
    rng = rng or random.Random()
    failures = 0
    while not stop.is_set():
        try:
            result = poll()
        except Exception as exc:  # an input no check foresaw must not end syncing: the next poll may well succeed
            log.exception("sync poll crashed")
            result = SyncResult("failed", None, f"unexpected error: {exc!r}"[:300])
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
