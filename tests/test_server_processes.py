"""Several server processes on one PostgreSQL and one content folder: kept in step, one leader, and a database
that goes away and comes back (issue 12). Real processes, a real PostgreSQL, kill -9."""

from __future__ import annotations

import hashlib
import json
import os
import random
import signal
import subprocess
import sys
import threading
import time
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Callable, Iterator

import pytest
import requests

from sync.client import verify_manifest
from sync.envelope import seal
from sync.fleet import Reporter
from sync.keys import (
    PublisherList,
    make_publisher,
    open_publishers,
    public_text,
    seal_publishers,
)
from sync.layout import StateFolder
from sync.manifest import FileEntry, build_manifest, manifest_payload
from sync.notice import build_notice
from sync.server.db import Database
from sync.server.settings import ServerSettings
from sync.server.tokens import make_token
from sync.upload import seal_notice
from tests.conftest import REPO, database_for, make_screen
from tests.pgcluster import Cluster, free_port
from tests.server_rig import Hook, seed

# Real server processes started, killed and waited for: tens of seconds each.
pytestmark = pytest.mark.slow

ENV = dict(os.environ, PYTHONPATH=str(REPO), SDL_VIDEODRIVER="dummy", SDL_AUDIODRIVER="dummy")


def wait_for(condition: Callable[[], Any], seconds: float = 20.0, step: float = 0.05) -> Any:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(step)
    return None


@dataclass
class Served:
    """One `python -m sync serve` process."""

    process: subprocess.Popen[bytes]
    url: str
    log: Path

    def kill9(self) -> None:
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(10)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.kill9()


@dataclass
class Office:
    """A data folder and a PostgreSQL database shared by every server process started with serve()."""

    root: Path
    database: str
    webhook: str | None = None
    servers: list[Served] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.data = self.root / "data"
        self.key, self.publisher, self.admin = seed(ServerSettings(data=self.data, database_url=self.database))
        config = {"data": "data", "database": self.database, "long_poll_max_seconds": 30}
        if self.webhook:
            config["webhook"] = self.webhook
        (self.root / "server.yaml").write_text(json.dumps(config), encoding="utf-8")  # YAML takes JSON too

    def serve(self, name: str) -> Served:
        port = free_port()
        log = self.root / f"{name}.log"
        process = subprocess.Popen([sys.executable, "-m", "sync", "serve", "--config", str(self.root / "server.yaml"),
                                    "--port", str(port)], env=ENV, stdout=subprocess.DEVNULL,
                                   stderr=log.open("wb"))
        served = Served(process, f"http://127.0.0.1:{port}", log)
        self.servers.append(served)
        if not wait_for(lambda: _answers(served.url) or process.poll() is not None, 60, 0.1) or process.poll() is not None:
            raise AssertionError(f"{name} did not start: {log.read_text()[-3000:]}")
        return served

    def staff(self) -> requests.Session:
        session = requests.Session()
        session.headers["Authorization"] = f"Bearer {self.admin}"
        return session

    def publishers(self, url: str) -> None:
        plist = PublisherList("gate", 1, (make_publisher("office", self.publisher.public_key()),))
        self.staff().put(f"{url}/api/channels/gate/publishers", data=seal_publishers(plist, self.key)).raise_for_status()

    def manifest(self, url: str, generation: int, files: dict[str, bytes], held: dict[str, bytes] | None = None) -> bytes:
        """Upload the files' blobs through `url`; the signed manifest naming them and the `held` ones."""
        for data in files.values():
            digest = hashlib.sha256(data).hexdigest()
            self.staff().put(f"{url}/api/blobs/{digest}", data=data).raise_for_status()
        entries = [FileEntry(path, hashlib.sha256(data).hexdigest(), len(data))
                   for path, data in {**(held or {}), **files}.items()]
        made = build_manifest("gate", generation, datetime.now(timezone.utc), entries)
        return seal(manifest_payload(made), "manifest", self.publisher)

    def publish(self, url: str, envelope: bytes) -> requests.Response:
        return self.staff().post(f"{url}/api/channels/gate/manifest", data=envelope, timeout=60)

    def stop(self) -> None:
        for served in self.servers:
            served.stop()


def _answers(url: str) -> bool:
    try:
        return requests.get(f"{url}/api/health", timeout=2).status_code == 200
    except requests.RequestException:
        return False


@pytest.fixture
def pg(request: pytest.FixtureRequest) -> str:
    database = database_for("postgresql", request)
    assert database is not None
    return database


