"""The first version on a screen (deploy/install.sh), from a wheelhouse built on the spot: no signature to check.

Whoever runs install.sh as root is trusted already; what differs from a release is
only that nobody signed the draft. The version is built like any other (its own
venv at its final place, pip from the wheelhouse with every hash required) and
both links point at it once it is complete.
"""

from __future__ import annotations

import json
import logging
import shutil

from sync.files import hash_file
from sync.layout import fsync_dir, write_atomic
from sync.release_tools import Draft

from .apply import point
from .errors import InstallFailed
from .install import finish_pip, make_venv, pip_wheel, requirements, start_pip
from .layout import COMPLETE, Layout
from .verify import remove_tree

log = logging.getLogger(__name__)


def seed(layout: Layout, draft: Draft, python: str) -> str:
    """Install `draft` as a complete version and make it current and committed."""
    version = draft.version
    folder = layout.release_dir(version)
    ids = sorted(f"{w.name}:{w.sha256}" for w in draft.wheels)
    done = folder / COMPLETE
    if not (layout.is_complete(version) and json.loads(done.read_text()).get("wheels") == ids):
        if version in (layout.version_of(layout.current), layout.version_of(layout.committed)):
            raise InstallFailed(f"version {version} runs here with other wheels; raise the version in pyproject.toml")
        remove_tree(folder)
        wheels = folder / "wheels"
        wheels.mkdir(parents=True)
        for wheel in draft.wheels:
            copy = wheels / wheel.name
            shutil.copyfile(draft.folder / wheel.name, copy)
            if hash_file(copy) != (wheel.sha256, wheel.size):
                remove_tree(folder)
                raise InstallFailed(f"{draft.folder / wheel.name} is not the wheel the draft lists; build again")
        (folder / "requirements.txt").write_text(requirements(draft.wheels, wheels), encoding="utf-8")
        make_venv(python, folder / "venv")
        finish_pip(start_pip(folder / "venv", pip_wheel(draft.wheels, wheels, version), folder / "requirements.txt"))
        write_atomic(done, json.dumps({"sequence": 0, "sha256": "", "wheels": ids}).encode("utf-8"), 0o644)
        fsync_dir(layout.releases)
    point(layout.current, version)
    point(layout.committed, version)
    log.info("version %s installed in %s; current and committed point at it", version, folder)
    return f"installed {version} in {folder}"
