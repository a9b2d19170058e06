"""Publishing for staff: key files, a channel's signed publisher list, and content as blobs plus a signed manifest.

    DEST/blobs/<sha256>                   every file's bytes, content-addressed
    DEST/channels/<channel>/publishers    the publisher list, signed by the root key
    DEST/channels/<channel>/manifest      the manifest, signed by a publisher key; always written last

Every file lands under a temporary dot-name first and is renamed into place, so a
cut (a pulled USB stick, a full disk) never leaves half a file under its final name.
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
import tempfile
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Callable

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from .envelope import key_id, seal, signer_of
from .files import hash_file
from .layout import fsync_dir, write_atomic
from .errors import ManifestError, SignatureError, StoreError, SyncError
from .jsondoc import load_json
from .keys import PublisherList, make_publisher, public_from_text, public_text, seal_publishers, write_private
from .manifest import (MAX_MANIFEST_BYTES, FileEntry, Manifest, ManifestDiff, build_manifest, check_channel,
                       diff_manifests, manifest_payload, parse_manifest)

if TYPE_CHECKING:
    from player.errors import Problem

log = logging.getLogger(__name__)

CHUNK = 1 << 20
PUBLISHED_MODE = 0o644  # a static web server usually runs as another user
_KEY_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")
Progress = Callable[[int, int], None]  # (bytes copied so far, bytes to copy in all)


class ContentRejected(SyncError):
    """The player's own validator found errors in the content: nothing was published."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        errors = sum(1 for p in problems if p.severity == "error")
        super().__init__(f"{errors} error(s) in the content; nothing was published")


@dataclass(frozen=True)
class KeyFiles:
    id: str
    public: str  # base64 raw key, the line in NAME.pub
    private_path: Path
    public_path: Path


@dataclass(frozen=True)
class SourceFile:
    entry: FileEntry  # path in the manifest, sha256, size
    source: Path  # where its bytes are on this machine


@dataclass(frozen=True)
class PublishPlan:
    """What a publish does to DEST: the manifest to write (if any) and the blobs DEST lacks."""

    dest: Path | str  # a folder, or the server's URL
    manifest: Manifest  # the new manifest, or the current one when nothing changed
    previous: Manifest | None
    diff: ManifestDiff
    to_copy: tuple[SourceFile, ...]  # one per blob missing at DEST
    resign: bool  # same content, but the manifest at DEST is signed by another key
    warnings: tuple[Problem, ...] = ()

    @property
    def writes_manifest(self) -> bool:
        return self.previous is None or not self.diff.empty or self.resign

    @property
    def copy_bytes(self) -> int:
        return sum(f.entry.size for f in self.to_copy)


def manifest_path(dest: Path, channel: str) -> Path:
    return dest / "channels" / check_channel(channel) / "manifest"


def publishers_path(dest: Path, channel: str, kind: str = "publishers") -> Path:
    """Where a key list lives: a content channel's publishers, or a software channel's releasers."""
    if kind == "releasers":
        return dest / "software" / check_channel(channel) / "releasers"
    return dest / "channels" / check_channel(channel) / "publishers"


# --- keys ---------------------------------------------------------------------------------------------------

def keygen(name: str, out: Path) -> KeyFiles:
    """A new Ed25519 key pair as out/NAME.key (PEM, owner-only) and out/NAME.pub; never overwrites either."""
    if not _KEY_NAME.fullmatch(name):
        raise ValueError(f"key name {name!r}: use letters, digits, '.', '-' or '_' (64 at most)")
    private_path, public_path = out / f"{name}.key", out / f"{name}.pub"
    for path in (private_path, public_path):
        if path.exists():
            raise ValueError(f"{path} already exists; keys are never overwritten (pick another --name, "
                             "or move the old key away first if you really mean to replace it)")
    out.mkdir(parents=True, exist_ok=True)
    key = Ed25519PrivateKey.generate()
    text = public_text(key.public_key())
    write_private(private_path, key)
    fd = os.open(public_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PUBLISHED_MODE)
    with os.fdopen(fd, "w", encoding="ascii") as pub:
        pub.write(text + "\n")
    return KeyFiles(key_id(key.public_key()), text, private_path, public_path)


