"""The seam between the updater and whatever runs the player: systemd on a screen, the stand-in supervisor elsewhere.

Both answer the same two things: restart the player (it starts from whatever
`current` points at), and how is it doing (which run, READY or not, how many
automatic restarts, why the last run ended).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from sync.update_area import read_small_json

from .errors import ServiceError

PLAYER_UNIT = "kiosk-player.service"


@dataclass(frozen=True)
class PlayerState:
    invocation: str  # a new value for every start of the player process
    ready: bool  # this run sent READY=1 (for systemd's Type=notify: active and running)
    restarts: int  # automatic restarts so far (a crash, a watchdog kill); a restart asked for is not counted
    pid: int | None = None
    detail: str = ""  # why the last run ended, when it did (for the rollback's reason)


class ServiceManager(Protocol):
    def restart_player(self) -> None:
        """Stop the player and start it again (without waiting for READY)."""

    def player_state(self) -> PlayerState:
        """The player's state now."""


class Systemd:
    """kiosk-player.service through systemctl."""

    def __init__(self, unit: str = PLAYER_UNIT, systemctl: str = "systemctl") -> None:
        self.unit, self.systemctl = unit, systemctl

    def restart_player(self) -> None:
        self._run("restart", "--no-block", self.unit)

    def player_state(self) -> PlayerState:
        return parse_show(self._run("show", self.unit, "--property",
                                    "InvocationID,ActiveState,SubState,NRestarts,MainPID,Result,ExecMainStatus"))

    def _run(self, *args: str) -> str:
        try:
            done = subprocess.run([self.systemctl, *args], capture_output=True, text=True, timeout=60)
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise ServiceError(f"systemctl {' '.join(args)}: {exc}") from None
        if done.returncode != 0:
            raise ServiceError(f"systemctl {' '.join(args)} failed: {done.stderr.strip()[:300]}")
        return done.stdout


def parse_show(text: str) -> PlayerState:
    """`systemctl show` output (KEY=value lines) as a PlayerState."""
    values = dict(line.split("=", 1) for line in text.splitlines() if "=" in line)
    ready = values.get("ActiveState") == "active" and values.get("SubState") == "running"
    pid = int(values.get("MainPID") or 0) or None
    result, status = values.get("Result", ""), values.get("ExecMainStatus", "")
    detail = "" if result in ("", "success") else f"{result}, exit status {status}" if status else result
    return PlayerState(values.get("InvocationID", ""), ready, int(values.get("NRestarts") or 0), pid, detail)


class Supervised:
    """The stand-in supervisor (updater/supervisor.py) through its folder: a status file and SIGHUP."""

    def __init__(self, run_dir: Path) -> None:
        self.run_dir = run_dir

    def restart_player(self) -> None:
        try:
            pid = int((self.run_dir / "supervisor.pid").read_text())
            os.kill(pid, signal.SIGHUP)
        except (OSError, ValueError) as exc:
            raise ServiceError(f"the supervisor in {self.run_dir} does not answer: {exc}") from None

    def player_state(self) -> PlayerState:
        raw = read_small_json(self.run_dir / "status.json")
        if not raw:
            raise ServiceError(f"the supervisor in {self.run_dir} has written no status")
        return PlayerState(str(raw.get("invocation", "")), bool(raw.get("ready")), int(raw.get("restarts", 0)),
                           raw.get("pid"), str(raw.get("detail", "")))


def supervisor_status(run_dir: Path) -> dict[str, object]:
    """The supervisor's whole status record (tests and `updater status` show more than PlayerState)."""
    return json.loads((run_dir / "status.json").read_text(encoding="utf-8"))  # type: ignore[no-any-return]
