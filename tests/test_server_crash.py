"""kill -9 of the real server process mid-upload and around publishes: it comes back with a whole generation.

After every restart: the served manifest verifies and names only blobs the server
holds whole, generations only went up (and no acknowledged publish was lost), a
cut upload left nothing that counts as a blob, a screen syncs a complete
generation, and server.db passes PRAGMA integrity_check with its audit log readable.
"""

from __future__ import annotations

import hashlib
import os
import random
import re
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterator

import pytest
import requests
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from sync.client import HttpSource, sync_once, verify_manifest
from sync.keys import (
    PublisherList,
    make_publisher,
    open_publishers,
    public_text,
    seal_publishers,
)
from sync.server.db import Database
from sync.server.tokens import make_token
from sync.store import Store
from tests.conftest import REPO
from tests.server_rig import Rig

pytestmark = pytest.mark.slow  # kill -9 rounds of the real server process

BLOB_NAME = re.compile(r"^[0-9a-f]{64}$")
BIG = 50 * 2**20


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Server:
    """`python -m sync serve` as a child process, started again after each kill -9 on the same port and data."""

    data: Path
    port: int
    process: subprocess.Popen[bytes] | None = None
    log: list[Path] = field(default_factory=list)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, token: str) -> None:
        out = self.data.parent / f"serve-{len(self.log)}.log"
        self.log.append(out)
        env = dict(os.environ, PYTHONPATH=str(REPO))
        with out.open("wb") as sink:
            self.process = subprocess.Popen([sys.executable, "-m", "sync", "serve", "--data", str(self.data),
                                             "--port", str(self.port)], env=env, stdout=sink, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            assert self.process.poll() is None, out.read_text(errors="replace")
            try:
                if requests.get(f"{self.url}/api/channels", headers={"Authorization": f"Bearer {token}"},
                                timeout=1).status_code == 200:
                    return
            except requests.ConnectionError:
                pass
            time.sleep(0.05)
        raise AssertionError(f"the server did not start: {out.read_text(errors='replace')}")

    def kill(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(10)


@pytest.fixture
def office(tmp_path: Path) -> Iterator[tuple[Server, Rig]]:
    """A data folder set up as an admin would (channel gate, an admin token), its server running, its publisher list up."""
    data = tmp_path / "data"
    root, publisher = Ed25519PrivateKey.generate(), Ed25519PrivateKey.generate()
    token = make_token("staff")
    db = Database(data / "server.db")
    db.add_channel("gate", public_text(root.public_key()), "2026-11-27T09:30:00+07:00")
    db.add_staff("lan", ["*"], True, token, "2026-11-27T09:30:00+07:00")
    db.close()
    server = Server(data, free_port())
    server.start(token.text)
    # The rig's helpers (upload, manifest, publish) only need the URL, keys and token, not a server in a thread.
    rig = Rig(server.url, data, None, root, publisher, token.text)  # type: ignore[arg-type]
    plist = PublisherList("gate", 1, (make_publisher("office", publisher.public_key()),))
    rig.staff().put(f"{server.url}/api/channels/gate/publishers", data=seal_publishers(plist, root)).raise_for_status()
    yield server, rig
    if server.process and server.process.poll() is None:
        server.kill()


def served_generation(rig: Rig) -> int:
    """The generation the server serves, after checking it as a screen would and that it holds every blob whole."""
    plist = open_publishers(requests.get(f"{rig.url}/channels/gate/publishers").content, rig.root.public_key(), "gate")
    answer = requests.get(f"{rig.url}/channels/gate/manifest")
    if answer.status_code == 404:
        return 0
    manifest = verify_manifest(answer.content, plist, "gate")
    for entry in manifest.files:
        blob = rig.data / "content" / "blobs" / entry.sha256
        assert blob.stat().st_size == entry.size, f"{entry.path}: blob cut short"
        assert hashlib.sha256(blob.read_bytes()).hexdigest() == entry.sha256, f"{entry.path}: blob damaged"
    return manifest.generation


def check_after_restart(rig: Rig, screen: Path, at_least: int) -> int:
    generation = served_generation(rig)
    assert generation >= at_least, f"generation went back (or an acknowledged publish was lost): {generation} < {at_least}"
    blobs = rig.data / "content" / "blobs"
    for path in blobs.iterdir():
        assert BLOB_NAME.match(path.name), f"{path.name} left in blobs/ after a restart"
        assert hashlib.sha256(path.read_bytes()).hexdigest() == path.name, f"{path.name} is kept but incomplete"
    if generation:
        store = Store(screen).open()
        result = sync_once(HttpSource(rig.url, "gate"), store, rig.root.public_key(), "gate")
        assert result.status in ("updated", "unchanged") and result.generation == generation, result.message
        current = store.current()
        assert current is not None and store.is_complete(current, deep=True)
    with sqlite3.connect(rig.data / "server.db") as db:
        assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    log = rig.staff().get(f"{rig.url}/api/audit", params={"channel": "gate"}).json()
    audited = [row["detail"]["generation"] for row in log if row["action"] == "publish"]
    assert all(g <= generation for g in audited), "the audit log names a publish the server does not serve"
    return generation


def test_kill_9_in_the_middle_of_a_50_mb_upload_keeps_nothing_of_it(office: tuple[Server, Rig], tmp_path: Path) -> None:
    server, rig = office
    assert rig.publish(1, {"media/hours.txt": b"06:00-22:00"}).status_code == 201
    big = random.Random(5).randbytes(BIG)
    digest = hashlib.sha256(big).hexdigest()
    halfway = threading.Event()

    class Slow:
        """The 50 MB body with its Content-Length, as publish sends it, slowed down past the middle."""

        def __init__(self) -> None:
            self.sent = 0

        def __len__(self) -> int:
            return BIG

        def read(self, n: int = -1) -> bytes:
            if self.sent >= BIG // 2:
                halfway.set()
                time.sleep(0.05)
            chunk = big[self.sent:self.sent + 2**20]
            self.sent += len(chunk)
            return chunk

    upload = threading.Thread(target=_ignore_cut, args=(lambda: rig.staff().put(
        f"{rig.url}/api/blobs/{digest}", data=Slow(), timeout=30),))
    upload.start()
    assert halfway.wait(30)
    time.sleep(0.2)  # the server has written part of it
    partial = list((rig.data / "content" / "blobs").glob(".upload-*"))
    server.kill()
    upload.join(30)
    assert partial and 0 < partial[0].stat().st_size < BIG, "the kill did not land mid-upload"

    server.start(rig.admin_token)
    assert check_after_restart(rig, tmp_path / "screen", at_least=1) == 1
    assert not list((rig.data / "content" / "blobs").glob(".upload-*"))
    assert rig.staff().post(f"{rig.url}/api/blobs/missing", json={"blobs": {digest: BIG}}).json() == {"missing": [digest]}
    assert requests.get(f"{rig.url}/blobs/{digest}").status_code == 404
    assert rig.upload(big) == digest, "the same upload, run again, succeeds"
    assert rig.staff().post(f"{rig.url}/api/blobs/missing", json={"blobs": {digest: BIG}}).json() == {"missing": []}


def _ignore_cut(call: Callable[[], object]) -> None:
    try:
        call()
    except requests.RequestException:
        pass  # the server was killed under it


def test_kill_9_around_publishes_never_leaves_half_a_generation(office: tuple[Server, Rig], tmp_path: Path) -> None:
    server, rig = office
    rng = random.Random(11)
    shared = rng.randbytes(3 * 2**20)  # a video every generation names: uploaded once, then never again
    acknowledged, at_least = 0, 0
    for round_ in range(8):
        posting, stop = threading.Event(), threading.Event()
        done: list[int] = []

        def publish_until_killed(start: int, posting: threading.Event, stop: threading.Event, done: list[int]) -> None:
            staff = rig.staff()
            for generation in range(start, start + 1000):
                files = {"media/gate.mp4": shared, "playlists/main.yaml": f"items: []  # {generation}\n".encode()}
                try:
                    for data in files.values():
                        rig.upload(data)
                    posting.set()
                    answer = staff.post(f"{rig.url}/api/channels/gate/manifest", data=rig.manifest(generation, files),
                                        timeout=10)
                except requests.RequestException:
                    return
                if answer.status_code != 201:
                    raise AssertionError(f"generation {generation}: {answer.status_code} {answer.text}")
                done.append(generation)
                if stop.is_set():
                    return

        publisher = threading.Thread(target=publish_until_killed, args=(at_least + 1, posting, stop, done))
        publisher.start()
        assert posting.wait(20)
        # Let a few generations through, then kill just as (or just after) one more manifest goes up.
        time.sleep(rng.uniform(0.05, 0.4))
        posting.clear()
        assert posting.wait(20)
        time.sleep(rng.uniform(0, 0.02))
        server.kill()
        stop.set()
        publisher.join(30)
        acknowledged = max(done, default=acknowledged)

        server.start(rig.admin_token)
        generation = check_after_restart(rig, tmp_path / "screen", at_least=max(acknowledged, at_least))
        assert generation <= (done[-1] + 1 if done else at_least + 1), "a generation nobody signed"
        at_least = generation
    assert at_least >= 8, "every round published something"


def test_only_partial_uploads_a_crash_left_are_swept(tmp_path: Path) -> None:
    """A process receiving an upload holds a lock on its partial file; one nobody holds is a crash's leftover
    when this machine wrote it, or when another machine's has not been touched for an hour."""
    import fcntl

    from sync.server.channels import Channels

    db = Database(tmp_path / "server.db")
    try:
        channels = Channels(tmp_path / "content", db)
        blobs, here = tmp_path / "content" / "blobs", socket.gethostname()
        names = {"mine, nobody holds it": f".upload-{here}-4100-0123456789abcdef-aa11bb22",
                 "mine, being received": f".upload-{here}-4101-0123456789abcdef-cc33dd44",
                 "another machine's, being written": ".upload-office-2-b-4242-0123456789abcdef-ee55ff66",
                 "another machine's, untouched for 2 h": ".upload-office-2-b-4243-0123456789abcdef-00112233",
                 "another machine's, 2 h old but held": ".upload-web-1-77-0123456789abcdef-44556677"}
        for name in names.values():
            (blobs / name).write_bytes(b"part of a blob")
        two_hours_ago = time.time() - 7200
        for old in ("another machine's, untouched for 2 h", "another machine's, 2 h old but held"):
            os.utime(blobs / names[old], (two_hours_ago, two_hours_ago))
        held = [open(blobs / names[name], "ab") for name in ("mine, being received", "another machine's, 2 h old but held")]
        for receiving in held:
            fcntl.flock(receiving, fcntl.LOCK_EX)
        try:
            assert channels.sweep_uploads(time.time()) == 2
        finally:
            for receiving in held:
                receiving.close()
        assert sorted(p.name for p in blobs.glob(".upload-*")) == sorted(
            names[name] for name in ("mine, being received", "another machine's, being written",
                                     "another machine's, 2 h old but held"))
    finally:
        db.close()


@pytest.mark.parametrize("name, host", [
    (".upload-vm-4100-0123456789abcdef-aa11bb22", "vm"),
    (".upload-web-1-4242-0123456789abcdef-aa11bb22", "web-1"),
    (".upload-host.example.com-99-0123456789abcdef-aa11bb22", "host.example.com"),
    (".upload-a-b-c-d-1-0123456789abcdef-aa11bb22", "a-b-c-d"),
])
def test_a_partial_uploads_name_tells_which_machine_wrote_it(name: str, host: str) -> None:
    from sync.server.channels import _uploader

    assert _uploader(name) == host


def test_the_access_log_keeps_staff_requests_and_refusals_but_not_every_screen_poll(office: tuple[Server, Rig]) -> None:
    server, rig = office
    assert rig.publish(1, {"media/hours.txt": b"06:00-22:00"}).status_code == 201
    token = make_token("screen")
    db = Database(rig.data / "server.db")
    db.add_screen("gate-hall-1", "gate", token, None, "2026-11-27T09:30:00+07:00")
    db.close()
    beat = {"version": "0.1.0", "uptime": 1.0, "clock": "2026-11-30T09:00:00+07:00"}
    screen = {"Authorization": f"Bearer {token.text}"}
    for _ in range(5):
        assert requests.get(f"{rig.url}/channels/gate/manifest").status_code == 200
        assert requests.post(f"{rig.url}/api/heartbeat", json=beat, headers=screen).status_code == 200
    assert requests.post(f"{rig.url}/api/heartbeat", json={"version": "0.1.0"}, headers=screen).status_code == 422
    assert rig.staff().get(f"{rig.url}/api/screens").status_code == 200
    assert requests.get(f"{rig.url}/channels/elsewhere/notices?wait=700").status_code == 422
    server.process.terminate()  # type: ignore[union-attr]
    server.process.wait(15)  # type: ignore[union-attr]
    log = server.log[-1].read_text(errors="replace")
    assert '"GET /api/screens HTTP/1.1" 200' in log and '"POST /api/channels/gate/manifest HTTP/1.1" 201' in log
    assert '"POST /api/heartbeat HTTP/1.1" 422' in log and '"GET /channels/elsewhere/notices?wait=700 HTTP/1.1" 422' in log
    assert '"POST /api/heartbeat HTTP/1.1" 200' not in log and '"GET /channels/gate/manifest HTTP/1.1" 200' not in log
