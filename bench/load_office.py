"""What the office does around bench/server_load.py's fleet: the records set up before the server starts, the
first generation, the publish halfway, and staff console tabs held open meanwhile."""

from __future__ import annotations

import hashlib
import random
import threading
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bench.load_generator import CHANNEL

if TYPE_CHECKING:
    from bench.server_load import LoadReport

FILES = 40  # a gate's channel: a few dozen files, so the manifest is a few kB as in service
CONSOLE_PASSWORD = "bench console password"
MAIN_PLAYLIST = ("items:\n  - id: hours\n    type: text\n    text: {vi: {title: \"Giờ mở cửa\", body: \"06:00 – 22:00\"}, "
                 "en: {title: Opening hours}, km: {title: \"ម៉ោង\u200bបើក\"}, zh: {title: 开放时间}}\n").encode("utf-8")


def console_tab(url: str, admin: str, previews: bool, stop_event: threading.Event, report: LoadReport) -> None:
    """A staff console tab held open: logged in (the admin's console password), the screens table every 10 s and a
    page every 30 s; with `previews`, an item's preview asked again and again instead of waiting."""
    import re

    import requests

    tab = requests.Session()
    page = tab.get(f"{url}/console/login")
    token = re.search(r'name="csrf" value="([^"]+)"', page.text)
    answer = tab.post(f"{url}/console/login", data={"csrf": token.group(1) if token else "", "name": "bench",
                                                      "password": CONSOLE_PASSWORD, "next": "/console/"},
                      headers={"Origin": url})
    if answer.status_code != 200:
        report.errors[f"console log-in {answer.status_code}"] += 1
        return
    due_page = 0.0
    while not stop_event.is_set():
        now = time.monotonic()
        path = "/console/screens" if now >= due_page else "/console/screens/table"
        due_page = now + 30 if path == "/console/screens" else due_page
        started = time.perf_counter()
        answer = tab.get(url + path)
        report.console_ms.append((time.perf_counter() - started) * 1000)
        if answer.status_code != 200:
            report.errors[f"console {path} {answer.status_code}"] += 1
        if previews:
            end = time.monotonic() + 10
            while time.monotonic() < end and not stop_event.is_set():
                started = time.perf_counter()
                answer = tab.get(f"{url}/console/channels/{CHANNEL}/preview/main.yaml/hours")
                report.preview_ms.append((time.perf_counter() - started) * 1000)
                if answer.status_code != 200:
                    report.errors[f"console preview {answer.status_code}"] += 1
        else:
            stop_event.wait(10)


def prepare_database(data: Path, screens: int, database: str | None = None) -> tuple[str, list[str], dict[str, Any]]:
    """Channel gate with fresh keys, an admin token and `screens` screen tokens, written before the server starts."""
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from sync.keys import public_text
    from sync.server.console.passwords import hash_password
    from sync.server.console.records import ConsoleRecords
    from sync.server.db import Database
    from sync.server.schema import screens as screens_table
    from sync.server.tokens import make_token

    stamp = datetime.now(timezone.utc).isoformat(timespec="seconds")
    root, publisher = Ed25519PrivateKey.generate(), Ed25519PrivateKey.generate()
    db = Database(database or data / "server.db")
    try:
        db.add_channel(CHANNEL, public_text(root.public_key()), stamp)
        admin = make_token("staff")
        db.add_staff("bench", ["*"], True, admin, stamp)
        ConsoleRecords(db).set_password("bench", hash_password(CONSOLE_PASSWORD), stamp)
        made = [make_token("screen") for _ in range(screens)]
        with db.transaction() as c:  # one transaction: 10,000 screens are added in seconds, not minutes
            c.execute(screens_table.insert(), [{"id": f"gate-{n:05d}", "channel": CHANNEL, "token_id": t.id,
                                                 "token_hash": t.secret_hash, "created": stamp}
                                                for n, t in enumerate(made)])
        tokens = [t.text for t in made]
    finally:
        db.close()
    return admin.text, tokens, {"root": root, "publisher": publisher}


def first_generation(session: Any, url: str, keys: dict[str, Any]) -> dict[str, bytes]:
    """The publisher list and generation 1 (FILES small files) through the API; returns the files."""
    from sync.keys import PublisherList, make_publisher, seal_publishers

    plist = PublisherList(CHANNEL, 1, (make_publisher("office", keys["publisher"].public_key()),))
    session.put(f"{url}/api/channels/{CHANNEL}/publishers", data=seal_publishers(plist, keys["root"])).raise_for_status()
    rng = random.Random(5)
    files = {f"media/slide{n:02d}.jpg": rng.randbytes(2048) for n in range(FILES)}
    files["playlists/main.yaml"] = MAIN_PLAYLIST  # what the console's tabs open and preview
    for data in files.values():
        session.put(f"{url}/api/blobs/{hashlib.sha256(data).hexdigest()}", data=data).raise_for_status()
    session.post(f"{url}/api/channels/{CHANNEL}/manifest", data=signed_manifest(1, files, keys)).raise_for_status()
    return files


def publish(session: Any, url: str, keys: dict[str, Any], files: dict[str, bytes]) -> tuple[float, bytes, float]:
    """Generation 2 as staff publish it: the new blob, then the manifest. Returns (wall time before the POST, it, ms)."""
    data = random.Random(6).randbytes(4096)
    session.put(f"{url}/api/blobs/{hashlib.sha256(data).hexdigest()}", data=data).raise_for_status()
    envelope = signed_manifest(2, {**files, "media/notice.jpg": data}, keys)
    before = time.time()
    started = time.monotonic()
    session.post(f"{url}/api/channels/{CHANNEL}/manifest", data=envelope).raise_for_status()
    return before, envelope, 1000 * (time.monotonic() - started)


def signed_manifest(generation: int, files: dict[str, bytes], keys: dict[str, Any]) -> bytes:
    from sync.envelope import seal
    from sync.manifest import FileEntry, build_manifest, manifest_payload

    entries = [FileEntry(path, hashlib.sha256(data).hexdigest(), len(data)) for path, data in files.items()]
    manifest = build_manifest(CHANNEL, generation, datetime.now(timezone.utc), entries)
    return seal(manifest_payload(manifest), "manifest", keys["publisher"])
