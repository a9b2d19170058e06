"""The sync client against hosts that misbehave: nothing may leave a screen stuck on old content for good.

Each case here was a real failure: a complete partial download never adopted (an empty
file, a cut after the last byte, a kill before the rename), a trickling host holding the
client for days, a generation lost on disk never fetched again, a same-version publisher
list undoing a revocation, a signed but absurd manifest crashing `sync run`.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import subprocess
import sys
import threading
import time

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from sync.client import FolderSource, HttpSource, RateFloor, sync_once
from sync.envelope import seal
from sync.keys import public_text
from sync.store import Store
from tests.conftest import REPO, make_screen
from tests.static_host import StaticHost
from tests.test_sync import CHANNEL, PLAYLIST, Channel, content

EMPTY = hashlib.sha256(b"").hexdigest()


@pytest.fixture
def channel(tmp_path):
    return Channel(tmp_path / "published")


@pytest.fixture
def store(tmp_path):
    return Store(tmp_path / "store").open()


def digest_of(manifest, path: str) -> str:
    return next(f.sha256 for f in manifest.files if f.path == path)


# -- 1. a complete partial is verified and adopted, or thrown away and fetched again ------------------------------

def test_an_empty_file_in_the_content_syncs_over_http(channel, store):
    channel.publish({"playlists/main.yaml": PLAYLIST, "media/empty.txt": b"", "media/a.jpg": b"a" * 1000})
    with StaticHost(channel.root) as host:
        result = sync_once(HttpSource(host.url, CHANNEL), store, channel.public, CHANNEL)
        again = sync_once(HttpSource(host.url, CHANNEL), store, channel.public, CHANNEL)
    assert result.status == "updated", result.message
    assert (store.current().path / "media" / "empty.txt").read_bytes() == b""
    assert store.has_blob(EMPTY)
    assert again.status == "unchanged"


def test_a_connection_that_stalls_after_the_last_byte_still_delivers_the_file(channel, store):
    manifest = channel.publish(content())
    digest = digest_of(manifest, "media/photo1.jpg")
    with StaticHost(channel.root) as host:
        host.state.stall_after_body[f"/blobs/{digest}"] = 3.0  # chunked, every byte sent, no final chunk
        result = sync_once(HttpSource(host.url, CHANNEL, timeout=1), store, channel.public, CHANNEL)
    assert result.status == "updated", result.message
    assert (store.current().path / "media" / "photo1.jpg").read_bytes() == bytes([1]) * 50_000


def test_a_complete_partial_left_by_a_kill_is_adopted_without_fetching_it_again(channel, store):
    manifest = channel.publish(content())
    digest = digest_of(manifest, "media/photo2.jpg")
    store.partial_path(digest).write_bytes(bytes([2]) * 50_000)  # killed between the last byte and the rename
    with StaticHost(channel.root) as host:
        result = sync_once(HttpSource(host.url, CHANNEL), store, channel.public, CHANNEL)
        fetched = host.state.requests(f"/blobs/{digest}")
    assert result.status == "updated", result.message
    assert fetched == []
    assert not store.partial_path(digest).exists()


def test_a_partial_of_the_right_size_with_the_wrong_bytes_is_thrown_away_and_fetched_again(channel, store, caplog):
    manifest = channel.publish(content())
    digest = digest_of(manifest, "media/photo2.jpg")
    store.partial_path(digest).write_bytes(b"x" * 50_000)
    with StaticHost(channel.root) as host, caplog.at_level(logging.WARNING):
        result = sync_once(HttpSource(host.url, CHANNEL), store, channel.public, CHANNEL)
        fetched = host.state.requests(f"/blobs/{digest}")
    assert result.status == "updated", result.message
    assert len(fetched) == 1 and "Range" not in fetched[0][1]  # from the start, not resumed past the bad bytes
    assert (store.current().path / "media" / "photo2.jpg").read_bytes() == bytes([2]) * 50_000
    assert "discarded" in caplog.text


# -- 6. a slow host is cut at a deadline and resumed later ---------------------------------------------------------

def test_a_trickled_manifest_is_cut_at_the_rate_floor(channel, store):
    channel.publish(content())
    with StaticHost(channel.root) as host:
        host.state.trickle[f"/channels/{CHANNEL}/manifest"] = (1, 0.1)  # 10 bytes a second
        source = HttpSource(host.url, CHANNEL, floor=RateFloor(min_rate=1000, grace=1.0))
        started = time.monotonic()
        result = sync_once(source, store, channel.public, CHANNEL)
        took = time.monotonic() - started
    assert result.status == "failed" and "too slow" in result.message, result.message
    assert took < 20  # a bound that catches a hang; the manifest alone would take a minute at this rate
    assert store.current() is None


def test_a_slow_blob_is_cut_then_resumed_with_range(channel, store):
    manifest = channel.publish(content(n_media=1, size=200_000))
    digest = digest_of(manifest, "media/photo0.jpg")
    with StaticHost(channel.root) as host:
        host.state.trickle[f"/blobs/{digest}"] = (2000, 0.2)  # 10 kB/s against a floor of 50 kB/s
        source = HttpSource(host.url, CHANNEL, floor=RateFloor(min_rate=50_000, grace=1.0))
        cut = sync_once(source, store, channel.public, CHANNEL)
        kept = store.partial_path(digest).stat().st_size
        host.state.trickle.clear()
        resumed = sync_once(source, store, channel.public, CHANNEL)
        last = host.state.requests(f"/blobs/{digest}")[-1]
    assert cut.status == "failed" and "too slow" in cut.message, cut.message
    assert 0 < kept < 200_000
    assert resumed.status == "updated", resumed.message
    assert last[1].get("Range") == f"bytes={kept}-"
    assert (store.current().path / "media" / "photo0.jpg").read_bytes() == bytes([0]) * 200_000


def test_the_rate_floor_allows_the_grace_time_then_the_minimum_rate():
    floor = RateFloor(min_rate=10_000, grace=30)
    assert floor.allows(0, 29.9)
    assert not floor.allows(0, 30.1)
    assert floor.allows(300_000, 59)       # 300 kB earns 30 s more
    assert not floor.allows(300_000, 61)


# -- 7. a generation lost on disk is fetched again ------------------------------------------------------------------

@pytest.mark.parametrize("damage", ["folder deleted", "file deleted", "blobs and folder deleted"])
def test_a_current_generation_lost_on_disk_is_fetched_again(channel, store, damage):
    channel.publish(content())
    with StaticHost(channel.root) as host:
        source = HttpSource(host.url, CHANNEL)
        assert sync_once(source, store, channel.public, CHANNEL).status == "updated"
        current = store.current()
        if damage == "file deleted":
            (current.path / "media" / "photo1.jpg").unlink()
        else:
            shutil.rmtree(current.path)
        if damage.startswith("blobs"):
            shutil.rmtree(store.blobs)
            store.blobs.mkdir()
        result = sync_once(source, store, channel.public, CHANNEL)
        manifest_asks = host.state.requests(f"/channels/{CHANNEL}/manifest")
    assert result.status == "updated", result.message
    assert "If-None-Match" not in manifest_asks[-1][1] and manifest_asks[-1][2] == 200
    assert store.is_complete(store.current(), deep=True)
    assert store.current().manifest.generation == 1


def test_a_lost_generation_does_not_open_the_door_to_an_older_one(channel, store):
    channel.publish(content(), generation=5)
    with StaticHost(channel.root) as host:
        source = HttpSource(host.url, CHANNEL)
        assert sync_once(source, store, channel.public, CHANNEL).status == "updated"
        shutil.rmtree(store.current().path)
        channel.publish(content(change=1), generation=4)
        result = sync_once(source, store, channel.public, CHANNEL)
    assert result.status == "failed" and "not newer" in result.message


# -- 8. a different publisher list under the same version ------------------------------------------------------------

def test_a_different_publisher_list_of_the_same_version_is_refused_and_the_held_one_kept(channel, store, caplog):
    laptop = Ed25519PrivateKey.generate()
    channel.sign_publishers([("office", channel.publisher)], version=2)  # the laptop revoked at version 2
    channel.publish(content())
    with StaticHost(channel.root) as host:
        source = HttpSource(host.url, CHANNEL)
        assert sync_once(source, store, channel.public, CHANNEL).status == "updated"
        held = store.publishers()
        channel.sign_publishers([("office", channel.publisher), ("laptop", laptop)], version=2)  # re-signed, same version
        channel.publish(content(change=1), key=laptop)
        with caplog.at_level(logging.WARNING):
            result = sync_once(source, store, channel.public, CHANNEL)
    assert result.status == "failed" and "does not trust" in result.message
    assert store.publishers() == held
    assert "other contents than the one held" in caplog.text
    assert store.current().manifest.generation == 1


# -- 2. a signed but unusable manifest: refused, and `sync run` keeps going -----------------------------------------

def test_a_signed_manifest_nested_absurdly_deep_is_refused_not_a_crash(channel, store):
    path = channel.root / "channels" / CHANNEL / "manifest"
    path.write_bytes(seal(b"[" * 100_000 + b"]" * 100_000, "manifest", channel.publisher))
    with StaticHost(channel.root) as host:
        result = sync_once(HttpSource(host.url, CHANNEL), store, channel.public, CHANNEL)
    assert result.status == "failed" and "nested deeper" in result.message


@pytest.mark.slow  # a sync process for seconds
def test_sync_run_survives_a_hostile_manifest_and_takes_the_next_good_one(channel, tmp_path):
    path = channel.root / "channels" / CHANNEL / "manifest"
    path.write_bytes(seal(b'{"format": 1, "generation": ' + b"7" * 5000 + b"}", "manifest", channel.publisher))
    screen = tmp_path / "screen"
    config = make_screen(screen, {"local.yaml": "items:\n  - {id: local, type: text, text: {vi: 'Tại chỗ'}}\n"})
    env = dict(os.environ, PYTHONPATH=str(REPO))
    with StaticHost(channel.root) as host:
        settings = {"server": host.url, "channel": CHANNEL, "root_key": public_text(channel.public), "poll_seconds": 1}
        config.write_text(config.read_text() + f"sync: {json.dumps(settings)}\n", encoding="utf-8")
        sync = subprocess.Popen([sys.executable, "-m", "sync", "run", "--config", str(config)], cwd=screen, env=env,
                                stderr=subprocess.PIPE, text=True)
        try:
            deadline = time.monotonic() + 8
            while time.monotonic() < deadline and len(host.state.requests(f"/channels/{CHANNEL}/manifest")) < 2:
                time.sleep(0.2)
            assert sync.poll() is None, "sync run ended on a hostile manifest"
            channel.publish(content())
            state = screen / "state" / "store" / "state.json"
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline and json.loads(state.read_text() if state.exists() else "{}").get(
                    "generation") != 1:
                time.sleep(0.3)
            assert sync.poll() is None
        finally:
            sync.terminate()
            _, log = sync.communicate(timeout=20)
    assert json.loads(state.read_text())["generation"] == 1, log
    assert "digits" in log  # the refusal was logged, once per try
    assert "Traceback" not in log


# -- 5. a USB stick is read with bounds: regular files only, never more than the limit ------------------------------

def sync_in_thread(source, store, channel, seconds: float = 15.0):
    """sync_once that cannot hang the test run: a reader stuck on a FIFO fails the test instead."""
    out: list = []
    worker = threading.Thread(target=lambda: out.append(sync_once(source, store, channel.public, CHANNEL)), daemon=True)
    worker.start()
    worker.join(seconds)
    assert not worker.is_alive(), "the import hung"
    return out[0]


@pytest.mark.parametrize("kind", ["link to /dev/zero", "fifo", "link to a good copy"])
def test_a_usb_manifest_that_is_not_a_regular_file_is_refused(channel, store, kind):
    channel.publish(content())
    path = channel.root / "channels" / CHANNEL / "manifest"
    if kind == "fifo":
        path.unlink()
        os.mkfifo(path)
    else:
        target = "/dev/zero" if kind == "link to /dev/zero" else str(path.with_name("manifest.copy"))
        if kind == "link to a good copy":
            shutil.copy(path, target)
        path.unlink()
        path.symlink_to(target)
    result = sync_in_thread(FolderSource(channel.root, CHANNEL), store, channel)
    assert result.status == "failed" and ("symbolic link" in result.message or "FIFO" in result.message), result.message
    assert store.current() is None


@pytest.mark.parametrize("kind", ["fifo", "link", "longer than listed"])
def test_a_usb_blob_that_is_not_what_the_manifest_lists_is_refused(channel, store, kind):
    manifest = channel.publish(content())
    blob = channel.root / "blobs" / digest_of(manifest, "media/photo1.jpg")
    if kind == "fifo":
        blob.unlink()
        os.mkfifo(blob)
    elif kind == "link":
        real = blob.with_name("elsewhere")
        blob.rename(real)
        blob.symlink_to(real)
    else:
        with blob.open("ab") as out:
            out.write(b"\0" * 10_000_000)
    result = sync_in_thread(FolderSource(channel.root, CHANNEL), store, channel)
    assert result.status == "failed", result.message
    assert any(word in result.message for word in ("FIFO", "symbolic link", "larger than")), result.message
    assert store.current() is None and not any(store.partial.iterdir())
