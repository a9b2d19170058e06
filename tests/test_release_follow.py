"""A screen's sync client follows its software channel over a real HTTP host: ready, resumed, refused, never forged."""

from __future__ import annotations

import json
import os
from dataclasses import replace
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from sync.client import HttpSource
from sync.envelope import seal
from sync.keys import PublisherList, make_publisher, seal_publishers
from sync.release import Release, Rollout, Wheel, parse_release, release_payload
from sync.release_follow import ReleaseFollower, update_facts
from sync.release_tools import FolderDest, promote_release, publish_release, read_draft
from sync.update_area import UpdateArea
from sync.wheeltags import parse_target
from tests.release_rig import make_wheel, write_draft
from tests.static_host import StaticHost

NOW = datetime(2026, 11, 27, 9, 30, tzinfo=timezone(timedelta(hours=7)))
PC = parse_target("cp311-manylinux_2_36_x86_64")


class Channel:
    """A software channel in a folder, published with the real tools, and the keys that sign it."""

    def __init__(self, root: Path) -> None:
        self.root, self.dest = root, root / "dest"
        self.root_key, self.releaser = Ed25519PrivateKey.generate(), Ed25519PrivateKey.generate()
        self.releasers(1, self.releaser)

    def releasers(self, version: int, *keys: Ed25519PrivateKey) -> None:
        plist = PublisherList("stable", version, tuple(make_publisher(f"k{i}", k.public_key()) for i, k in enumerate(keys)))
        path = self.dest / "software" / "stable" / "releasers"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(seal_publishers(plist, self.root_key, "releasers"))

    def publish(self, version: str, dependency: bytes = b"D" * 3_000_000, percent: int = 100) -> Release:
        house = self.root / f"wheels-{version}"
        ours = make_wheel(house, "tinhbien_kiosk", version, {"player/version.py": f"V = {version!r}\n".encode()})
        dep = make_wheel(house, "bigdep", "1.0", {"bigdep/data.bin": dependency})
        write_draft(house, version, [ours, dep])
        release, _ = publish_release(read_draft(house), "stable", FolderDest(self.dest), str(self.dest), self.releaser,
                                     NOW, 30, Rollout(percent, ()))
        return release

    def write(self, release: Release, key: Ed25519PrivateKey | None = None) -> None:
        (self.dest / "software/stable/release").write_bytes(seal(release_payload(release), "release", key or self.releaser))


def follower(channel: Channel, host: StaticHost, state: Path, screen: str = "gate-1", running: str = "0.1.0",
             target=PC, status=None, free=None) -> ReleaseFollower:
    source = HttpSource(host.url, "stable", folder="software")
    extra = {"free_bytes": free} if free else {}
    return ReleaseFollower(source, UpdateArea(state / "update"), channel.root_key.public_key(), "stable", screen,
                           target, running, status or (lambda: {}), **extra)


def blob_bytes(host: StaticHost, wheel: Wheel) -> int:
    return sum(sent for _, _, _, sent in host.state.requests(f"/blobs/{wheel.sha256}"))


def test_a_release_is_fetched_once_and_left_ready(tmp_path):
    channel = Channel(tmp_path)
    release = channel.publish("0.2.0")
    with StaticHost(channel.dest) as host:
        screen = follower(channel, host, tmp_path / "state")
        check = screen.poll(NOW)
        assert check.status == "ready", check.message
        area = screen.area
        marker = json.loads(area.ready.read_text())
        assert (marker["version"], marker["sequence"]) == ("0.2.0", 1)
        for wheel in release.wheels:
            assert (area.blobs / wheel.sha256).stat().st_size == wheel.size
        again = screen.poll(NOW)
        assert again.status == "unchanged" and host.state.requests("/software/stable/release")[-1][2] == 304
        assert area.client()["answered_by"] == "0.1.0"

        # A release that changes only our own code: one small wheel goes over the link.
        second = channel.publish("0.2.1")
        ours = next(w for w in second.wheels if w.name.startswith("tinhbien_kiosk"))
        before = sum(sent for path, _, _, sent in host.state.requests("/blobs/"))
        assert screen.poll(NOW).status == "ready"
        sent = sum(sent for path, _, _, sent in host.state.requests("/blobs/")) - before
        assert sent == ours.size < 1_000_000
        assert sorted(p.name for p in area.blobs.iterdir()) == sorted(w.sha256 for w in second.wheels)


def test_a_download_cut_at_half_resumes_without_fetching_much_again(tmp_path):
    channel = Channel(tmp_path)
    release = channel.publish("0.2.0", dependency=os.urandom(4_000_000))
    big = max(release.wheels, key=lambda w: w.size)
    with StaticHost(channel.dest) as host:
        host.state.cut_after[f"/blobs/{big.sha256}"] = big.size // 2
        screen = follower(channel, host, tmp_path / "state")
        assert screen.poll(NOW).status == "failed"
        assert screen.area.client()["state"] == "failed"
        host.state.cut_after.clear()
        assert screen.poll(NOW).status == "ready"
        assert blob_bytes(host, big) <= big.size * 1.05
        assert host.state.requests(f"/blobs/{big.sha256}")[-1][1].get("Range", "").startswith("bytes=")


def test_rollout_is_decided_by_the_screen(tmp_path):
    channel = Channel(tmp_path)
    channel.publish("0.2.0", percent=0)
    with StaticHost(channel.dest) as host:
        screen = follower(channel, host, tmp_path / "state")
        check = screen.poll(NOW)
        assert check.status == "skipped" and "not in the rollout" in check.message
        assert not host.state.requests("/blobs/") and not screen.area.ready.exists()
        promote_release("stable", FolderDest(channel.dest), "dest", channel.releaser, NOW, 30, Rollout(0, ("gate-1",)))
        assert screen.poll(NOW).status == "ready"


