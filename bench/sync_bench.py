"""Content sync figures on loopback, one summary line each: no-change poll cost, a one-file change in a
200-file 500 MB channel, resuming a 200 MB blob cut at 50%, and 1 GB sync throughput against curl.

    .venv/bin/python -m bench.sync_bench [--scale 1.0]

--scale shrinks every size (0.1 for a quick look). Files are random bytes under a temp folder
served by sync's static host on 127.0.0.1; curl fetches the same blobs from the same server.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import random
import shutil
import subprocess
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from sync.client import HttpSource, sync_once
from sync.envelope import seal
from sync.keys import PublisherList, make_publisher, seal_publishers
from sync.manifest import FileEntry, build_manifest, manifest_payload
from sync.statichost import StaticHost
from sync.store import Store
from tests.static_host import StaticHost as FaultyHost

CHANNEL = "bench"


class Publisher:
    def __init__(self, root: Path) -> None:
        self.root, self.generation = root, 0
        self.root_key, self.key = Ed25519PrivateKey.generate(), Ed25519PrivateKey.generate()
        (root / "blobs").mkdir(parents=True)
        (root / "channels" / CHANNEL).mkdir(parents=True)
        plist = PublisherList(CHANNEL, 1, (make_publisher("bench", self.key.public_key()),))
        (root / "channels" / CHANNEL / "publishers").write_bytes(seal_publishers(plist, self.root_key))
        self.files: dict[str, FileEntry] = {}

    def put(self, path: str, data: bytes) -> FileEntry:
        digest = hashlib.sha256(data).hexdigest()
        (self.root / "blobs" / digest).write_bytes(data)
        self.files[path] = FileEntry(path, digest, len(data))
        return self.files[path]

    def publish(self) -> None:
        self.generation += 1
        manifest = build_manifest(CHANNEL, self.generation, datetime.now(timezone.utc), list(self.files.values()))
        target = self.root / "channels" / CHANNEL / "manifest"
        target.write_bytes(seal(manifest_payload(manifest), "manifest", self.key))
        stat = target.stat()
        os.utime(target, ns=(stat.st_atime_ns, stat.st_mtime_ns + self.generation))


def wire_bytes(source: HttpSource) -> int:
    """Request plus response bytes of one no-change poll, headers included, as they cross the socket."""
    url = f"{source.base}channels/{CHANNEL}/manifest"
    first = source.session.get(url)
    etag = first.headers["ETag"]
    response = source.session.get(url, headers={"If-None-Match": etag})
    request = response.request
    sent = len(f"GET {request.path_url} HTTP/1.1\r\n") + sum(len(f"{k}: {v}\r\n") for k, v in request.headers.items()) + 2
    got = len(f"HTTP/1.1 {response.status_code} {response.reason}\r\n") + sum(
        len(f"{k}: {v}\r\n") for k, v in response.headers.items()) + 2 + len(response.content)
    return sent + got


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=1.0, help="multiply every size by this (default 1)")
    args = parser.parse_args()
    rng = random.Random(1)
    mb = int(2**20 * args.scale)
    with tempfile.TemporaryDirectory(prefix="sync-bench-") as tmp:
        work = Path(tmp)

        # 1-2: a 200-file, 500 MB channel; then one file changes.
        pub = Publisher(work / "a")
        for n in range(200):
            pub.put(f"media/file{n:03d}.bin", rng.randbytes(int(2.5 * mb)))
        pub.publish()
        store = Store(work / "store-a").open()
        with FaultyHost(pub.root) as host:
            source = HttpSource(host.url, CHANNEL)
            first = sync_once(source, store, pub.root_key.public_key(), CHANNEL)
            assert first.status == "updated", first.message
            before = len(host.state.requests())
            again = sync_once(source, store, pub.root_key.public_key(), CHANNEL)
            polls = host.state.requests()[before:]
            print(f"no_change_poll_requests {len(polls)} (target 1); status {again.status}")
            print(f"no_change_poll_bytes {wire_bytes(source)} (target <= 2048, request and response with headers)")
            pub.put("media/file100.bin", rng.randbytes(int(2.5 * mb)))
            pub.publish()
            before = len(host.state.requests("/blobs/"))
            changed = sync_once(source, store, pub.root_key.public_key(), CHANNEL)
            blobs = host.state.requests("/blobs/")[before:]
            total = sum(f.size for f in pub.files.values())
            print(f"one_file_change_downloaded_bytes {changed.downloaded} in {len(blobs)} blob request(s) "
                  f"of a {len(pub.files)}-file {total / 2**20:.0f} MB channel (target: that file only, "
                  f"{pub.files['media/file100.bin'].size} bytes)")
        shutil.rmtree(work / "a")
        shutil.rmtree(work / "store-a")

        # 3: a 200 MB blob cut at 50%, then resumed.
        pub = Publisher(work / "b")
        entry = pub.put("media/big.bin", rng.randbytes(200 * mb))
        pub.publish()
        store = Store(work / "store-b").open()
        with FaultyHost(pub.root) as host:
            host.state.cut_after[f"/blobs/{entry.sha256}"] = entry.size // 2
            source = HttpSource(host.url, CHANNEL)
            cut = sync_once(source, store, pub.root_key.public_key(), CHANNEL)
            sent = sum(r[3] for r in host.state.requests(f"/blobs/{entry.sha256}"))
            kept = store.partial_path(entry.sha256).stat().st_size
            host.state.cut_after.clear()
            resumed = sync_once(source, store, pub.root_key.public_key(), CHANNEL)
        overlap = (sent + resumed.downloaded - entry.size) / entry.size  # bytes that crossed the link twice
        print(f"resume_redownload_pct {100 * max(0.0, overlap):.2f} (target <= 5; cut: {cut.status} after "
              f"{sent / 2**20:.1f} MB, kept {kept / 2**20:.1f} MB, fetched {resumed.downloaded / 2**20:.1f} MB "
              f"after resuming, {resumed.status})")
        shutil.rmtree(work / "b")
        shutil.rmtree(work / "store-b")

        # 4: 1 GB channel: our client against curl, same server, same files.
        pub = Publisher(work / "c")
        for n in range(40):
            pub.put(f"media/clip{n:02d}.bin", rng.randbytes(int(25.6 * mb)))
        pub.publish()
        total = sum(f.size for f in pub.files.values())
        store = Store(work / "store-c").open()
        with StaticHost(pub.root) as host:
            started = time.monotonic()
            result = sync_once(HttpSource(host.url, CHANNEL), store, pub.root_key.public_key(), CHANNEL)
            ours = time.monotonic() - started
            assert result.status == "updated", result.message
            urls = [f"{host.url}blobs/{f.sha256}" for f in pub.files.values()]
            (work / "curl").mkdir()
            config = "".join(f'url = "{u}"\noutput = "{work / "curl" / u.rsplit("/", 1)[1]}"\n' for u in urls)
            started = time.monotonic()
            subprocess.run(["curl", "-sS", "--no-progress-meter", "--parallel", "--parallel-max", "3", "-K", "-"], input=config.encode(), check=True)
            theirs = time.monotonic() - started
        print(f"sync_throughput_mb_s {total / ours / 2**20:.0f} vs curl {total / theirs / 2**20:.0f} "
              f"(ratio {theirs / ours:.2f}, target >= 0.50; {total / 2**30:.2f} GB, both 3 connections at a time, "
              f"ours includes sha256 checks and building the generation)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
