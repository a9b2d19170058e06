"""The screen's local content store: content-addressed blobs and complete generations, switched atomically.

    store/blobs/<sha256>                 verified file contents
    store/partial/<sha256>.part          downloads in progress (kept for Range resume)
    store/generations/<channel>-<gen>/   manifest (the signed bytes) + playlists/ + media/ (hard links to blobs)
    store/current -> generations/...     what the player plays; replaced with one rename
    store/publishers                     the last publisher list accepted (signed bytes)
    store/state.json                     last sync result, generations known to be bad

Every write is a temporary name then a rename, so a kill -9 at any moment leaves
either the old state or the new one, never half of a generation under its final name.
"""

from __future__ import annotations

import errno
import hashlib
import json
import logging
import os
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO, Iterable

from .errors import StoreError, SyncError
from .files import CHUNK, sha256_file
from .layout import StoreFolder, fsync_dir, write_atomic
from .manifest import FileEntry, Manifest, parse_manifest

log = logging.getLogger(__name__)



def disk_error(exc: OSError, doing: str) -> StoreError:
    if exc.errno == errno.ENOSPC:
        return StoreError(f"disk full while {doing}; the last good content keeps playing")
    return StoreError(f"{doing} failed: {exc.strerror or exc}")


def payload_of(envelope: bytes) -> bytes:
    """The payload of a signed envelope that was verified when it was stored."""
    return envelope.split(b"\n", 1)[1] if b"\n" in envelope else b""


@dataclass(frozen=True)
class Generation:
    name: str
    path: Path
    manifest: Manifest


