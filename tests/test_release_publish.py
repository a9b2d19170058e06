"""Staff publish software releases with the real commands: a releasers list, publish, promote."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import pytest

from sync.cli import build_parser
from sync.keys import open_publishers, public_from_text
from sync.release import open_release
from tests.conftest import REPO
from tests.release_rig import make_keys, make_wheel, sync_cli, write_draft

README = (REPO / "README.md").read_text(encoding="utf-8")


def wheelhouse(folder: Path, version: str, extra: bytes = b"") -> Path:
    ours = make_wheel(folder, "tinhbien_kiosk", version, {"player/marker.py": b"VERSION = %r\n" % version + extra})
    dep = make_wheel(folder, "somelib", "1.0", {"somelib/__init__.py": b"X = 1\n" * 50_000})
    write_draft(folder, version, [ours, dep])
    return folder


def test_publish_promote_and_the_key_lists(tmp_path):
    keys = make_keys(tmp_path / "keys")
    dest = tmp_path / "dest"
    sync_cli("sign-releasers", "--root", keys.root, "--channel", "pilot", "--to", dest, "--version", "1",
             "--add", f"build-pc={keys.folder / 'releaser.pub'}")
    refused = sync_cli("release", "publish", "--wheelhouse", wheelhouse(tmp_path / "w1", "0.2.0"), "--channel", "pilot",
                       "--to", dest, "--key", keys.publisher, check=False)
    assert refused.returncode == 1 and "not in the releasers list" in refused.stderr  # a content key cannot release
    assert not (dest / "software" / "pilot" / "release").exists()

    first = sync_cli("release", "publish", "--wheelhouse", tmp_path / "w1", "--channel", "pilot", "--to", dest,
                     "--key", keys.releaser, "--percent", "10", "--screen", "office-1")
    assert "sequence 1" in first.stdout and "rollout 10 % plus office-1" in first.stdout
    root = public_from_text(keys.public("root"))
    releasers = open_publishers((dest / "software/pilot/releasers").read_bytes(), root, "pilot", kind="releasers")
    release = open_release((dest / "software/pilot/release").read_bytes(), releasers.key, "pilot")
    assert (release.version, release.sequence, release.rollout.percent, release.rollout.screens) == ("0.2.0", 1, 10, ("office-1",))
    for wheel in release.wheels:
        assert (dest / "blobs" / wheel.sha256).stat().st_size == wheel.size

    # A release that changes only our own code copies only our own (small) wheel.
    second = sync_cli("release", "publish", "--wheelhouse", wheelhouse(tmp_path / "w2", "0.2.1"), "--channel", "pilot",
                      "--to", dest, "--key", keys.releaser)
    amount, unit = second.stdout.split("sent ")[1].split(" of wheels")[0].split()
    assert "sequence 2" in second.stdout and (unit == "B" or (unit == "KB" and float(amount) < 10))  # not the 300 KB dep

    promoted = sync_cli("release", "promote", "--channel", "pilot", "--to", dest, "--key", keys.releaser,
                        "--percent", "100")
    assert "sequence 3" in promoted.stdout
    again = open_release((dest / "software/pilot/release").read_bytes(), releasers.key, "pilot")
    assert (again.version, again.sequence, again.rollout.percent, again.wheels) == ("0.2.1", 3, 100, again.wheels)


def test_bad_drafts_and_options_are_refused_with_a_message(tmp_path):
    keys = make_keys(tmp_path / "keys")
    dest = tmp_path / "dest"
    sync_cli("sign-releasers", "--root", keys.root, "--to", dest, "--version", "1", "--add", keys.folder / "releaser.pub")
    house = wheelhouse(tmp_path / "w", "0.2.0")
    next(house.glob("somelib*.whl")).unlink()
    missing = sync_cli("release", "publish", "--wheelhouse", house, "--to", dest, "--key", keys.releaser, check=False)
    assert missing.returncode == 1 and "somelib-1.0-py3-none-any.whl is missing" in missing.stderr
    too_long = sync_cli("release", "publish", "--wheelhouse", wheelhouse(tmp_path / "w2", "0.2.0"), "--to", dest,
                        "--key", keys.releaser, "--expires-days", "365", check=False)
    assert too_long.returncode == 1 and "1 to 180" in too_long.stderr
    arm = sync_cli("release", "build", "--target", "cp311-manylinux_2_36_armv7l", "--wheelhouse", tmp_path / "a",
                   check=False)
    assert arm.returncode == 1 and "no PyPI wheels for armv7l" in arm.stderr
    nothing = sync_cli("release", "promote", "--channel", "pilot", "--to", dest, "--key", keys.releaser,
                       "--percent", "5", check=False)
    assert nothing.returncode == 1 and "no releasers list" in nothing.stderr
    assert not list((tmp_path / "dest").rglob("release"))


def _subparser(parser: argparse.ArgumentParser, *names: str) -> argparse.ArgumentParser:
    for name in names:
        sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
        parser = sub.choices[name]
    return parser


@pytest.mark.parametrize("path", [("release", "build"), ("release", "publish"), ("release", "promote"), ("sign-releasers",)])
def test_every_release_option_has_help_and_is_in_the_readme(path):
    parser = _subparser(build_parser(), *path)
    for action in parser._actions:
        if action.option_strings and "--help" not in action.option_strings:
            assert action.help, f"{path} {action.option_strings} has no help"
            assert action.option_strings[-1] in README, f"{action.option_strings[-1]} is not in the README"
    assert f"python -m sync {' '.join(path)}" in README


def test_the_draft_names_every_wheel(tmp_path):
    house = wheelhouse(tmp_path / "w", "0.3.0")
    draft = json.loads((house / "release.json").read_text())
    assert {w["name"] for w in draft["wheels"]} == {p.name for p in house.glob("*.whl")}
