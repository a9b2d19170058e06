"""Wheels and releases for the update tests: small real wheels pip installs, drafts, signed channels in a folder."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import subprocess
import sys
import zipfile
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from sync.keys import write_private
from sync.publish import keygen
from sync.wheeltags import parse_wheel_name
from tests.conftest import REPO

TARGET = "cp311-manylinux_2_36_x86_64"


def make_wheel(folder: Path, project: str, version: str, files: dict[str, bytes], tag: str = "py3-none-any") -> Path:
    """A wheel pip installs: `files` (path in site-packages: bytes) plus METADATA, WHEEL and RECORD."""
    folder.mkdir(parents=True, exist_ok=True)
    dist = f"{project}-{version}.dist-info"
    entries = dict(files)
    entries[f"{dist}/METADATA"] = f"Metadata-Version: 2.1\nName: {project}\nVersion: {version}\n".encode()
    entries[f"{dist}/WHEEL"] = f"Wheel-Version: 1.0\nGenerator: tests\nRoot-Is-Purelib: true\nTag: {tag}\n".encode()
    return _write_wheel(folder / f"{project}-{version}-{tag}.whl", entries, dist)


def rewrap_wheel(source: Path, folder: Path, version: str, changes: dict[str, bytes]) -> Path:
    """A copy of wheel `source` as `version`, with some files replaced or added (a release that differs in code)."""
    name = parse_wheel_name(source.name)
    old_dist = f"{name.project}-{name.version}.dist-info"
    dist = f"{name.project}-{version}.dist-info"
    entries: dict[str, bytes] = {}
    with zipfile.ZipFile(source) as zf:
        for info in zf.infolist():
            if info.filename.endswith("/RECORD"):
                continue
            data = zf.read(info)
            path = info.filename.replace(old_dist, dist)
            if path == f"{dist}/METADATA":
                data = data.replace(f"Version: {name.version}\n".encode(), f"Version: {version}\n".encode(), 1)
            entries[path] = data
    entries.update(changes)
    tail = source.name.split("-", 2)[2]
    folder.mkdir(parents=True, exist_ok=True)
    return _write_wheel(folder / f"{name.project}-{version}-{tail}", entries, dist)


def _write_wheel(path: Path, entries: dict[str, bytes], dist: str) -> Path:
    record = []
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in sorted(entries.items()):
            zf.writestr(zipfile.ZipInfo(name, (2026, 1, 1, 0, 0, 0)), data)  # the same bytes every time
            digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
            record.append(f"{name},sha256={digest},{len(data)}")
        record.append(f"{dist}/RECORD,,")
        zf.writestr(zipfile.ZipInfo(f"{dist}/RECORD", (2026, 1, 1, 0, 0, 0)), "\n".join(record) + "\n")
    return path


def write_draft(wheelhouse: Path, version: str, wheels: list[Path], target: str = TARGET,
                debian: tuple[str, ...] = ()) -> Path:
    """release.json as `release build` writes it, for these wheel files (which must be in `wheelhouse`)."""
    listed = []
    for wheel in wheels:
        data = wheel.read_bytes()
        listed.append({"name": wheel.name, "sha256": hashlib.sha256(data).hexdigest(), "size": len(data)})
    draft = {"version": version, "target": target, "requires": {"python": "3.11", "glibc": "2.17", "debian": list(debian)},
             "wheels": listed}
    path = wheelhouse / "release.json"
    path.write_text(json.dumps(draft, indent=1), encoding="utf-8")
    return path


@dataclass
class Keys:
    folder: Path
    root: Path
    releaser: Path
    publisher: Path

    def public(self, name: str) -> str:
        return (self.folder / f"{name}.pub").read_text().strip()

    def new_releaser(self, name: str) -> Path:
        keygen(name, self.folder)
        return self.folder / f"{name}.key"


def make_keys(folder: Path) -> Keys:
    for name in ("root", "releaser", "office"):
        keygen(name, folder)
    return Keys(folder, folder / "root.key", folder / "releaser.key", folder / "office.key")


def write_key(path: Path) -> Ed25519PrivateKey:
    key = Ed25519PrivateKey.generate()
    write_private(path, key)
    return key


def sync_cli(*args: str | Path, check: bool = True, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    """`python -m sync ARGS` as staff run it; raises with its output when `check` and it fails."""
    env = dict(os.environ, PYTHONPATH=str(REPO))
    done = subprocess.run([sys.executable, "-m", "sync", *map(str, args)], capture_output=True, text=True,
                          cwd=cwd or REPO, env=env, timeout=300)
    if check and done.returncode != 0:
        raise AssertionError(f"python -m sync {' '.join(map(str, args))} exited {done.returncode}:\n{done.stdout}\n{done.stderr}")
    return done
