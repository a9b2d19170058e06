"""Software releases (pure): the signed document that lists every wheel of one version for one target.

    KIOSK-SIGNED 1 release <releaser key id> <signature>
    {"channel":"stable","created":…,"expires":…,"format":1,"requires":{…},"rollout":{…},
     "sequence":7,"target":"cp311-manylinux_2_36_x86_64","version":"0.2.0","wheels":[…]}

The signature is by a key in the software channel's `releasers` list (signed by
the root key, like the content publishers but under its own envelope kind), and is
checked before the payload is parsed. Sequences only go up; an expired document is
refused, so a host cannot hold screens on an old release for ever without it
showing (TUF's freeze attack); every wheel is named with its sha256 and size, so
nothing outside the list is installed (mix-and-match).
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Callable

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from .envelope import open_sealed
from .errors import ManifestError, ReleaseError, RollbackError
from .jsondoc import load_json
from .manifest import check_channel
from .wheeltags import Target, TargetError, fits, normalize, parse_target, parse_wheel_name

FORMAT = 1
PROJECT = "tinhbien_kiosk"  # our own distribution, as a wheel file name spells it
MAX_RELEASE_BYTES = 1 << 20
MAX_WHEELS = 400
MAX_DAYS = 180
CHANNELS = ("stable", "pilot")  # the usual ones; any channel name is allowed
_VERSION = re.compile(r"[0-9][0-9A-Za-z.+_!-]{0,63}")
_SHA256 = re.compile(r"[0-9a-f]{64}")
_DEBIAN = re.compile(r"[a-z0-9][a-z0-9+.-]{1,99}")
_SCREEN = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")


@dataclass(frozen=True)
class Wheel:
    name: str  # the wheel's file name
    sha256: str
    size: int


@dataclass(frozen=True)
class Requires:
    python: str  # "3.11": the screen's Python minor version
    glibc: str  # "2.36": the oldest glibc the wheels need
    debian: tuple[str, ...] = ()  # Debian packages the screen must have (fonts, SDL's DRM libraries)


@dataclass(frozen=True)
class Rollout:
    percent: int = 100  # of the channel's screens, chosen by a hash of each screen's id
    screens: tuple[str, ...] = ()  # these screens take it whatever the percent

    def selects(self, screen_id: str) -> bool:
        return screen_id in self.screens or bucket(screen_id) < self.percent


@dataclass(frozen=True)
class Release:
    channel: str
    version: str
    sequence: int
    created: datetime
    expires: datetime
    target: str
    requires: Requires
    rollout: Rollout
    wheels: tuple[Wheel, ...] = field(default=())

    @property
    def total_bytes(self) -> int:
        return sum(w.size for w in self.wheels)


def bucket(screen_id: str) -> int:
    """0-99, fixed for a screen: the first screens to take a 10 % rollout take every 10 % rollout."""
    return int.from_bytes(hashlib.sha256(screen_id.encode("utf-8")).digest()[:4], "big") % 100


def release_payload(release: Release) -> bytes:
    data = {
        "format": FORMAT, "channel": release.channel, "version": release.version, "sequence": release.sequence,
        "created": release.created.isoformat(timespec="seconds"),
        "expires": release.expires.isoformat(timespec="seconds"), "target": release.target,
        "requires": {"python": release.requires.python, "glibc": release.requires.glibc,
                     "debian": list(release.requires.debian)},
        "rollout": {"percent": release.rollout.percent, "screens": list(release.rollout.screens)},
        "wheels": [{"name": w.name, "sha256": w.sha256, "size": w.size} for w in sorted(release.wheels, key=lambda w: w.name)],
    }
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def parse_release(payload: bytes) -> Release:
    """A release from its (already verified) payload; ManifestError names what is wrong."""
    if len(payload) > MAX_RELEASE_BYTES:
        raise ManifestError(f"release document is larger than {MAX_RELEASE_BYTES // 1024} kB; refused")
    try:
        raw = load_json(payload)
        if not isinstance(raw, dict):
            raise ValueError("not a JSON object")
        if raw.get("format") != FORMAT:
            raise ValueError(f"format {raw.get('format')!r} is not {FORMAT} (made by a newer tool?)")
        release = Release(
            channel=check_channel(raw["channel"]), version=_version(raw["version"]),
            sequence=_whole(raw["sequence"], "sequence", 1), created=_time(raw, "created"),
            expires=_time(raw, "expires"), target=str(parse_target(raw["target"])),
            requires=_requires(raw["requires"]), rollout=_rollout(raw["rollout"]), wheels=_wheels(raw["wheels"]))
    except (KeyError, TypeError, ValueError) as exc:
        what = f"field {exc}" if isinstance(exc, KeyError) else str(exc)
        raise ManifestError(f"release document is malformed: {what}") from None
    check_shape(release)
    return release


def check_shape(release: Release) -> None:
    """What makes a release whole, whoever reads it: its dates, its wheels fit its target, our own wheel is there."""
    if release.expires <= release.created:
        raise ManifestError("release document expires before it was created")
    if release.expires - release.created > timedelta(days=MAX_DAYS):
        raise ManifestError(f"release document is valid for more than {MAX_DAYS} days; sign one that expires sooner")
    target = parse_target(release.target)
    if release.requires.python != target.python:
        raise ManifestError(f"release requires Python {release.requires.python} but its target is {release.target}")
    ours = []
    for wheel in release.wheels:
        name = parse_wheel_name(wheel.name)
        if not fits(name, target):
            raise ManifestError(f"wheel {wheel.name} does not install on {release.target}")
        if name.project == PROJECT:
            ours.append(name)
    if [n.version for n in ours] != [release.version]:
        raise ManifestError(f"release {release.version} must list exactly one {PROJECT} wheel of that version, "
                            f"not {[n.version for n in ours]}")


def open_release(envelope: bytes, key_for: Callable[[str], Ed25519PublicKey | None], channel: str) -> Release:
    """Signature first (by a releaser the root key lists), then parsing, then the channel."""
    if len(envelope) > MAX_RELEASE_BYTES + 512:
        raise ManifestError(f"release document is larger than {MAX_RELEASE_BYTES // 1024} kB; refused")
    _, payload = open_sealed(envelope, "release", key_for)
    release = parse_release(payload)
    if release.channel != channel:
        raise ManifestError(f"release is for software channel {release.channel!r}, this screen follows {channel!r}")
    return release


def check_for_screen(release: Release, screen: Target, now: datetime, have_sequence: int) -> None:
    """Refuse a verified release this screen must not take: older or equal sequence, expired, another target."""
    if release.sequence <= have_sequence:
        raise RollbackError(f"release sequence {release.sequence} is not newer than the {have_sequence} this screen "
                            "has seen; refused")
    if now >= release.expires:
        raise ReleaseError(f"release {release.version} (sequence {release.sequence}) expired at "
                           f"{release.expires.isoformat()}: the host serves an old copy (a newer one must be signed)")
    target = parse_target(release.target)
    if not target.runs_on(screen):
        raise ReleaseError(f"release {release.version} is for {release.target}; this screen is {screen}")


def _version(value: Any) -> str:
    if not isinstance(value, str) or not _VERSION.fullmatch(value) or value in (".", ".."):
        raise ValueError(f"version {value!r} must look like 0.2.0 (a wheel's version)")
    return value


def _whole(value: Any, name: str, low: int) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value < low:
        raise ValueError(f"{name} must be a whole number from {low} up, not {value!r}")
    return value


def _time(raw: dict[str, Any], key: str) -> datetime:
    value = raw.get(key)
    try:
        when = datetime.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        when = None
    if when is None or when.tzinfo is None:
        raise ValueError(f"{key} must be an ISO 8601 time with its offset, e.g. 2026-11-26T14:00:00+07:00")
    return when


def _requires(raw: Any) -> Requires:
    if not isinstance(raw, dict):
        raise ValueError("requires must be an object")
    python, glibc = raw["python"], raw["glibc"]
    if not isinstance(python, str) or not re.fullmatch(r"3\.\d{1,2}", python):
        raise ValueError(f"requires.python {python!r} must look like 3.11")
    if not isinstance(glibc, str) or not re.fullmatch(r"2\.\d{1,3}", glibc):
        raise ValueError(f"requires.glibc {glibc!r} must look like 2.36")
    debian = raw.get("debian", [])
    if not isinstance(debian, list) or not all(isinstance(p, str) and _DEBIAN.fullmatch(p) for p in debian):
        raise ValueError("requires.debian must be a list of Debian package names")
    return Requires(python, glibc, tuple(debian))


def _rollout(raw: Any) -> Rollout:
    if not isinstance(raw, dict):
        raise ValueError("rollout must be an object")
    percent = _whole(raw["percent"], "rollout.percent", 0)
    if percent > 100:
        raise ValueError(f"rollout.percent must be 0 to 100, not {percent}")
    screens = raw.get("screens", [])
    if not isinstance(screens, list) or not all(isinstance(s, str) and _SCREEN.fullmatch(s) for s in screens):
        raise ValueError("rollout.screens must be a list of screen ids")
    return Rollout(percent, tuple(screens))


def _wheels(raw: Any) -> tuple[Wheel, ...]:
    if not isinstance(raw, list) or not raw:
        raise ValueError("wheels must be a non-empty list")
    if len(raw) > MAX_WHEELS:
        raise ValueError(f"more than {MAX_WHEELS} wheels")
    wheels = []
    for entry in raw:
        if not isinstance(entry, dict):
            raise ValueError("each wheel must be an object with name, sha256 and size")
        name, digest = entry["name"], entry["sha256"]
        try:
            parse_wheel_name(name)
        except TargetError as exc:
            raise ValueError(str(exc)) from None
        if not isinstance(digest, str) or not _SHA256.fullmatch(digest):
            raise ValueError(f"wheel {name}: sha256 must be 64 lower-case hex digits")
        wheels.append(Wheel(name, digest, _whole(entry["size"], f"wheel {name}: size", 1)))
    projects = [normalize(parse_wheel_name(w.name).project) for w in wheels]
    twice = sorted({p for p in projects if projects.count(p) > 1})
    if twice:
        raise ValueError(f"a project is listed twice: {', '.join(twice)}")
    return tuple(sorted(wheels, key=lambda w: w.name))
