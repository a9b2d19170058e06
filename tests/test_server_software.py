"""Software channels on the central server: releases published with the real commands, long-polled by screens,
409 on a stale sequence, halted after two rollbacks, frozen screens flagged, versions and rollbacks on the page."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from dataclasses import replace
from datetime import datetime, timezone

import pytest

from sync.client import HttpSource
from sync.envelope import seal
from sync.keys import public_text
from sync.publish import read_public
from sync.release import parse_release, release_payload
from sync.release_follow import ReleaseFollower
from sync.server.monitor import Watch, screen_status
from sync.update_area import UpdateArea
from sync.wheeltags import parse_target
from tests.conftest import REPO
from tests.release_rig import make_keys, make_wheel, write_draft
from tests.server_rig import start_rig

NOW = datetime.now(timezone.utc)


def cli(rig, token_file, *args):
    env = dict(os.environ, PYTHONPATH=str(REPO))
    return subprocess.run([sys.executable, "-m", "sync", *map(str, args), "--to", rig.url, "--token-file",
                           str(token_file)], capture_output=True, text=True, env=env, timeout=120)


def software_server(tmp_path, database):
    rig = start_rig(tmp_path / "server", database)
    keys = make_keys(tmp_path / "keys")
    token = tmp_path / "token"
    token.write_text(rig.admin_token)
    rig.staff().put(f"{rig.url}/api/software/stable", json={"root_key": keys.public("root")}).raise_for_status()
    done = cli(rig, token, "sign-releasers", "--root", keys.root, "--channel", "stable", "--version", "1",
               "--add", f"build={keys.folder / 'releaser.pub'}")
    assert done.returncode == 0, done.stderr
    return rig, keys, token


def wheelhouse(folder, version):
    ours = make_wheel(folder, "tinhbien_kiosk", version, {"player/v.py": version.encode()})
    dep = make_wheel(folder, "dep", "1.0", {"dep/x.py": b"X = 1\n" * 1000})
    write_draft(folder, version, [ours, dep])
    return folder


def test_publish_long_poll_stale_sequence_and_halt(tmp_path, database):
    rig, keys, token = software_server(tmp_path, database)
    try:
        first = cli(rig, token, "release", "publish", "--wheelhouse", wheelhouse(tmp_path / "w1", "0.2.0"),
                    "--key", keys.releaser)
        assert first.returncode == 0 and "sequence 1" in first.stdout, first.stderr
        served = rig.staff().get(f"{rig.url}/software/stable/release")
        assert served.status_code == 200 and "X-Long-Poll-Max" in served.headers
        release = parse_release(served.content.split(b"\n", 1)[1])

        # A screen long-polling is told of the next release within a second or two.
        answer: dict[str, object] = {}

        def poll() -> None:
            began = time.monotonic()
            got = rig.staff().get(f"{rig.url}/software/stable/release", params={"wait": 20},
                                  headers={"If-None-Match": served.headers["ETag"]})
            answer.update(status=got.status_code, seconds=time.monotonic() - began)

        waiter = threading.Thread(target=poll)
        waiter.start()
        time.sleep(0.5)
        second = cli(rig, token, "release", "publish", "--wheelhouse", wheelhouse(tmp_path / "w2", "0.2.1"),
                     "--key", keys.releaser)
        assert second.returncode == 0 and "sequence 2" in second.stdout, second.stderr
        waiter.join(30)
        assert answer["status"] == 200 and answer["seconds"] < 10

        stale = rig.staff().post(f"{rig.url}/api/software/stable/release",
                                 data=seal(release_payload(replace(release, sequence=2)), "release",
                                           _key(keys.releaser)))
        assert stale.status_code == 409 and stale.json()["current_sequence"] == 2
        missing = rig.staff().post(f"{rig.url}/api/software/stable/release", data=seal(release_payload(replace(
            release, sequence=3, wheels=(replace(release.wheels[0], sha256="0" * 64),) + release.wheels[1:])),
            "release", _key(keys.releaser)))
        assert missing.status_code in (409, 422)
        office = rig.add_staff("lan2", ["gate"])
        assert rig.staff(office).post(f"{rig.url}/api/software/stable/release", data=b"x").status_code == 403

        # Two screens roll sequence 2 back: the server serves sequence 1 again.
        for screen in ("gate-1", "gate-2"):
            token_s = rig.add_screen(screen)
            beat = {"version": "0.2.0", "uptime": 5, "clock": datetime.now(timezone.utc).isoformat(),
                    "software_channel": "stable", "update_state": "rolled back", "update_sequence": 2,
                    "update_reason": "no READY from 0.2.1 within 90 s", "release_sequence": 2, "rollbacks": 1}
            assert rig.staff(token_s).post(f"{rig.url}/api/heartbeat", json=beat).status_code == 200
        now_served = parse_release(rig.staff().get(f"{rig.url}/software/stable/release").content.split(b"\n", 1)[1])
        assert now_served.sequence == 1
        listed = {r["sequence"]: r for r in rig.staff().get(f"{rig.url}/api/software").json()}
        assert listed[2]["halted"] and listed[2]["rollbacks"] == 2 and not listed[1]["halted"]
        assert any(row["action"] == "halt" for row in rig.staff().get(f"{rig.url}/api/audit").json())
        page = rig.staff().get(f"{rig.url}/status", auth=("x", rig.admin_token)).text
        assert "version 0.2.0 (stable)" in page and "1 rollback" in page and "no READY from 0.2.1" in page
    finally:
        rig.stop()


@pytest.mark.slow
def test_a_screen_follows_a_software_channel_on_the_server_by_long_poll(tmp_path, database):
    rig, keys, token = software_server(tmp_path, database)
    try:
        assert cli(rig, token, "release", "publish", "--wheelhouse", wheelhouse(tmp_path / "w1", "0.2.0"),
                   "--key", keys.releaser).returncode == 0
        source = HttpSource(rig.url, "stable", wait=5, folder="software")
        follower = ReleaseFollower(source, UpdateArea(tmp_path / "state" / "update"),
                                   read_public(keys.folder / "root.pub"), "stable", "gate-1",
                                   parse_target("cp311-manylinux_2_36_x86_64"), "0.1.0", lambda: {})
        assert follower.poll(NOW).status == "ready"
        assert source.long_poll
        began = time.monotonic()
        assert follower.poll(NOW).status == "unchanged"  # held by the server, then 304
        assert time.monotonic() - began >= 4
    finally:
        rig.stop()


def test_a_screen_that_never_sees_a_release_published_a_day_ago_is_flagged():
    from sync.server.db import Screen
    day = 86400
    now = time.time()
    beat = {"version": "0.2.0", "software_channel": "stable", "release_sequence": 4, "generation": 1}
    screen = Screen("gate-1", "gate", None, now - 10, beat, None, False, None, False, now - 10 * day)
    releases = {"stable": [(4, now - 3 * day), (5, now - day - 60)]}
    status = screen_status(screen, now, Watch(), [(1, now - 5 * day)], releases)
    assert status.flag_kind == "software behind" and "sequence 5" in str(status.flag)
    fresh = {"stable": [(4, now - 3 * day), (5, now - 3600)]}
    assert screen_status(screen, now, Watch(), [(1, now - 5 * day)], fresh).flag_kind is None


def _key(path):
    from sync.keys import read_private
    return read_private(path)


def test_the_cli_adds_a_software_channel(tmp_path):
    keys = make_keys(tmp_path / "keys")
    env = dict(os.environ, PYTHONPATH=str(REPO))
    done = subprocess.run([sys.executable, "-m", "sync", "server", "software", "add", "pilot", "--root",
                           str(keys.folder / "root.pub"), "--data", str(tmp_path / "data")],
                          capture_output=True, text=True, env=env)
    assert done.returncode == 0 and "software channel pilot added" in done.stdout
    from sync.server.db import Database
    db = Database(tmp_path / "data" / "server.db")
    try:
        assert db.software_root("pilot") == public_text(read_public(keys.folder / "root.pub"))
    finally:
        db.close()
