"""The two requests every screen makes all day, answered before FastAPI's routing: a long-poll of a channel
document and a heartbeat.

At 10,000 screens the server holds 20,000 long-polls and answers hundreds of requests a second. Through
FastAPI each one passes eight middlewares, a router, dependency and parameter resolution and a Response
object, and held requests keep all of those frames alive; here a long-poll is a regex, the same in-memory
document and one future, and a heartbeat is the same bounded JSON read, the same model and the same
take_heartbeat. The answers are what the API routes give. Anything unusual (HEAD, another query
parameter, a wait out of range, a channel with nothing published, another scheme or content type, a body
the route would refuse) goes on to FastAPI, with the body read so far, and FastAPI answers it with its
checks and its JSON errors; an unknown token or a database error while storing a heartbeat is answered
here with the JSON of FastAPI's handlers (app.refused_json, database_down_json), so nothing runs twice.
GET /api/health counts what this path answered.
"""

from __future__ import annotations

import math
from collections import Counter
import random
import re
from typing import Any, Awaitable, Callable

from fastapi.responses import JSONResponse
from pydantic import ValidationError
from sqlalchemy.exc import DataError

from ..jsondoc import load_json
from .app import DATABASE_ERRORS, database_down_json, refused_json, unstorable_json
from .auth import screen
from .bodies import check_text
from .channels import Channels, Refused
from .fleet_api import Heartbeat, take_heartbeat
from .tokens import Presented, parse_token

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
        self.answered: Counter[str] = Counter()  # what this path answered itself (GET /api/health shows it)
        app.state.fast_path = self

    @property
    def state(self) -> Any:
        return self.app.state

    async def __call__(self, scope: dict[str, Any], receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] == "GET":
            found = DOCUMENT.fullmatch(scope["path"])
            wait = requested_wait(scope.get("query_string", b"")) if found else None
            if found and wait is not None and await self._document(found[1], found[2], wait, scope, send):
                self.answered["long-poll"] += 1
                return
        elif scope["type"] == "http" and scope["method"] == "POST" and scope["path"] == HEARTBEAT:
            await self._heartbeat(scope, receive, send)
            return
        await self.app(scope, receive, send)

    async def _heartbeat(self, scope: dict[str, Any], receive: Receive, send: Send) -> None:
        """Take a plain heartbeat as fleet_api.heartbeat does. A request whose form the route would judge (another
        scheme or content type, a query, a body declared too large, one that does not validate) goes on to
        FastAPI, with the body read so far; once the heartbeat is being stored, its errors are answered here,
        as FastAPI's handlers answer them, so nothing is stored or looked up twice."""
        limit = self.app.state.settings.limits.request_kb * 1024
        token = _bearer(header(scope, b"authorization"))
        declared = header(scope, b"content-length")
        if (token is None or token.kind != "screen" or scope.get("query_string")
                or not _json(header(scope, b"content-type"))
                or (declared is not None and not (declared.isdigit() and int(declared) <= limit))):
            await self.app(scope, receive, send)
            return
        read = await _read(receive, limit)
        if read is None:
            return  # the screen went away mid-body
        body, more = read
        try:
            if more:
                raise ValueError("larger than the limit")
            value = load_json(body)
            check_text(value)
            beat = Heartbeat.model_validate(value)
        except (ValueError, ValidationError):  # FastAPI says what is wrong, as it always has
            await self.app(scope, _replay(body, more, receive), send)
            return
        client = scope.get("client")
        try:
            answer = await take_heartbeat(self.app.state, beat, token, client[0] if client else "")
            response = JSONResponse(answer) if answer is not None else refused_json(screen.unknown())
        except Refused as exc:
            response = refused_json(exc)
        except DATABASE_ERRORS as exc:
            response = database_down_json("POST", HEARTBEAT, exc)
        except DataError as exc:
            response = unstorable_json(exc)
        self.answered["heartbeat"] += 1
        await send({"type": "http.response.start", "status": response.status_code, "headers": response.raw_headers})
        await send({"type": "http.response.body", "body": response.body})

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


async def _read(receive: Receive, limit: int) -> tuple[bytes, bool] | None:
    """The body, up to just past `limit`, and whether more is to come (it is then too large); None if the client
    went away."""
    body = bytearray()
    while True:
        message = await receive()
        if message["type"] != "http.request":
            return None
        body += message.get("body", b"")
        more = bool(message.get("more_body", False))
        if not more or len(body) > limit:
            return bytes(body), more


def _replay(body: bytes, more: bool, receive: Receive) -> Receive:
    """`receive` for the app after _read: what was read comes first, then whatever is left."""
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": more}
        return await receive()

    return replay


def _bearer(authorization: str | None) -> Presented | None:
    """The token of `Authorization: Bearer TOKEN` exactly; another scheme or spelling is FastAPI's to judge."""
    scheme, _, value = (authorization or "").partition(" ")
    return parse_token(value) if scheme == "Bearer" else None


def _json(content_type: str | None) -> bool:
    return (content_type or "").partition(";")[0].strip().lower() == "application/json"


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
