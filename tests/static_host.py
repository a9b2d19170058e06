"""A static file host for tests, like nginx for our purposes: GET with ETag/If-None-Match and byte Ranges.

Python's http.server answers neither ETag nor Range, so this subclass adds them, keeps a log
of requests, and can cut a response after N bytes to play a link that drops.
Runs on 127.0.0.1, port 0, in a thread.
"""

from __future__ import annotations

import http.server
import os
import re
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path


@dataclass
class HostState:
    root: Path
    log: list[tuple[str, dict[str, str], int, int]] = field(default_factory=list)  # path, headers, status, bytes sent
    cut_after: dict[str, int] = field(default_factory=dict)  # path prefix -> bytes after which to drop the link
    seconds_per_64k: float = 0.0  # a slow link: pause after each 64 KiB sent
    lock: threading.Lock = field(default_factory=threading.Lock)

    def requests(self, prefix: str = "") -> list[tuple[str, dict[str, str], int, int]]:
        with self.lock:
            return [entry for entry in self.log if entry[0].startswith(prefix)]


class _Handler(http.server.BaseHTTPRequestHandler):
    state: HostState
    protocol_version = "HTTP/1.1"

    def log_message(self, *args: object) -> None:
        pass

    def do_GET(self) -> None:  # noqa: N802
        path = self.state.root / self.path.lstrip("/").split("?")[0]
        headers = {k: v for k, v in self.headers.items()}
        if ".." in self.path or not path.is_file():
            return self._reply(404, b"not found\n", headers)
        stat = path.stat()
        etag = f'"{stat.st_size:x}-{stat.st_mtime_ns:x}"'
        if self.headers.get("If-None-Match") == etag:
            return self._reply(304, b"", headers, {"ETag": etag})
        data = path.read_bytes()
        status, extra = 200, {"ETag": etag, "Accept-Ranges": "bytes"}
        match = re.match(r"bytes=(\d+)-$", self.headers.get("Range", ""))
        if match:
            start = int(match.group(1))
            if start >= len(data):
                return self._reply(416, b"", headers, {"Content-Range": f"bytes */{len(data)}"})
            extra["Content-Range"] = f"bytes {start}-{len(data) - 1}/{len(data)}"
            data, status = data[start:], 206
        cut = next((n for prefix, n in self.state.cut_after.items() if self.path.startswith(prefix)), None)
        self._reply(status, data, headers, extra, cut)

    def _reply(self, status: int, body: bytes, request_headers: dict[str, str], extra: dict[str, str] | None = None,
               cut: int | None = None) -> None:
        sent = body if cut is None else body[:cut]
        with self.state.lock:  # logged before the client can see the answer, so tests read a complete log
            self.state.log.append((self.path, request_headers, status, len(sent)))
        self.send_response(status)
        for key, value in (extra or {}).items():
            self.send_header(key, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if status not in (304,):
            for start in range(0, len(sent), 65536):
                self.wfile.write(sent[start:start + 65536])
                if self.state.seconds_per_64k:
                    time.sleep(self.state.seconds_per_64k)
        self.wfile.flush()
        if cut is not None and cut < len(body):
            self.close_connection = True
            self.connection.shutdown(2)


class _Server(http.server.ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: object, client_address: object) -> None:
        pass  # a client killed mid-download is what some tests do on purpose


class StaticHost:
    def __init__(self, root: Path) -> None:
        self.state = HostState(root)
        handler = type("Handler", (_Handler,), {"state": self.state})
        self.server = _Server(("127.0.0.1", 0), handler)
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


def touch_later(path: Path) -> None:
    """Bump a file's mtime so its ETag changes even within one clock tick."""
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000))