@pytest.fixture
def office(tmp_path: Path, pg: str) -> Iterator[Office]:
    made = Office(tmp_path, pg)
    yield made
    made.stop()


def generation_served(url: str) -> int:
    doc = requests.get(f"{url}/channels/gate/manifest", timeout=10).content
    return int(json.loads(doc.split(b"\n", 1)[1])["generation"])


def test_a_publish_through_one_process_wakes_a_long_poll_held_by_the_other_within_a_second(office: Office) -> None:
    a, b = office.serve("a"), office.serve("b")
    office.publishers(a.url)
    assert office.publish(a.url, office.manifest(a.url, 1, {"playlists/a.yaml": b"items: []\n"})).status_code == 201
    assert wait_for(lambda: requests.get(f"{b.url}/channels/gate/manifest").status_code == 200, 5)
    etag = requests.get(f"{b.url}/channels/gate/manifest").headers["ETag"]
    answered: list[tuple[float, requests.Response]] = []

    def poll() -> None:
        answer = requests.get(f"{b.url}/channels/gate/manifest", params={"wait": 25},
                              headers={"If-None-Match": etag}, timeout=40)
        answered.append((time.monotonic(), answer))

    poller = threading.Thread(target=poll)
    poller.start()
    time.sleep(1.0)  # the poll is held by b
    envelope = office.manifest(a.url, 2, {"playlists/a.yaml": b"items: [two]\n"})
    assert office.publish(a.url, envelope).status_code == 201
    published = time.monotonic()
    poller.join(30)
    assert answered, "the long-poll on b never returned"
    returned, answer = answered[0]
    assert answer.status_code == 200 and answer.content == envelope
    assert returned - published < 1.0, f"b's long-poll returned {returned - published:.2f} s after the publish"
    assert (office.data / "content" / "channels" / "gate" / "manifest").read_bytes() == envelope


def test_a_notice_posted_through_one_process_shows_on_a_player_that_follows_the_other(office: Office,
                                                                                       tmp_path: Path) -> None:
    a, b = office.serve("a"), office.serve("b")
    office.publishers(a.url)
    screen = tmp_path / "screen"
    config = make_screen(screen, {"local.yaml": "items:\n  - {id: local, type: text, duration: 1.0, text: {vi: 'Tại chỗ'}}\n"})
    token = office.staff().post(f"{b.url}/api/screens", json={"id": "kiosk-1", "channel": "gate"}).json()["token"]
    (screen / "screen.token").write_text(token)
    config.write_text(config.read_text() + f'sync: {{server: "{b.url}", channel: gate, root_key: '
                      f'"{public_text(office.key.public_key())}", token_file: screen.token, heartbeat_seconds: 5}}\n',
                      encoding="utf-8")
    player = subprocess.Popen([sys.executable, "-m", "player", "run", "--headless", "--seconds", "40"], cwd=screen,
                              env=ENV, stderr=subprocess.PIPE, text=True)
    try:
        assert wait_for(lambda: any(s["online"] for s in office.staff().get(f"{a.url}/api/screens").json()), 30), \
            "the player never reported to b"
        now = datetime.now(timezone.utc).replace(microsecond=0)
        notice = build_notice("both-servers-01", "urgent", [("vi", "Cổng tạm đóng"), ("en", "Gate closed")], ["gate"],
                              [], now, now + timedelta(minutes=10))
        office.staff().post(f"{a.url}/api/notices", data=seal_notice(notice, office.publisher)).raise_for_status()
        notices = screen / "state" / "store" / "notices.json"
        assert wait_for(lambda: notices.exists() and "both-servers-01" in notices.read_text(), 15)
        time.sleep(2.0)  # the player looks for notices twice a second and logs the one it shows
    finally:
        player.terminate()
        _, log = player.communicate(timeout=60)
    assert "showing urgent notice both-servers-01" in log, log[-3000:]


