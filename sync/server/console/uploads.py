"""Media uploads in chunks that survive a cut: each chunk is appended at the offset the server says it has, hashed on
arrival, and the finished file is renamed into the blobs under its SHA-256. Memory stays flat whatever the size."""

from __future__ import annotations

import hashlib
import json
import os
import re
import secrets
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import AsyncIterator

from ...layout import fsync_dir
from ..channels import PUBLISHED_MODE, Refused

CHUNK_LIMIT = 8 * 2**20 + 4096  # the browser sends 8 MB
_ID = re.compile(r"[0-9a-f]{24}")
_NAME = re.compile(r"[^A-Za-z0-9_.-]+")


@dataclass(frozen=True)
class Upload:
    id: str
    name: str
    size: int
    staff: str
    channel: str
    received: int


def safe_name(name: str) -> str:
    """A media file name screens and YAML take: letters, digits, '-', '_', '.' (Vietnamese letters lose their
    marks: "hành lang.jpg" -> "hanh-lang.jpg"); the extension kept."""
    plain = unicodedata.normalize("NFKD", name.replace("đ", "d").replace("Đ", "D"))
    plain = "".join(c for c in plain if not unicodedata.combining(c))
    base = Path(plain.replace("\\", "/")).name
    stem, dot, ext = base.rpartition(".")
    stem = _NAME.sub("-", stem if dot else base).strip("-.") or "file"
    ext = _NAME.sub("", ext).lower() if dot else ""
    return f"{stem[:80]}.{ext[:8]}" if ext else stem[:80]


class Uploads:
    def __init__(self, folder: Path, blobs: Path) -> None:
        self.folder, self.blobs = folder, blobs
        folder.mkdir(parents=True, exist_ok=True)
        self._hashers: dict[str, tuple[int, "hashlib._Hash"]] = {}

    def start(self, name: str, size: int, staff: str, channel: str, limit: int) -> Upload:
        if size <= 0 or size > limit:
            raise Refused(413, f"a file of {size} bytes; the server takes 1 byte to {limit} (limits.blob_mb)")
        upload = Upload(secrets.token_hex(12), safe_name(name), size, staff, channel, 0)
        (self.folder / f"{upload.id}.part").touch()
        self._save(upload)
        return upload

    def get(self, upload_id: str, staff: str) -> Upload:
        if not _ID.fullmatch(upload_id):
            raise Refused(404, "no such upload")
        try:
            raw = json.loads((self.folder / f"{upload_id}.json").read_text(encoding="utf-8"))
            received = (self.folder / f"{upload_id}.part").stat().st_size
        except (OSError, ValueError):
            raise Refused(404, "no such upload (finished, or started on another server)") from None
        if raw["staff"] != staff:
            raise Refused(404, "no such upload")
        return Upload(upload_id, raw["name"], raw["size"], raw["staff"], raw["channel"], received)

    async def append(self, upload: Upload, offset: int, chunks: AsyncIterator[bytes]) -> int:
        """Write a chunk at `offset`, which must be where the file ends (else 409 says where it does)."""
        if offset != upload.received:
            raise Refused(409, f"the server has {upload.received} bytes of this file; send from there",
                          received=upload.received)
        hasher = self._hasher(upload)
        received, written = upload.received, 0
        try:
            with (self.folder / f"{upload.id}.part").open("ab") as out:
                async for chunk in chunks:
                    if written + len(chunk) > CHUNK_LIMIT or received + written + len(chunk) > upload.size:
                        raise Refused(413, "the chunk is larger than 8 MB or passes the file's size")
                    out.write(chunk)
                    hasher.update(chunk)
                    written += len(chunk)
        finally:
            # What arrived before a cut is kept and hashed: the browser asks how far the server got and goes on.
            self._hashers[upload.id] = (received + written, hasher)
        return received + written

    def _hasher(self, upload: Upload) -> "hashlib._Hash":
        """The hash of what arrived so far: kept between chunks, read back from disk after a restart."""
        held = self._hashers.get(upload.id)
        if held is not None and held[0] == upload.received:
            return held[1]
        hasher = hashlib.sha256()
        with (self.folder / f"{upload.id}.part").open("rb") as part:
            while block := part.read(1 << 20):
                hasher.update(block)
        return hasher

    def finish(self, upload: Upload) -> str:
        """The whole file into the blobs under its SHA-256; returns the digest."""
        if upload.received != upload.size:
            raise Refused(409, f"the server has {upload.received} of {upload.size} bytes; send the rest first",
                          received=upload.received)
        digest = self._hasher(upload).hexdigest()
        part = self.folder / f"{upload.id}.part"
        os.chmod(part, PUBLISHED_MODE)
        os.replace(part, self.blobs / digest)
        fsync_dir(self.blobs)
        (self.folder / f"{upload.id}.json").unlink(missing_ok=True)
        self._hashers.pop(upload.id, None)
        return digest

    def _save(self, upload: Upload) -> None:
        (self.folder / f"{upload.id}.json").write_text(json.dumps(
            {"name": upload.name, "size": upload.size, "staff": upload.staff, "channel": upload.channel}),
            encoding="utf-8")
