"""Release documents and targets (pure): what a screen takes, and every attack on the list it refuses."""

from __future__ import annotations

import hashlib
from dataclasses import replace
from datetime import datetime, timedelta, timezone

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from sync.envelope import key_id, seal
from sync.errors import ManifestError, ReleaseError, RollbackError, SignatureError
from sync.keys import PublisherList, make_publisher, open_publishers, seal_publishers
from sync.release import Release, Requires, Rollout, Wheel, bucket, check_for_screen, open_release, release_payload
from sync.wheeltags import TargetError, fits, machine_target, parse_target, parse_wheel_name, pip_platforms

NOW = datetime(2026, 11, 27, 9, 30, tzinfo=timezone(timedelta(hours=7)))
X86 = parse_target("cp311-manylinux_2_36_x86_64")


def wheel(name: str, data: bytes = b"x") -> Wheel:
    return Wheel(name, hashlib.sha256(data + name.encode()).hexdigest(), len(data))


def release(**changes) -> Release:
    base = Release("stable", "0.2.0", 5, NOW, NOW + timedelta(days=30), "cp311-manylinux_2_36_x86_64",
                   Requires("3.11", "2.36", ("fonts-noto-core",)), Rollout(100, ()),
                   (wheel("tinhbien_kiosk-0.2.0-py3-none-any.whl"),
                    wheel("pygame_ce-2.5.8-cp311-cp311-manylinux2014_x86_64.manylinux_2_17_x86_64.whl")))
    made = replace(base, **changes)
    return replace(made, wheels=tuple(sorted(made.wheels, key=lambda w: w.name)))  # as a parsed document lists them


@pytest.mark.parametrize("text, problem", [
    ("cp311-manylinux_2_36_x86_64", None),
    ("cp311-manylinux_2_36_aarch64", None),
    ("cp311-manylinux_2_36_armv7l", "no PyPI wheels for armv7l"),
    ("cp311-linux_armv7l", "no PyPI wheels for armv7l"),
    ("cp311-manylinux_2_36_riscv64", "must be one of"),
    ("py3-none-any", "must look like"),
    ("cp311-manylinux_2_36_x86_64\n", None),  # surrounding space is trimmed, the whole value must match
    ("cp311-manylinux_2_5_x86_64", "older than any supported Debian"),
])
def test_targets(text, problem):
    if problem is None:
        assert str(parse_target(text)) == text.strip()
    else:
        with pytest.raises(TargetError, match=problem):
            parse_target(text)


@pytest.mark.parametrize("name, fit", [
    ("tinhbien_kiosk-0.2.0-py3-none-any.whl", True),
    ("pygame_ce-2.5.8-cp311-cp311-manylinux2014_x86_64.manylinux_2_17_x86_64.whl", True),
    ("av-18.1.0-cp311-abi3-manylinux_2_28_x86_64.whl", True),
    ("cryptography-50.0.2-cp37-abi3-manylinux_2_34_x86_64.whl", True),
    ("tzdata-2026.6-py2.py3-none-any.whl", True),
    ("numpy-2.0-cp311-cp311-manylinux_2_38_x86_64.whl", False),  # needs a newer glibc than 2.36
    ("numpy-2.0-cp312-cp312-manylinux_2_17_x86_64.whl", False),  # another Python
    ("numpy-2.0-cp311-cp311-manylinux_2_17_aarch64.whl", False),  # another CPU
    ("numpy-2.0-cp311-cp311-linux_x86_64.whl", False),  # built on some machine, not portable
    ("numpy-2.0-cp311-cp311-win_amd64.whl", False),
])
def test_which_wheels_fit_a_glibc_2_36_pc(name, fit):
    assert fits(parse_wheel_name(name), X86) is fit


def test_pip_is_given_every_manylinux_name_not_only_the_targets_own():
    options = pip_platforms(X86)
    platforms = [options[i + 1] for i, o in enumerate(options) if o == "--platform"]
    assert platforms[0] == "manylinux_2_36_x86_64"
    assert {"manylinux_2_17_x86_64", "manylinux2014_x86_64", "manylinux_2_28_x86_64", "manylinux1_x86_64"} <= set(platforms)
    assert "--only-binary=:all:" in options


def test_the_machine_target():
    assert str(machine_target((3, 11), "glibc 2.36", "x86_64")) == "cp311-manylinux_2_36_x86_64"
    assert str(machine_target((3, 11), "glibc 2.36", "aarch64")) == "cp311-manylinux_2_36_aarch64"
    with pytest.raises(TargetError, match="armv7l"):
        machine_target((3, 11), "glibc 2.36", "armv7l")


