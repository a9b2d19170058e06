"""The simulated fleet for bench/server_load.py, in its own process: screens on asyncio protocols (uvloop).

    .venv/bin/python -m bench.load_generator CONFIG.json

Each screen holds keep-alive HTTP/1.1 connections as sync/screen.py does: long-polls of the
channel's manifest (and notices), asked again soon after each answer, and a heartbeat every few
seconds. CONFIG (written by server_load.py) names the server, the screens' tokens and the timing;
the result (latencies, answers, errors, this process's CPU) is written where CONFIG says.
"""

from __future__ import annotations

import asyncio
import json
import os
import resource
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

CHANNEL = "gate"
REPOLL_SECONDS = 0.2  # sync/screen.py asks a server that holds requests again this soon
HEARTBEAT_TIMEOUT = 10.0
CONNECT_TIMEOUT = 10.0


def source_address(host: str, n: int) -> str | None:
    """Screen n's own loopback address (127.0.0.2-127.0.0.17 in turn): one source address has ~28,000 ports
    (ip_local_port_range), and 10,000 screens hold 30,000 connections to one server port."""
    return f"127.0.0.{2 + n % 16}" if host == "127.0.0.1" else None


def raise_open_files(need: int) -> int:
    """Raise the soft RLIMIT_NOFILE to `need` (up to the hard limit); returns the soft limit now in force."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard != resource.RLIM_INFINITY and hard < need:
        try:  # root may raise the hard limit too (10,000 screens need 30,000 sockets)
            resource.setrlimit(resource.RLIMIT_NOFILE, (need, need))
            return need
        except (ValueError, OSError):
            pass
    if soft != resource.RLIM_INFINITY and soft < need:
        soft = need if hard == resource.RLIM_INFINITY else min(need, hard)
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))
    return soft


class Connection:
    """One keep-alive HTTP/1.1 connection to the server; reconnects when the server has closed it.

    An asyncio Protocol with one future per request, not StreamReader lines under asyncio.wait_for: the
    generator shares the machine's two cores with the server, and every millisecond it spends on a
    request is one the server does not get (the streams version cost about 0.9 ms a request).
    """

    def __init__(self, host: str, port: int, fleet: Fleet, source: str | None = None) -> None:
        self.host, self.port, self.fleet, self.source = host, port, fleet, source
        self.protocol: _Answers | None = None

    async def request(self, head: bytes, body: bytes, timeout: float) -> tuple[int, dict[str, str], bytes]:
        loop = asyncio.get_running_loop()
        for attempt in range(2):
            reused = self.protocol is not None and not self.protocol.closed
            if not reused:
                if self.protocol is not None:  # the server closed it while it was idle
                    self.fleet.reconnects += 1
                self.close()
                _, self.protocol = await asyncio.wait_for(
                    loop.create_connection(_Answers, self.host, self.port,
                                           local_addr=(self.source, 0) if self.source else None), CONNECT_TIMEOUT)
            assert self.protocol is not None
            answer = self.protocol.send(head + body)
            timer = loop.call_later(timeout, _time_out, answer)
            try:
                status, headers, data = await answer
            except ConnectionResetError:
                if reused and attempt == 0 and not self.protocol.got_bytes:  # closed while idle: as urllib3 does
                    self.close()
                    self.fleet.reconnects += 1
                    continue
                self.close()
                raise
            except BaseException:
                self.close()
                raise
            finally:
                timer.cancel()
            if headers.get("connection", "").lower() == "close":
                self.close()
            return status, headers, data
        raise ConnectionError("the server closed the connection without answering")

    def close(self) -> None:
        if self.protocol is not None:
            self.protocol.abort()
        self.protocol = None


def _time_out(answer: asyncio.Future[Any]) -> None:
    if not answer.done():
        answer.set_exception(asyncio.TimeoutError())


class _Answers(asyncio.Protocol):
    """The bytes of one connection, cut into answers (Content-Length or chunked bodies; a 304 has none)."""

    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.buffer = bytearray()
        self.waiting: asyncio.Future[tuple[int, dict[str, str], bytes]] | None = None
        self.closed = False
        self.got_bytes = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def send(self, data: bytes) -> asyncio.Future[tuple[int, dict[str, str], bytes]]:
        assert self.transport is not None
        self.waiting = asyncio.get_running_loop().create_future()
        self.got_bytes = False
        if self.transport.is_closing():  # closed by the server; connection_lost has not run yet
            self.waiting.set_exception(ConnectionResetError("the server closed the connection"))
            return self.waiting
        self.transport.write(data)
        return self.waiting

    def data_received(self, data: bytes) -> None:
        self.got_bytes = True
        self.buffer += data
        try:
            answer = self._cut()
        except (ValueError, IndexError) as exc:
            self._fail(ConnectionError(f"bad answer: {exc}"))
            return
        if answer is not None and self.waiting is not None and not self.waiting.done():
            self.waiting.set_result(answer)

    def _cut(self) -> tuple[int, dict[str, str], bytes] | None:
        end = self.buffer.find(b"\r\n\r\n")
        if end < 0:
            return None
        lines = bytes(self.buffer[:end]).decode("latin-1").split("\r\n")
        parts = lines[0].split(" ", 2)
        if len(parts) < 2 or not parts[1].isdigit():
            raise ValueError(f"bad status line {lines[0][:80]!r}")
        headers = {}
        for line in lines[1:]:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        rest = self.buffer[end + 4:]
        if headers.get("transfer-encoding", "").lower() == "chunked":
            body, at = bytearray(), 0
            while True:
                eol = rest.find(b"\r\n", at)
                if eol < 0:
                    return None
                size = int(bytes(rest[at:eol]).split(b";")[0], 16)
                if len(rest) < eol + 2 + size + 2:
                    return None
                body += rest[eol + 2:eol + 2 + size]
                at = eol + 2 + size + 2
                if size == 0:
                    del self.buffer[:end + 4 + at]
                    return int(parts[1]), headers, bytes(body)
        length = int(headers.get("content-length", "0"))
        if len(rest) < length:
            return None
        del self.buffer[:end + 4 + length]
        return int(parts[1]), headers, bytes(rest[:length])

    def _fail(self, exc: BaseException) -> None:
        self.closed = True
        if self.waiting is not None and not self.waiting.done():
            self.waiting.set_exception(exc)

    def connection_lost(self, exc: Exception | None) -> None:
        self._fail(ConnectionResetError("the server closed the connection"))

    def abort(self) -> None:
        self.closed = True
        if self.transport is not None:
            self.transport.abort()


@dataclass
class Fleet:
    """What the simulated screens saw, written out as the generator's result."""

    heartbeat_ms: list[float] = field(default_factory=list)
    heartbeat_sent: list[float] = field(default_factory=list)
    long_polls: Counter[str] = field(default_factory=Counter)
    errors: Counter[str] = field(default_factory=Counter)
    error_samples: list[str] = field(default_factory=list)
    reconnects: int = 0

    def error(self, kind: str, detail: str) -> None:
        self.errors[kind] += 1
        if self.errors[kind] <= 3 and len(self.error_samples) < 30:  # a few of each kind, not ten of the first
            self.error_samples.append(f"{kind}: {detail}"[:300])


