"""The central server over HTTPS with the office's private CA: screens and the publish tool trust it only with the CA file.

REQUESTS_CA_BUNDLE stays set to the system bundle throughout, as on the office
machines: the CA file passed to the client must win over it.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import ipaddress
import os
import subprocess
import sys
from pathlib import Path
from typing import Iterator

import certifi
import pytest
import requests
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from sync.client import HttpSource, sync_once
from sync.errors import FetchError
from sync.keys import write_private
from sync.store import Store
from tests.conftest import REPO, make_screen
from tests.server_rig import Rig, start_rig

SYSTEM_BUNDLE = os.environ.get("REQUESTS_CA_BUNDLE") or certifi.where()
HOURS = b"06:00-22:00\n"


def make_private_ca(folder: Path) -> tuple[Path, Path, Path]:
    """ca.pem, and server.pem/server.key for 127.0.0.1 and localhost signed by it (made now, nothing downloaded)."""
    now = dt.datetime.now(dt.timezone.utc)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Tinh Bien office CA")])
    ca = (x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name).public_key(ca_key.public_key())
          .serial_number(x509.random_serial_number()).not_valid_before(now - dt.timedelta(hours=1))
          .not_valid_after(now + dt.timedelta(days=30))
          .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
          .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=True, crl_sign=True, content_commitment=False,
                                       key_encipherment=False, data_encipherment=False, key_agreement=False,
                                       encipher_only=False, decipher_only=False), critical=True)
          .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
          .sign(ca_key, hashes.SHA256()))
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (x509.CertificateBuilder().subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "kiosk-server")]))
            .issuer_name(ca_name).public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(hours=1)).not_valid_after(now + dt.timedelta(days=30))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost"),
                                                        x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
            .sign(ca_key, hashes.SHA256()))
    paths = folder / "ca.pem", folder / "server.pem", folder / "server.key"
    paths[0].write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    paths[1].write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    paths[2].write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return paths


@pytest.fixture
def https(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Rig, Path]]:
    """A server speaking HTTPS with a certificate from a fresh private CA, with generation 1 published."""
    ca, cert, key = make_private_ca(tmp_path)
    # The rig's own set-up requests trust the CA through the environment; the tests below never do.
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(ca))
    rig = start_rig(tmp_path / "data", tls_cert=cert, tls_key=key)
    assert rig.url.startswith("https://")
    assert rig.publish(1, {"media/hours.txt": HOURS}).status_code == 201
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", SYSTEM_BUNDLE)
    yield rig, ca
    rig.stop()


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost"])
def test_a_screen_given_the_ca_file_syncs_over_https(https: tuple[Rig, Path], tmp_path: Path, host: str) -> None:
    rig, ca = https
    url = rig.url.replace("127.0.0.1", host)
    store = Store(tmp_path / "screen").open()
    result = sync_once(HttpSource(url, "gate", ca_file=str(ca)), store, rig.root.public_key(), "gate")
    assert result.status == "updated" and result.generation == 1, result.message
    current = store.current()
    assert current is not None and (current.path / "media" / "hours.txt").read_bytes() == HOURS


def test_without_the_ca_file_the_screen_refuses_the_server_and_keeps_playing_what_it_has(
        https: tuple[Rig, Path], tmp_path: Path) -> None:
    rig, ca = https
    store = Store(tmp_path / "screen").open()
    assert sync_once(HttpSource(rig.url, "gate", ca_file=str(ca)), store, rig.root.public_key(), "gate").status == "updated"
    staff = rig.staff()
    closed = b"22:00 closed\n"
    staff.put(f"{rig.url}/api/blobs/{hashlib.sha256(closed).hexdigest()}", data=closed, verify=str(ca)).raise_for_status()
    assert staff.post(f"{rig.url}/api/channels/gate/manifest", data=rig.manifest(2, {"media/hours.txt": closed}),
                      verify=str(ca)).status_code == 201

    with pytest.raises(FetchError, match="certificate is not trusted here: name its private CA"):
        HttpSource(rig.url, "gate").get("manifest", None)
    result = sync_once(HttpSource(rig.url, "gate"), store, rig.root.public_key(), "gate")
    assert result.status == "failed" and "sync.ca_file" in result.message, result.message
    current = store.current()
    assert current is not None and current.manifest.generation == 1
    assert (current.path / "media" / "hours.txt").read_bytes() == HOURS


def publish_cli(rig: Rig, folder: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    """`python -m sync publish --to https://…` as staff run it, with the rig's publisher key and admin token in files."""
    key, token = folder / "office.key", folder / "token"
    if not key.exists():
        write_private(key, rig.publisher)
        token.write_text(rig.admin_token + "\n", encoding="ascii")
        token.chmod(0o600)
        make_screen(folder / "content", {"main.yaml": "items:\n  - {id: hours, type: text, text: {vi: \"06:00-22:00\"}}\n"})
    env = dict(os.environ, PYTHONPATH=str(REPO), REQUESTS_CA_BUNDLE=SYSTEM_BUNDLE)
    return subprocess.run([sys.executable, "-m", "sync", "publish", "--channel", "gate", "--to", rig.url,
                           "--key", str(key), "--content", str(folder / "content"), "--token-file", str(token), *extra],
                          env=env, capture_output=True, text=True, timeout=120)


def test_publish_over_https_works_with_ca_file_and_says_why_without(https: tuple[Rig, Path], tmp_path: Path) -> None:
    rig, ca = https
    refused = publish_cli(rig, tmp_path)
    assert refused.returncode == 1 and "certificate verify failed" in refused.stderr.lower(), refused.stderr
    # --force: the folder was made here, never pulled, and replaces the rig's generation 1 on purpose
    published = publish_cli(rig, tmp_path, "--ca-file", str(ca), "--force")
    assert published.returncode == 0, published.stderr
    assert "published gate generation 2" in published.stdout
    served = requests.get(f"{rig.url}/channels/gate/manifest", verify=str(ca))
    assert b'"generation":2' in served.content and b"playlists/main.yaml" in served.content
