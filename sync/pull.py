"""`python -m sync pull`: a channel's current generation from a server (or any static host) into a folder to edit, and
the mark that lets `publish` tell a folder that is behind the server from one that is up to date.

    DIR/playlists/*.yaml, DIR/media/*   the generation's files, each checked against its SHA-256
    DIR/.kiosk-pulled                   {"channel", "generation", "from"}: what the folder was taken from

Staff edit in the console too: a folder pulled before a console publish is behind,
and publishing it would silently undo that publish. `publish --to URL` refuses it
unless --force.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import requests

from .errors import FetchError, ManifestError, SyncError
from .layout import write_atomic
from .manifest import Manifest, check_channel, parse_manifest

MARK = ".kiosk-pulled"


@dataclass(frozen=True)
class Pulled:
    generation: int
    written: tuple[str, ...]
    kept: tuple[str, ...]  # files in the folder the generation does not have (left alone)


class Behind(SyncError):
    """The folder was taken from an older generation than the server holds (or from none)."""


def read_mark(folder: Path) -> dict[str, Any]:
    try:
        found = json.loads((folder / MARK).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return found if isinstance(found, dict) else {}


def write_mark(folder: Path, channel: str, generation: int, source: str) -> None:
    write_atomic(folder / MARK, json.dumps({"channel": channel, "generation": generation, "from": source}).encode())


def check_not_behind(folder: Path, channel: str, current: Manifest | None) -> None:
    """Refuse to publish `folder` over a generation it was not taken from (see the module docstring)."""
    if current is None or current.generation == 0:
        return
    mark = read_mark(folder)
    have = mark.get("generation") if mark.get("channel") == channel else None
    if have == current.generation:
        return
    since = f"was taken at generation {have}" if isinstance(have, int) else "was never pulled from it"
    raise Behind(f"{channel} is at generation {current.generation} on the server (published from the staff console "
                 f"or another computer), and {folder} {since}: publishing it would undo those changes. Fetch the "
                 f"current content first (python -m sync pull --channel {channel} --from URL --to {folder}), or add "
                 "--force to replace it anyway")


def pull(base: str, channel: str, folder: Path, ca_file: str | None = None, timeout: float = 60.0) -> Pulled:
    """Fetch the channel's current manifest and every file of it into `folder` (playlists/ and media/)."""
    check_channel(channel)
    session = requests.Session()
    verify: str | bool = ca_file or True
    base = base.rstrip("/")

    def get(path: str) -> bytes:
        try:
            answer = session.get(base + path, timeout=(10.0, timeout), verify=verify)
        except requests.RequestException as exc:
            raise FetchError(f"{base}{path}: {exc}") from None
        if answer.status_code != 200:
            raise FetchError(f"{base}{path}: {answer.status_code} {answer.text[:200]}")
        return answer.content

    data = get(f"/channels/{channel}/manifest")
    try:
        manifest = parse_manifest(data[data.index(b"\n") + 1:])
    except (ValueError, SyncError) as exc:
        raise ManifestError(f"the manifest of {channel} at {base} cannot be read ({exc})") from None
    written = []
    for entry in manifest.files:
        target = folder / entry.path
        if target.is_file() and _digest(target) == entry.sha256:
            continue
        body = get(f"/blobs/{entry.sha256}")
        if hashlib.sha256(body).hexdigest() != entry.sha256:
            raise FetchError(f"{entry.path}: the bytes from {base} do not match the manifest's SHA-256; nothing "
                             "more was written (pull again)")
        target.parent.mkdir(parents=True, exist_ok=True)
        write_atomic(target, body)
        written.append(entry.path)
    listed = {entry.path for entry in manifest.files}
    kept = sorted(p.relative_to(folder).as_posix() for sub in ("playlists", "media") if (folder / sub).is_dir()
                  for p in (folder / sub).rglob("*") if p.is_file() and not p.name.startswith(".")
                  and p.relative_to(folder).as_posix() not in listed)
    write_mark(folder, channel, manifest.generation, base)
    return Pulled(manifest.generation, tuple(written), tuple(kept))


def _digest(path: Path) -> str:
    hasher = hashlib.sha256()
    with path.open("rb") as f:
        while block := f.read(1 << 20):
            hasher.update(block)
    return hasher.hexdigest()
