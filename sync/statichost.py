"""A small static file host for a published channel folder: GET with ETag/If-None-Match and byte Ranges.

What nginx or object storage does for a channel, in a thread on 127.0.0.1, for the
one-machine demo and the tests (Python's http.server answers neither ETag nor Range).
"""

from __future__ import annotations

import http.server
import re
import threading
from dataclasses import dataclass, field
from pathlib import Path

CHUNK = 65536


@dataclass
class HostState:
    root: Path
    log: list[tuple[str, dict[str, str], int, int]] = field(default_factory=list)  # path, headers, status, bytes sent
    lock: threading.Lock = field(default_factory=threading.Lock)

    def requests(self, prefix: str = "") -> list[tuple[str, dict[str, str], int, int]]:
        with self.lock:
            return [entry for entry in self.log if entry[0].startswith(prefix)]


class ChannelHandler(http.server.BaseHTTPRequestHandler):
    state: HostState
    protocol_version = "HTTP/1.1"

    def log_message(self, *args: object) -> None:
        pass

    def cut_point(self) -> int | None:
        """Bytes after which to drop the connection (tests play a link that drops); None: send it all."""
        return None

    def after_chunk(self) -> None:
        """Called after each 64 KiB sent (tests slow the link down here)."""

    def do_GET(self) -> None:  # noqa: N802
        relative = self.path.split("?")[0].lstrip("/")
        path = (self.state.root / relative).resolve()
        headers = dict(self.headers.items())
        if ".." in relative.split("/") or not path.is_relative_to(self.state.root.resolve()) or not path.is_file():
            return self._reply(404, b"not found\n", headers)
        stat = path.stat()
        etag = f'"{stat.st_size:x}-{stat.st_mtime_ns:x}"'
        if self.headers.get("If-None-Match") == etag:
            return self._reply(304, b"", headers, {"ETag": etag})
        data = path.read_bytes()
        status, extra = 200, {"ETag": etag, "Accept-Ranges": "bytes"}
        match = re.fullmatch(r"bytes=(\d+)-", self.headers.get("Range", ""))
        if match:
            start = int(match.group(1))
            if start >= len(data):
                return self._reply(416, b"", headers, {"Content-Range": f"bytes */{len(data)}"})
            extra["Content-Range"] = f"bytes {start}-{len(data) - 1}/{len(data)}"
            data, status = data[start:], 206
        self._reply(status, data, headers, extra, self.cut_point())

    def _reply(self, status: int, body: bytes, request_headers: dict[str, str], extra: dict[str, str] | None = None,
               cut: int | None = None) -> None:
        sent = body if cut is None else body[:cut]
        with self.state.lock:  # logged before the client can see the answer, so a reader never sees a log one short
            self.state.log.append((self.path, request_headers, status, len(sent)))
        self.send_response(status)
        for key, value in (extra or {}).items():
            self.send_header(key, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if status != 304:
            for start in range(0, len(sent), CHUNK):
                self.wfile.write(sent[start:start + CHUNK])
                self.after_chunk()
        self.wfile.flush()
        if cut is not None and cut < len(body):
            self.close_connection = True
            self.connection.shutdown(2)


class _Server(http.server.ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: object, client_address: object) -> None:
        pass  # a screen that goes away mid-download is normal on a border link


class StaticHost:
    """Serve `root` on 127.0.0.1 (port 0: any free one) in a thread: `with StaticHost(folder) as host: host.url`."""

    handler: type[ChannelHandler] = ChannelHandler

    def __init__(self, root: Path, port: int = 0) -> None:
        self.state = HostState(root)
        handler = type("Handler", (self.handler,), {"state": self.state})
        self.server = _Server(("127.0.0.1", port), handler)
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/"

    def __enter__(self) -> "StaticHost":
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()