class Store:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.files = StoreFolder(root)
        self.blobs = self.files.blobs
        self.partial = self.files.partial
        self.generations = self.files.generations
        self.current_link = self.files.current

    def open(self) -> "Store":
        """Create the folders and clear what a crash left behind (half-built generations, temp files)."""
        try:
            for folder in (self.blobs, self.partial, self.generations):
                folder.mkdir(parents=True, exist_ok=True)
            for leftover in self.generations.glob(".building-*"):
                shutil.rmtree(leftover, ignore_errors=True)
            for leftover in list(self.blobs.glob("*.tmp")) + list(self.root.glob("*.tmp")):
                leftover.unlink(missing_ok=True)
        except OSError as exc:
            raise disk_error(exc, f"opening the store at {self.root}") from None
        return self

    # -- state -----------------------------------------------------------------------------------

    def read_state(self) -> dict[str, Any]:
        try:
            data = json.loads(self.files.state.read_text(encoding="utf-8"))
            return data if isinstance(data, dict) else {}
        except (OSError, ValueError):
            return {}

    def update_state(self, **changes: Any) -> None:
        state = self.read_state()
        state.update(changes)
        self._write_atomic(self.files.state, json.dumps(state, indent=1, sort_keys=True).encode("utf-8"))

    def _write_atomic(self, path: Path, data: bytes) -> None:
        try:
            write_atomic(path, data)
        except OSError as exc:
            raise disk_error(exc, f"writing {path.name}") from None

    def bad_generations(self) -> set[str]:
        return set(self.read_state().get("bad", []))

    def mark_bad(self, name: str, reason: str) -> None:
        """The player could not play this generation: never switch to it again."""
        state = self.read_state()
        state["bad"] = sorted(set(state.get("bad", [])) | {name})
        state["last_rollback"] = {"generation": name, "reason": reason}
        self._write_atomic(self.files.state, json.dumps(state, indent=1, sort_keys=True).encode("utf-8"))

    # -- publishers --------------------------------------------------------------------------------

    def publishers(self) -> bytes | None:
        try:
            return self.files.publishers.read_bytes()
        except OSError:
            return None

    def save_publishers(self, envelope: bytes) -> None:
        self._write_atomic(self.files.publishers, envelope)

    # -- blobs -------------------------------------------------------------------------------------

    def has_blob(self, digest: str) -> bool:
        return (self.blobs / digest).is_file()

    def blob_ids(self) -> set[str]:
        return {p.name for p in self.blobs.iterdir() if len(p.name) == 64}

    def partial_path(self, digest: str) -> Path:
        return self.partial / f"{digest}.part"

    def adopt_partial(self, digest: str, actual: str | None = None) -> None:
        """Move a finished download into blobs/ once its sha256 (`actual` if hashed on the way in) matches."""
        part = self.partial_path(digest)
        try:
            actual = actual or sha256_file(part)
            if actual != digest:
                part.unlink(missing_ok=True)
                raise StoreError(f"blob {digest[:12]}… arrived with sha256 {actual[:12]}…; discarded, it will be fetched again")
            with part.open("rb+") as src:
                os.fsync(src.fileno())
            os.replace(part, self.blobs / digest)
        except OSError as exc:
            raise disk_error(exc, f"storing blob {digest[:12]}…") from None

    def settle_partial(self, digest: str) -> bool:
        """A download whose every byte is here: moved into blobs/ if it hashes right (True), else discarded.

        An empty file has nothing to download, so its (empty) partial is made here.
        """
        part = self.partial_path(digest)
        try:
            if not part.exists():
                part.touch()
            actual = sha256_file(part)
            if actual != digest:
                log.warning("a complete download of blob %s… hashes to %s…; discarded, fetching it again",
                            digest[:12], actual[:12])
                part.unlink()
                return False
        except OSError as exc:
            raise disk_error(exc, f"checking blob {digest[:12]}…") from None
        self.adopt_partial(digest, actual)
        return True

    def add_blob_from(self, source: BinaryIO, entry: FileEntry, name: str) -> None:
        """Copy an open file (USB import) into blobs/: at most its manifest size, its sha256 checked on the way."""
        part = self.partial_path(entry.sha256)
        digest, copied = hashlib.sha256(), 0
        try:
            with part.open("wb") as out:
                while block := source.read(min(CHUNK, entry.size + 1 - copied) or 1):
                    copied += len(block)
                    if copied > entry.size:
                        break
                    digest.update(block)
                    out.write(block)
        except OSError as exc:
            part.unlink(missing_ok=True)
            raise disk_error(exc, f"copying {name}") from None
        if copied != entry.size:
            part.unlink(missing_ok=True)
            raise StoreError(f"{name} is {'larger' if copied > entry.size else 'smaller'} than the manifest's "
                             f"{entry.size} bytes; refused")
        self.adopt_partial(entry.sha256, digest.hexdigest())

    # -- generations -------------------------------------------------------------------------------

    def generation_name(self, manifest: Manifest) -> str:
        return f"{manifest.channel}-{manifest.generation:010d}"

    def load_generation(self, name: str) -> Generation | None:
        path = self.generations / name
        try:
            manifest = parse_manifest(payload_of((path / "manifest").read_bytes()))
        except (OSError, SyncError):  # a damaged folder is simply not a generation
            return None
        return Generation(name, path, manifest)

    def list_generations(self) -> list[Generation]:
        """Complete generations, oldest first."""
        found = []
        for path in sorted(self.generations.iterdir()):
            if path.name.startswith("."):
                continue
            generation = self.load_generation(path.name)
            if generation is not None:
                found.append(generation)
        return sorted(found, key=lambda g: g.manifest.generation)

    def current(self) -> Generation | None:
        try:
            target = os.readlink(self.current_link)
        except OSError:
            return None
        return self.load_generation(Path(target).name)

    def write_generation(self, manifest: Manifest, envelope: bytes) -> Generation:
        """Link every file of `manifest` (all blobs present) into a new generation folder, renamed when complete."""
        name = self.generation_name(manifest)
        final = self.generations / name
        if final.exists():
            generation = self.load_generation(name)
            if generation is not None and self.is_complete(generation):
                return generation
            shutil.rmtree(final, ignore_errors=True)
        building = self.generations / f".building-{name}"
        shutil.rmtree(building, ignore_errors=True)
        try:
            for entry in manifest.files:
                blob = self.blobs / entry.sha256
                if not blob.is_file():
                    raise StoreError(f"blob for {entry.path} is missing; cannot build generation {manifest.generation}")
                target = building / entry.path
                target.parent.mkdir(parents=True, exist_ok=True)
                try:
                    os.link(blob, target)
                except OSError:
                    shutil.copyfile(blob, target)  # a filesystem without hard links
            building.mkdir(parents=True, exist_ok=True)
            (building / "manifest").write_bytes(envelope)
            fsync_dir(building)
            os.replace(building, final)
            fsync_dir(self.generations)
        except OSError as exc:
            shutil.rmtree(building, ignore_errors=True)
            raise disk_error(exc, f"writing generation {manifest.generation}") from None
        return Generation(name, final, manifest)

    def switch_to(self, generation: Generation) -> None:
        """Point `current` at `generation` with a single rename: the player sees the old or the new, never a mix."""
        tmp = self.root / "current.tmp"
        try:
            tmp.unlink(missing_ok=True)
            os.symlink(Path(self.generations.name) / generation.name, tmp)
            os.replace(tmp, self.current_link)
            fsync_dir(self.root)
        except OSError as exc:
            raise disk_error(exc, "switching to the new generation") from None

    def is_complete(self, generation: Generation, deep: bool = False) -> bool:
        """Every file present with its size (and, when `deep`, its sha256)."""
        for entry in generation.manifest.files:
            path = generation.path / entry.path
            try:
                if path.stat().st_size != entry.size:
                    return False
            except OSError:
                return False
            if deep and sha256_file(path) != entry.sha256:
                return False
        return True

    def damaged_files(self, generation: Generation) -> list[str]:
        """Paths whose bytes do not match the manifest (a full read: run it off the render loop)."""
        bad = []
        for entry in generation.manifest.files:
            path = generation.path / entry.path
            try:
                if path.stat().st_size != entry.size or sha256_file(path) != entry.sha256:
                    bad.append(entry.path)
            except OSError:
                bad.append(entry.path)
        return bad

    def best_generation(self, exclude: Iterable[str] = (), deep: bool = False) -> Generation | None:
        """The newest complete generation not known to be bad (nor in `exclude`); `deep` reads every file."""
        skip = self.bad_generations() | set(exclude)
        for generation in reversed(self.list_generations()):
            if generation.name not in skip and self.is_complete(generation, deep):
                return generation
        return None

    def forget_blob(self, digest: str) -> None:
        """Drop a damaged blob (and the generations' links to it are repaired by re-fetching)."""
        (self.blobs / digest).unlink(missing_ok=True)

    # -- housekeeping --------------------------------------------------------------------------------

    def prune(self, keep: int, limit_bytes: int) -> int:
        """Keep the current and `keep` newest generations; drop unreferenced blobs when over `limit_bytes`."""
        current = self.current()
        generations = self.list_generations()
        kept = {g.name for g in generations[-keep:]} | ({current.name} if current else set())
        for generation in generations:
            if generation.name not in kept:
                shutil.rmtree(generation.path, ignore_errors=True)
        used = sum(p.stat().st_size for p in self.blobs.iterdir() if p.is_file())
        if used <= limit_bytes:
            return 0
        referenced: set[str] = set()
        for generation in self.list_generations():
            referenced |= generation.manifest.blobs()
        freed = 0
        for blob in sorted(self.blobs.iterdir(), key=lambda p: p.stat().st_mtime):
            if blob.name not in referenced and used - freed > limit_bytes:
                freed += blob.stat().st_size
                blob.unlink(missing_ok=True)
        for part in self.partial.iterdir():
            if part.name[:64] not in referenced and used - freed > limit_bytes:
                freed += part.stat().st_size
                part.unlink(missing_ok=True)
        if freed:
            log.info("store over %d MB: removed %.1f MB of unused files", limit_bytes // 2**20, freed / 2**20)
        return freed

    def size_bytes(self) -> int:
        return sum(p.stat().st_size for p in self.blobs.iterdir() if p.is_file())