def read_public(path: Path) -> Ed25519PublicKey:
    """A public key from a NAME.pub file (one line of base64)."""
    try:
        return public_from_text(path.read_text(encoding="ascii", errors="replace"))
    except OSError as exc:
        raise ValueError(f"{path}: cannot read the public key ({exc.strerror})") from None
    except ValueError as exc:
        raise ValueError(f"{path}: {exc}") from None


def sign_publishers(root: Ed25519PrivateKey, channel: str, dest: Path, version: int,
                    publishers: list[tuple[str, Ed25519PublicKey]], force: bool = False,
                    kind: str = "publishers") -> PublisherList:
    """Write DEST's key list (`publishers` or `releasers`) for `channel`, signed by the root key.

    The version must go up unless `force`.
    """
    check_channel(channel)
    if version < 1:
        raise ValueError(f"--version must be 1 or more, not {version}")
    if not publishers:
        raise ValueError(f"a {kind} list needs at least one key (--add LABEL=FILE.pub)")
    plist = PublisherList(channel, version, tuple(make_publisher(label, public) for label, public in publishers))
    for field, values in (("label", [p.name for p in plist.publishers]), ("key", [p.id for p in plist.publishers])):
        twice = sorted({v for v in values if values.count(v) > 1})
        if twice:
            raise ValueError(f"the same {field} is added twice: {', '.join(twice)}")
    path = publishers_path(dest, channel, kind)
    if path.exists() and not force:
        signer, old_version, _ = peek_publishers(path, kind)
        if version <= old_version:
            raise ValueError(f"{path} is at version {old_version}; sign version {old_version + 1} or higher "
                             "so screens take the new list (--force replaces it anyway)")
        root_id = key_id(root.public_key())
        if signer != root_id:
            raise ValueError(f"{path} was signed by root key {signer}, not by this one ({root_id}); screens that "
                             "trust the other root key would refuse the new list (--force replaces it anyway)")
    write_published(path, seal_publishers(plist, root, kind))
    log.info("wrote %s: version %d, %d key(s)", path, version, len(plist.publishers))
    return plist


def peek_publishers(path: Path, kind: str = "publishers") -> tuple[str, int, dict[str, str]]:
    """(root key id it claims, version, {key id: label}) of a key list, NOT verified: for messages only."""
    try:
        signer, payload = _unverified(path.read_bytes(), kind)
        raw = load_json(payload)
        return signer, int(raw["version"]), {str(p["id"]): str(p["name"]) for p in raw["publishers"]}
    except (SyncError, KeyError, TypeError, ValueError) as exc:
        raise ManifestError(f"{path} cannot be read ({exc}); sign a new list with --force to replace it") from None


def _unverified(data: bytes, kind: str) -> tuple[str, bytes]:
    """(claimed signer, payload) of an envelope this tool wrote earlier, without checking the signature."""
    return signer_of(data, kind), data[data.index(b"\n") + 1:]


# --- content ------------------------------------------------------------------------------------------------

def check_content(config: Path, content: Path, now: datetime | None = None) -> list[Problem]:
    """The player's own validation of content/playlists; raises ContentRejected on any error, returns warnings."""
    # Here, not at the top: the validator renders text with pygame, which only publishing needs (the server
    # imports this module too, and must not load it).
    from player.config import load_config
    from player.errors import ContentError, Problem
    from player.validate import validate_all

    problems = validate_all(config, content / "playlists", now)
    try:
        media_dir = load_config(config).media_dir
    except ContentError:
        media_dir = content / "media"  # validate_all has said why and looks in content/media itself
    if media_dir.resolve() != (content / "media").resolve():
        problems.append(Problem(str(config), "content.media", f"media were checked in {media_dir} but are published "
                                f"from {content / 'media'}; use --content or a kiosk.yaml that agree", code="media-folder-mismatch"))
    if any(p.severity == "error" for p in problems):
        raise ContentRejected(problems)
    return problems


