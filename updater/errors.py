"""The updater's exception tree.

    UpdateError
     ├── Refused        the release fails a check (signature, hashes, sequence, expiry, target, needs): never installed
     ├── InstallFailed  making the venv or installing the wheels failed (disk, a broken wheel); the running version stays
     ├── Blocked        the new version failed its check on this screen (imports, `player validate`): no switch
     └── ServiceError   the service manager (systemd, or the stand-in supervisor) did not do what was asked
"""

from __future__ import annotations


class UpdateError(Exception):
    """Anything that stops one update; the running version keeps playing."""


class Refused(UpdateError):
    pass


class InstallFailed(UpdateError):
    pass


class Blocked(UpdateError):
    pass


class ServiceError(UpdateError):
    pass
