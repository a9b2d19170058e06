"""Signed envelopes: the exact bytes a server serves, with an Ed25519 signature checked before parsing.

    KIOSK-SIGNED 1 <kind> <key id> <base64 signature>\n<payload bytes>

The signature covers `<kind>\n` plus the payload, so a publisher list cannot be
replayed as a manifest, nor a content publisher list as the list of release keys. Nothing of the payload is parsed until it verifies.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from typing import Callable

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from .errors import SignatureError

MAGIC = b"KIOSK-SIGNED 1 "
KINDS = ("manifest", "publishers", "notice", "release", "releasers")
MAX_HEADER = 512


def key_id(public: Ed25519PublicKey) -> str:
    """A short, stable name for a public key: the first 16 hex digits of its SHA-256."""
    raw = public.public_bytes(Encoding.Raw, PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()[:16]


def seal(payload: bytes, kind: str, key: Ed25519PrivateKey) -> bytes:
    """`payload` in an envelope of `kind`, signed by `key`."""
    if kind not in KINDS:
        raise ValueError(f"unknown envelope kind {kind!r}")
    signature = key.sign(kind.encode() + b"\n" + payload)
    header = MAGIC + f"{kind} {key_id(key.public_key())} ".encode() + base64.b64encode(signature) + b"\n"
    return header + payload


def signer_of(data: bytes, kind: str) -> str:
    """The key id an envelope claims, without trusting it (to pick the key to check it with)."""
    return _split(data, kind)[0]


def open_sealed(data: bytes, kind: str, key_for: Callable[[str], Ed25519PublicKey | None]) -> tuple[str, bytes]:
    """(key id, payload) if `data` is a `kind` envelope signed by a key `key_for` trusts."""
    claimed, signature, payload = _split(data, kind)
    public = key_for(claimed)
    if public is None:
        raise SignatureError(f"{kind} is signed by key {claimed}, which this screen does not trust (unknown or revoked)")
    try:
        public.verify(signature, kind.encode() + b"\n" + payload)
    except InvalidSignature:
        raise SignatureError(f"{kind} signature does not match its content (tampered or corrupted)") from None
    return claimed, payload


def _split(data: bytes, kind: str) -> tuple[str, bytes, bytes]:
    end = data.find(b"\n", 0, MAX_HEADER)
    if not data.startswith(MAGIC) or end < 0:
        raise SignatureError(f"{kind} is not signed (no KIOSK-SIGNED header)")
    parts = data[len(MAGIC):end].split(b" ")
    if len(parts) != 3:
        raise SignatureError(f"{kind} has a malformed signature header")
    got_kind, claimed, encoded = parts
    if got_kind.decode("ascii", "replace") != kind:
        raise SignatureError(f"expected a signed {kind}, got a signed {got_kind.decode('ascii', 'replace')}")
    try:
        signature = base64.b64decode(encoded, validate=True)
    except binascii.Error:
        raise SignatureError(f"{kind} has a malformed signature") from None
    return claimed.decode("ascii", "replace"), signature, data[end + 1:]
