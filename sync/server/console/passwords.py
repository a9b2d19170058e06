"""Staff passwords (argon2id), one-time set-password links, and how long a name stays locked after wrong passwords."""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import threading
from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

# argon2id, 3 passes over 19 MiB (OWASP's floor is 2 passes over 19 MiB): about 40 ms here, well under 0.5 s.
# argon2-cffi's default 64 MiB made three staff logging in at once add 190 MB to the server's RSS; hashes are
# also computed one at a time (_ONE), so a burst of log-ins waits a little instead of adding up.
HASHER = PasswordHasher(time_cost=3, memory_cost=19 * 1024, parallelism=1)
_ONE = threading.Lock()
LINK_SECONDS = 24 * 3600
MIN_LENGTH = 10
LOCK_AFTER = 5  # wrong passwords in a row
FIRST_LOCK = 30.0
LONGEST_LOCK = 3600.0
_LINK = re.compile(r"([A-Za-z0-9]{12})\.([A-Za-z0-9_-]{43})")


@dataclass(frozen=True)
class NewLink:
    id: str
    secret_hash: str
    text: str  # the part of the URL after /console/password/: shown once


def hash_password(password: str) -> str:
    with _ONE:
        return HASHER.hash(password)


def check_password(stored: str | None, password: str) -> bool:
    """Whether `password` matches; with nothing stored, a hash is still computed so both cases take as long."""
    try:
        with _ONE:
            return HASHER.verify(stored or _DUMMY, password) and stored is not None
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


_DUMMY = HASHER.hash("not a password anyone has")


def weak(password: str, name: str) -> str | None:
    """Why a new password will not do (a text key of texts.py), or None."""
    if len(password) < MIN_LENGTH:
        return "password-short"
    if name.lower() in password.lower():
        return "password-has-name"
    return None


def make_link() -> NewLink:
    link_id, secret = secrets.token_hex(6), secrets.token_urlsafe(32)
    return NewLink(link_id, _hash(secret), f"{link_id}.{secret}")


def parse_link(text: str) -> tuple[str, str] | None:
    match = _LINK.fullmatch(text.strip())
    return (match.group(1), match.group(2)) if match else None


def link_matches(secret: str, stored_hash: str) -> bool:
    return hmac.compare_digest(_hash(secret), stored_hash)


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode("ascii")).hexdigest()


def lock_seconds(failures: int) -> float:
    """How long a name is locked after `failures` wrong passwords in a row: none before the 5th, then 30 s,
    doubling with each further one, at most an hour."""
    if failures < LOCK_AFTER:
        return 0.0
    return float(min(LONGEST_LOCK, FIRST_LOCK * 2.0 ** (failures - LOCK_AFTER)))
