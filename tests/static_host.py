"""sync's static host with the faults tests need: a link that drops after N bytes, a slow or trickling one,
and a proxy that stalls after the body."""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from sync import statichost


@dataclass
class HostState(statichost.HostState):
    cut_after: dict[str, int] = field(default_factory=dict)  # path prefix -> bytes after which to drop the link
    seconds_per_64k: float = 0.0  # a slow link: pause after each 64 KiB sent
    trickle: dict[str, tuple[int, float]] = field(default_factory=dict)  # path prefix -> (bytes per write, pause)
    stall_after_body: dict[str, float] = field(default_factory=dict)  # path prefix -> seconds to hold, chunked, unended


class _FaultyHandler(statichost.ChannelHandler):
    state: HostState

    def _fault(self, faults: dict[str, object]) -> object | None:
        return next((v for prefix, v in faults.items() if self.path.startswith(prefix)), None)

    def cut_point(self) -> int | None:
        return self._fault(self.state.cut_after)  # type: ignore[return-value]

    def after_chunk(self) -> None:
        if self.state.seconds_per_64k:
            time.sleep(self.state.seconds_per_64k)

    def _reply(self, status: int, body: bytes, request_headers: dict[str, str], extra: dict[str, str] | None = None,
               cut: int | None = None) -> None:
        trickle, stall = self._fault(self.state.trickle), self._fault(self.state.stall_after_body)
        if status not in (200, 206) or (trickle is None and stall is None):
            return super()._reply(status, body, request_headers, extra, cut)
        with self.state.lock:
            self.state.log.append((self.path, request_headers, status, len(body)))
        self.send_response(status)
        for key, value in (extra or {}).items():
            self.send_header(key, value)
        self.send_header("Connection", "close")
        if stall is not None:  # every byte in one chunk, then neither the final chunk nor a close
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            self.wfile.write(f"{len(body):x}\r\n".encode() + body + b"\r\n")
            self.wfile.flush()
            time.sleep(stall)  # type: ignore[arg-type]
        else:
            step, pause = trickle  # type: ignore[misc]
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            for start in range(0, len(body), step):
                self.wfile.write(body[start:start + step])
                self.wfile.flush()
                time.sleep(pause)
        self.close_connection = True


class StaticHost(statichost.StaticHost):
    handler = _FaultyHandler

    def __init__(self, root, port: int = 0) -> None:  # noqa: ANN001
        super().__init__(root, port)
        self.state = HostState(root)
        self.server.RequestHandlerClass.state = self.state  # type: ignore[attr-defined]
