"""Where the two halves of a software update meet on disk: the sync client's area and the updater's status.

    STATE/update/                   written by the sync client (user kiosk); the root updater trusts none of it
        blobs/<sha256>              the release's wheels, verified as they arrived
        partial/<sha256>.part       downloads in progress (Range resume)
        release, releasers          the signed documents the wheels belong to
        ready                       {"version", "sequence", "sha256"}: written last, once every wheel is here
        client.json                 what the client saw: ETags, the highest sequence, its state, when the host
                                    last answered and when a heartbeat last went through (the trial reads these)
    INSTALL/releases/status.json    written by the root updater, readable by all: what it did last and why
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .layout import StateFolder, write_atomic

STATUS = Path("releases") / "status.json"
MAX_SMALL = 1 << 20  # a marker or state file larger than this is not ours


@dataclass(frozen=True)
class UpdateArea:
    root: Path  # STATE/update

    @property
    def blobs(self) -> Path:
        return self.root / "blobs"

    @property
    def release(self) -> Path:
        return self.root / "release"

    @property
    def releasers(self) -> Path:
        return self.root / "releasers"

    @property
    def ready(self) -> Path:
        return self.root / "ready"

    @property
    def client_file(self) -> Path:
        return self.root / "client.json"

    def client(self) -> dict[str, Any]:
        return read_small_json(self.client_file)

    def note(self, **changes: Any) -> dict[str, Any]:
        """Merge `changes` into client.json (atomically) and return the whole record."""
        state = self.client()
        state.update(changes)
        write_atomic(self.client_file, json.dumps(state, indent=1, sort_keys=True).encode("utf-8"))
        return state


def area_of(state_dir: Path) -> UpdateArea:
    return UpdateArea(StateFolder(state_dir).update)


def status_file(install_dir: Path) -> Path:
    """The updater's status, beside the releases (kiosk.yaml's folder is the install folder)."""
    return install_dir / STATUS


def read_small_json(path: Path) -> dict[str, Any]:
    """A small JSON object from a file; {} when missing, too large, unreadable or not an object (never raises)."""
    try:
        with path.open("rb") as src:
            data = src.read(MAX_SMALL + 1)
        if len(data) > MAX_SMALL:
            return {}
        value = json.loads(data.decode("utf-8"))
    except (OSError, ValueError, RecursionError):
        return {}
    return value if isinstance(value, dict) else {}
