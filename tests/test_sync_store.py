"""The store on a screen: damage found and mended, unplayable generations rolled back, HTTPS with a private CA."""

from __future__ import annotations

import datetime as dt
import random
import ssl

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from player.config import load_config
from player.source import ContentSource
from sync.client import HttpSource, backoff_seconds, sync_once
from sync.keys import public_text
from sync.screen import repair
from sync.store import Store
from tests.conftest import at, make_screen
from tests.static_host import StaticHost
from tests.test_sync import CHANNEL, PLAYLIST, Channel, content


@pytest.fixture
def synced(tmp_path):
    channel = Channel(tmp_path / "published")
    store = Store(tmp_path / "state" / "store").open()
    return channel, store


def test_a_truncated_blob_is_fetched_again_in_place(synced):
    channel, store = synced
    channel.publish(content())
    with StaticHost(channel.root) as host:
        source = HttpSource(host.url, CHANNEL)
        sync_once(source, store, channel.public, CHANNEL)
        damaged = store.current().path / "media" / "photo1.jpg"
        damaged.write_bytes(damaged.read_bytes()[:1000])  # a power cut mid-write, a bad sector
        account = repair(store, source)
    assert "repaired media/photo1.jpg" in account
    assert store.is_complete(store.current(), deep=True)


def test_damage_without_a_server_rolls_back_to_the_previous_generation(synced):
    channel, store = synced
    with StaticHost(channel.root) as host:
        source = HttpSource(host.url, CHANNEL)
        channel.publish(content())
        sync_once(source, store, channel.public, CHANNEL)
        channel.publish(content(change=2))
        sync_once(source, store, channel.public, CHANNEL)
        url = host.url
    (store.current().path / "media" / "photo2.jpg").write_bytes(b"garbage")
    account = repair(store, HttpSource(url, CHANNEL, timeout=1))  # the server is gone now
    assert "rolled back to tinh-bien-0000000001" in account
    assert store.current().manifest.generation == 1


def test_a_half_deleted_generation_gives_way_to_the_last_complete_one(synced):
    channel, store = synced
    with StaticHost(channel.root) as host:
        source = HttpSource(host.url, CHANNEL)
        channel.publish(content())
        sync_once(source, store, channel.public, CHANNEL)
        channel.publish(content(change=0))
        sync_once(source, store, channel.public, CHANNEL)
    (store.current().path / "playlists" / "main.yaml").unlink()
    assert "rolled back to tinh-bien-0000000001" in repair(store, None)


def test_the_player_rolls_back_a_generation_it_cannot_play(tmp_path):
    channel = Channel(tmp_path / "published")
    config_path = make_screen(tmp_path / "screen", {"local.yaml": "items:\n  - {id: local, type: text, text: {vi: x}}\n"})
    config_path.write_text(config_path.read_text() + f'sync: {{server: "http://127.0.0.1:1/", channel: {CHANNEL}, '
                           f'root_key: "{public_text(channel.public)}"}}\n', encoding="utf-8")
    config = load_config(config_path)
    store = Store(config.state_dir / "store").open()
    with StaticHost(channel.root) as host:
        source = HttpSource(host.url, CHANNEL)
        channel.publish({"playlists/main.yaml": PLAYLIST})
        sync_once(source, store, channel.public, CHANNEL)
        player_source = ContentSource(config)
        program = player_source.first(at("2026-11-27 09:00"))
        assert program.content.playlists[0].items[0].id == "a"
        channel.publish({"playlists/main.yaml": b"items: [unclosed\n"})  # signed, but not a playlist
        assert sync_once(source, store, channel.public, CHANNEL).status == "updated"
        assert player_source.check(at("2026-11-27 09:01")) is None  # refused at the boundary
        assert store.current().manifest.generation == 1
        assert "tinh-bien-0000000002" in store.bad_generations()
        channel.publish({"playlists/main.yaml": b"items: [unclosed\n"})  # the same mistake again is not retried
        assert sync_once(source, store, channel.public, CHANNEL).status == "updated"  # generation 3 is new
    assert player_source.check(at("2026-11-27 09:02")) is None
    assert store.current().manifest.generation == 1


def test_backoff_grows_to_a_ceiling_with_jitter():
    rng = random.Random(3)
    waits = [backoff_seconds(n, 10, 900, rng) for n in range(1, 12)]
    assert 10 <= waits[0] <= 30 and all(w <= 900 * 1.5 for w in waits)
    assert waits[6] > waits[0] * 8
    assert len({round(w) for w in waits[-4:]}) > 1  # jitter: a fleet does not come back in step


def _certificates(folder):
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Tinh Bien office CA")])
    now = dt.datetime.now(dt.timezone.utc)
    ca = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
          .serial_number(1).not_valid_before(now - dt.timedelta(days=1)).not_valid_after(now + dt.timedelta(days=30))
          .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True).sign(key, hashes.SHA256()))
    server_key = ec.generate_private_key(ec.SECP256R1())
    server = (x509.CertificateBuilder().subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")]))
              .issuer_name(name).public_key(server_key.public_key()).serial_number(2)
              .not_valid_before(now - dt.timedelta(days=1)).not_valid_after(now + dt.timedelta(days=30))
              .add_extension(x509.SubjectAlternativeName([x509.IPAddress(__import__("ipaddress").ip_address("127.0.0.1"))]),
                             critical=False).sign(key, hashes.SHA256()))
    (folder / "ca.pem").write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    (folder / "server.pem").write_bytes(server.public_bytes(serialization.Encoding.PEM))
    (folder / "server.key").write_bytes(server_key.private_bytes(serialization.Encoding.PEM,
                                                                 serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))


def test_https_with_a_private_certificate_authority(synced, tmp_path):
    channel, store = synced
    channel.publish(content())
    _certificates(tmp_path)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(tmp_path / "server.pem", tmp_path / "server.key")
    with StaticHost(channel.root) as host:
        host.server.socket = context.wrap_socket(host.server.socket, server_side=True)
        url = host.url.replace("http://", "https://")
        refused = sync_once(HttpSource(url, CHANNEL), store, channel.public, CHANNEL)  # the system CAs do not know it
        trusted = sync_once(HttpSource(url, CHANNEL, ca_file=str(tmp_path / "ca.pem")), store, channel.public, CHANNEL)
    assert refused.status == "failed" and "certificate is not trusted here" in refused.message
    assert trusted.status == "updated", trusted.message


def test_usb_import_command(tmp_path):
    import os
    import subprocess
    import sys

    from tests.conftest import REPO
    channel = Channel(tmp_path / "stick")
    channel.publish(content())
    config = make_screen(tmp_path / "screen", {"local.yaml": "items:\n  - {id: local, type: text, text: {vi: x}}\n"})
    config.write_text(config.read_text() + f'sync: {{server: "http://127.0.0.1:1/", channel: {CHANNEL}, '
                      f'root_key: "{public_text(channel.public)}"}}\n', encoding="utf-8")
    env = dict(os.environ, PYTHONPATH=str(REPO), SDL_VIDEODRIVER="dummy")

    def run_import():  # noqa: ANN202
        return subprocess.run([sys.executable, "-m", "sync", "import", str(channel.root), "--config", str(config)],
                              env=env, capture_output=True, text=True, timeout=60)
    done = run_import()
    assert done.returncode == 0 and "updated: generation 1" in done.stdout, done.stdout + done.stderr
    channel.publish(content(change=1), tamper=True)
    refused = run_import()
    assert refused.returncode == 1 and "does not match" in refused.stdout
    assert Store(tmp_path / "screen" / "state" / "store").current().manifest.generation == 1
