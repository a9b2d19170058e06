"""The staff side of the central server: publish content, replace the publisher list, post and clear notices.

    publish: validate and hash locally -> ask which blobs the server lacks -> upload those
             (each checked against its sha256 by the server) -> post the signed manifest last

The server refuses a manifest until it holds every blob, so a cut upload never
leaves screens a half-published generation; running publish again resumes.
"""

from __future__ import annotations

import logging
import os
from datetime import datetime
from pathlib import Path
from typing import Any, BinaryIO

import requests
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from .envelope import key_id, seal, signer_of
from .errors import FetchError, ManifestError, SyncError
from .manifest import FileEntry, Manifest, manifest_payload, parse_manifest
from .notice import Notice, notice_payload
from .publish import CHUNK, Progress, PublishPlan, check_content, plan_against, scan_content

log = logging.getLogger(__name__)

TOKEN_ENV = "KIOSK_STAFF_TOKEN"


class ServerRefused(SyncError):
    """The server said no; the message is the server's own (it says what is wrong)."""

    def __init__(self, status: int, message: str, body: dict[str, Any]) -> None:
        super().__init__(message)
        self.status, self.body = status, body


def read_token(path: Path | None, environ: dict[str, str] | os._Environ[str]) -> str:
    """The staff token from --token-file, else from $KIOSK_STAFF_TOKEN."""
    if path is not None:
        try:
            return path.read_text(encoding="ascii").strip()
        except (OSError, UnicodeDecodeError) as exc:
            raise ValueError(f"{path}: cannot read the token ({exc})") from None
    token = environ.get(TOKEN_ENV, "").strip()
    if not token:
        raise ValueError(f"publishing to a server needs your staff token: --token-file FILE or ${TOKEN_ENV} "
                         "(an admin makes one with: python -m sync server staff add NAME --channel CHANNEL)")
    return token


class StaffClient:
    def __init__(self, base_url: str, token: str, ca_file: str | None = None, timeout: float = 60.0) -> None:
        self.base = base_url.rstrip("/")
        self.session = requests.Session()
        self.session.headers["Authorization"] = f"Bearer {token}"
        self.verify: str | bool = ca_file or True
        self.timeout = (10.0, timeout)

    def request(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        url = self.base + path
        try:
            response = self.session.request(method, url, timeout=self.timeout, verify=self.verify, **kwargs)
        except requests.RequestException as exc:
            raise FetchError(f"{url}: {exc}") from None
        if response.status_code >= 400:
            try:
                body = response.json()
                message = str(body.get("error") or body)
            except ValueError:
                body, message = {}, response.text[:300] or response.reason
            raise ServerRefused(response.status_code, f"{self.base} refused {method} {path} "
                                f"({response.status_code}): {message}", body if isinstance(body, dict) else {})
        return response

    def current(self, channel: str) -> tuple[Manifest | None, str | None]:
        """The channel's manifest as served (not verified: only for its generation and files) and its signer."""
        try:
            data = self.request("GET", f"/channels/{channel}/manifest").content
        except ServerRefused as exc:
            if exc.status == 404:
                return None, None
            raise
        try:
            return parse_manifest(data[data.index(b"\n") + 1:]), signer_of(data, "manifest")
        except (ValueError, SyncError) as exc:
            raise ManifestError(f"the manifest the server holds for {channel} cannot be read ({exc})") from None

    def missing(self, entries: list[FileEntry]) -> list[FileEntry]:
        wanted = {e.sha256: e.size for e in entries}
        answer = self.request("POST", "/api/blobs/missing", json={"blobs": wanted}).json()
        lacking = set(answer["missing"])
        return [e for e in entries if e.sha256 in lacking]

    def put_blob(self, path: Path, digest: str, done: int, total: int, progress: Progress | None) -> int:
        with path.open("rb") as src:
            body = _Counted(src, path.stat().st_size, done, total, progress)
            self.request("PUT", f"/api/blobs/{digest}", data=body, headers={"Content-Type": "application/octet-stream"})
        return body.done

    def post_manifest(self, channel: str, envelope: bytes) -> dict[str, Any]:
        return self.request("POST", f"/api/channels/{channel}/manifest", data=envelope,  # type: ignore[no-any-return]
                            headers={"Content-Type": "application/octet-stream"}).json()

    def put_publishers(self, channel: str, envelope: bytes) -> dict[str, Any]:
        return self.request("PUT", f"/api/channels/{channel}/publishers", data=envelope,  # type: ignore[no-any-return]
                            headers={"Content-Type": "application/octet-stream"}).json()

    def post_notice(self, envelope: bytes) -> dict[str, Any]:
        return self.request("POST", "/api/notices", data=envelope,  # type: ignore[no-any-return]
                            headers={"Content-Type": "application/octet-stream"}).json()

    def clear_notice(self, notice_id: str) -> None:
        self.request("DELETE", f"/api/notices/{notice_id}")


def prepare_server_publish(client: StaffClient, channel: str, key: Ed25519PrivateKey, content: Path, config: Path,
                           now: datetime) -> PublishPlan:
    """Validate, hash, and compare with what the server holds. Uploads nothing."""
    warnings = check_content(config, content, now)
    previous, previous_signer = client.current(channel)
    plan = plan_against(channel, client.base, previous, previous_signer, scan_content(content),
                        key_id(key.public_key()), now, client.missing)
    return PublishPlan(plan.dest, plan.manifest, plan.previous, plan.diff, plan.to_copy, plan.resign, tuple(warnings))


def apply_server_plan(client: StaffClient, plan: PublishPlan, key: Ed25519PrivateKey,
                      progress: Progress | None = None) -> None:
    """Upload the missing blobs, then post the signed manifest; the server announces it to screens at once."""
    total, done = plan.copy_bytes, 0
    for f in plan.to_copy:
        if f.source.stat().st_size != f.entry.size:
            raise SyncError(f"{f.source} changed while publishing; nothing was published, run publish again")
        done = client.put_blob(f.source, f.entry.sha256, done, total, progress)
    if plan.writes_manifest:
        client.post_manifest(plan.manifest.channel, seal(manifest_payload(plan.manifest), "manifest", key))


def seal_notice(notice: Notice, key: Ed25519PrivateKey) -> bytes:
    return seal(notice_payload(notice), "notice", key)


class _Counted:
    """A file as a request body of known length that reports progress as it is read."""

    def __init__(self, src: BinaryIO, size: int, done: int, total: int, progress: Progress | None) -> None:
        self.src, self.size, self.done, self.total, self.progress = src, size, done, total, progress

    def __len__(self) -> int:
        return self.size

    def read(self, n: int = -1) -> bytes:
        chunk = self.src.read(CHUNK if n < 0 else max(n, CHUNK))
        self.done += len(chunk)
        if self.progress and chunk:
            self.progress(self.done, self.total)
        return chunk