async def long_poll(n: int, name: str, conn: Connection, first_wait: float, wait: float, boot: float, end: float,
                    fleet: Fleet, seen: dict[str, float]) -> None:
    """One screen's loop on the channel's `name`: fetch it, then long-poll it with If-None-Match until the run ends.

    `seen` gets the wall time at which each ETag first came back.
    """
    await _sleep_until(boot)
    etag, this_wait = None, first_wait
    for _ in range(100000):
        if time.monotonic() >= end:
            return
        asked_with = etag
        query = f"?wait={this_wait:g}" if etag else ""  # as sync.client asks: a wait only with an ETag
        lines = [f"GET /channels/{CHANNEL}/{name}{query} HTTP/1.1", f"Host: {conn.host}:{conn.port}",
                 "User-Agent: kiosk-bench"]  # the static layout: screens read it without a token
        if etag:
            lines.append(f"If-None-Match: {etag}")
        head = ("\r\n".join(lines) + "\r\n\r\n").encode()
        try:
            status, headers, _ = await conn.request(head, b"", this_wait + 10)
        except (OSError, asyncio.IncompleteReadError, asyncio.TimeoutError, ValueError) as exc:
            fleet.error(f"{name} long-poll {type(exc).__name__}", f"screen {n}: {exc!r}")
            conn.close()
            await asyncio.sleep(1.0)
            continue
        fleet.long_polls[f"{name} {status}"] += 1
        if status == 200 and headers.get("etag"):
            etag = headers["etag"]
            seen.setdefault(etag, time.time())
        elif status != 304 or headers.get("etag") != etag:
            fleet.error(f"{name} long-poll status {status}", f"screen {n}: {headers.get('etag')} after {etag}")
            await asyncio.sleep(1.0)
        if asked_with:  # the first fetch has nothing to wait for; the first real long-poll gets first_wait
            this_wait = wait
        await asyncio.sleep(REPOLL_SECONDS)