def test_an_older_glibc_release_runs_on_a_newer_screen_not_the_reverse():
    assert parse_target("cp311-manylinux_2_31_x86_64").runs_on(X86)
    assert not parse_target("cp311-manylinux_2_38_x86_64").runs_on(X86)
    assert not parse_target("cp311-manylinux_2_36_aarch64").runs_on(X86)


def test_rollout_buckets_are_fixed_per_screen_and_spread():
    buckets = [bucket(f"gate-{n}") for n in range(1000)]
    assert bucket("gate-1") == bucket("gate-1")
    assert 50 < sum(b < 10 for b in buckets) < 150  # about 10 %
    assert Rollout(0, ("gate-7",)).selects("gate-7")
    assert not Rollout(0, ()).selects("gate-7")
    assert Rollout(100, ()).selects("anything")


# --- signatures and the releasers list ---------------------------------------------------------------------

ROOT, RELEASER, PUBLISHER = (Ed25519PrivateKey.generate() for _ in range(3))


def releasers(version: int = 1, *keys: Ed25519PrivateKey) -> bytes:
    plist = PublisherList("stable", version, tuple(make_publisher(f"r{i}", k.public_key()) for i, k in enumerate(keys or (RELEASER,))))
    return seal_publishers(plist, ROOT, "releasers")


def opened(envelope: bytes, releasers_doc: bytes | None = None):
    plist = open_publishers(releasers_doc or releasers(), ROOT.public_key(), "stable", kind="releasers")
    return open_release(envelope, plist.key, "stable")


def test_a_signed_release_round_trips():
    doc = seal(release_payload(release()), "release", RELEASER)
    assert opened(doc) == release()


def test_attacks_on_the_document_are_refused():
    good = seal(release_payload(release()), "release", RELEASER)
    with pytest.raises(SignatureError, match="not signed"):
        opened(release_payload(release()))
    tampered = good.replace(b'"sequence":5', b'"sequence":9')
    with pytest.raises(SignatureError, match="tampered"):
        opened(tampered)
    with pytest.raises(SignatureError, match="does not trust"):  # a content publisher key is not a release key
        opened(seal(release_payload(release()), "release", PUBLISHER))
    revoked = releasers(2, Ed25519PrivateKey.generate())
    with pytest.raises(SignatureError, match="does not trust"):
        opened(good, revoked)
    with pytest.raises(SignatureError, match="expected a signed release"):  # a manifest is not a release
        opened(seal(release_payload(release()), "manifest", RELEASER))


def test_a_content_publisher_list_is_not_a_releasers_list():
    publishers = seal_publishers(PublisherList("stable", 1, (make_publisher("office", PUBLISHER.public_key()),)), ROOT)
    with pytest.raises(SignatureError, match="expected a signed releasers"):
        open_publishers(publishers, ROOT.public_key(), "stable", kind="releasers")


def test_screen_checks():
    check_for_screen(release(), X86, NOW, 4)
    with pytest.raises(RollbackError, match="not newer"):
        check_for_screen(release(), X86, NOW, 5)
    with pytest.raises(ReleaseError, match="expired"):
        check_for_screen(release(), X86, NOW + timedelta(days=31), 0)
    with pytest.raises(ReleaseError, match="this screen is"):
        check_for_screen(release(), parse_target("cp311-manylinux_2_36_aarch64"), NOW, 0)


@pytest.mark.parametrize("changes, problem", [
    ({"expires": NOW + timedelta(days=181)}, "more than 180 days"),
    ({"expires": NOW - timedelta(days=1)}, "expires before"),
    ({"version": "0.3.0"}, "exactly one tinhbien_kiosk wheel"),
    ({"wheels": (wheel("tinhbien_kiosk-0.2.0-py3-none-any.whl"), wheel("x-1-cp311-cp311-manylinux_2_38_x86_64.whl"))},
     "does not install on"),
    ({"requires": Requires("3.12", "2.36")}, "requires Python 3.12"),
])
def test_malformed_releases_are_refused_with_the_reason(changes, problem):
    doc = seal(release_payload(release(**changes)), "release", RELEASER)
    with pytest.raises(ManifestError, match=problem):
        opened(doc)


@pytest.mark.parametrize("payload, problem", [
    (b'{"format": 1}', "field 'channel'"),
    (b"[1]", "not a JSON object"),
    (b'{"format": 2}', "format 2"),
    (b"[" * 100 + b"]" * 100, "nested deeper"),
])
def test_broken_payloads_get_one_message(payload, problem):
    with pytest.raises(ManifestError, match=problem):
        opened(seal(payload, "release", RELEASER))


def test_key_ids_name_the_releaser():
    doc = seal(release_payload(release()), "release", RELEASER)
    assert key_id(RELEASER.public_key()).encode() in doc.split(b"\n")[0]
