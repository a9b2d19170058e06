"""systemd notifications: READY, watchdog pings at half WATCHDOG_USEC from the render loop, and silence when it freezes."""

from __future__ import annotations

import logging
import os
import socket
import subprocess
import sys
import threading
import time
import uuid

import pytest

from player.notify import Notifier, Watchdog
from tests.conftest import REPO, make_screen


@pytest.fixture
def listener(tmp_path):
    """A real datagram socket standing in for systemd; yields (socket, the NOTIFY_SOCKET value naming it)."""
    path = tmp_path / "notify"
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(str(path))
    sock.settimeout(2.0)
    yield sock, str(path)
    sock.close()


def received(sock: socket.socket, wait: float = 0.2) -> list[str]:
    """Every datagram that arrives within `wait` seconds of the last one; with wait=0, those already queued
    (a local datagram is queued by the time sendto returns)."""
    messages = []
    sock.settimeout(wait)
    while True:
        try:
            messages.append(sock.recv(4096).decode("utf-8"))
        except (TimeoutError, BlockingIOError):
            return messages


def test_ready_arrives_at_the_socket_named_by_notify_socket(listener, monkeypatch):
    sock, address = listener
    monkeypatch.setenv("NOTIFY_SOCKET", address)
    notifier = Notifier.from_env(os.environ)
    assert notifier.ready("playing opening-hours")
    assert notifier.status("playing\ncurrency")
    assert notifier.stopping()
    assert received(sock) == ["READY=1\nSTATUS=playing opening-hours", "STATUS=playing currency", "STOPPING=1"]
    notifier.close()


def test_an_abstract_socket_name(monkeypatch):
    name = f"tinhbien-notify-test-{uuid.uuid4().hex}"
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
        sock.bind("\0" + name)
        monkeypatch.setenv("NOTIFY_SOCKET", "@" + name)
        notifier = Notifier.from_env(os.environ)
        assert notifier.ready()
        assert received(sock) == ["READY=1"]
        notifier.close()


def test_pings_come_at_half_the_watchdog_interval_as_the_loop_runs(listener):
    sock, address = listener
    notifier = Notifier(address)
    watchdog = Watchdog.from_env(notifier, {"WATCHDOG_USEC": "1000000"}, pid=os.getpid())
    assert watchdog.interval == 0.5
    sent_at = []
    for frame in range(0, 121):  # 2 s of frames at 60 fps, from monotonic time 1000
        watchdog.beat(1000 + frame / 60)
        sent = received(sock, 0)
        assert sent in ([], ["WATCHDOG=1"])
        if sent:
            sent_at.append(frame)
    assert sent_at == [0, 30, 60, 90, 120]  # every 0.5 s, never more often


def test_a_long_frame_pings_as_soon_as_the_loop_comes_back(listener):
    sock, address = listener
    watchdog = Watchdog(Notifier(address), interval=15.0)
    for mono in (50.0, 50.1, 64.9, 70.0, 70.1, 84.9, 85.0):
        watchdog.beat(mono)
    assert received(sock) == ["WATCHDOG=1"] * 3  # at 50, 70 and 85


def test_pings_stop_when_the_render_loop_freezes(listener):
    """What systemd sees: regular pings while frames are drawn, then none once the loop hangs."""
    sock, address = listener
    watchdog = Watchdog(Notifier(address), interval=0.1)
    frozen = threading.Event()
    release = threading.Event()

    def render_loop() -> None:
        start = time.monotonic()
        while True:
            mono = time.monotonic()
            if mono - start >= 0.6:
                frozen.set()
                release.wait()  # a hang inside a frame: no more beats
                return
            watchdog.beat(mono)
            time.sleep(1 / 60)

    thread = threading.Thread(target=render_loop)
    thread.start()
    arrivals = []
    sock.settimeout(0.5)
    try:
        while True:
            try:
                sock.recv(4096)
            except TimeoutError:
                break
            arrivals.append(time.monotonic())
        assert frozen.is_set()
        silent_since = time.monotonic()
        assert received(sock, 0.5) == []  # a second since the last ping, ten intervals: systemd would kill the player
    finally:
        release.set()
        thread.join()
    assert 3 <= len(arrivals) <= 8  # about one per 0.1 s over 0.6 s of frames (the exact rate: the test above)
    assert silent_since - arrivals[-1] >= 0.49


@pytest.mark.parametrize("env", [
    {},
    {"WATCHDOG_USEC": ""},
    {"WATCHDOG_USEC": "0"},
    {"WATCHDOG_USEC": "thirty"},
    {"WATCHDOG_USEC": "30000000", "WATCHDOG_PID": "1"},  # the watchdog is for another process
])
def test_no_pings_without_a_watchdog_for_this_process(listener, env):
    sock, address = listener
    watchdog = Watchdog.from_env(Notifier(address), env, pid=os.getpid() if os.getpid() != 1 else 2)
    assert not watchdog.enabled
    for mono in range(100):
        watchdog.beat(float(mono))
    assert received(sock) == []


