"""The updater's own record (root-only): the ratchet, the trial in progress, the sequences that failed here.

Written with a rename after an fsync, so a power cut leaves the old record or the new
one. The ratchet moves only after every check of a release passed.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

from sync.layout import write_atomic
from sync.update_area import read_small_json

MAX_FAILED = 50


@dataclass(frozen=True)
class Trial:
    version: str  # on trial: `current` points at it
    previous: str  # what to go back to
    sequence: int
    started: str  # ISO time of the switch
    boots: int = 0  # boots seen since the switch without a commit; two roll back
    server_answered: bool = False  # the host answered the old version shortly before the switch
    needs_heartbeat: bool = False  # the old version's heartbeats went through shortly before the switch
    had_item: bool = False  # the old version played something other than the fallback slide


@dataclass(frozen=True)
class UpdaterState:
    releasers_version: int = 0
    releasers_sha256: str = ""
    sequence: int = 0  # the ratchet: the highest sequence that passed every check under this releasers list
    sequence_sha256: str = ""  # the document that set it: an equal sequence must be this same document
    failed: tuple[int, ...] = ()  # sequences that failed here (blocked or rolled back): never tried again
    trial: Trial | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def with_failed(self, sequence: int) -> UpdaterState:
        return replace(self, failed=(tuple(s for s in self.failed if s != sequence) + (sequence,))[-MAX_FAILED:])


def load_state(path: Path) -> UpdaterState:
    raw = read_small_json(path)
    trial = raw.get("trial")
    try:
        return UpdaterState(int(raw.get("releasers_version", 0)), str(raw.get("releasers_sha256", "")),
                            int(raw.get("sequence", 0)), str(raw.get("sequence_sha256", "")),
                            tuple(int(s) for s in raw.get("failed", [])),
                            Trial(**trial) if isinstance(trial, dict) else None)
    except (TypeError, ValueError):
        # Only root writes this file, atomically; if it is damaged anyway, start from nothing: the
        # releasers list and sequences are checked again, and a lower sequence than a screen ran is
        # still refused by the sync client's own record.
        return UpdaterState()


def save_state(path: Path, state: UpdaterState) -> None:
    data = asdict(state)
    data.pop("extra")
    write_atomic(path, json.dumps(data, indent=1, sort_keys=True).encode("utf-8"), 0o600)
