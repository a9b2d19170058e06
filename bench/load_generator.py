"""The simulated fleet for bench/server_load.py, in its own process: screens on asyncio streams.

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
    """One keep-alive HTTP/1.1 connection to the server; reconnects when the server has closed it."""

    def __init__(self, host: str, port: int, fleet: Fleet) -> None:
        self.host, self.port, self.fleet = host, port, fleet
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def request(self, head: bytes, body: bytes, timeout: float) -> tuple[int, dict[str, str], bytes]:
        for attempt in range(2):
            reused = self.writer is not None
            if self.writer is None:
                self.reader, self.writer = await asyncio.wait_for(
                    asyncio.open_connection(self.host, self.port), CONNECT_TIMEOUT)
            assert self.reader is not None
            self.writer.write(head + body)
            await self.writer.drain()
            status_line = await asyncio.wait_for(self.reader.readline(), timeout)
            if not status_line and reused and attempt == 0:  # the server closed the idle connection: as urllib3 does
                self.close()
                self.fleet.reconnects += 1
                continue
            return await asyncio.wait_for(self._rest(status_line), timeout)
        raise ConnectionError("the server closed the connection without answering")

    async def _rest(self, status_line: bytes) -> tuple[int, dict[str, str], bytes]:
        assert self.reader is not None
        parts = status_line.split(b" ", 2)
        if len(parts) < 2 or not parts[1].isdigit():
            raise ConnectionError(f"bad status line {status_line[:80]!r}")
        headers: dict[str, str] = {}
        for _ in range(100):
            line = await self.reader.readline()
            if line in (b"\r\n", b"\n", b""):
                break
            name, _, value = line.decode("latin-1").partition(":")
            headers[name.strip().lower()] = value.strip()
        if headers.get("transfer-encoding", "").lower() == "chunked":
            body = bytearray()
            for _ in range(100000):
                size = int((await self.reader.readline()).split(b";")[0], 16)
                chunk = await self.reader.readexactly(size + 2)
                if size == 0:
                    break
                body += chunk[:-2]
        else:
            body = bytearray(await self.reader.readexactly(int(headers.get("content-length", "0"))))
        if headers.get("connection", "").lower() == "close":
            self.close()
        return int(parts[1]), headers, bytes(body)

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
        self.reader = self.writer = None


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
        if len(self.error_samples) < 10:
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
            connections.append(Connection(host, int(port), fleet))
            polls.append(asyncio.create_task(long_poll(n, name, connections[-1], first_wait, wait, boot, end, fleet,
                                                       seen[n - offset] if name == "manifest" else {})))
        connections.append(Connection(host, int(port), fleet))
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
        result = asyncio.run(generate(config))
    except KeyboardInterrupt:
        return 130
    Path(config["result"]).write_text(json.dumps(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(generator_main(Path(sys.argv[1])))
