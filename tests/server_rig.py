"""A real central server on 127.0.0.1 port 0 with a channel, keys and tokens, for the server tests and benches."""

from __future__ import annotations

import hashlib
import http.server
import json
import threading
from dataclasses import dataclass, replace
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import requests
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from sync.envelope import seal
from sync.keys import PublisherList, make_publisher, public_text, seal_publishers
from sync.manifest import FileEntry, build_manifest, manifest_payload
from sync.server.db import Database
from sync.server.run import Running, start_in_thread
from sync.server.settings import ServerSettings
from sync.server.tokens import make_token


@dataclass
class Rig:
    url: str
    data: Path
    running: Running
    root: Ed25519PrivateKey
    publisher: Ed25519PrivateKey
    admin_token: str  # staff "lan": admin, every channel
    settings: ServerSettings | None = None  # None: a server this rig did not start (restart() needs it)
    channel: str = "gate"

    @property
    def root_public(self) -> str:
        return public_text(self.root.public_key())

    @property
    def db(self) -> Database:
        return self.running.server.config.app.state.db  # type: ignore[no-any-return]

    def staff(self, token: str | None = None) -> requests.Session:
        session = requests.Session()
        session.headers["Authorization"] = f"Bearer {token or self.admin_token}"
        return session

    def add_staff(self, name: str, channels: list[str], admin: bool = False) -> str:
        token = make_token("staff")
        self.db.add_staff(name, channels, admin, token, _now())
        return token.text

    def add_screen(self, screen_id: str, channel: str | None = None, offline_after: float | None = None) -> str:
        answer = self.staff().post(f"{self.url}/api/screens", json={"id": screen_id, "channel": channel or self.channel,
                                                                   "offline_after": offline_after})
        answer.raise_for_status()
        return answer.json()["token"]  # type: ignore[no-any-return]

    def upload(self, data: bytes) -> str:
        digest = hashlib.sha256(data).hexdigest()
        self.staff().put(f"{self.url}/api/blobs/{digest}", data=data).raise_for_status()
        return digest

    def manifest(self, generation: int, files: dict[str, bytes], key: Ed25519PrivateKey | None = None,
                 channel: str | None = None) -> bytes:
        """A signed manifest naming `files` (path: bytes); the bytes are not uploaded."""
        entries = [FileEntry(path, hashlib.sha256(data).hexdigest(), len(data)) for path, data in files.items()]
        manifest = build_manifest(channel or self.channel, generation, datetime.now(timezone.utc), entries)
        return seal(manifest_payload(manifest), "manifest", key or self.publisher)

    def publish(self, generation: int, files: dict[str, bytes]) -> requests.Response:
        for data in files.values():
            self.upload(data)
        return self.staff().post(f"{self.url}/api/channels/{self.channel}/manifest", data=self.manifest(generation, files))

    def current_generation(self) -> int:
        current = self.running.server.config.app.state.channels.current(self.channel)
        return current.generation if current else 0

    def stop(self) -> None:
        self.running.stop()

    def restart(self) -> None:
        """Start the stopped server again on the same port and data (a screen's link coming back)."""
        assert self.settings is not None, "restart() needs a rig made by start_rig"
        port = int(self.url.rsplit(":", 1)[1])
        self.running = start_in_thread(replace(self.settings, port=port))


def start_rig(data: Path, database: str | None = None, **settings: Any) -> Rig:
    """A server on a free port with channel "gate", its root and publisher keys, and an admin staff token;
    its records in `database` (a postgresql:// URL), else in SQLite."""
    config = replace(ServerSettings(data=data, port=0, database_url=database), **settings)
    root, publisher, admin = seed(config)
    running = start_in_thread(config)
    rig = Rig(running.url, data, running, root, publisher, admin, config)
    plist = PublisherList("gate", 1, (make_publisher("office", publisher.public_key()),))
    rig.staff().put(f"{rig.url}/api/channels/gate/publishers", data=seal_publishers(plist, root)).raise_for_status()
    return rig


def seed(config: ServerSettings) -> tuple[Ed25519PrivateKey, Ed25519PrivateKey, str]:
    """Channel "gate" with a new root key, and admin "lan": (root key, a publisher key, lan's token)."""
    root, publisher = Ed25519PrivateKey.generate(), Ed25519PrivateKey.generate()
    db = Database(config.database)
    db.add_channel("gate", public_text(root.public_key()), _now())
    admin = make_token("staff")
    db.add_staff("lan", ["*"], True, admin, _now())
    db.close()
    return root, publisher, admin.text


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


class Hook:
    """A webhook receiver on 127.0.0.1 that keeps what it was sent."""

    def __init__(self) -> None:
        calls = self.calls = []  # type: list[dict[str, object]]

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802
                calls.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
                self.send_response(204)
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = http.server.HTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
