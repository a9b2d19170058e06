"""The staff console's timing and memory targets, on a real server process on loopback:

    .venv/bin/python -m bench.console_bench [--upload-mb 1024] [--quick] [--only preview|timeline|upload]

- preview: an item with text in 4 languages drawn by the render worker, warm (median of 7 after one
  warm-up): target 1.5 s;
- timeline: one day of the demo schedule hour by hour with an item's "why not" (median of 20): 300 ms;
- upload: a file of --upload-mb (1 GB) sent in 8 MB chunks as the console's script does, cut twice
  part way through a chunk, resumed from what the server says it holds: chunks sent again (target at
  most 2) and the server's RSS growth (target 50 MB), and the file's SHA-256 checked.

One line per figure with its target; exit status 0 when every target is met. --quick uploads 96 MB.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import re
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import date, datetime, timezone
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
CHUNK = 8 * 2**20
TARGETS = {"preview_s": 1.5, "timeline_ms": 300.0, "resent_chunks": 2, "rss_growth_mb": 50.0}
ITEM = """\
items:
  - id: hours
    type: text
    text:
      vi: {title: "Giờ mở cửa", body: "Hằng ngày 06:00 – 22:00, kể cả ngày lễ"}
      en: {title: "Opening hours", body: "Daily 06:00 – 22:00, holidays included"}
      km: {title: "ម៉ោង\u200bបើក\u200bច្រកទ្វារ", body: "រៀងរាល់\u200bថ្ងៃ ម៉ោង ០៦:០០ ដល់ ២២:០០"}
      zh: {title: "开放时间", body: "每天 06:00 – 22:00，节假日照常"}
