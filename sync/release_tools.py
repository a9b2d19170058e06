"""Making and publishing software releases at the office: wheels for a target, the signed document, the rollout.

    DEST/blobs/<sha256>                  every wheel, content-addressed like content files
    DEST/software/<channel>/releasers    the release keys, signed by the root key
    DEST/software/<channel>/release      the release, signed by a release key; always written last

A release carries pip's own wheel: the screen installs the release with it, so a
screen's pip is always the one the release was tested with. `build_release` runs pip twice: once to learn the exact set of wheels for the
target (a dry run with a report), once to download them into the wheelhouse,
which doubles as a cache (a wheel already there is not fetched again). The draft
it writes (`release.json`, unsigned) is what `publish_release` signs.
"""

from __future__ import annotations

import json
import logging
import shutil
import subprocess
import sys
import tempfile
import urllib.parse
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Iterable, Protocol

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from .envelope import key_id, seal, signer_of
from .errors import ManifestError, SyncError
from .files import hash_file
from .layout import fsync_dir, write_atomic
from .jsondoc import load_json
from .manifest import FileEntry
from .publish import Progress, SourceFile, copy_blob, has_blob, peek_publishers, publishers_path, write_published
from .release import MAX_DAYS, PROJECT, Release, Requires, Rollout, Wheel, check_shape, parse_release, release_payload
from .upload import ServerRefused, StaffClient
from .wheeltags import LEGACY, Target, fits, parse_wheel_name, pip_platforms

log = logging.getLogger(__name__)

DRAFT = "release.json"
BUILD_SKIPS = (".git", ".venv", "build", "*.egg-info", "out", "state", "__pycache__", "media", "tests", "bench",
               "server-data", ".pytest_cache")
# What a screen needs from Debian besides the wheels (deploy/install.sh installs the same list).
DEBIAN_NEEDS = ("python3", "python3-venv", "fonts-noto-core", "fonts-noto-cjk", "libdrm2", "libgbm1", "libegl1", "libgles2")


@dataclass(frozen=True)
class Draft:
    """A built release before it is signed: its version, target, needs and wheels (files in `folder`)."""

    version: str
    target: str
    requires: Requires
    wheels: tuple[Wheel, ...]
    folder: Path


def release_path(dest: Path, channel: str) -> Path:
    return dest / "software" / channel / "release"


# --- build --------------------------------------------------------------------------------------------------

def build_release(target: Target, wheelhouse: Path, project: Path, debian: tuple[str, ...] = DEBIAN_NEEDS,
                  python: str = sys.executable, pip_options: tuple[str, ...] = ()) -> Draft:
    """Our wheel from `project`, every dependency's wheel for `target` from the package index, and the draft."""
    wheelhouse.mkdir(parents=True, exist_ok=True)
    pip = [python, "-m", "pip", "--disable-pip-version-check", "--no-input"]
    with tempfile.TemporaryDirectory(prefix="release-build-") as tmp:
        work = Path(tmp)
        # Built from a copy: setuptools' build/ folder in the project would keep modules deleted since.
        source = work / "src"
        shutil.copytree(project, source, ignore=shutil.ignore_patterns(*BUILD_SKIPS))
        _pip(pip + ["wheel", "--no-deps", "-w", str(work / "own"), str(source)], "building our own wheel")
        own = sorted((work / "own").glob("*.whl"))
        if len(own) != 1 or parse_wheel_name(own[0].name).project != PROJECT:
            raise SyncError(f"{project} did not build one {PROJECT} wheel (got {[p.name for p in own]})")
        ours = wheelhouse / own[0].name
        shutil.move(str(own[0]), ours)
        platform = pip_platforms(target)
        report = work / "report.json"
        _pip(pip + ["install", "--dry-run", "--ignore-installed", "--quiet", "--report", str(report),
                    "--target", str(work / "t"), *platform, *pip_options, str(ours), "pip"],
             f"resolving the dependencies for {target}")
        wanted = _report_files(report)
        _pip(pip + ["download", "--quiet", "-d", str(wheelhouse), *platform, *pip_options, str(ours), "pip"],
             f"downloading the wheels for {target}")
    wheels = []
    for name, expected in wanted:
        path = wheelhouse / name
        if not path.is_file():
            raise SyncError(f"pip did not leave {name} in {wheelhouse}")
        digest, size = hash_file(path)
        if expected and digest != expected:
            raise SyncError(f"{path}: sha256 {digest[:12]}… is not the index's {expected[:12]}…; delete it and build again")
        if not fits(parse_wheel_name(name), target):
            raise SyncError(f"{name} does not install on {target}")
        wheels.append(Wheel(name, digest, size))
    version = parse_wheel_name(ours.name).version
    requires = Requires(target.python, f"2.{glibc_needed(w.name for w in wheels)}", tuple(debian))
    draft = Draft(version, str(target), requires, tuple(sorted(wheels, key=lambda w: w.name)), wheelhouse)
    write_atomic(wheelhouse / DRAFT, json.dumps(_draft_json(draft), indent=1, sort_keys=True).encode("utf-8"))
    return draft


