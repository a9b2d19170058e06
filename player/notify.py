"""Telling systemd how the player is doing: sd_notify datagrams (READY, WATCHDOG, STOPPING, STATUS) over $NOTIFY_SOCKET.

The protocol is a few newline-separated `KEY=value` lines in one datagram sent
to the AF_UNIX socket systemd names in $NOTIFY_SOCKET (a path, or `@name` for
an abstract socket). Without systemd the variable is unset and every call here
does nothing. Nothing here raises into the caller: a failed send is logged once
and the player plays on.

The watchdog pings come from the render loop itself (`Watchdog.beat` once a
frame), so a frozen loop stops them and systemd kills and restarts the player.
"""

from __future__ import annotations

import logging
import socket
from collections.abc import Mapping

log = logging.getLogger(__name__)


class Notifier:
    """Sends sd_notify messages to one socket address; a no-op when the address is None."""

    def __init__(self, address: str | None) -> None:
        self.address = address or None
        self._sock: socket.socket | None = None
        self._failed = False

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> Notifier:
        return cls(env.get("NOTIFY_SOCKET"))

    @property
    def enabled(self) -> bool:
        return self.address is not None

    def send(self, *fields: str) -> bool:
        """Send `KEY=value` fields in one datagram; True if it went out (False without systemd or on failure)."""
        if self.address is None:
            return False
        try:
            target = self._target(self.address)
            if self._sock is None:
                self._sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
                # A stalled systemd must not stall a frame: a full queue drops the ping instead.
                self._sock.setblocking(False)
            self._sock.sendto("\n".join(fields).encode("utf-8"), target)
        except (OSError, ValueError) as exc:
            if not self._failed:
                log.warning("cannot notify systemd at NOTIFY_SOCKET=%s: %s (further failures are not logged)",
                            self.address, exc)
                self._failed = True
            return False
        return True

    def ready(self, status: str | None = None) -> bool:
        return self.send("READY=1", *([_status(status)] if status else []))

    def watchdog(self) -> bool:
        return self.send("WATCHDOG=1")

    def stopping(self) -> bool:
        return self.send("STOPPING=1")

    def status(self, text: str) -> bool:
        return self.send(_status(text))

    def close(self) -> None:
        if self._sock is not None:
            self._sock.close()
            self._sock = None

    @staticmethod
    def _target(address: str) -> str:
        if address.startswith("@"):
            return "\0" + address[1:]  # Linux abstract namespace
        if address.startswith("/"):
            return address
        raise ValueError("only a path or an @abstract name is supported")


def _status(text: str) -> str:
    return "STATUS=" + " ".join(text.split())  # a newline would start a new field


class Watchdog:
    """Pings systemd's watchdog at most every `interval` seconds of the monotonic times given to `beat`."""

    def __init__(self, notifier: Notifier, interval: float | None) -> None:
        self.notifier = notifier
        self.interval = interval if notifier.enabled else None
        self._next: float | None = None

    @classmethod
    def from_env(cls, notifier: Notifier, env: Mapping[str, str], pid: int) -> Watchdog:
        """Half of $WATCHDOG_USEC, as systemd advises; off when unset, invalid or meant for another process."""
        usec = env.get("WATCHDOG_USEC")
        if not usec:
            return cls(notifier, None)
        owner = env.get("WATCHDOG_PID")
        if owner and owner.strip() != str(pid):
            return cls(notifier, None)
        try:
            value = int(usec)
        except ValueError:
            value = 0
        if value <= 0:
            log.warning("WATCHDOG_USEC=%r is not a positive number of microseconds: no watchdog pings", usec)
            return cls(notifier, None)
        return cls(notifier, value / 2 / 1_000_000)

    @property
    def enabled(self) -> bool:
        return self.interval is not None

    def beat(self, mono: float) -> None:
        """Call once a frame from the render loop with the frame's monotonic time."""
        if self.interval is None or (self._next is not None and mono < self._next):
            return
        self.notifier.watchdog()
        self._next = mono + self.interval