def test_kill_9_of_one_process_mid_publish_leaves_the_served_manifest_whole_and_the_other_serving(
        office: Office) -> None:
    a, b = office.serve("a"), office.serve("b")
    office.publishers(a.url)
    files = {f"media/f{i:05d}.txt": f"file {i}\n".encode() for i in range(3000)}
    first = office.manifest(a.url, 1, files)
    assert office.publish(a.url, first).status_code == 201
    plist = open_publishers(requests.get(f"{b.url}/channels/gate/publishers").content, office.key.public_key(), "gate")
    rng = random.Random(12)
    generation = 1
    for round_ in range(4):
        envelope = office.manifest(b.url, generation + 1, {"playlists/round.yaml": f"round {round_}\n".encode()}, files)
        sender = threading.Thread(target=lambda: _quietly(lambda: office.publish(a.url, envelope)))
        sender.start()
        time.sleep(rng.uniform(0.0, 0.25))
        a.kill9()
        sender.join(30)
        served = requests.get(f"{b.url}/channels/gate/manifest", timeout=10)
        assert served.status_code == 200
        manifest = verify_manifest(served.content, plist, "gate")  # whole and signed, whichever it is
        assert manifest.generation in (generation, generation + 1)
        mirrored = (office.data / "content" / "channels" / "gate" / "manifest").read_bytes()
        assert verify_manifest(mirrored, plist, "gate").generation in (generation, generation + 1)
        a = office.serve(f"a{round_}")
        in_db = Database(office.database)
        try:
            truth = in_db.document("gate", "manifest")
        finally:
            in_db.close()
        assert wait_for(lambda: requests.get(f"{b.url}/channels/gate/manifest").content == truth, 5)
        assert requests.get(f"{a.url}/channels/gate/manifest").content == truth
        assert (office.data / "content" / "channels" / "gate" / "manifest").read_bytes() == truth, "mirrored at start"
        generation = verify_manifest(truth, plist, "gate").generation
        assert requests.get(f"{b.url}/api/health").json()["database"] == "up"


def _quietly(call: Callable[[], object]) -> None:
    try:
        call()
    except requests.RequestException:
        pass


def test_fleet_decisions_are_taken_once_by_the_leader_and_taken_over_when_it_dies(tmp_path: Path, pg: str) -> None:
    hook = Hook()
    office = Office(tmp_path, pg, webhook=hook.url)
    try:
        a, b = office.serve("a"), office.serve("b")
        _never_seen_screen(office, "screen-1")
        assert wait_for(lambda: _calls(hook, "screen-1"), 20), "no webhook call for the never-seen screen"
        time.sleep(11)  # two more fleet ticks of both processes
        assert len(_calls(hook, "screen-1")) == 1, hook.calls
        leaders = [s for s in (a, b) if requests.get(f"{s.url}/api/health").json()["leader"]]
        assert len(leaders) == 1
        leaders[0].kill9()
        survivor = b if leaders[0] is a else a
        _never_seen_screen(office, "screen-2")
        assert wait_for(lambda: _calls(hook, "screen-2"), 30), "nobody took the lead over"
        time.sleep(6)
        assert len(_calls(hook, "screen-2")) == 1 and len(_calls(hook, "screen-1")) == 1, hook.calls
        assert requests.get(f"{survivor.url}/api/health").json()["leader"] is True
    finally:
        office.stop()
        hook.server.shutdown()


def _never_seen_screen(office: Office, screen_id: str) -> None:
    db = Database(office.database)
    try:
        db.add_screen(screen_id, "gate", make_token("screen"), 0.5, "2026-01-01T00:00:00+00:00")
    finally:
        db.close()


def _calls(hook: Hook, screen_id: str) -> list[dict[str, object]]:
    return [c for c in hook.calls if c["screen"]["id"] == screen_id]  # type: ignore[index]


