"""Request bodies: a size limit (refused from Content-Length when it says too much, counted when it does not), and
JSON read with bounds, so no body however deep or long becomes a server error."""

from __future__ import annotations

import re
from typing import Any, Awaitable, Callable, Coroutine

from fastapi import Request, Response
from fastapi.routing import APIRoute
from starlette.exceptions import HTTPException

from ..jsondoc import load_json
from .channels import Refused

Scope = dict[str, Any]
Message = dict[str, Any]
ASGIApp = Callable[[Scope, Callable[[], Awaitable[Message]], Callable[[Message], Awaitable[None]]], Awaitable[None]]


async def read_body(request: Request, limit: int) -> bytes:
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        raise Refused(413, f"the body is {declared} bytes; this request takes at most {limit}")
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            raise Refused(413, f"the body is larger than the {limit} bytes this request takes")
    return bytes(body)


class BoundedJSONRequest(Request):
    """A request whose JSON body goes through sync.jsondoc's bounds (depth, digits, no NaN or duplicate keys).

    json.loads raises RecursionError for deep nesting and ValueError past Python's digit limit, which FastAPI
    turns into "400 There was an error parsing the body"; pydantic also takes 1e999 as infinity.
    """

    async def json(self) -> Any:
        if not hasattr(self, "_json"):
            try:
                self._json = load_json(await self.body())
                check_text(self._json)
            except ValueError as exc:
                # An HTTPException, because FastAPI turns anything else raised while it reads a body into a 400.
                raise HTTPException(422, f"body: {exc}; send a JSON object as the API describes (/docs)") from None
        return self._json


class BoundedJSONRoute(APIRoute):
    """The route class of every router here: its requests read JSON with BoundedJSONRequest."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def bounded(request: Request) -> Response:
            for key, value in request.query_params.multi_items():
                try:
                    check_text(value)
                except ValueError as exc:
                    raise HTTPException(422, f"query parameter {key}: {exc}") from None
            return await handler(BoundedJSONRequest(request.scope, request.receive))

        return bounded


def check_text(value: Any) -> None:
    """Text the records can hold on every engine: PostgreSQL refuses NUL in text, and nothing stores an unpaired
    surrogate (\\ud800-\\udfff), which JSON's \\u escapes can spell."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
        elif isinstance(item, str):
            if "\x00" in item:
                raise ValueError("text may not contain NUL (\\u0000)")
            try:
                item.encode("utf-8")
            except UnicodeEncodeError:
                raise ValueError("text may not contain an unpaired surrogate (\\ud800-\\udfff)") from None


class BodyLimit:
    """ASGI middleware: JSON requests larger than `limit` get 413 before anything parses them.

    Blob uploads, manifests and screenshots (the paths matching `exempt`) have their own, larger limits.
    """

    def __init__(self, app: ASGIApp, limit: int, exempt: str) -> None:
        self.app, self.limit, self.exempt = app, limit, re.compile(exempt)

    async def __call__(self, scope: Scope, receive: Callable[[], Awaitable[Message]],
                       send: Callable[[Message], Awaitable[None]]) -> None:
        if scope["type"] != "http" or self.exempt.fullmatch(scope["path"]):
            return await self.app(scope, receive, send)
        headers = dict(scope.get("headers") or [])
        declared = headers.get(b"content-length", b"")
        if declared.isdigit() and int(declared) > self.limit:
            return await _too_large(send, self.limit)
        seen = 0

        async def counted() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.limit:
                    # An HTTPException, because FastAPI turns anything else raised while it reads a body into
                    # "400 There was an error parsing the body".
                    raise HTTPException(413, f"the body is larger than the {self.limit} bytes this request takes "
                                        "(limits.request_kb)")
            return message

        return await self.app(scope, counted, send)


async def _too_large(send: Callable[[Message], Awaitable[None]], limit: int) -> None:
    body = (f'{{"error":"the body is larger than the {limit} bytes this request takes (limits.request_kb)",'
            f'"status":413}}').encode()
    await send({"type": "http.response.start", "status": 413,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
                            (b"connection", b"close")]})
    await send({"type": "http.response.body", "body": body})
