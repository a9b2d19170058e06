"""The two requests every screen makes all day, answered before FastAPI's routing: a long-poll of a channel
document and a heartbeat.

At 10,000 screens the server holds 20,000 long-polls and answers hundreds of requests a second. Through
FastAPI each one passes eight middlewares, a router, dependency and parameter resolution and a Response
object, and held requests keep all of those frames alive; here a long-poll is a regex, the same in-memory
document and one future, and a heartbeat is the same bounded JSON read, the same model and the same
take_heartbeat. The answers are what the API routes give. Anything unusual (HEAD, another query
parameter, a wait out of range, a channel with nothing published, a body or token the route would refuse)
goes on to FastAPI, with the body it had, and FastAPI answers it with its checks and its JSON errors.
"""

from __future__ import annotations

import math
import random
import re
from typing import Any, Awaitable, Callable

from fastapi.responses import JSONResponse
from pydantic import ValidationError
from sqlalchemy.exc import SQLAlchemyError

from ..jsondoc import load_json
from .bodies import check_text
from .channels import Channels, Refused
from .fleet_api import Heartbeat, take_heartbeat
from .tokens import parse_token

Message = dict[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
DOCUMENT = re.compile(r"/channels/([a-z0-9][a-z0-9_-]{0,63})/(manifest|publishers|notices)")
MAX_WAIT = 600.0  # content_api.channel_document's `wait` bound
HEARTBEAT = "/api/heartbeat"


class ScreenFastPath:
    """ASGI: `GET /channels/{channel}/{manifest|publishers|notices}[?wait=S]` here, everything else to `app`."""

    def __init__(self, app: Any) -> None:
        self.app = app  # the FastAPI application: its state holds the channels and the settings

    @property
    def state(self) -> Any:
        return self.app.state

    async def __call__(self, scope: dict[str, Any], receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] == "GET":
            found = DOCUMENT.fullmatch(scope["path"])
            wait = requested_wait(scope.get("query_string", b"")) if found else None
            if found and wait is not None and await self._document(found[1], found[2], wait, scope, send):
                return
        elif scope["type"] == "http" and scope["method"] == "POST" and scope["path"] == HEARTBEAT:
            return await self._heartbeat(scope, receive, send)
        await self.app(scope, receive, send)

    async def _heartbeat(self, scope: dict[str, Any], receive: Receive, send: Send) -> None:
        """Take a plain heartbeat as fleet_api.heartbeat does; FastAPI gets the rest, body and all."""
        body, whole = await _read(receive, self.app.state.settings.limits.request_kb * 1024)
        answer = None
        if whole and (header(scope, b"content-type") or "").startswith("application/json"):
            token = parse_token((header(scope, b"authorization") or "").removeprefix("Bearer "))
            if token is not None and token.kind == "screen" and not scope.get("query_string"):
                try:
                    value = load_json(body)
                    check_text(value)
                    answer = await take_heartbeat(self.app.state, Heartbeat.model_validate(value), token)
                except (ValueError, ValidationError, SQLAlchemyError, Refused):
                    answer = None  # FastAPI says what is wrong (a 422, a 503 while the database is down), as it always has
        if answer is not None:
            response = JSONResponse(answer)  # the bytes and headers FastAPI's route would send
            await send({"type": "http.response.start", "status": 200, "headers": response.raw_headers})
            return await send({"type": "http.response.body", "body": response.body})
        await self.app(scope, _replay(body, whole, receive), send)

    async def _document(self, channel: str, name: str, wait: float, scope: dict[str, Any], send: Send) -> bool:
        """Answer the long-poll as content_api.channel_document does; False (nothing sent) when it is FastAPI's."""
        store: Channels = self.app.state.channels
        limit: float = self.app.state.settings.long_poll_max_seconds
        doc = store.document(channel, name)
        if doc is None:
            return False  # a 404 with its JSON error
        if_none_match = header(scope, b"if-none-match")
        if doc.etag != if_none_match:
            await answer(send, 200, doc.etag, limit, doc.data)
            return True
        if wait > 0:
            # Held for 90-100% of the wait, as channel_document explains.
            changed = await store.wait_for_change(channel, name, if_none_match, min(wait, limit) * random.uniform(0.9, 1.0))
            if changed is not None:
                await answer(send, 200, changed.etag, limit, changed.data)
                return True
        await answer(send, 304, doc.etag, limit)
        return True


def requested_wait(query: bytes) -> float | None:
    """The `wait` of a query that has nothing else (0 without one); None when FastAPI should judge it."""
    if not query:
        return 0.0
    key, equals, value = query.partition(b"=")
    if key != b"wait" or not equals or b"&" in value:
        return None
    try:
        wait = float(value)
    except ValueError:
        return None
    return wait if math.isfinite(wait) and 0 <= wait <= MAX_WAIT else None


async def _read(receive: Receive, limit: int) -> tuple[bytes, bool]:
    """The body, up to just past `limit`; whether it is all there (False: larger, or the client went away)."""
    body = bytearray()
    while len(body) <= limit:
        message = await receive()
        if message["type"] != "http.request":
            return bytes(body), False
        body += message.get("body", b"")
        if not message.get("more_body", False):
            return bytes(body), len(body) <= limit
    return bytes(body), False


def _replay(body: bytes, whole: bool, receive: Receive) -> Receive:
    """`receive` for the app after _read: what was read comes first, then whatever is left."""
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": not whole}
        return await receive()

    return replay


def header(scope: dict[str, Any], name: bytes) -> str | None:
    """The first value of header `name` (lower-case), as Starlette's request.headers.get gives it."""
    for key, value in scope.get("headers", ()):
        if key == name:
            return value.decode("latin-1")  # type: ignore[no-any-return]
    return None


async def answer(send: Send, status: int, etag: str, limit: float, data: bytes = b"") -> None:
    headers = [(b"etag", etag.encode("latin-1")), (b"x-long-poll-max", f"{limit:g}".encode())]
    if status == 200:
        headers += [(b"content-type", b"application/octet-stream"), (b"cache-control", b"no-cache"),
                    (b"content-length", str(len(data)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": data})
