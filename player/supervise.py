"""Running the sync client as its own process beside the player, restarted if it dies.

A separate process, so a hang or crash in sync (or its GIL use during hashing)
can never stall a frame; the two meet only at the store on disk.
"""

from __future__ import annotations

import logging
import subprocess
import sys
import threading
from pathlib import Path

log = logging.getLogger(__name__)


class Supervisor:
    def __init__(self, command: list[str], name: str, max_wait: float = 60.0) -> None:
        self.command = command
        self.name = name
        self.max_wait = max_wait
        self._stop = threading.Event()
        self._process: subprocess.Popen[bytes] | None = None
        self._thread = threading.Thread(target=self._run, name=f"supervise-{name}", daemon=True)

    def start(self) -> "Supervisor":
        self._thread.start()
        return self

    def _run(self) -> None:
        wait = 1.0
        while not self._stop.is_set():
            try:
                self._process = subprocess.Popen(self.command, stdin=subprocess.DEVNULL)
            except OSError as exc:
                log.error("cannot start %s: %s", self.name, exc)
            else:
                code = self._process.wait()
                if self._stop.is_set():
                    return
                log.error("%s exited with status %s; starting it again in %.0f s", self.name, code, wait)
            self._stop.wait(wait)
            wait = min(self.max_wait, wait * 2)

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        process = self._process
        if process is not None and process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout)
            except subprocess.TimeoutExpired:
                process.kill()
        self._thread.join(timeout)


def sync_process(config_path: Path) -> Supervisor:
    return Supervisor([sys.executable, "-m", "sync", "run", "--config", str(config_path)], "sync client")