"""
PASSWORD = "bench password long enough"


def start_server(work: Path) -> tuple[subprocess.Popen[bytes], str, Any]:
    """`python -m sync serve` on a free port with channel gate, an admin with a console password, generation 1."""
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from bench.server_load import free_port, wait_until_listening
    from sync.envelope import seal
    from sync.keys import PublisherList, make_publisher, public_text, seal_publishers
    from sync.manifest import FileEntry, build_manifest, manifest_payload
    from sync.server.console.passwords import hash_password
    from sync.server.console.records import ConsoleRecords
    from sync.server.db import Database
    from sync.server.tokens import make_token

    import requests

    stamp = datetime.now(timezone.utc).isoformat(timespec="seconds")
    root, publisher = Ed25519PrivateKey.generate(), Ed25519PrivateKey.generate()
    db = Database(work / "data" / "server.db")
    db.add_channel("gate", public_text(root.public_key()), stamp)
    admin = make_token("staff")
    db.add_staff("bench", ["*"], True, admin, stamp)
    ConsoleRecords(db).set_password("bench", hash_password(PASSWORD), stamp)
    db.close()
    port = free_port()
    log = (work / "server.log").open("wb")
    server = subprocess.Popen([sys.executable, "-m", "sync", "serve", "--data", str(work / "data"), "--port", str(port)],
                              cwd=REPO, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    wait_until_listening(url, server, work / "server.log")
    api = requests.Session()
    api.headers["Authorization"] = f"Bearer {admin.text}"
    plist = PublisherList("gate", 1, (make_publisher("office", publisher.public_key()),))
    api.put(f"{url}/api/channels/gate/publishers", data=seal_publishers(plist, root)).raise_for_status()
    files = {"playlists/main.yaml": ITEM.encode("utf-8"), "playlists/schedule.yaml": b"dayparts:\n  - playlist: main\n"}
    for data in files.values():
        api.put(f"{url}/api/blobs/{hashlib.sha256(data).hexdigest()}", data=data).raise_for_status()
    entries = [FileEntry(p, hashlib.sha256(d).hexdigest(), len(d)) for p, d in files.items()]
    manifest = build_manifest("gate", 1, datetime.now(timezone.utc), entries)
    api.post(f"{url}/api/channels/gate/manifest", data=seal(manifest_payload(manifest), "manifest", publisher)
             ).raise_for_status()
    return server, url, log_in(url)


def log_in(url: str) -> Any:
    """A requests session logged in to the console as a browser is (cookie, CSRF token, Origin)."""
    import requests

    session = requests.Session()
    page = session.get(f"{url}/console/login")
    token = re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)  # type: ignore[union-attr]
    answer = session.post(f"{url}/console/login", data={"csrf": token, "name": "bench", "password": PASSWORD,
                                                        "next": "/console/"}, headers={"Origin": url})
    answer.raise_for_status()
    session.csrf = re.search(r'data-csrf="([^"]+)"', answer.text).group(1)  # type: ignore[attr-defined,union-attr]
    session.headers["Origin"] = url
    return session


def bench_preview(url: str, session: Any) -> float:
    times = []
    for _ in range(8):
        started = time.perf_counter()
        page = session.get(f"{url}/console/channels/gate/preview/main.yaml/hours")
        times.append(time.perf_counter() - started)
        assert page.status_code == 200 and page.text.count("<img") == 4, page.text[-500:]
    return statistics.median(times[1:])


def bench_timeline() -> float:
    from player.config import load_config
    from player.fontfiles import has_font_for
    from player.content import load_content
    from sync.server.console.planning import timeline

    config = load_config(REPO / "kiosk.yaml")
    content, _ = load_content(config.playlists_dir, config.media_dir, config.languages, has_font_for(config))
    wanted = f"{content.playlists[0].id}/{content.playlists[0].items[-1].id}"
    times = []
    for _ in range(20):
        started = time.perf_counter()
        timeline(content, config.languages, config.resolve_language, date(2027, 2, 6), config.tz, wanted)
        times.append(time.perf_counter() - started)
    return statistics.median(times) * 1000


def bench_upload(url: str, session: Any, server: subprocess.Popen[bytes], megabytes: int) -> tuple[int, float, bool]:
    """(chunks sent again, server RSS growth in MB, whether the blob's hash matches) for a twice-cut upload."""
    import psutil
    import requests

    size = megabytes * 2**20 + 12345
    watched = psutil.Process(server.pid)
    baseline = watched.memory_info().rss
    peak = [baseline]
    done = threading.Event()

    def sample() -> None:
        while not done.is_set():
            peak[0] = max(peak[0], watched.memory_info().rss)
            time.sleep(0.05)

    threading.Thread(target=sample, daemon=True).start()
    started = session.post(f"{url}/console/uploads", data={"csrf": session.csrf, "name": "bench.bin", "size": str(size),
                                                           "channel": "gate"}, headers={"X-CSRF-Token": session.csrf})
    started.raise_for_status()
    upload = started.json()["id"]
    headers = {"X-CSRF-Token": session.csrf, "X-Console-Fetch": "1"}
    cuts = {size // 3, 2 * size // 3}  # the link drops in the chunks holding these offsets
    sent_again, offset = 0, 0
    while offset < size:
        body = chunk_at(offset, min(CHUNK, size - offset))
        if any(offset <= cut < offset + len(body) for cut in cuts):
            cuts = {cut for cut in cuts if not offset <= cut < offset + len(body)}
            try:  # half the chunk, then the connection is gone
                requests.put(f"{url}/console/uploads/{upload}?offset={offset}", data=iter([body[:len(body) // 2]]),
                             headers={**headers, "Origin": url, "Content-Length": str(len(body))},
                             cookies=session.cookies, timeout=3)
            except requests.RequestException:
                pass
            sent_again += 1
            offset = session.get(f"{url}/console/uploads/{upload}", headers=headers).json()["received"]
            continue
        answer = session.put(f"{url}/console/uploads/{upload}?offset={offset}", data=body, headers=headers)
        answer.raise_for_status()
        offset = answer.json()["received"]
    session.post(f"{url}/console/uploads/{upload}/finish", data={"csrf": session.csrf}).raise_for_status()
    done.set()
    hasher = hashlib.sha256()
    for at in range(0, size, CHUNK):
        hasher.update(chunk_at(at, min(CHUNK, size - at)))
    same = "bench.bin" in session.get(f"{url}/console/channels/gate/media").text and \
        requests.get(f"{url}/blobs/{hasher.hexdigest()}", headers={"Range": "bytes=0-0"}).status_code == 206
    return sent_again, (peak[0] - baseline) / 2**20, same


PATTERN = b"".join(hashlib.sha256(str(n).encode()).digest() for n in range(32768))  # 1 MB that does not compress


def chunk_at(offset: int, length: int) -> bytes:
    """The file's bytes from `offset`: the pattern repeated, so no gigabyte is held or written to disk here."""
    start = offset % len(PATTERN)
    repeated = PATTERN * (length // len(PATTERN) + 2)
    return repeated[start:start + length]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--upload-mb", type=int, default=1024, help="size of the cut upload in MB (default 1024)")
    parser.add_argument("--quick", action="store_true", help="a 96 MB upload")
    parser.add_argument("--only", choices=["preview", "timeline", "upload"])
    args = parser.parse_args()
    megabytes = 96 if args.quick else args.upload_mb
    ok = True
    if args.only in (None, "timeline"):
        ms = bench_timeline()
        ok &= ms <= TARGETS["timeline_ms"]
        print(f"timeline: one day hour by hour with a why-not: {ms:.1f} ms (target {TARGETS['timeline_ms']:g} ms)")
    if args.only == "timeline":
        return 0 if ok else 1
    with tempfile.TemporaryDirectory(prefix="console-bench-") as tmp:
        server, url, session = start_server(Path(tmp))
        try:
            if args.only in (None, "preview"):
                seconds = bench_preview(url, session)
                ok &= seconds <= TARGETS["preview_s"]
                print(f"preview: an item in 4 languages, warm: {seconds:.2f} s (target {TARGETS['preview_s']:g} s)")
            if args.only in (None, "upload"):
                again, growth, same = bench_upload(url, session, server, megabytes)
                ok &= again <= TARGETS["resent_chunks"] and growth <= TARGETS["rss_growth_mb"] and same
                print(f"upload: {megabytes} MB cut twice: {again} chunk(s) sent again (target at most "
                      f"{TARGETS['resent_chunks']}), hash {'matches' if same else 'DIFFERS'}")
                print(f"upload: server RSS growth {growth:.1f} MB (target {TARGETS['rss_growth_mb']:g} MB)")
        finally:
            server.terminate()
            server.wait(30)
    print(json.dumps({"met": bool(ok)}))
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
