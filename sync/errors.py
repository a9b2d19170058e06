"""The sync package's exception tree.

    SyncError
     ├── SignatureError   unsigned, tampered, untrusted or revoked: never applied
     ├── ManifestError    signed but unusable: bad JSON, a path outside the content, too large
     ├── RollbackError    a generation (or release sequence) not newer than the one the screen has
     ├── ReleaseError     a signed release this screen must not install: expired, another target, unmet needs
     ├── FetchError       the network or server failed; try again later
     └── StoreError       the local disk failed (full, read-only); the last good content stays
"""

from __future__ import annotations


class SyncError(Exception):
    """Anything that stops one sync; the screen keeps playing what it has."""


class SignatureError(SyncError):
    pass


class ManifestError(SyncError):
    pass


class RollbackError(SyncError):
    pass


class ReleaseError(SyncError):
    pass


class FetchError(SyncError):
    pass


class StoreError(SyncError):
    pass
