"""The files the player and the sync client share: every path under the state folder and the store, and the one atomic write.

The player and the sync process never call each other; they meet only at these
files. Both import this module (it imports nothing of either package, and no
pygame or PyAV), so a name is spelled once:

    STATE_DIR/                        kiosk.yaml's `state_dir`
        player.log                    the player's log (rotated: .1 .. .3)
        proof-of-play.jsonl           one line per slot shown (rotated: .1 .. .3); the sync client uploads it
        proof-upload.json             the sync client's upload cursor into the proof log
        now-playing.json              what is on screen, for `player status` and the heartbeat
        power.json                    whether the panel is on, likewise
        clock.json                    the last wall time seen (a kiosk without a real-time clock)
        screenshot.png                the player's latest small screenshot; the sync client uploads it
        screenshot.request            touched by the sync client when staff ask for a fresh one
        pin-attempts.json             wrong staff exit PINs and the lockout left (a restart does not reset them)
        store/                        the content store (sync/store.py), below
        update/                       a software release the sync client fetched for the root updater
                                      (sync/update_area.py names what is inside)

    STATE_DIR/store/
        blobs/<sha256>                verified file contents
        partial/                      downloads in progress
        generations/<name>/           complete generations: manifest, playlists/, media/
        current -> generations/...    what the player plays; replaced with one rename
        publishers                    the last publisher list accepted
        state.json                    last sync result, generations known to be bad
        notices.json                  the verified urgent notices the player shows
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

PROOF_KEEP_OLD = 3  # proof-of-play.jsonl.1 (newest) to .3 (oldest) are kept beside the live file


def rotated(path: Path, number: int) -> Path:
    """The `number`th older copy of a rotated file: proof-of-play.jsonl.1 is the newest old one."""
    return path.with_name(f"{path.name}.{number}")


@dataclass(frozen=True)
class StoreFolder:
    """The content store under the state folder: written by the sync client, played (and rolled back) by the player."""

    root: Path

    @property
    def blobs(self) -> Path:
        return self.root / "blobs"

    @property
    def partial(self) -> Path:
        return self.root / "partial"

    @property
    def generations(self) -> Path:
        return self.root / "generations"

    @property
    def current(self) -> Path:
        return self.root / "current"

    @property
    def publishers(self) -> Path:
        return self.root / "publishers"

    @property
    def state(self) -> Path:
        return self.root / "state.json"

    @property
    def notices(self) -> Path:
        return self.root / "notices.json"


def content_folders(generation: Path) -> tuple[Path, Path]:
    """(playlists, media) of a generation folder, as the manifest's paths lay them out."""
    return generation / "playlists", generation / "media"


@dataclass(frozen=True)
class StateFolder:
    """A screen's state folder (kiosk.yaml's `state_dir`)."""

    path: Path

    @property
    def log(self) -> Path:
        return self.path / "player.log"

    @property
    def proof(self) -> Path:
        return self.path / "proof-of-play.jsonl"

    @property
    def proof_cursor(self) -> Path:
        return self.path / "proof-upload.json"

    @property
    def now_playing(self) -> Path:
        return self.path / "now-playing.json"

    @property
    def power(self) -> Path:
        return self.path / "power.json"

    @property
    def clock(self) -> Path:
        return self.path / "clock.json"

    @property
    def screenshot(self) -> Path:
        return self.path / "screenshot.png"

    @property
    def screenshot_request(self) -> Path:
        return self.path / "screenshot.request"

    @property
    def pin_attempts(self) -> Path:
        return self.path / "pin-attempts.json"

    @property
    def update(self) -> Path:
        return self.path / "update"

    @property
    def store(self) -> StoreFolder:
        return StoreFolder(self.path / "store")


def fsync_dir(path: Path) -> None:
    """Make a rename in `path` durable; quietly skipped where the file system refuses (FAT on a USB stick)."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def write_atomic(path: Path, data: bytes, mode: int | None = None) -> None:
    """Write `data` to a temporary dot-file beside `path`, fsync it, rename it over `path`, then fsync the folder.

    A reader (the other process) sees the old file or the new one, never half of one, and
    after a power cut the file is one of the two as well.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        if mode is not None:
            os.chmod(name, mode)
        os.replace(name, path)
    except BaseException:
        Path(name).unlink(missing_ok=True)
        raise
    fsync_dir(path.parent)