async def heartbeats(n: int, conn: Connection, token: str, first: float, every: float, end: float, fleet: Fleet) -> None:
    """One screen's heartbeat loop: a POST every `every` seconds from `first`, none at or after `end`."""
    started = time.monotonic()
    due = first
    for _ in range(100000):
        if due >= end:
            return
        await _sleep_until(due)
        beat = {"version": "0.1.0", "generation": 1, "item": "welcome", "playlist": "day",
                "uptime": round(time.monotonic() - started, 1), "free_disk_mb": 12000.0,
                "clock": datetime.now(timezone.utc).astimezone().isoformat(timespec="milliseconds"),
                "clock_trusted": True, "last_error": None, "fallback": False, "screen_on": True}
        body = json.dumps(beat).encode()
        head = (f"POST /api/heartbeat HTTP/1.1\r\nHost: {conn.host}:{conn.port}\r\nAuthorization: Bearer {token}\r\n"
                f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\nUser-Agent: kiosk-bench\r\n\r\n").encode()
        sent, sent_wall = time.monotonic(), time.time()
        try:
            status, _, answer = await conn.request(head, body, HEARTBEAT_TIMEOUT)
        except (OSError, asyncio.IncompleteReadError, asyncio.TimeoutError, ValueError) as exc:
            fleet.error("heartbeat " + type(exc).__name__, f"screen {n}: {exc!r}")
            conn.close()
        else:
            if status == 200:
                fleet.heartbeat_ms.append(1000 * (time.monotonic() - sent))
                fleet.heartbeat_sent.append(sent_wall)
            else:
                fleet.error(f"heartbeat status {status}", f"screen {n}: {answer[:200]!r}")
        due += every


async def _sleep_until(when: float) -> None:
    delay = when - time.monotonic()
    if delay > 0:
        await asyncio.sleep(delay)


async def generate(config: dict[str, Any]) -> dict[str, Any]:
    host, _, port = config["url"].removeprefix("http://").partition(":")
    tokens: list[str] = config["tokens"]
    # This process plays screens offset…offset+len(tokens) of `total` (one process holds at most ~15,000 sockets).
    offset, count = int(config.get("offset", 0)), int(config.get("total", len(tokens)))
    zero = time.monotonic() + (config["start"] - time.time())  # the shared wall-clock start, on this monotonic clock
    end = zero + config["seconds"]
    wait, every, ramp = float(config["wait"]), float(config["heartbeat"]), float(config["ramp"])
    fleet = Fleet()
    seen: list[dict[str, float]] = [{} for _ in tokens]
    names = ["manifest", "notices"] if config["notices"] else ["manifest"]
    connections: list[Connection] = []
    polls, beats = [], []
    for n, token in enumerate(tokens, start=offset):
        first_wait, boot = wait * (1 - 0.5 * ((n * 7919) % count) / count), zero - ramp + ramp * n / count
        for name in names:
            connections.append(Connection(host, int(port), fleet, source_address(host, n)))
            polls.append(asyncio.create_task(long_poll(n, name, connections[-1], first_wait, wait, boot, end, fleet,
                                                       seen[n - offset] if name == "manifest" else {})))
        connections.append(Connection(host, int(port), fleet, source_address(host, n)))
        beats.append(asyncio.create_task(heartbeats(n, connections[-1], token, zero + every * n / count, every, end,
                                                    fleet)))
    await _sleep_until(zero)
    cpu = os.times()
    await _sleep_until(end)
    for task in polls:
        task.cancel()  # a long-poll still waiting at the end is not an error
    await asyncio.gather(*polls, return_exceptions=True)
    done, late = await asyncio.wait(beats, timeout=HEARTBEAT_TIMEOUT + 5)
    for task in late:
        task.cancel()
        fleet.error("heartbeat still running at the end", "")
    for task in done:
        if task.exception() is not None:
            fleet.error("heartbeat loop " + type(task.exception()).__name__, str(task.exception()))
    for conn in connections:
        conn.close()
    await asyncio.sleep(0.1)
    after = os.times()
    return {"cpu_s": (after.user - cpu.user) + (after.system - cpu.system), "heartbeat_ms": fleet.heartbeat_ms, "heartbeat_sent": fleet.heartbeat_sent, "long_polls": fleet.long_polls, "errors": fleet.errors,
            "error_samples": fleet.error_samples, "reconnects": fleet.reconnects, "etags_seen": seen}


def generator_main(config_path: Path) -> int:
    config = json.loads(config_path.read_text())
    raise_open_files(3 * len(config["tokens"]) + 256)
    try:
        import uvloop  # uvicorn[standard]'s event loop, which the server runs on too

        result = uvloop.run(generate(config))
    except KeyboardInterrupt:
        return 130
    Path(config["result"]).write_text(json.dumps(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(generator_main(Path(sys.argv[1])))
