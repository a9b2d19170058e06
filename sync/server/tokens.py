"""Access tokens (pure): made once and shown once, stored as a SHA-256 hash, compared in constant time.

A token reads `<kind>.<id>.<secret>`: kind "staff" or "screen", the id finds the
row, and only the hash of the secret is kept, so a copy of server.db lets nobody in.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass

KINDS = ("staff", "screen")
_TOKEN = re.compile(r"(staff|screen)\.([A-Za-z0-9]{12})\.([A-Za-z0-9_-]{43})")


@dataclass(frozen=True)
class NewToken:
    kind: str
    id: str
    secret_hash: str
    text: str  # shown once to whoever asked for it, never stored


@dataclass(frozen=True)
class Presented:
    kind: str
    id: str
    secret: str


def make_token(kind: str) -> NewToken:
    if kind not in KINDS:
        raise ValueError(f"token kind must be one of {KINDS}")
    token_id = secrets.token_hex(6)
    secret = secrets.token_urlsafe(32)
    return NewToken(kind, token_id, hash_secret(secret), f"{kind}.{token_id}.{secret}")


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode("ascii")).hexdigest()


def parse_token(text: str) -> Presented | None:
    match = _TOKEN.fullmatch(text.strip())
    return Presented(*match.groups()) if match else None


def matches(presented: Presented, stored_hash: str) -> bool:
    return hmac.compare_digest(hash_secret(presented.secret), stored_hash)
