"""Taking a ready release from the sync client's area as untrusted input: copy it, then check all of it again.

The sync client runs as the player's user, so everything under STATE/update/ may
have been written by a compromised player. Files are opened without following
links, only regular files are read, at most what the release allows; wheels are
hashed as they are copied into the root-owned release folder, and only the copies
are used. The keys come from root-owned kiosk.yaml, the ratchet from root-only state.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path
from typing import Callable

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from sync.errors import SyncError
from sync.files import CHUNK, open_regular
from sync.layout import fsync_dir, write_atomic
from sync.keys import open_publishers
from sync.release import MAX_RELEASE_BYTES, Release, check_for_screen, open_release
from sync.update_area import UpdateArea
from sync.wheeltags import Target

from .errors import Refused
from .state import UpdaterState

MAX_LIST_BYTES = 256 * 1024


@dataclass(frozen=True)
class Taken:
    release: Release
    document: bytes  # the signed release, as verified
    releasers: bytes  # the signed releasers list, as verified
    releasers_version: int
    sha256: str  # of `document`


def read_documents(area: UpdateArea) -> tuple[bytes, bytes]:
    return _read_bounded(area.release, MAX_RELEASE_BYTES + 512), _read_bounded(area.releasers, MAX_LIST_BYTES)


def verify(document: bytes, releasers: bytes, root: Ed25519PublicKey, channel: str, screen_id: str, target: Target,
           now: datetime, state: UpdaterState, installed: Callable[[str], bool]) -> tuple[Taken, UpdaterState]:
    """The release if it passes every check, and the state its ratchet moves to; Refused says which check failed."""
    try:
        plist = open_publishers(releasers, root, channel, state.releasers_version, kind="releasers")
    except SyncError as exc:
        raise Refused(f"releasers list: {exc}") from None
    list_sha = hashlib.sha256(releasers).hexdigest()
    base = state.sequence
    if plist.version == state.releasers_version and state.releasers_sha256 and list_sha != state.releasers_sha256:
        raise Refused(f"releasers list version {plist.version} differs from the one of that version taken before; "
                      "a changed list needs a higher version")
    if plist.version > state.releasers_version:
        base = 0  # a new list forgets the old ratchet: the way back from a key that signed a runaway sequence
    try:
        release = open_release(document, plist.key, channel)
    except SyncError as exc:
        raise Refused(str(exc)) from None
    digest = hashlib.sha256(document).hexdigest()
    if release.sequence in state.failed:
        raise Refused(f"release sequence {release.sequence} failed on this screen before; only a higher one is tried")
    if release.sequence < base or (release.sequence == base and digest != state.sequence_sha256):
        raise Refused(f"release sequence {release.sequence} is not newer than the {base} this screen took "
                      "(a rollback attempt, or a re-signed document); refused")
    try:
        check_for_screen(release, target, now, release.sequence - 1)
    except SyncError as exc:
        raise Refused(str(exc)) from None
    if not release.rollout.selects(screen_id):
        raise Refused(f"screen {screen_id} is not in the rollout of {release.version} ({release.rollout.percent} %)")
    needs(release, target, installed)
    taken = Taken(release, document, releasers, plist.version, digest)
    return taken, replace(state, releasers_version=plist.version, releasers_sha256=list_sha, sequence=release.sequence,
                          sequence_sha256=digest)


def needs(release: Release, screen: Target, installed: Callable[[str], bool]) -> None:
    """requires: this Python, a glibc at least as new, the Debian packages."""
    if release.requires.python != screen.python:
        raise Refused(f"release {release.version} needs Python {release.requires.python}; this screen runs {screen.python}")
    if int(release.requires.glibc.split(".")[1]) > screen.glibc_minor:
        raise Refused(f"release {release.version} needs glibc {release.requires.glibc}; this screen has {screen.glibc}")
    missing = [name for name in release.requires.debian if not installed(name)]
    if missing:
        raise Refused(f"release {release.version} needs Debian packages this screen lacks: {', '.join(missing)} "
                      f"(apt-get install {' '.join(missing)})")


def debian_installed(package: str) -> bool:
    try:
        done = subprocess.run(["dpkg-query", "-W", "-f=${Status}", package], capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        return False
    return done.returncode == 0 and "install ok installed" in done.stdout


def copy_wheels(release: Release, area: UpdateArea, wheels: Path) -> None:
    """Each wheel of the release from the area's blobs into `wheels`, hashed on the way: a stranger is refused."""
    wheels.mkdir(parents=True, exist_ok=True)
    for wheel in release.wheels:
        source = area.blobs / wheel.sha256
        target = wheels / wheel.name
        digest, copied = hashlib.sha256(), 0
        try:
            with open_regular(source) as src, target.open("wb") as out:
                while block := src.read(min(CHUNK, wheel.size + 1 - copied) or 1):
                    copied += len(block)
                    if copied > wheel.size:
                        break
                    digest.update(block)
                    out.write(block)
                out.flush()
                os.fsync(out.fileno())
        except FileNotFoundError:
            raise Refused(f"wheel {wheel.name} is not in {area.blobs} (the download is incomplete)") from None
        except OSError as exc:
            raise Refused(f"wheel {wheel.name}: {source}: {exc.strerror or exc}") from None
        if copied != wheel.size or digest.hexdigest() != wheel.sha256:
            target.unlink(missing_ok=True)
            raise Refused(f"wheel {wheel.name} in {area.blobs} is not the one the release lists (size or sha256 "
                          "differs: tampered, or another release's wheel); refused")
    fsync_dir(wheels)


def keep_documents(taken: Taken, folder: Path) -> None:
    write_atomic(folder / "release", taken.document, 0o644)
    write_atomic(folder / "releasers", taken.releasers, 0o644)


def remove_tree(path: Path) -> None:
    shutil.rmtree(path, ignore_errors=True)


def _read_bounded(path: Path, limit: int) -> bytes:
    try:
        with open_regular(path) as src:
            data = src.read(limit + 1)
    except FileNotFoundError:
        raise Refused(f"{path} is missing: the ready release is incomplete") from None
    except OSError as exc:
        raise Refused(f"{path}: {exc.strerror or exc}") from None
    if len(data) > limit:
        raise Refused(f"{path} is larger than {limit // 1024} kB; refused")
    return data
