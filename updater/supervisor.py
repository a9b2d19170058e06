"""A stand-in for what systemd does for kiosk-player.service, for tests and machines without systemd.

    python -m updater.supervisor --run DIR [--watchdog-sec 30] [--restart-sec 2] -- COMMAND ...

Runs COMMAND in its own process group with $NOTIFY_SOCKET (a real datagram socket,
DIR/notify.sock) and $WATCHDOG_USEC set, hears READY=1 and WATCHDOG=1 on it, and,
like the unit (Restart=always, RestartPreventExitStatus=64, WatchdogSec,
TimeoutStartSec), starts it again after it exits, misses the watchdog or never
gets ready. What it sees goes to DIR/status.json; SIGHUP restarts the command (what
`systemctl restart` does for the updater), SIGTERM stops it and the supervisor.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import select
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

from sync.layout import write_atomic

log = logging.getLogger(__name__)

NO_RESTART = 64  # the staff's exit from touch mode (RestartPreventExitStatus=64)


class Supervisor:
    def __init__(self, run_dir: Path, command: list[str], watchdog_sec: float = 30.0, restart_sec: float = 2.0,
                 start_timeout: float = 90.0, stop_timeout: float = 15.0) -> None:
        self.run_dir, self.command = run_dir, command
        self.watchdog_sec, self.restart_sec = watchdog_sec, restart_sec
        self.start_timeout, self.stop_timeout = start_timeout, stop_timeout
        self.child: subprocess.Popen[bytes] | None = None
        self.runs = 0
        self.ready = False
        self.restarts = 0
        self.watchdog_kills = 0
        self.detail = ""
        self.status_text = ""
        self.started = self.last_ping = 0.0
        self.next_start: float | None = 0.0
        self.killing: str | None = None  # why the running child is being killed (watchdog, start timeout)
        self.kill_deadline = 0.0
        self.wanted_restart = False
        self.stopping = False

    def serve(self) -> int:
        self.run_dir.mkdir(parents=True, exist_ok=True)
        address = self.run_dir / "notify.sock"
        address.unlink(missing_ok=True)
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        sock.bind(str(address))
        signal.signal(signal.SIGHUP, lambda *_: setattr(self, "wanted_restart", True))
        signal.signal(signal.SIGTERM, lambda *_: setattr(self, "stopping", True))
        signal.signal(signal.SIGINT, lambda *_: setattr(self, "stopping", True))
        write_atomic(self.run_dir / "supervisor.pid", str(os.getpid()).encode())
        try:
            while not self.stopping:
                self._tick(sock, address)
        finally:
            self._stop_child("stopped")
            self._write()
            sock.close()
            address.unlink(missing_ok=True)
        return 0

    def _tick(self, sock: socket.socket, address: Path) -> None:
        now = time.monotonic()
        if self.wanted_restart:
            self.wanted_restart = False
            self._stop_child("restarted on request")
            self.next_start = now
        if self.child is None and self.next_start is not None and now >= self.next_start:
            self._start(address)
        readable, _, _ = select.select([sock], [], [], 0.1)
        if readable:
            self._hear(sock.recv(4096).decode("utf-8", "replace"))
        if self.child is not None:
            self._check_child(time.monotonic())

    def _start(self, address: Path) -> None:
        env = dict(os.environ, NOTIFY_SOCKET=str(address), WATCHDOG_USEC=str(int(self.watchdog_sec * 1e6)))
        self.runs += 1
        try:
            self.child = subprocess.Popen(self.command, env=env, stdin=subprocess.DEVNULL, start_new_session=True)
        except OSError as exc:
            self.detail, self.child = f"cannot start: {exc}", None
            self.restarts += 1
            self.next_start = time.monotonic() + self.restart_sec
        else:
            self.started = self.last_ping = time.monotonic()
            self.ready, self.next_start, self.status_text = False, None, ""
        self._write()

    def _hear(self, message: str) -> None:
        for line in message.splitlines():
            key, _, value = line.partition("=")
            if key == "READY" and value == "1":
                self.ready = True
            elif key == "WATCHDOG" and value == "1":
                self.last_ping = time.monotonic()
            elif key == "STATUS":
                self.status_text = value[:200]
        self._write()

    def _check_child(self, now: float) -> None:
        assert self.child is not None
        code = self.child.poll()
        if code is not None:
            self.detail = self.killing or (f"exit status {code}" if code >= 0 else f"killed by signal {-code}")
            self.child, self.ready, self.killing = None, False, None
            if code == NO_RESTART:
                self.next_start = None
            else:
                self.restarts += 1
                self.next_start = now + self.restart_sec
            self._write()
        elif self.killing is None and now - self.last_ping > self.watchdog_sec:
            self.watchdog_kills += 1
            self._kill("watchdog timeout", signal.SIGABRT, now)
        elif self.killing is None and not self.ready and now - self.started > self.start_timeout:
            self._kill("start timeout", signal.SIGTERM, now)
        elif self.killing is not None and now > self.kill_deadline:
            self._signal(signal.SIGKILL)

    def _kill(self, why: str, sig: int, now: float) -> None:
        log.warning("player %s: %s", why, "killing it")
        self.killing, self.kill_deadline = why, now + 5.0
        self._signal(sig)

    def _signal(self, sig: int) -> None:
        if self.child is not None:
            try:
                os.killpg(self.child.pid, sig)
            except ProcessLookupError:
                pass

    def _stop_child(self, why: str) -> None:
        if self.child is None:
            return
        self._signal(signal.SIGTERM)
        try:
            self.child.wait(self.stop_timeout)
        except subprocess.TimeoutExpired:
            self._signal(signal.SIGKILL)
            self.child.wait()
        self._signal(signal.SIGKILL)  # whatever the player left in its group (its sync client)
        self.detail, self.child, self.ready = why, None, False

    def _write(self) -> None:
        status = {"supervisor": os.getpid(), "invocation": f"{os.getpid()}-{self.runs}",
                  "pid": self.child.pid if self.child else None, "running": self.child is not None,
                  "ready": self.ready, "restarts": self.restarts, "watchdog_kills": self.watchdog_kills,
                  "detail": self.detail, "status_text": self.status_text}
        write_atomic(self.run_dir / "status.json", json.dumps(status).encode("utf-8"))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m updater.supervisor", description=__doc__.split("\n\n")[0])
    parser.add_argument("--run", type=Path, required=True, help="folder for notify.sock, status.json, supervisor.pid")
    parser.add_argument("--watchdog-sec", type=float, default=30.0, help="WatchdogSec (default 30)")
    parser.add_argument("--restart-sec", type=float, default=2.0, help="RestartSec (default 2)")
    parser.add_argument("--start-timeout", type=float, default=90.0, help="TimeoutStartSec (default 90)")
    parser.add_argument("command", nargs="+", help="the command to run (after --)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="supervisor: %(message)s", stream=sys.stderr)
    return Supervisor(args.run, args.command, args.watchdog_sec, args.restart_sec, args.start_timeout).serve()


if __name__ == "__main__":
    raise SystemExit(main())
