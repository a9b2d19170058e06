"""Keys and the signed key lists: the root key (in kiosk.yaml) signs which keys a channel trusts.

The same list signs two things under two envelope kinds: `publishers` (content and
notices of a content channel) and `releasers` (software releases of a software
channel), so a content key can never sign a release.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import (Encoding, NoEncryption, PrivateFormat, PublicFormat,
                                                          load_pem_private_key)

from .envelope import key_id, open_sealed, seal
from .errors import ManifestError, RollbackError, SignatureError
from .jsondoc import load_json
from .manifest import check_channel


def public_text(public: Ed25519PublicKey) -> str:
    return base64.b64encode(public.public_bytes(Encoding.Raw, PublicFormat.Raw)).decode("ascii")


def public_from_text(text: str) -> Ed25519PublicKey:
    try:
        raw = base64.b64decode(text.strip(), validate=True)
        return Ed25519PublicKey.from_public_bytes(raw)
    except (binascii.Error, ValueError):
        raise ValueError(f"{text[:20]!r}… is not an Ed25519 public key (44 characters of base64)") from None


def write_private(path: Path, key: Ed25519PrivateKey) -> None:
    """Save a private key as PEM readable by its owner only; never overwrite an existing key."""
    pem = key.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption())
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as out:
        out.write(pem)


def read_private(path: Path) -> Ed25519PrivateKey:
    try:
        key = load_pem_private_key(path.read_bytes(), password=None)
    except OSError as exc:
        raise ValueError(f"{path}: cannot read the key ({exc.strerror})") from None
    except ValueError:
        raise ValueError(f"{path}: not a PEM private key") from None
    if not isinstance(key, Ed25519PrivateKey):
        raise ValueError(f"{path}: not an Ed25519 key")
    return key


@dataclass(frozen=True)
class Publisher:
    id: str
    name: str
    public: str  # base64 raw key


@dataclass(frozen=True)
class PublisherList:
    channel: str
    version: int
    publishers: tuple[Publisher, ...]

    def key(self, wanted: str) -> Ed25519PublicKey | None:
        for publisher in self.publishers:
            if publisher.id == wanted:
                return public_from_text(publisher.public)
        return None


def publishers_payload(plist: PublisherList) -> bytes:
    """Canonical JSON of a key list (the same for `publishers` and `releasers` envelopes)."""
    data = {"format": 1, "channel": plist.channel, "version": plist.version,
            "publishers": [{"id": p.id, "name": p.name, "public": p.public} for p in plist.publishers]}
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def make_publisher(name: str, public: Ed25519PublicKey) -> Publisher:
    return Publisher(key_id(public), name, public_text(public))


def seal_publishers(plist: PublisherList, root: Ed25519PrivateKey, kind: str = "publishers") -> bytes:
    return seal(publishers_payload(plist), kind, root)


def open_publishers(data: bytes, root: Ed25519PublicKey, channel: str, have_version: int = 0,
                    kind: str = "publishers") -> PublisherList:
    """The key list if the root key signed it as `kind`, it is for `channel`, and it is not older than ours."""
    root_id = key_id(root)
    what = "publisher list" if kind == "publishers" else "releasers list"
    _, payload = open_sealed(data, kind, lambda claimed: root if claimed == root_id else None)
    try:
        raw = load_json(payload)
        version = raw["version"]
        if not isinstance(version, int) or isinstance(version, bool) or version < 1:
            raise ValueError(f"version must be a whole number from 1 up, not {version!r}")
        plist = PublisherList(check_channel(raw["channel"]), version, tuple(
            Publisher(str(p["id"]), str(p["name"]), str(p["public"])) for p in raw["publishers"]))
        for publisher in plist.publishers:
            if key_id(public_from_text(publisher.public)) != publisher.id:
                raise ValueError(f"publisher {publisher.name!r}: key id does not match its key")
        if len({p.id for p in plist.publishers}) != len(plist.publishers):
            raise ValueError("a publisher key is listed twice")
    except (KeyError, TypeError, ValueError) as exc:
        raise ManifestError(f"{what} is malformed: {exc}") from None
    if plist.channel != channel:
        raise SignatureError(f"{what} is for channel {plist.channel!r}, not {channel!r}")
    if plist.version < have_version:
        raise RollbackError(f"{what} version {plist.version} is older than the {have_version} this screen has")
    return plist