def glibc_needed(names: Iterable[str]) -> int:
    """The newest glibc minor any of these wheels needs (the oldest manylinux tag each one carries)."""
    need = 17
    for name in names:
        lowest = []
        for _, _, plat in parse_wheel_name(name).tags:
            if plat.startswith("manylinux_2_"):
                lowest.append(int(plat.split("_")[2]))
            elif plat.split("_")[0] in LEGACY:
                lowest.append(LEGACY[plat.split("_")[0]])
        if lowest:
            need = max(need, min(lowest))
    return need


def _pip(command: list[str], doing: str) -> None:
    log.info("%s: %s", doing, " ".join(command[2:6]) + " …")
    done = subprocess.run(command, stdin=subprocess.DEVNULL, capture_output=True, text=True)
    if done.returncode != 0:
        lines = [line for line in (done.stderr + done.stdout).splitlines() if "is ignored: it is neither" not in line]
        raise SyncError(f"{doing} failed (pip exit status {done.returncode}):\n" + "\n".join(lines[-25:]))


def _report_files(report: Path) -> list[tuple[str, str | None]]:
    """(wheel file name, sha256 the index gave or None) of every package pip's report would install."""
    try:
        data = json.loads(report.read_text(encoding="utf-8"))
        files = []
        for item in data["install"]:
            info = item["download_info"]
            name = urllib.parse.unquote(info["url"].rsplit("/", 1)[-1].split("#")[0])
            hashes = info.get("archive_info", {}).get("hashes", {})
            files.append((name, hashes.get("sha256")))
        return files
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise SyncError(f"pip's report {report} cannot be read ({exc}); is pip older than 23.0?") from None


def _draft_json(draft: Draft) -> dict[str, object]:
    return {"version": draft.version, "target": draft.target,
            "requires": {"python": draft.requires.python, "glibc": draft.requires.glibc, "debian": list(draft.requires.debian)},
            "wheels": [{"name": w.name, "sha256": w.sha256, "size": w.size} for w in draft.wheels]}


def read_draft(wheelhouse: Path) -> Draft:
    """The draft `release build` left in `wheelhouse`, checked: every wheel there, with its size."""
    path = wheelhouse / DRAFT
    try:
        raw = load_json(path.read_bytes())
        requires = raw["requires"]
        draft = Draft(str(raw["version"]), str(raw["target"]),
                      Requires(str(requires["python"]), str(requires["glibc"]), tuple(requires["debian"])),
                      tuple(Wheel(str(w["name"]), str(w["sha256"]), int(w["size"])) for w in raw["wheels"]), wheelhouse)
    except OSError as exc:
        raise SyncError(f"{path}: {exc.strerror} (make it with python -m sync release build --wheelhouse {wheelhouse})") from None
    except (ValueError, KeyError, TypeError) as exc:
        raise ManifestError(f"{path} is not a release draft ({exc}); build it again") from None
    for wheel in draft.wheels:
        try:
            size = (wheelhouse / wheel.name).stat().st_size
        except OSError:
            raise SyncError(f"{wheelhouse / wheel.name} is missing; build the release again") from None
        if size != wheel.size:
            raise SyncError(f"{wheelhouse / wheel.name} is {size} bytes, the draft says {wheel.size}; build again")
    return draft


# --- destinations: a folder or the central server ------------------------------------------------------------

class ReleaseDest(Protocol):
    def current(self, channel: str) -> bytes | None:
        """The release document published now (signed bytes), or None."""

    def releasers_version(self, channel: str) -> tuple[int, dict[str, str]] | None:
        """(version, {key id: label}) of the releasers list published, NOT verified; None if there is none."""

    def send_wheels(self, draft_wheels: list[SourceFile], progress: Progress | None) -> int:
        """Copy the wheels the destination lacks; returns how many bytes went."""

    def put_release(self, channel: str, envelope: bytes) -> None:
        """Publish the document, after every wheel it names is there."""


class FolderDest:
    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def current(self, channel: str) -> bytes | None:
        try:
            return release_path(self.folder, channel).read_bytes()
        except FileNotFoundError:
            return None

    def releasers_version(self, channel: str) -> tuple[int, dict[str, str]] | None:
        path = publishers_path(self.folder, channel, "releasers")
        if not path.exists():
            return None
        _, version, names = peek_publishers(path, "releasers")
        return version, names

    def send_wheels(self, wheels: list[SourceFile], progress: Progress | None) -> int:
        blobs = self.folder / "blobs"
        blobs.mkdir(parents=True, exist_ok=True)
        lacking = [w for w in wheels if not has_blob(self.folder, w.entry)]
        total, done = sum(w.entry.size for w in lacking), 0
        for wheel in lacking:
            done = copy_blob(wheel, blobs, done, total, progress)
        fsync_dir(blobs)
        return total

    def put_release(self, channel: str, envelope: bytes) -> None:
        write_published(release_path(self.folder, channel), envelope)


