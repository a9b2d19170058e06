"""Sync under faults: a full disk, and kill -9 at random moments; the store is always whole afterwards."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time

import pytest

from sync.client import HttpSource, sync_once
from sync.keys import public_text
from sync.store import Store
from tests.conftest import REPO
from tests.static_host import StaticHost
from tests.test_sync import CHANNEL, Channel, content


def test_a_full_disk_keeps_the_last_good_content(tmp_path):
    if os.geteuid() != 0:
        pytest.skip("mounting a small tmpfs needs root (CI runs as root)")
    disk = tmp_path / "disk"
    disk.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=400k", "tmpfs", str(disk)], check=True)
    try:
        channel = Channel(tmp_path / "published")
        store = Store(disk / "store").open()
        channel.publish(content(n_media=2, size=60_000))
        with StaticHost(channel.root) as host:
            source = HttpSource(host.url, CHANNEL)
            assert sync_once(source, store, channel.public, CHANNEL).status == "updated"
            channel.publish(content(n_media=8, size=60_000))  # 480 KB more: does not fit
            result = sync_once(source, store, channel.public, CHANNEL)
        assert result.status == "failed" and "disk full" in result.message, result.message
        current = store.current()
        assert current.manifest.generation == 1 and store.is_complete(current, deep=True)
        assert not list((disk / "store" / "generations").glob(".building-*"))
    finally:
        subprocess.run(["umount", str(disk)], check=False)


SCREEN = """\
screen: {{id: kill-test}}
state_dir: state
sync: {{server: "{url}", channel: {channel}, root_key: "{root}", poll_seconds: 1}}
"""


@pytest.mark.slow  # kill -9 rounds of the real sync process
def test_kill_9_at_twenty_random_moments_never_leaves_a_broken_store(tmp_path):
    channel = Channel(tmp_path / "published")
    screen = tmp_path / "screen"
    screen.mkdir()
    rng = random.Random(7)
    env = dict(os.environ, PYTHONPATH=str(REPO), SDL_VIDEODRIVER="dummy")
    with StaticHost(channel.root) as host:
        host.state.seconds_per_64k = 0.08  # 0.8 MB/s a connection: a sync takes about a second, kills land mid-way
        (screen / "kiosk.yaml").write_text(SCREEN.format(url=host.url, channel=CHANNEL, root=public_text(channel.public)),
                                           encoding="utf-8")
        interrupted = 0
        for point in range(20):
            files = {"playlists/main.yaml": content()["playlists/main.yaml"]}
            files.update({f"media/clip{n}.bin": rng.randbytes(150_000) for n in range(12)})  # all new each time
            channel.publish(files)
            proc = subprocess.Popen([sys.executable, "-m", "sync", "run", "--config", "kiosk.yaml"], cwd=screen, env=env,
                                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            time.sleep(rng.uniform(0.3, 1.6))
            proc.send_signal(signal.SIGKILL)
            proc.wait()
            store = Store(screen / "state" / "store")
            current = store.current()
            if current is not None:  # whatever the moment, what `current` names is whole
                assert store.is_complete(current, deep=True), f"kill {point}: {current.name} is damaged"
            if current is None or current.manifest.generation != channel.generation:
                interrupted += 1
        done = subprocess.run([sys.executable, "-m", "sync", "run", "--once", "--config", "kiosk.yaml"], cwd=screen,
                              env=env, capture_output=True, text=True, timeout=60)
    assert interrupted >= 8, f"only {interrupted} of 20 kills landed before the sync finished"
    assert done.returncode == 0, done.stdout + done.stderr
    store = Store(screen / "state" / "store").open()
    current = store.current()
    assert current.manifest.generation == channel.generation and store.is_complete(current, deep=True)
    assert not list((screen / "state" / "store" / "generations").glob(".building-*"))