def test_with_the_database_stopped_20_s_the_server_answers_503_and_recovers_and_no_proof_line_is_lost_or_doubled(
        office: Office, pg_cluster: Cluster, tmp_path: Path) -> None:
    a = office.serve("a")
    office.publishers(a.url)
    assert office.publish(a.url, office.manifest(a.url, 1, {"media/gate.txt": b"gate opens at 6\n"})).status_code == 201
    token = office.staff().post(f"{a.url}/api/screens", json={"id": "kiosk-1", "channel": "gate"}).json()["token"]
    state = tmp_path / "state"
    state.mkdir()
    reporter = Reporter(a.url, token, state, None, lambda: {"version": "0.1.0", "uptime": 1.0, "generation": 1,
                                                            "clock": datetime.now(timezone.utc).isoformat()})
    written: list[str] = []

    def play(count: int) -> None:
        with StateFolder(state).proof.open("a", encoding="utf-8") as out:
            for _ in range(count):
                line_id = uuid.uuid4().hex
                written.append(line_id)
                out.write(json.dumps({"id": line_id, "screen": "kiosk-1", "item": "hours", "playlist": "day",
                                      "language": "vi", "start": datetime.now(timezone.utc).isoformat(),
                                      "planned": 10.0, "actual": 10.0, "status": "completed", "reason": ""}) + "\n")

    play(30)
    reporter.heartbeat()
    assert reporter.send_proof() == 30
    pg_cluster.stop()
    try:
        stopped = time.monotonic()
        play(25)
        beat = requests.post(f"{a.url}/api/heartbeat", headers={"Authorization": f"Bearer {token}"}, timeout=30,
                             json={"version": "0.1.0", "uptime": 2.0, "clock": datetime.now(timezone.utc).isoformat()})
        assert beat.status_code == 503 and "database" in beat.json()["error"] and beat.headers["Retry-After"]
        with pytest.raises(Exception):
            reporter.send_proof()  # the lines stay queued on the screen
        health = requests.get(f"{a.url}/api/health", timeout=30)
        assert health.status_code == 503 and health.json()["database"] == "down"
        assert generation_served(a.url) == 1, "screens still get their content while the database is away"
        digest = hashlib.sha256(b"gate opens at 6\n").hexdigest()
        assert requests.get(f"{a.url}/blobs/{digest}").content == b"gate opens at 6\n"
        time.sleep(max(0.0, 20 - (time.monotonic() - stopped)))
    finally:
        pg_cluster.start()
    play(5)
    assert wait_for(lambda: _answers(a.url), 60, 0.5), "the server did not recover by itself"
    reporter.heartbeat()
    reporter.send_proof()
    reporter.send_proof()  # once more: nothing is sent twice
    rows = office.staff().get(f"{a.url}/api/proof.csv").text.splitlines()[1:]
    ids = [row.split(",")[1] for row in rows]
    assert sorted(ids) == sorted(written) and len(ids) == 60


def test_serve_workers_runs_several_processes_on_postgresql_and_refuses_sqlite(office: Office, tmp_path: Path) -> None:
    port = free_port()
    served = subprocess.Popen([sys.executable, "-m", "sync", "serve", "--config", str(office.root / "server.yaml"),
                               "--port", str(port), "--workers", "2"], env=ENV, stdout=subprocess.DEVNULL,
                              stderr=(tmp_path / "workers.log").open("wb"))
    pids: set[int] = set()

    def both_answered() -> bool:
        try:
            pids.add(requests.get(f"http://127.0.0.1:{port}/api/health", headers={"Connection": "close"},
                                  timeout=5).json()["process"])
        except requests.RequestException:
            pass
        return len(pids) == 2

    try:
        assert wait_for(both_answered, 60, 0.02), f"answers came from {pids}: {(tmp_path / 'workers.log').read_text()[-2000:]}"
    finally:
        served.terminate()
        served.wait(30)
    alone = subprocess.run([sys.executable, "-m", "sync", "serve", "--data", str(tmp_path / "sqlite"), "--port", "0",
                            "--workers", "2"], env=ENV, capture_output=True, text=True, timeout=60)
    assert alone.returncode == 1 and "needs PostgreSQL" in alone.stderr and "Traceback" not in alone.stderr


def test_a_process_starting_beside_another_leaves_its_upload_in_progress_alone(office: Office) -> None:
    """`serve --workers 2` starts its processes one after the other, and a second machine restarts while the
    first receives a blob: a starting process must not take another's partial upload for a crash's leftover."""
    first = office.serve("first")
    size = 8 * 2**20
    big = random.Random(8).randbytes(size)
    digest = hashlib.sha256(big).hexdigest()
    halfway, go_on = threading.Event(), threading.Event()

    class Held:
        """The body with its Content-Length, held halfway until the second process has started."""

        def __init__(self) -> None:
            self.sent = 0

        def __len__(self) -> int:
            return size

        def read(self, n: int = -1) -> bytes:
            if self.sent >= size // 2:
                halfway.set()
                go_on.wait(90)
            chunk = big[self.sent:self.sent + 2**20]
            self.sent += len(chunk)
            return chunk

    answers: list[requests.Response] = []
    upload = threading.Thread(target=lambda: answers.append(office.staff().put(
        f"{first.url}/api/blobs/{digest}", data=Held(), timeout=120)))
    upload.start()
    assert halfway.wait(30)
    assert wait_for(lambda: list((office.data / "content" / "blobs").glob(".upload-*")), 10), "the upload began"
    second = office.serve("second")
    go_on.set()
    upload.join(120)
    assert answers and answers[0].status_code == 201, answers[0].text if answers else "no answer"
    assert requests.get(f"{second.url}/blobs/{digest}", timeout=30).content == big