def test_the_watchdog_pid_may_name_this_process(listener):
    sock, address = listener
    watchdog = Watchdog.from_env(Notifier(address), {"WATCHDOG_USEC": "30000000", "WATCHDOG_PID": "4242"}, pid=4242)
    assert watchdog.interval == 15.0
    watchdog.beat(0.0)
    assert received(sock) == ["WATCHDOG=1"]


def test_without_notify_socket_nothing_is_sent_and_nothing_fails(monkeypatch, caplog):
    monkeypatch.delenv("NOTIFY_SOCKET", raising=False)
    notifier = Notifier.from_env(os.environ)
    watchdog = Watchdog.from_env(notifier, {"WATCHDOG_USEC": "1000000"}, pid=os.getpid())
    assert not notifier.enabled and not watchdog.enabled
    assert not notifier.ready()
    watchdog.beat(0.0)
    assert not notifier.stopping()
    assert caplog.records == []


@pytest.mark.parametrize("address", ["/nonexistent/run/systemd/notify", "relative/notify", "@"])
def test_a_socket_that_cannot_be_reached_is_logged_once_and_never_raises(address, caplog):
    notifier = Notifier(address)
    watchdog = Watchdog(notifier, interval=0.5)
    with caplog.at_level(logging.WARNING, logger="player.notify"):
        assert not notifier.ready()
        for mono in range(10):
            watchdog.beat(float(mono))
        assert not notifier.stopping()
    assert len(caplog.records) == 1
    assert "NOTIFY_SOCKET" in caplog.records[0].getMessage()


def test_a_full_queue_drops_the_ping_instead_of_blocking_the_frame(listener):
    sock, address = listener
    notifier = Notifier(address)
    results: list[bool] = []
    # Nobody reads: the socket's queue fills up, as when systemd is busy. A blocking send would hang here.
    sender = threading.Thread(target=lambda: results.extend(notifier.watchdog() for _ in range(5000)), daemon=True)
    sender.start()
    sender.join(5.0)
    assert not sender.is_alive(), "a send blocked on a full queue"
    assert results[0] and not results[-1]


@pytest.mark.slow  # a player process for seconds
def test_the_player_tells_systemd_ready_then_pings_from_its_loop_then_stopping(tmp_path, listener):
    """End to end: the real player, headless, with the variables systemd sets for Type=notify and WatchdogSec=1."""
    sock, address = listener
    config = make_screen(tmp_path / "screen", {"main.yaml": (
        "items:\n"
        "  - {id: hours, type: text, duration: 2, text: {vi: {title: \"Giờ mở cửa\"}, en: {title: \"Opening hours\"}}}\n"
        "  - {id: rates, type: text, duration: 2, text: {vi: {title: \"Tỷ giá\"}, en: {title: \"Exchange rates\"}}}\n")})
    env = {**os.environ, "NOTIFY_SOCKET": address, "WATCHDOG_USEC": "1000000",
           "SDL_VIDEODRIVER": "dummy", "SDL_AUDIODRIVER": "dummy"}
    env.pop("WATCHDOG_PID", None)
    player = subprocess.Popen([sys.executable, "-m", "player", "--config", str(config), "run", "--headless",
                               "--seconds", "4"], cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    messages = []
    sock.settimeout(0.5)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            messages.append(sock.recv(4096).decode("utf-8"))
        except TimeoutError:
            if player.poll() is not None:
                break
    output = player.communicate(timeout=30)[0].decode("utf-8", "replace")
    messages += received(sock)
    assert player.returncode == 0, output
    fields = [field for message in messages for field in message.split("\n")]
    assert "READY=1" in fields, (messages, output)
    pings = [i for i, field in enumerate(fields) if field == "WATCHDOG=1"]
    assert len(pings) >= 4, messages  # one every 0.5 s over most of 4 s of playing
    assert fields.index("READY=1") < pings[0]
    assert fields[-1] == "STOPPING=1", messages


@pytest.mark.slow  # a server process for seconds
def test_the_central_server_says_ready_and_pings_from_its_event_loop(listener, tmp_path):
    """deploy/kiosk-server.service is Type=notify with a watchdog: the server must say READY, then keep pinging."""
    sock, address = listener
    env = dict(os.environ, PYTHONPATH=str(REPO), NOTIFY_SOCKET=address, WATCHDOG_USEC="2000000")
    server = subprocess.Popen([sys.executable, "-m", "sync", "serve", "--data", str(tmp_path / "data"), "--port", "0"],
                              env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        messages = []
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and sum("WATCHDOG=1" in m for m in messages) < 3:
            messages += received(sock, 0.5)
        assert any("READY=1" in m for m in messages), messages
        assert sum("WATCHDOG=1" in m for m in messages) >= 3, messages  # one a second: half of WATCHDOG_USEC
        server.terminate()
        assert server.wait(20) in (0, -15)  # uvicorn re-raises SIGTERM after a clean shutdown; systemd counts it clean
        assert any("STOPPING=1" in m for m in received(sock, 0.5))
    finally:
        server.kill()
