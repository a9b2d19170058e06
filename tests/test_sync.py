"""The screen's sync client against a real static host on 127.0.0.1: changes, cuts, forgeries, rollbacks."""

from __future__ import annotations

import hashlib
import json
import os
from datetime import datetime
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from sync.client import CHUNK, FolderSource, HttpSource, sync_once
from sync.envelope import seal
from sync.keys import PublisherList, make_publisher, seal_publishers
from sync.manifest import FileEntry, Manifest, build_manifest, manifest_payload
from sync.store import Store
from tests.conftest import VN
from tests.static_host import StaticHost

CHANNEL = "tinh-bien"
WHEN = datetime(2026, 11, 27, 9, 0, tzinfo=VN)


class Channel:
    """A published channel folder made with the real signing code."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.root_key = Ed25519PrivateKey.generate()
        self.publisher = Ed25519PrivateKey.generate()
        self.generation = 0
        (root / "blobs").mkdir(parents=True)
        (root / "channels" / CHANNEL).mkdir(parents=True)
        self.sign_publishers([("office", self.publisher)], version=1)

    def sign_publishers(self, keys: list[tuple[str, Ed25519PrivateKey]], version: int) -> None:
        plist = PublisherList(CHANNEL, version, tuple(make_publisher(n, k.public_key()) for n, k in keys))
        (self.root / "channels" / CHANNEL / "publishers").write_bytes(seal_publishers(plist, self.root_key))

    def publish(self, files: dict[str, bytes], key: Ed25519PrivateKey | None = None, generation: int | None = None,
                tamper: bool = False) -> Manifest:
        entries = []
        for path, data in files.items():
            digest = hashlib.sha256(data).hexdigest()
            (self.root / "blobs" / digest).write_bytes(data)
            entries.append(FileEntry(path, digest, len(data)))
        self.generation = generation if generation is not None else self.generation + 1
        manifest = build_manifest(CHANNEL, self.generation, WHEN, entries)
        envelope = seal(manifest_payload(manifest), "manifest", key or self.publisher)
        if tamper:
            envelope = envelope.replace(b'"size":', b'"size": ', 1)
        path = self.root / "channels" / CHANNEL / "manifest"
        path.write_bytes(envelope)
        stat = path.stat()
        os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + self.generation * 1_000_000))  # a new ETag
        return manifest

    @property
    def public(self):
        return self.root_key.public_key()


PLAYLIST = b"items:\n  - {id: a, type: text, text: {vi: 'Xin ch\xc3\xa0o'}}\n"


def content(n_media: int = 3, size: int = 50_000, change: int | None = None) -> dict[str, bytes]:
    files = {"playlists/main.yaml": PLAYLIST}
    for i in range(n_media):
        files[f"media/photo{i}.jpg"] = bytes([i if i != change else 200]) * size
    return files


@pytest.fixture
def channel(tmp_path):
    return Channel(tmp_path / "published")


@pytest.fixture
def store(tmp_path):
    return Store(tmp_path / "store").open()


def test_first_sync_then_a_no_change_poll_is_one_small_request(channel, store):
    channel.publish(content())
    with StaticHost(channel.root) as host:
        source = HttpSource(host.url, CHANNEL)
        first = sync_once(source, store, channel.public, CHANNEL)
        assert first.status == "updated" and first.generation == 1, first.message
        before = len(host.state.requests())
        again = sync_once(source, store, channel.public, CHANNEL)
        polls = host.state.requests()[before:]
    assert again.status == "unchanged"
    assert len(polls) == 1 and polls[0][2] == 304 and polls[0][3] == 0
    current = store.current()
    assert (current.path / "media" / "photo1.jpg").read_bytes() == bytes([1]) * 50_000
    assert (current.path / "playlists" / "main.yaml").read_bytes() == PLAYLIST


def test_one_changed_file_downloads_that_file_only(channel, store):
    channel.publish(content())
    with StaticHost(channel.root) as host:
        source = HttpSource(host.url, CHANNEL)
        sync_once(source, store, channel.public, CHANNEL)
        channel.publish(content(change=2))
        before = len(host.state.requests("/blobs/"))
        result = sync_once(source, store, channel.public, CHANNEL)
        blobs = host.state.requests("/blobs/")[before:]
    assert result.status == "updated" and result.generation == 2
    assert len(blobs) == 1 and result.downloaded == 50_000
    assert (store.current().path / "media" / "photo2.jpg").read_bytes() == bytes([200]) * 50_000


def test_a_cut_download_resumes_where_it_stopped(channel, store):
    big = os.urandom(4_000_000)
    manifest = channel.publish({"playlists/main.yaml": PLAYLIST, "media/clip.mp4": big})
    digest = next(f.sha256 for f in manifest.files if f.path == "media/clip.mp4")
    with StaticHost(channel.root) as host:
        host.state.cut_after[f"/blobs/{digest}"] = 2_000_000
        source = HttpSource(host.url, CHANNEL)
        cut = sync_once(source, store, channel.public, CHANNEL)
        assert cut.status == "failed" and store.current() is None  # nothing half-synced is shown
        kept = store.partial_path(digest).stat().st_size
        assert 2_000_000 - CHUNK <= kept <= 2_000_000  # all but the read in progress when the link dropped
        host.state.cut_after.clear()
        resumed = sync_once(source, store, channel.public, CHANNEL)
        last = host.state.requests(f"/blobs/{digest}")[-1]
    assert resumed.status == "updated"
    assert last[1].get("Range") == f"bytes={kept}-" and last[2] == 206
    assert resumed.downloaded == 4_000_000 - kept  # the rest only
    assert (store.current().path / "media" / "clip.mp4").read_bytes() == big


def test_a_corrupt_blob_is_refused_and_the_old_content_stays(channel, store):
    channel.publish(content())
    with StaticHost(channel.root) as host:
        source = HttpSource(host.url, CHANNEL)
        sync_once(source, store, channel.public, CHANNEL)
        manifest = channel.publish(content(change=0))
        digest = next(f.sha256 for f in manifest.files if f.path == "media/photo0.jpg")
        (channel.root / "blobs" / digest).write_bytes(b"x" * 50_000)  # same size, wrong bytes
        result = sync_once(source, store, channel.public, CHANNEL)
    assert result.status == "failed" and "sha256" in result.message
    assert store.current().manifest.generation == 1
    assert not store.has_blob(digest) and not store.partial_path(digest).exists()


@pytest.mark.parametrize("case, message", [
    ("tampered", "does not match"),
    ("untrusted", "does not trust"),
    ("unsigned", "not signed"),
])
def test_forged_manifests_are_refused(channel, store, case, message):
    channel.publish(content())
    with StaticHost(channel.root) as host:
        source = HttpSource(host.url, CHANNEL)
        sync_once(source, store, channel.public, CHANNEL)
        if case == "tampered":
            channel.publish(content(change=1), tamper=True)
        elif case == "untrusted":
            channel.publish(content(change=1), key=Ed25519PrivateKey.generate())
        else:
            channel.publish(content(change=1))
            path = channel.root / "channels" / CHANNEL / "manifest"
            path.write_bytes(path.read_bytes().split(b"\n", 1)[1])
        result = sync_once(source, store, channel.public, CHANNEL)
    assert result.status == "failed" and message in result.message, result.message
    assert store.current().manifest.generation == 1


def test_a_revoked_publisher_cannot_publish_any_more(channel, store):
    laptop = Ed25519PrivateKey.generate()
    channel.sign_publishers([("office", channel.publisher), ("laptop", laptop)], version=2)
    channel.publish(content(), key=laptop)
    with StaticHost(channel.root) as host:
        source = HttpSource(host.url, CHANNEL)
        assert sync_once(source, store, channel.public, CHANNEL).status == "updated"
        channel.sign_publishers([("office", channel.publisher)], version=3)  # the laptop was stolen
        channel.publish(content(change=1), key=laptop)
        refused = sync_once(source, store, channel.public, CHANNEL)
        channel.sign_publishers([("office", channel.publisher), ("laptop", laptop)], version=2)  # replaying the old list
        replayed = sync_once(source, store, channel.public, CHANNEL)
    assert refused.status == "failed" and "does not trust" in refused.message
    assert replayed.status == "failed" and "older" in replayed.message
    assert store.current().manifest.generation == 1


def test_an_older_generation_is_refused(channel, store):
    channel.publish(content(), generation=5)
    with StaticHost(channel.root) as host:
        source = HttpSource(host.url, CHANNEL)
        sync_once(source, store, channel.public, CHANNEL)
        channel.publish(content(change=1), generation=4)
        result = sync_once(source, store, channel.public, CHANNEL)
    assert result.status == "failed" and "not newer" in result.message
    assert store.current().manifest.generation == 5


def test_server_down_is_one_clear_failure(store, channel):
    with StaticHost(channel.root) as host:
        url = host.url
    result = sync_once(HttpSource(url, CHANNEL, timeout=2), store, channel.public, CHANNEL)
    assert result.status == "failed" and "127.0.0.1" in result.message and store.current() is None


def test_path_traversal_in_a_signed_manifest_is_refused(channel, store):
    payload = json.dumps({"format": 1, "channel": CHANNEL, "generation": 1, "created": WHEN.isoformat(),
                          "files": [{"path": "media/../../etc/passwd", "sha256": "0" * 64, "size": 1}]}).encode()
    (channel.root / "channels" / CHANNEL / "manifest").write_bytes(seal(payload, "manifest", channel.publisher))
    result = sync_once(FolderSource(channel.root, CHANNEL), store, channel.public, CHANNEL)
    assert result.status == "failed" and "not allowed" in result.message
    assert not (store.root.parent / "etc").exists()


def test_a_huge_manifest_is_refused_before_reading_it_all(channel, store):
    (channel.root / "channels" / CHANNEL / "manifest").write_bytes(b"KIOSK-SIGNED 1 " + b"x" * (5 * 2**20))
    with StaticHost(channel.root) as host:
        result = sync_once(HttpSource(host.url, CHANNEL), store, channel.public, CHANNEL)
    assert result.status == "failed" and "larger than" in result.message


def test_usb_import_applies_a_published_folder_with_the_same_checks(channel, store):
    channel.publish(content())
    result = sync_once(FolderSource(channel.root, CHANNEL), store, channel.public, CHANNEL)
    assert result.status == "updated"
    channel.publish(content(change=1), key=Ed25519PrivateKey.generate())
    assert sync_once(FolderSource(channel.root, CHANNEL), store, channel.public, CHANNEL).status == "failed"


def test_old_generations_and_unused_blobs_are_pruned(channel, store):
    with StaticHost(channel.root) as host:
        source = HttpSource(host.url, CHANNEL)
        for n in range(5):
            channel.publish(content(change=n % 3))
            assert sync_once(source, store, channel.public, CHANNEL, keep=2, limit_bytes=200_000).status == "updated"
    names = [g.manifest.generation for g in store.list_generations()]
    assert names == [4, 5]
    referenced = set().union(*(g.manifest.blobs() for g in store.list_generations()))
    assert store.blob_ids() <= referenced | set()  # over the limit, nothing unreferenced is kept
