"""The request every screen holds all day, answered before FastAPI's routing: a long-poll of a channel document.

At 10,000 screens the server holds 20,000 of these and answers hundreds a second. Through FastAPI each
one passes eight middlewares, a router, parameter validation and a Response object, and held requests
keep all of those frames alive; here it is a regex, the same in-memory document and one future. The
answer is byte-for-byte what content_api.channel_document gives. Anything unusual (HEAD, another query
parameter, a wait out of range, a channel with nothing published) goes on to FastAPI, which answers it
with its checks and its JSON errors.
"""

from __future__ import annotations

import math
import random
import re
from typing import Any, Awaitable, Callable

from .channels import Channels

Message = dict[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
DOCUMENT = re.compile(r"/channels/([a-z0-9][a-z0-9_-]{0,63})/(manifest|publishers|notices)")
MAX_WAIT = 600.0  # content_api.channel_document's `wait` bound


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
        await self.app(scope, receive, send)

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