def scan_content(content: Path) -> list[SourceFile]:
    """playlists/*.yaml and every file under media/ (dotfiles left out), each hashed."""
    found: list[tuple[str, Path]] = []
    playlists = content / "playlists"
    if playlists.is_dir():
        found += [(f"playlists/{p.name}", p) for p in sorted(playlists.glob("*.yaml"))
                  if p.is_file() and not p.name.startswith(".")]
    media, seen = content / "media", set[str]()
    for folder, dirs, files in os.walk(media, followlinks=True):  # a linked shared folder is content too
        real = os.path.realpath(folder)
        if real in seen:  # a link back up the tree
            dirs[:] = []
            continue
        seen.add(real)
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        for name in sorted(files):
            if not name.startswith("."):
                path = Path(folder) / name
                found.append(("media/" + path.relative_to(media).as_posix(), path))
    return [SourceFile(FileEntry(rel, *hash_file(path)), path) for rel, path in found]


# --- publish ------------------------------------------------------------------------------------------------

def read_current(dest: Path, channel: str) -> tuple[Manifest | None, str | None]:
    """(manifest, signer key id) at DEST, NOT verified: only for its generation and files."""
    path = manifest_path(dest, channel)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return None, None
    try:
        signer, payload = _unverified(data, "manifest")
        manifest = parse_manifest(payload)
    except SyncError as exc:
        raise ManifestError(f"{path} cannot be read ({exc}); its generation is unknown, so nothing was "
                            "published (move it aside only if you know the screens' generation is lower)") from None
    if manifest.channel != channel:
        raise ManifestError(f"{path} is for channel {manifest.channel!r}, not {channel!r}")
    return manifest, signer


def check_trusted(dest: Path, channel: str, signer: str) -> None:
    """Refuse a key that DEST's publisher list does not name (screens would refuse its manifest)."""
    path = publishers_path(dest, channel)
    how = (f"whoever holds the root key runs: python -m sync sign-publishers --root ROOT.key --channel {channel} "
           f"--to {dest} --version {{v}} --add LABEL=YOUR.pub")
    if not path.exists():
        log.warning("%s does not exist: screens will refuse this manifest until %s", path, how.format(v=1))
        return
    how += " (plus an --add for every publisher kept)"
    _, version, names = peek_publishers(path)
    if signer not in names:
        kept = ", ".join(f"{label} ({kid})" for kid, label in sorted(names.items(), key=lambda kv: kv[1])) or "none"
        raise SignatureError(f"key {signer} is not in {path} (version {version}, publishers: {kept}); screens "
                             f"would refuse this manifest. To add it, {how.format(v=version + 1)}")


def plan_publish(channel: str, dest: Path, files: list[SourceFile], signer: str, now: datetime) -> PublishPlan:
    """Compare the content with DEST: the next generation's manifest and the blobs DEST lacks. Writes nothing."""
    previous, previous_signer = read_current(dest, channel)
    return plan_against(channel, dest, previous, previous_signer, files, signer, now,
                        lambda entries: [e for e in entries if not has_blob(dest, e)])


def plan_against(channel: str, dest: Path | str, previous: Manifest | None, previous_signer: str | None,
                 files: list[SourceFile], signer: str, now: datetime,
                 lacking: Callable[[list[FileEntry]], list[FileEntry]]) -> PublishPlan:
    """The next generation's manifest after `previous`, and the blobs `lacking` says the destination needs."""
    draft = build_manifest(channel, (previous.generation if previous else 0) + 1, now, [f.entry for f in files])
    payload = manifest_payload(draft)
    if len(payload) > MAX_MANIFEST_BYTES:
        raise ManifestError(f"the manifest would be {len(payload)} bytes; screens refuse more than {MAX_MANIFEST_BYTES}")
    parse_manifest(payload)  # refuse here whatever a screen would refuse (too many files, a file too large)
    diff = diff_manifests(previous, draft)
    resign = previous is not None and diff.empty and previous_signer != signer
    manifest = draft if previous is None or not diff.empty or resign else previous
    unique: dict[str, SourceFile] = {}
    for f in files:
        unique.setdefault(f.entry.sha256, f)
    needed = {e.sha256 for e in lacking([f.entry for f in unique.values()])}
    return PublishPlan(dest, manifest, previous, diff, tuple(f for d, f in unique.items() if d in needed), resign)


