"""Screen power: switching the panel off and on at set times, through HDMI-CEC, vcgencmd, xset or a command.

Whether the screen should be on is pure (`should_be_on`, with the schedule's own time
rules, so it is right across midnight and after a clock jump). Running the command is
at the edge, on a thread of its own, so a slow cec-client never stalls a frame.
"""

from __future__ import annotations

import logging
import subprocess
import threading
from dataclasses import dataclass
from datetime import datetime
from typing import Callable

from .when import When

log = logging.getLogger(__name__)

# The commands each method runs: (on, off).
METHODS: dict[str, tuple[tuple[str, ...], tuple[str, ...]] | None] = {
    "none": None,
    "cec": (("sh", "-c", "echo 'on 0' | cec-client -s -d 1"), ("sh", "-c", "echo 'standby 0' | cec-client -s -d 1")),
    "vcgencmd": (("vcgencmd", "display_power", "1"), ("vcgencmd", "display_power", "0")),
    "xset": (("xset", "dpms", "force", "on"), ("xset", "dpms", "force", "off")),
}
COMMAND_TIMEOUT = 20.0


@dataclass(frozen=True)
class PowerSettings:
    on: tuple[When, ...] = ()  # when the screen is on; empty: always
    method: str = "none"
    on_command: tuple[str, ...] = ()  # with method "command"
    off_command: tuple[str, ...] = ()
    check_seconds: float = 30.0

    def commands(self) -> tuple[tuple[str, ...], tuple[str, ...]] | None:
        if self.method == "command":
            return (self.on_command, self.off_command)
        return METHODS.get(self.method)


def should_be_on(rules: tuple[When, ...], now: datetime) -> bool:
    """On while any rule is open (a window past midnight belongs to the day it starts on); no rules: always on."""
    return not rules or any(rule.is_open(now) for rule in rules)


class ScreenPower:
    """Carries out on/off decisions; `on` is what the render loop reads (it draws nothing while off)."""

    def __init__(self, settings: PowerSettings, on_change: Callable[[bool], None] | None = None) -> None:
        self.settings = settings
        self.on = True
        self._decided: bool | None = None
        self.on_change = on_change
        self.last_result = ""

    def check(self, now: datetime) -> None:
        """Decide from `now` and act on a change (called by the `schedule` job at the edge)."""
        wanted = should_be_on(self.settings.on, now)
        if wanted == self._decided:
            return
        self._decided = wanted
        self.on = wanted
        log.info("screen power %s at %s", "on" if wanted else "off", now.isoformat(timespec="minutes"))
        if self.on_change is not None:
            self.on_change(wanted)
        commands = self.settings.commands()
        if commands:
            command = commands[0] if wanted else commands[1]
            threading.Thread(target=self._run, args=(command,), name="screen-power", daemon=True).start()

    def _run(self, command: tuple[str, ...]) -> None:
        try:
            done = subprocess.run(command, capture_output=True, text=True, timeout=COMMAND_TIMEOUT, check=False)
        except (OSError, subprocess.TimeoutExpired) as exc:
            self.last_result = f"{command[0]}: {exc}"
            log.error("screen power command %s failed: %s", " ".join(command), exc)
            return
        self.last_result = f"{command[0]} exited {done.returncode}"
        if done.returncode:
            log.error("screen power command %s exited %d: %s", " ".join(command), done.returncode,
                      (done.stderr or done.stdout).strip()[:300])
