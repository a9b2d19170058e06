"""Who is asking: a staff or screen token from `Authorization: Bearer` (or Basic, for the status page in a browser)."""

from __future__ import annotations

import base64
import binascii
from typing import Callable, Generic, TypeVar

from fastapi import Request

from .channels import Refused
from .db import Database, Screen, Staff
from .tokens import Presented, parse_token

Holder = TypeVar("Holder", Staff, Screen)


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


class Bearer(Generic[Holder]):
    """FastAPI dependency: whoever holds the request's token of `kind` (a Staff or a Screen), or 401/403.

    401 without a token or with an unknown or revoked one; 403 for a token of the other kind.
    """

    def __init__(self, kind: str, how: str, wrong: str, find: Callable[[Database, Presented], Holder | None]) -> None:
        self.kind, self.how, self.wrong = kind, how, wrong
        self.find: Callable[[Database, Presented], Holder | None] = find

    def __call__(self, request: Request) -> Holder:
        found = self.find(db(request), self.presented(request))
        if found is None:
            raise self.unknown()
        return found

    def presented(self, request: Request) -> Presented:
        """The request's token if it is of this kind (not yet looked up), or 401/403."""
        token = presented_token(request)
        if token is None:
            raise Refused(401, f"a {self.kind} token is required: send 'Authorization: Bearer {self.kind}.…' ({self.how})")
        if token.kind != self.kind:
            raise Refused(403, f"this is a {token.kind} token; {self.wrong}")
        return token

    def unknown(self) -> Refused:
        return Refused(401, f"the {self.kind} token is unknown or revoked")


staff = Bearer("staff", "an admin makes one with python -m sync server staff add NAME",
               "this request needs a staff token", Database.staff_by_token)
screen = Bearer("screen", "staff issue one with POST /api/screens", "this request needs the screen's own token",
                Database.screen_by_token)


async def screen_token(request: Request) -> Presented:
    """A screen's token, checked for its form only (no query, so no thread): the route looks it up itself, in
    the same database call as its work (a heartbeat)."""
    return screen.presented(request)


def admin(request: Request) -> Staff:
    who = staff(request)
    if not who.admin:
        raise Refused(403, f"{who.name} is not an admin; this request needs an admin token")
    return who


def require_channel(who: Staff, channel: str) -> None:
    if not who.may(channel):
        raise Refused(403, f"{who.name} may not act on channel {channel!r} (allowed: {', '.join(who.channels) or 'none'})")