def apply_plan(plan: PublishPlan, key: Ed25519PrivateKey, progress: Progress | None = None) -> None:
    """Copy the missing blobs, each verified and renamed into place, then write the signed manifest last."""
    dest = Path(plan.dest)
    blobs = dest / "blobs"
    blobs.mkdir(parents=True, exist_ok=True)
    total, done = plan.copy_bytes, 0
    if plan.to_copy:
        log.info("copying %d blob(s), %d bytes, to %s", len(plan.to_copy), total, blobs)
    for f in plan.to_copy:
        done = copy_blob(f, blobs, done, total, progress)
    fsync_dir(blobs)
    if not plan.writes_manifest:
        return
    lacking = [f.path for f in plan.manifest.files if not has_blob(dest, f)]
    if lacking:
        raise StoreError(f"blobs for {', '.join(lacking[:5])} vanished from {blobs}; the manifest was not written")
    path = manifest_path(dest, plan.manifest.channel)
    write_published(path, seal(manifest_payload(plan.manifest), "manifest", key))
    log.info("wrote %s: generation %d, %d file(s)", path, plan.manifest.generation, len(plan.manifest.files))


def prepare_publish(channel: str, dest: Path, key: Ed25519PrivateKey, content: Path, config: Path,
                    now: datetime) -> PublishPlan:
    """Check the key is trusted, validate, hash, and compare with DEST. Writes nothing."""
    signer = key_id(key.public_key())
    check_trusted(dest, channel, signer)
    warnings = check_content(config, content, now)
    plan = plan_publish(channel, dest, scan_content(content), signer, now)
    return PublishPlan(plan.dest, plan.manifest, plan.previous, plan.diff, plan.to_copy, plan.resign, tuple(warnings))


def publish(channel: str, dest: Path, key: Ed25519PrivateKey, content: Path, config: Path, now: datetime,
            dry_run: bool = False, progress: Progress | None = None) -> PublishPlan:
    """prepare_publish, then (unless `dry_run`) copy the missing blobs and write the signed manifest last."""
    plan = prepare_publish(channel, dest, key, content, config, now)
    if not dry_run:
        apply_plan(plan, key, progress)
    return plan


def has_blob(dest: Path, entry: FileEntry) -> bool:
    try:
        return (dest / "blobs" / entry.sha256).stat().st_size == entry.size
    except OSError:
        return False


def copy_blob(f: SourceFile, blobs: Path, done: int, total: int, progress: Progress | None) -> int:
    digest = f.entry.sha256
    fd, name = tempfile.mkstemp(prefix=f".{digest[:16]}.", suffix=".tmp", dir=blobs)
    tmp = Path(name)
    try:
        copied = hashlib.sha256()
        with os.fdopen(fd, "wb") as out, f.source.open("rb") as src:
            while chunk := src.read(CHUNK):
                copied.update(chunk)
                out.write(chunk)
                done += len(chunk)
                if progress:
                    progress(done, total)
            out.flush()
            os.fsync(out.fileno())
        if copied.hexdigest() != digest:
            raise SyncError(f"{f.source} changed while publishing; nothing was published, run publish again")
        if hash_file(tmp)[0] != digest:
            raise StoreError(f"{tmp}: the copy of {f.source} does not read back the same (failing disk or stick?)")
        os.chmod(tmp, PUBLISHED_MODE)
        os.replace(tmp, blobs / digest)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return done


def write_published(path: Path, data: bytes) -> None:
    write_atomic(path, data, PUBLISHED_MODE)
