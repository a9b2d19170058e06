"""Manifests (pure): one channel generation's playlists and media, each file by path, sha256 and size.

The payload is canonical JSON (sorted keys, files sorted by path), served inside a
signed envelope (sync/envelope.py). Paths stay inside playlists/ and media/.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from .errors import ManifestError
from .jsondoc import load_json

FORMAT = 1
MAX_FILES = 20_000
MAX_FILE_BYTES = 8 * 2**30
MAX_MANIFEST_BYTES = 4 * 2**20  # checked by the client before it even verifies
ROOTS = ("playlists", "media")
_SHA256 = re.compile(r"[0-9a-f]{64}")
_CHANNEL = re.compile(r"[a-z0-9][a-z0-9_-]{0,63}")
_SEGMENT = re.compile(r"[^/\\\x00-\x1f]{1,200}")


@dataclass(frozen=True)
class FileEntry:
    path: str  # "playlists/daytime.yaml", "media/gate.jpg"
    sha256: str
    size: int


@dataclass(frozen=True)
class Manifest:
    channel: str
    generation: int
    created: str  # ISO 8601 with offset
    files: tuple[FileEntry, ...]

    @property
    def total_bytes(self) -> int:
        return sum(f.size for f in self.files)

    def blobs(self) -> frozenset[str]:
        return frozenset(f.sha256 for f in self.files)


@dataclass(frozen=True)
class ManifestDiff:
    added: tuple[FileEntry, ...]
    changed: tuple[FileEntry, ...]
    removed: tuple[str, ...]

    @property
    def empty(self) -> bool:
        return not (self.added or self.changed or self.removed)


def check_channel(name: str) -> str:
    if not isinstance(name, str) or not _CHANNEL.fullmatch(name):
        raise ManifestError(f"channel {name!r} must be lower-case letters, digits, '-' or '_' (64 at most)")
    return name


def check_path(path: Any) -> str:
    """A manifest path must stay inside playlists/ or media/: no '..', no absolute path, no backslash."""
    if not isinstance(path, str) or not path:
        raise ManifestError(f"file path {path!r} is not text")
    parts = path.split("/")
    if parts[0] not in ROOTS or len(parts) < 2:
        raise ManifestError(f"file path {path!r} must start with playlists/ or media/")
    for part in parts[1:]:
        if part in ("", ".", "..") or not _SEGMENT.fullmatch(part):
            raise ManifestError(f"file path {path!r} is not allowed (empty, '.', '..', backslash or control characters)")
    return path


def build_manifest(channel: str, generation: int, created: datetime, files: list[FileEntry]) -> Manifest:
    """A manifest screens will accept: it is checked by the same parser they use."""
    manifest = Manifest(channel, generation, created.isoformat(timespec="seconds"), tuple(sorted(files, key=lambda f: f.path)))
    return parse_manifest(manifest_payload(manifest))


def manifest_payload(manifest: Manifest) -> bytes:
    data = {"format": FORMAT, "channel": manifest.channel, "generation": manifest.generation, "created": manifest.created,
            "files": [{"path": f.path, "sha256": f.sha256, "size": f.size} for f in sorted(manifest.files, key=lambda f: f.path)]}
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def parse_manifest(payload: bytes) -> Manifest:
    """A verified payload as a Manifest; anything malformed is a ManifestError saying what."""
    try:
        data = load_json(payload)
    except ValueError as exc:
        raise ManifestError(f"manifest is unusable: {exc}") from None
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise ManifestError(f"manifest format must be {FORMAT}")
    channel = check_channel(data.get("channel"))  # type: ignore[arg-type]
    generation = data.get("generation")
    if not isinstance(generation, int) or isinstance(generation, bool) or generation < 1:
        raise ManifestError(f"manifest generation must be a whole number from 1 up, not {generation!r}")
    created = data.get("created")
    if not isinstance(created, str):
        raise ManifestError("manifest has no created time")
    files = data.get("files")
    if not isinstance(files, list) or len(files) > MAX_FILES:
        raise ManifestError(f"manifest files must be a list of at most {MAX_FILES}")
    entries: list[FileEntry] = []
    seen: set[str] = set()
    for raw in files:
        if not isinstance(raw, dict):
            raise ManifestError("each manifest file must be {path, sha256, size}")
        path = check_path(raw.get("path"))
        digest, size = raw.get("sha256"), raw.get("size")
        if not isinstance(digest, str) or not _SHA256.fullmatch(digest):
            raise ManifestError(f"{path}: sha256 must be 64 lower-case hex digits")
        if not isinstance(size, int) or isinstance(size, bool) or not 0 <= size <= MAX_FILE_BYTES:
            raise ManifestError(f"{path}: size must be 0 to {MAX_FILE_BYTES} bytes")
        if path in seen:
            raise ManifestError(f"{path} is listed twice")
        seen.add(path)
        entries.append(FileEntry(path, digest, size))
    return Manifest(channel, generation, created, tuple(entries))


def diff_manifests(old: Manifest | None, new: Manifest) -> ManifestDiff:
    before = {f.path: f for f in old.files} if old else {}
    after = {f.path: f for f in new.files}
    added = tuple(f for p, f in after.items() if p not in before)
    changed = tuple(f for p, f in after.items() if p in before and before[p].sha256 != f.sha256)
    removed = tuple(sorted(p for p in before if p not in after))
    return ManifestDiff(added, changed, removed)


def missing_blobs(manifest: Manifest, have: set[str] | frozenset[str]) -> list[FileEntry]:
    """One entry per blob the store lacks (a blob used under two paths is fetched once)."""
    out: dict[str, FileEntry] = {}
    for entry in manifest.files:
        if entry.sha256 not in have and entry.sha256 not in out:
            out[entry.sha256] = entry
    return list(out.values())