class ServerDest:
    def __init__(self, client: StaffClient) -> None:
        self.client = client

    def current(self, channel: str) -> bytes | None:
        try:
            return self.client.request("GET", f"/software/{channel}/release").content
        except ServerRefused as exc:
            if exc.status == 404:
                return None
            raise

    def releasers_version(self, channel: str) -> tuple[int, dict[str, str]] | None:
        try:
            data = self.client.request("GET", f"/software/{channel}/releasers").content
        except ServerRefused as exc:
            if exc.status == 404:
                return None
            raise
        raw = load_json(data[data.index(b"\n") + 1:])
        return int(raw["version"]), {str(p["id"]): str(p["name"]) for p in raw["publishers"]}

    def send_wheels(self, wheels: list[SourceFile], progress: Progress | None) -> int:
        lacking = {e.sha256 for e in self.client.missing([w.entry for w in wheels])}
        todo = [w for w in wheels if w.entry.sha256 in lacking]
        total, done = sum(w.entry.size for w in todo), 0
        for wheel in todo:
            done = self.client.put_blob(wheel.source, wheel.entry.sha256, done, total, progress)
        return total

    def put_release(self, channel: str, envelope: bytes) -> None:
        self.client.request("POST", f"/api/software/{channel}/release", data=envelope,
                            headers={"Content-Type": "application/octet-stream"})


# --- publish and promote ------------------------------------------------------------------------------------

def published(dest: ReleaseDest, channel: str) -> Release | None:
    """The release at `dest` now, read without checking its signature (to number and promote the next one)."""
    data = dest.current(channel)
    if data is None:
        return None
    try:
        signer_of(data, "release")
        return parse_release(data[data.index(b"\n") + 1:])
    except (SyncError, ValueError) as exc:
        raise ManifestError(f"the release published for {channel} cannot be read ({exc}); nothing was published") from None


def check_releaser(dest: ReleaseDest, channel: str, key: Ed25519PrivateKey, where: str) -> None:
    """Refuse a key the destination's releasers list does not name: screens would refuse what it signs."""
    signer = key_id(key.public_key())
    held = dest.releasers_version(channel)
    how = (f"whoever holds the root key runs: python -m sync sign-releasers --root ROOT.key --channel {channel} "
           f"--to {where} --version N --add LABEL=YOUR.pub")
    if held is None:
        raise SyncError(f"software channel {channel} at {where} has no releasers list yet: {how}")
    version, names = held
    if signer not in names:
        raise SyncError(f"your key {signer} is not in the releasers list (version {version}) of {channel}: {how} "
                        "(with an --add for every release key kept)")


def publish_release(draft: Draft, channel: str, dest: ReleaseDest, where: str, key: Ed25519PrivateKey,
                    now: datetime, days: int, rollout: Rollout, progress: Progress | None = None) -> tuple[Release, int]:
    """Sign `draft` as the next sequence of `channel`, copy the wheels `dest` lacks, then the document last."""
    check_releaser(dest, channel, key, where)
    previous = published(dest, channel)
    release = Release(channel, draft.version, (previous.sequence if previous else 0) + 1, now,
                      now + timedelta(days=_days(days)), draft.target, draft.requires, rollout, draft.wheels)
    check_shape(release)
    sent = dest.send_wheels([SourceFile(FileEntry(w.name, w.sha256, w.size), draft.folder / w.name)
                             for w in draft.wheels], progress)
    dest.put_release(channel, seal(release_payload(release), "release", key))
    return release, sent


def promote_release(channel: str, dest: ReleaseDest, where: str, key: Ed25519PrivateKey, now: datetime, days: int,
                    rollout: Rollout) -> Release:
    """The release published now, signed again as the next sequence with a wider (or narrower) rollout."""
    check_releaser(dest, channel, key, where)
    previous = published(dest, channel)
    if previous is None:
        raise SyncError(f"nothing is published on software channel {channel} at {where}: publish a release first")
    release = replace(previous, sequence=previous.sequence + 1, created=now,
                      expires=now + timedelta(days=_days(days)), rollout=rollout)
    dest.put_release(channel, seal(release_payload(release), "release", key))
    return release


def _days(days: int) -> int:
    if not 1 <= days <= MAX_DAYS:
        raise ValueError(f"--expires-days must be 1 to {MAX_DAYS}, not {days}")
    return days

