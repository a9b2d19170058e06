"""The root updater trusts nothing the player's user wrote: every attack on a ready release is refused again."""

from __future__ import annotations

import hashlib
import json
from dataclasses import replace
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from sync.envelope import seal
from sync.keys import PublisherList, make_publisher, seal_publishers
from sync.release import Release, Requires, Rollout, Wheel, release_payload
from sync.update_area import UpdateArea
from sync.wheeltags import parse_target
from updater.errors import Refused
from updater.state import UpdaterState
from updater.verify import copy_wheels, read_documents, verify

NOW = datetime(2026, 11, 27, 9, 30, tzinfo=timezone(timedelta(hours=7)))
PC = parse_target("cp311-manylinux_2_36_x86_64")
ROOT, RELEASER = Ed25519PrivateKey.generate(), Ed25519PrivateKey.generate()
WHEELS = {"tinhbien_kiosk-0.3.0-py3-none-any.whl": b"our code" * 100, "pip-26.0-py3-none-any.whl": b"pip" * 100}


def release(**changes) -> Release:
    wheels = tuple(sorted((Wheel(n, hashlib.sha256(d).hexdigest(), len(d)) for n, d in WHEELS.items()),
                          key=lambda w: w.name))
    return replace(Release("stable", "0.3.0", 4, NOW, NOW + timedelta(days=30), str(PC),
                           Requires("3.11", "2.28", ("fonts-noto-core",)), Rollout(100, ()), wheels), **changes)


def releasers(version: int = 1, key: Ed25519PrivateKey = RELEASER) -> bytes:
    return seal_publishers(PublisherList("stable", version, (make_publisher("build", key.public_key()),)), ROOT,
                           "releasers")


def area(tmp_path: Path, doc: bytes, plist: bytes | None = None) -> UpdateArea:
    made = UpdateArea(tmp_path / "update")
    made.blobs.mkdir(parents=True, exist_ok=True)
    for data in WHEELS.values():
        (made.blobs / hashlib.sha256(data).hexdigest()).write_bytes(data)
    made.release.write_bytes(doc)
    made.releasers.write_bytes(plist or releasers())
    made.ready.write_text(json.dumps({"version": "0.3.0", "sequence": 4}))
    return made


def check(made: UpdateArea, state: UpdaterState = UpdaterState(), target=PC, installed=lambda name: True,
          screen: str = "gate-1"):
    document, plist = read_documents(made)
    return verify(document, plist, ROOT.public_key(), "stable", screen, target, NOW, state, installed)


def signed(rel: Release, key: Ed25519PrivateKey = RELEASER) -> bytes:
    return seal(release_payload(rel), "release", key)


def test_a_good_release_passes_and_moves_the_ratchet(tmp_path):
    made = area(tmp_path, signed(release()))
    taken, state = check(made)
    assert (taken.release.version, state.sequence, state.releasers_version) == ("0.3.0", 4, 1)
    copy_wheels(taken.release, made, tmp_path / "wheels")
    assert sorted(p.name for p in (tmp_path / "wheels").iterdir()) == sorted(WHEELS)


@pytest.mark.parametrize("doc, state, problem", [
    (signed(release()).replace(b'"version":"0.3.0"', b'"version":"0.3.1"'), UpdaterState(), "tampered"),
    (release_payload(release()), UpdaterState(), "not signed"),
    (signed(release(), Ed25519PrivateKey.generate()), UpdaterState(), "does not trust"),
    (signed(release(sequence=3)), UpdaterState(releasers_version=1, sequence=4, sequence_sha256="x"), "not newer"),
    (signed(release()), UpdaterState(releasers_version=1, sequence=4, sequence_sha256="another"), "not newer"),
    (signed(release()), UpdaterState(failed=(4,)), "failed on this screen before"),
    (signed(release(created=NOW - timedelta(days=40), expires=NOW - timedelta(days=1))), UpdaterState(), "expired"),
    (signed(release(target="cp311-manylinux_2_36_aarch64")), UpdaterState(), "this screen is"),
    (signed(release(rollout=Rollout(0, ("gate-2",)))), UpdaterState(), "not in the rollout"),
])
def test_attacks_on_the_document(tmp_path, doc, state, problem):
    with pytest.raises(Refused, match=problem):
        check(area(tmp_path, doc), state)


def test_an_armv7l_screen_and_unmet_needs_are_refused(tmp_path):
    with pytest.raises(ValueError, match="armv7l"):
        parse_target("cp311-manylinux_2_36_armv7l")
    made = area(tmp_path, signed(release(target="cp311-manylinux_2_27_x86_64")))
    with pytest.raises(Refused, match="needs glibc 2.28; this screen has 2.27"):
        check(made, target=parse_target("cp311-manylinux_2_27_x86_64"))
    made = area(tmp_path, signed(release()))
    with pytest.raises(Refused, match="apt-get install fonts-noto-core"):
        check(made, installed=lambda name: False)


def test_a_revoked_key_and_an_older_releasers_list(tmp_path):
    revoked = releasers(2, Ed25519PrivateKey.generate())
    with pytest.raises(Refused, match="does not trust"):
        check(area(tmp_path, signed(release()), revoked))
    with pytest.raises(Refused, match="older than"):
        check(area(tmp_path, signed(release()), releasers(1)), UpdaterState(releasers_version=2))
    with pytest.raises(Refused, match="differs from the one of that version"):
        check(area(tmp_path, signed(release()), releasers(1)), UpdaterState(releasers_version=1, releasers_sha256="x"))


def test_a_newer_releasers_list_resets_the_ratchet(tmp_path):
    runaway = UpdaterState(releasers_version=1, sequence=10**9, sequence_sha256="x")
    with pytest.raises(Refused, match="not newer"):
        check(area(tmp_path, signed(release())), runaway)
    taken, state = check(area(tmp_path, signed(release()), releasers(2)), runaway)
    assert (state.sequence, state.releasers_version) == (4, 2)


@pytest.mark.parametrize("swap, problem", [
    ("tinhbien_kiosk-0.3.0-py3-none-any.whl", "not the one the release lists"),  # tampered bytes
    ("missing", "is not in"),
])
def test_a_wheel_not_listed_or_of_another_hash_is_refused(tmp_path, swap, problem):
    made = area(tmp_path, signed(release()))
    taken, _ = check(made)
    ours = made.blobs / hashlib.sha256(WHEELS["tinhbien_kiosk-0.3.0-py3-none-any.whl"]).hexdigest()
    if swap == "missing":
        ours.unlink()
    else:
        ours.write_bytes(b"evil" * 200)
    with pytest.raises(Refused, match=problem):
        copy_wheels(taken.release, made, tmp_path / "wheels")


def test_links_fifos_and_huge_files_in_the_area_are_refused(tmp_path):
    import os
    made = area(tmp_path, signed(release()))
    made.release.unlink()
    made.release.symlink_to("/dev/zero")
    with pytest.raises(Refused, match="symbolic link"):
        check(made)
    made.release.unlink()
    os.mkfifo(made.release)
    with pytest.raises(Refused, match="FIFO"):
        check(made)
    made.release.unlink()
    made.release.write_bytes(b"x" * (2 << 20))
    with pytest.raises(Refused, match="larger than"):
        check(made)
