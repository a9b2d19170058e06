"""Where releases live on a screen (pure paths): versions side by side, two links, the root-only state.

    /opt/kiosk/releases/<version>/        one version: release, releasers, wheels/, requirements.txt, venv/,
                                          and `complete` (written last: the version can run)
    /opt/kiosk/current -> releases/<v>    what kiosk-player.service runs; replaced by a rename
    /opt/kiosk/committed -> releases/<v>  the last version that passed its trial: the updater runs from it,
                                          so a new version's updater never decides its own trial
    /opt/kiosk/releases/status.json       what the updater did last (readable by the sync client)
    /var/lib/kiosk-update/state.json      root-only: the ratchet, the trial in progress, failed sequences

Venvs are not relocatable (their scripts name their own path), so each is built at
its final place and never moved. `--root DIR` puts all of it under DIR (tests, image builds).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from sync.update_area import STATUS

INSTALL = Path("/opt/kiosk")
VAR = Path("/var/lib/kiosk-update")
COMPLETE = "complete"


@dataclass(frozen=True)
class Layout:
    install: Path = INSTALL
    var: Path = VAR

    @classmethod
    def under(cls, root: Path, install: Path = INSTALL, var: Path = VAR) -> Layout:
        return cls(root / install.relative_to("/"), root / var.relative_to("/"))

    @property
    def releases(self) -> Path:
        return self.install / "releases"

    @property
    def current(self) -> Path:
        return self.install / "current"

    @property
    def committed(self) -> Path:
        return self.install / "committed"

    @property
    def status(self) -> Path:
        return self.install / STATUS

    @property
    def state(self) -> Path:
        return self.var / "state.json"

    @property
    def lock(self) -> Path:
        return self.var / "lock"

    def release_dir(self, version: str) -> Path:
        return self.releases / version

    def python(self, version: str) -> Path:
        return self.release_dir(version) / "venv" / "bin" / "python"

    def version_of(self, link: Path) -> str | None:
        """The version a link points at (releases/<version>), or None when it is missing or points elsewhere."""
        try:
            target = Path(os.readlink(link))
        except OSError:
            return None
        return target.name if target.parent.name == "releases" else None

    def is_complete(self, version: str | None) -> bool:
        return version is not None and (self.release_dir(version) / COMPLETE).is_file() and self.python(version).exists()

    def versions(self) -> list[str]:
        """Release folders present (complete or not), oldest first by modification time."""
        try:
            found = [p for p in self.releases.iterdir() if p.is_dir() and not p.name.startswith(".")]
        except OSError:
            return []
        return [p.name for p in sorted(found, key=lambda p: p.stat().st_mtime)]
