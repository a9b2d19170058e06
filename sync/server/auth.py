"""Who is asking: a staff or screen token from `Authorization: Bearer` (or Basic, for the status page in a browser)."""

from __future__ import annotations

import base64
import binascii

from fastapi import Request

from .channels import Refused
from .db import Database, Screen, Staff
from .tokens import Presented, parse_token


def presented_token(request: Request) -> Presented | None:
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() == "bearer":
        return parse_token(value)
    if scheme.lower() == "basic":  # a browser's login box: any user name, the token as password
        try:
            decoded = base64.b64decode(value.strip(), validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            return None
        return parse_token(decoded.partition(":")[2])
    return None


def db(request: Request) -> Database:
    return request.app.state.db  # type: ignore[no-any-return]


def _presented(request: Request, kind: str, how: str, wrong: str) -> Presented:
    """The request's token if it is of `kind`: 401 without one, 403 for the other kind."""
    token = presented_token(request)
    if token is None:
        raise Refused(401, f"a {kind} token is required: send 'Authorization: Bearer {kind}.…' ({how})")
    if token.kind != kind:
        raise Refused(403, f"this is a {token.kind} token; {wrong}")
    return token


def staff(request: Request) -> Staff:
    """FastAPI dependency: the staff member whose token came with the request, or 401."""
    token = _presented(request, "staff", "an admin makes one with python -m sync server staff add NAME",
                       "this request needs a staff token")
    who = db(request).staff_by_token(token)
    if who is None:
        raise Refused(401, "the staff token is unknown or revoked")
    return who


def admin(request: Request) -> Staff:
    who = staff(request)
    if not who.admin:
        raise Refused(403, f"{who.name} is not an admin; this request needs an admin token")
    return who


def screen(request: Request) -> Screen:
    """FastAPI dependency: the screen whose token came with the request, or 401."""
    token = _presented(request, "screen", "staff issue one with POST /api/screens",
                       "this request needs the screen's own token")
    found = db(request).screen_by_token(token)
    if found is None:
        raise Refused(401, "the screen token is unknown or revoked")
    return found


def require_channel(who: Staff, channel: str) -> None:
    if not who.may(channel):
        raise Refused(403, f"{who.name} may not act on channel {channel!r} (allowed: {', '.join(who.channels) or 'none'})")
