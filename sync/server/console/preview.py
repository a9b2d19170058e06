"""The render worker seen from the server: one spawned process (sync/server/console/worker.py) running the player's
renderer, asked one thing at a time, killed after 20 s on one request, and started again when it died.

The server process itself never imports pygame or PyAV: a preview, a media probe or
a notice picture is a JSON line to the worker and PNG files it writes.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import logging
import os
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

TIMEOUT = 20.0


class PreviewFailed(Exception):
    """The worker could not do it (it said why, it died, or it took longer than 20 s and was killed)."""


class RenderWorker:
    def __init__(self, timeout: float = TIMEOUT) -> None:
        self.timeout = timeout
        self._process: subprocess.Popen[str] | None = None
        self._lock = asyncio.Lock()
        self._ids = itertools.count(1)
        self.started = 0  # how many processes were started (a test watches restarts)

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process and self._process.poll() is None else None

    def _start(self) -> subprocess.Popen[str]:
        if self._process is not None and self._process.poll() is None:
            return self._process
        env = {**os.environ, "SDL_VIDEODRIVER": "dummy", "SDL_AUDIODRIVER": "dummy", "PYGAME_HIDE_SUPPORT_PROMPT": "1"}
        self._process = subprocess.Popen([sys.executable, "-m", "sync.server.console.worker"], stdin=subprocess.PIPE,
                                         stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, encoding="utf-8",
                                         env=env, cwd=str(Path(__file__).parents[3]))
        self.started += 1
        log.info("render worker started (pid %d)", self._process.pid)
        return self._process

    def kill(self) -> None:
        process, self._process = self._process, None
        if process is not None and process.poll() is None:
            process.kill()
            process.wait(5)

    async def ask(self, request: dict[str, Any]) -> dict[str, Any]:
        """One request, answered within the timeout or the worker is killed (and started again next time)."""
        async with self._lock:
            for attempt in (1, 2):
                process = self._start()
                request_id = next(self._ids)
                try:
                    answer = await asyncio.wait_for(asyncio.to_thread(_exchange, process, {**request, "id": request_id}),
                                                    self.timeout)
                except asyncio.TimeoutError:
                    log.error("render worker took over %.0f s on %s; killed", self.timeout, request.get("do"))
                    self.kill()
                    raise PreviewFailed(f"the preview took longer than {self.timeout:.0f} s and was stopped") from None
                except (BrokenPipeError, EOFError, OSError) as exc:
                    log.error("render worker died (%s); starting it again", exc)
                    self.kill()
                    if attempt == 2:
                        raise PreviewFailed("the preview worker stopped twice; see the server's log") from None
                    continue
                if not answer.get("ok"):
                    raise PreviewFailed(str(answer.get("error") or "the preview failed"))
                return answer
        raise AssertionError("unreachable")

    def close(self) -> None:
        process, self._process = self._process, None
        if process is not None and process.poll() is None:
            try:
                process.stdin.close()  # type: ignore[union-attr]
                process.wait(3)
            except (OSError, subprocess.TimeoutExpired):
                process.kill()


_io = threading.Lock()


def _exchange(process: subprocess.Popen[str], request: dict[str, Any]) -> dict[str, Any]:
    with _io:
        assert process.stdin is not None and process.stdout is not None
        process.stdin.write(json.dumps(request, ensure_ascii=False) + "\n")
        process.stdin.flush()
        while True:
            line = process.stdout.readline()
            if not line:
                raise EOFError("the worker closed its output")
            answer: dict[str, Any] = json.loads(line)
            if answer.get("id") == request["id"]:
                return answer