def test_a_full_disk_is_refused_before_any_download(tmp_path):
    channel = Channel(tmp_path)
    release = channel.publish("0.2.0")
    huge = replace(release, wheels=tuple(replace(w, size=w.size + 50 * 2**40) if "bigdep" in w.name else w
                                         for w in release.wheels))
    channel.write(replace(huge, sequence=2))
    with StaticHost(channel.dest) as host:
        screen = follower(channel, host, tmp_path / "state")
        check = screen.poll(NOW)
        assert check.status == "failed" and "not enough disk" in check.message and "nothing was downloaded" in check.message
        assert not host.state.requests("/blobs/")
        assert screen.area.client()["state"] == "refused"


def test_attacks_are_refused_before_any_download(tmp_path):
    channel = Channel(tmp_path)
    release = channel.publish("0.2.0")
    doc = channel.dest / "software/stable/release"
    good = doc.read_bytes()
    cases = [
        (good.replace(b'"percent":100', b'"percent":99'), "tampered"),
        (seal(release_payload(replace(release, sequence=2)), "release", Ed25519PrivateKey.generate()), "does not trust"),
        (seal(release_payload(replace(release, sequence=3, expires=NOW - timedelta(seconds=1),
                                      created=NOW - timedelta(days=2))), "release", channel.releaser), "expired"),
        (seal(release_payload(replace(release, sequence=4, target="cp311-manylinux_2_36_aarch64")), "release",
              channel.releaser), "this screen is"),
    ]
    with StaticHost(channel.dest) as host:
        for data, problem in cases:
            doc.write_bytes(data)
            screen = follower(channel, host, tmp_path / "state")
            check = screen.poll(NOW)
            assert check.status == "failed" and problem in check.message
        assert not host.state.requests("/blobs/")
        # The same release at a lower sequence than one seen is a rollback; a newer releasers list forgets the sequence.
        channel.write(replace(release, sequence=9))
        assert follower(channel, host, tmp_path / "state").poll(NOW).status == "ready"
        channel.write(replace(release, sequence=5))
        rolled = follower(channel, host, tmp_path / "state").poll(NOW)
        assert rolled.status == "failed" and "not newer" in rolled.message
        channel.releasers(2, channel.releaser)
        assert follower(channel, host, tmp_path / "state").poll(NOW).status == "ready"
        # A revoked key: the list no longer names it.
        channel.releasers(3, Ed25519PrivateKey.generate())
        channel.write(replace(release, sequence=6))
        revoked = follower(channel, host, tmp_path / "state").poll(NOW)
        assert revoked.status == "failed" and "does not trust" in revoked.message


def test_a_release_failed_here_or_running_already_is_not_fetched(tmp_path):
    channel = Channel(tmp_path)
    channel.publish("0.2.0")
    with StaticHost(channel.dest) as host:
        running = follower(channel, host, tmp_path / "a", running="0.2.0").poll(NOW)
        assert running.status == "skipped" and "running 0.2.0" in running.message
        failed = follower(channel, host, tmp_path / "b", status=lambda: {"failed": [1]}).poll(NOW)
        assert failed.status == "skipped" and "failed here before" in failed.message
        assert not host.state.requests("/blobs/")


@pytest.mark.parametrize("client, status, expected", [
    ({}, {}, ("idle", None)),
    ({"state": "downloading", "sequence_seen": 4}, {"state": "committed", "sequence": 3}, ("downloading", 4)),
    ({"state": "ready", "sequence_seen": 4}, {"state": "committed", "sequence": 3}, ("waiting", 4)),
    ({"state": "ready", "sequence_seen": 4}, {"state": "trial", "sequence": 4}, ("trial", 4)),
    ({"state": "ready", "sequence_seen": 4}, {"state": "rolled back", "sequence": 4, "reason": "no READY"},
     ("rolled back", 4)),
    ({"state": "failed", "sequence_seen": 4}, {}, ("idle", 4)),
])
def test_heartbeat_update_facts(client, status, expected):
    facts = update_facts(client, status, "cp311-manylinux_2_36_x86_64")
    assert (facts["update_state"], facts["release_sequence"]) == expected
    assert facts["target"] == "cp311-manylinux_2_36_x86_64"


def test_the_release_document_on_disk_is_the_signed_one(tmp_path):
    channel = Channel(tmp_path)
    channel.publish("0.2.0")
    with StaticHost(channel.dest) as host:
        screen = follower(channel, host, tmp_path / "state")
        screen.poll(NOW)
        kept = screen.area.release.read_bytes()
        assert kept == (channel.dest / "software/stable/release").read_bytes()
        assert parse_release(kept.split(b"\n", 1)[1]).version == "0.2.0"


def test_sync_import_carries_a_release_from_a_usb_stick(tmp_path):
    from player.config import load_config
    from sync.keys import public_text
    from sync.screen import import_folder

    channel = Channel(tmp_path)
    channel.publish("0.2.0")
    screen = tmp_path / "screen"
    screen.mkdir()
    (screen / "kiosk.yaml").write_text(
        "screen: {id: gate-1}\nsync: {server: 'http://127.0.0.1:9/', channel: gate, root_key: '%s'}\n"
        "update: {channel: stable}\n" % public_text(channel.root_key.public_key()), encoding="utf-8")
    config = load_config(screen / "kiosk.yaml")
    result = import_folder(config, channel.dest, NOW)
    assert "software: " not in result.message  # the software part went well (the stick has no content channel)
    marker = json.loads((screen / "state" / "update" / "ready").read_text())
    assert marker["version"] == "0.2.0"
