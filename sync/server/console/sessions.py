"""Console sessions (pure): a random id in an HttpOnly cookie, kept as a hash; idle and absolute limits; CSRF tokens.

The cookie reads `<id>.<secret>`. The server keeps only the secret's SHA-256, as
for API tokens, so a copy of the database signs nobody in. A form's CSRF token is
an HMAC of the session's secret, so it needs no storage and is worthless without
the cookie; before log-in a short-lived random cookie plays the secret's part.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from urllib.parse import urlsplit

COOKIE = "kiosk_console"
PRE_COOKIE = "kiosk_console_pre"  # before log-in: what the log-in form's CSRF token is made from
IDLE_SECONDS = 30 * 60
MAX_SECONDS = 12 * 3600
_COOKIE = re.compile(r"([A-Za-z0-9]{16})\.([A-Za-z0-9_-]{43})")


@dataclass(frozen=True)
class NewSession:
    id: str
    secret_hash: str
    cookie: str  # the cookie's value: shown to the browser once, never stored


@dataclass(frozen=True)
class Presented:
    id: str
    secret: str


def make_session() -> NewSession:
    session_id, secret = secrets.token_hex(8), secrets.token_urlsafe(32)
    return NewSession(session_id, hash_secret(secret), f"{session_id}.{secret}")


def parse_cookie(value: str | None) -> Presented | None:
    match = _COOKIE.fullmatch(value or "")
    return Presented(match.group(1), match.group(2)) if match else None


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode("ascii")).hexdigest()


def secret_matches(presented: Presented, stored_hash: str) -> bool:
    return hmac.compare_digest(hash_secret(presented.secret), stored_hash)


def ended_by_time(created: float, seen: float, now: float) -> str | None:
    """"idle" after 30 minutes without a request, "expired" 12 hours after log-in, else None."""
    if now - created >= MAX_SECONDS:
        return "expired"
    if now - seen >= IDLE_SECONDS:
        return "idle"
    return None


def csrf_token(secret: str) -> str:
    return hmac.new(secret.encode("ascii"), b"console csrf", hashlib.sha256).hexdigest()[:40]


def csrf_ok(secret: str, presented: str | None) -> bool:
    return bool(presented) and hmac.compare_digest(csrf_token(secret), presented or "")


def new_pre_secret() -> str:
    return secrets.token_urlsafe(32)


def same_origin(origin: str | None, referer: str | None, host: str | None, scheme: str) -> bool:
    """Whether a state-changing request comes from a page of this server: its Origin (or, where a browser sends
    none, its Referer) names this scheme, host and port."""
    source = origin if origin and origin != "null" else referer
    if not source or not host:
        return False
    parts = urlsplit(source)
    return parts.scheme == scheme and parts.netloc.lower() == host.lower()
