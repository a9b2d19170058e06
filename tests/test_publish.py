"""Publishing as staff do it: keys, the signed publisher list, and a channel folder the screens can trust."""

from __future__ import annotations

import hashlib
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image

from sync.envelope import key_id, open_sealed
from sync.errors import SignatureError, SyncError
from sync.keys import open_publishers, public_text, read_private
from sync.manifest import parse_manifest
from sync.publish import (apply_plan, keygen, manifest_path, prepare_publish, publish, publishers_path, read_public,
                          sign_publishers)
from tests.conftest import REPO, at, make_screen

CHANNEL = "gate"
NOW = at("2026-11-27 09:30")
PLAYLIST = """\
items:
  - id: hours
    type: text
    duration: 8
    text:
      vi: {title: "Giờ mở cửa", body: "Hằng ngày 06:00 – 22:00"}
      en: {title: "Opening hours", body: "Daily 06:00 – 22:00"}
  - id: photo
    type: image
    duration: 8
    media: river.jpg
  - id: gate
    type: image
    duration: 8
    media: gate.jpg
"""
BROKEN = PLAYLIST.replace("duration: 8\n    media: gate.jpg", "duration: -3\n    media: gate.jpg").replace("river", "missing")


def sync_cli(*args: str | Path, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, SDL_VIDEODRIVER="dummy", SDL_AUDIODRIVER="dummy", PYTHONPATH=str(REPO))
    return subprocess.run([sys.executable, "-m", "sync", *map(str, args)], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=120)


def files_under(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def recolor(path: Path, rgb: tuple[int, int, int]) -> None:
    Image.new("RGB", (640, 360), rgb).save(path)


@pytest.fixture
def office(tmp_path: Path) -> dict[str, Path]:
    """Root and publisher keys, a channel whose list trusts the publisher, and a valid content folder."""
    keys = tmp_path / "keys"
    keygen("root", keys)
    keygen("office", keys)
    dest = tmp_path / "dest"
    sign_publishers(read_private(keys / "root.key"), CHANNEL, dest, 1, [("office", read_public(keys / "office.pub"))])
    content = tmp_path / "content"
    make_screen(content, {"main.yaml": PLAYLIST}, images={"river.jpg": (640, 360), "gate.jpg": (320, 180)})
    (content / "media" / ".DS_Store").write_bytes(b"finder junk")
    return {"keys": keys, "dest": dest, "content": content, "config": content / "kiosk.yaml"}


def run_publish(office: dict[str, Path], **kwargs):  # type: ignore[no-untyped-def]
    key = read_private(office["keys"] / "office.key")
    return publish(CHANNEL, office["dest"], key, office["content"], office["config"], NOW, **kwargs)


def screen_view(office: dict[str, Path]):  # type: ignore[no-untyped-def]
    """What a screen that trusts only the root public key accepts from DEST."""
    root = read_public(office["keys"] / "root.pub")
    plist = open_publishers(publishers_path(office["dest"], CHANNEL).read_bytes(), root, CHANNEL)
    _, payload = open_sealed(manifest_path(office["dest"], CHANNEL).read_bytes(), "manifest", plist.key)
    return parse_manifest(payload)


def test_keygen_writes_an_owner_only_private_key_and_never_overwrites(tmp_path):
    result = sync_cli("keygen", "--name", "root", "--out", "keys", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    key, pub = tmp_path / "keys" / "root.key", tmp_path / "keys" / "root.pub"
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    line = pub.read_text()
    assert line.endswith("\n") and line.count("\n") == 1
    assert public_text(read_private(key).public_key()) == line.strip()
    assert line.strip() in result.stdout
    before = key.read_bytes()
    again = sync_cli("keygen", "--name", "root", "--out", "keys", cwd=tmp_path)
    assert again.returncode == 1 and "already exists" in again.stderr
    assert key.read_bytes() == before and pub.read_text() == line


def test_signed_publisher_list_opens_with_the_root_public_key_and_its_version_must_go_up(tmp_path):
    for name in ("root", "laptop", "desk"):
        keygen(name, tmp_path)
    sign = ("sign-publishers", "--root", "root.key", "--channel", CHANNEL, "--to", "dest")
    first = sync_cli(*sign, "--version", "3", "--add", "laptop=laptop.pub", "--add", "desk=desk.pub", cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    signed = tmp_path / "dest" / "channels" / CHANNEL / "publishers"
    plist = open_publishers(signed.read_bytes(), read_public(tmp_path / "root.pub"), CHANNEL)
    assert plist.version == 3 and [p.name for p in plist.publishers] == ["laptop", "desk"]
    assert plist.key(key_id(read_private(tmp_path / "laptop.key").public_key())) is not None
    with pytest.raises(SignatureError):  # signed by the root key, not by a publisher key
        open_publishers(signed.read_bytes(), read_public(tmp_path / "laptop.pub"), CHANNEL)

    for version in ("3", "2"):
        refused = sync_cli(*sign, "--version", version, "--add", "desk=desk.pub", cwd=tmp_path)
        assert refused.returncode == 1 and "version 4 or higher" in refused.stderr
    revoked = sync_cli(*sign, "--version", "4", "--add", "desk=desk.pub", cwd=tmp_path)
    assert revoked.returncode == 0, revoked.stderr
    plist = open_publishers(signed.read_bytes(), read_public(tmp_path / "root.pub"), CHANNEL)
    assert [p.name for p in plist.publishers] == ["desk"]
    forced = sync_cli(*sign, "--version", "1", "--add", "desk=desk.pub", "--force", cwd=tmp_path)
    assert forced.returncode == 0, forced.stderr


def test_publish_writes_blobs_and_a_manifest_a_screen_accepts(office):
    plan = run_publish(office)
    manifest = screen_view(office)
    assert manifest.generation == 1 and manifest.channel == CHANNEL
    assert [f.path for f in manifest.files] == ["media/gate.jpg", "media/river.jpg", "playlists/main.yaml"]
    blobs = office["dest"] / "blobs"
    for entry in manifest.files:
        data = (blobs / entry.sha256).read_bytes()
        assert hashlib.sha256(data).hexdigest() == entry.sha256 and len(data) == entry.size
        assert stat.S_IMODE((blobs / entry.sha256).stat().st_mode) == 0o644  # a web server can read it
    assert sorted(p.name for p in blobs.iterdir()) == sorted(manifest.blobs())  # no temp files, no dotfiles
    assert len(plan.to_copy) == 3


def test_a_cut_while_copying_blobs_never_leaves_a_manifest(office):
    key = read_private(office["keys"] / "office.key")
    plan = prepare_publish(CHANNEL, office["dest"], key, office["content"], office["config"], NOW)
    (office["content"] / "media" / "river.jpg").unlink()  # gone between hashing and copying
    with pytest.raises(FileNotFoundError):
        apply_plan(plan, key)
    assert not manifest_path(office["dest"], CHANNEL).exists()
    assert not [p for p in (office["dest"] / "blobs").iterdir() if p.name.startswith(".")]


def test_the_manifest_is_written_after_every_blob_and_a_changed_file_stops_the_publish(office):
    run_publish(office)
    before = manifest_path(office["dest"], CHANNEL).read_bytes()
    recolor(office["content"] / "media" / "gate.jpg", (200, 30, 30))
    (office["content"] / "media" / "new.jpg").write_bytes((office["content"] / "media" / "river.jpg").read_bytes() + b"x")
    key = read_private(office["keys"] / "office.key")
    plan = prepare_publish(CHANNEL, office["dest"], key, office["content"], office["config"], NOW)
    seen: list[bytes] = []
    apply_plan(plan, key, lambda done, total: seen.append(manifest_path(office["dest"], CHANNEL).read_bytes()))
    assert seen and all(m == before for m in seen)
    assert screen_view(office).generation == 2

    before = manifest_path(office["dest"], CHANNEL).read_bytes()
    recolor(office["content"] / "media" / "gate.jpg", (30, 30, 200))
    plan = prepare_publish(CHANNEL, office["dest"], key, office["content"], office["config"], NOW)
    recolor(office["content"] / "media" / "gate.jpg", (30, 200, 30))  # edited again while publishing
    with pytest.raises(SyncError, match="changed while publishing"):
        apply_plan(plan, key)
    assert manifest_path(office["dest"], CHANNEL).read_bytes() == before


def test_changing_one_file_copies_one_blob_and_bumps_the_generation(office):
    run_publish(office)
    blobs_before = set(os.listdir(office["dest"] / "blobs"))
    recolor(office["content"] / "media" / "river.jpg", (10, 10, 90))
    plan = run_publish(office)
    assert [f.entry.path for f in plan.to_copy] == ["media/river.jpg"]
    assert [f.path for f in plan.diff.changed] == ["media/river.jpg"] and not plan.diff.added and not plan.diff.removed
    assert len(set(os.listdir(office["dest"] / "blobs")) - blobs_before) == 1
    assert screen_view(office).generation == 2


def test_unchanged_content_publishes_nothing_and_keeps_the_generation(office):
    run_publish(office)
    before = files_under(office["dest"])
    result = sync_cli("publish", "--channel", CHANNEL, "--to", office["dest"], "--key", office["keys"] / "office.key",
                      "--content", office["content"], cwd=office["content"].parent)
    assert result.returncode == 0, result.stderr
    assert "nothing changed" in result.stdout and "generation 1" in result.stdout
    assert files_under(office["dest"]) == before


def test_dry_run_lists_the_change_and_writes_nothing(office):
    run_publish(office)
    recolor(office["content"] / "media" / "gate.jpg", (90, 10, 10))
    (office["content"] / "media" / "river.jpg").unlink()
    (office["content"] / "playlists" / "main.yaml").write_text(PLAYLIST.replace("    media: river.jpg", "    media: gate.jpg"))
    before = files_under(office["dest"])
    result = sync_cli("publish", "--channel", CHANNEL, "--to", office["dest"], "--key", office["keys"] / "office.key",
                      "--config", office["config"], "--dry-run", cwd=office["content"].parent)
    assert result.returncode == 0, result.stderr
    assert "changed  media/gate.jpg" in result.stdout and "removed  media/river.jpg" in result.stdout
    assert "would copy 2 blob(s)" in result.stdout and "generation 2" in result.stdout
    assert files_under(office["dest"]) == before


def test_content_the_player_would_reject_is_not_published(office):
    (office["content"] / "playlists" / "main.yaml").write_text(BROKEN)
    dest = office["dest"]
    result = sync_cli("publish", "--channel", CHANNEL, "--to", dest, "--key", office["keys"] / "office.key",
                      cwd=office["content"])
    assert result.returncode == 1
    assert "missing.jpg does not exist" in result.stderr and "(gate).duration" in result.stderr  # every problem
    assert not (dest / "blobs").exists() and not manifest_path(dest, CHANNEL).exists()


def test_a_key_not_in_the_publisher_list_is_refused_with_how_to_add_it(office):
    keygen("intruder", office["keys"])
    result = sync_cli("publish", "--channel", CHANNEL, "--to", office["dest"], "--key", office["keys"] / "intruder.key",
                      cwd=office["content"])
    assert result.returncode == 1
    assert "is not in" in result.stderr and "sign-publishers" in result.stderr and "--version 2" in result.stderr
    assert not (office["dest"] / "blobs").exists()


def test_after_a_revocation_the_new_publisher_re_signs_the_same_content_as_a_new_generation(office):
    run_publish(office)
    keygen("desk", office["keys"])
    root = read_private(office["keys"] / "root.key")
    sign_publishers(root, CHANNEL, office["dest"], 2, [("desk", read_public(office["keys"] / "desk.pub"))])
    with pytest.raises(SignatureError):
        screen_view(office)  # the old manifest's key was revoked
    plan = publish(CHANNEL, office["dest"], read_private(office["keys"] / "desk.key"), office["content"],
                   office["config"], NOW)
    assert plan.resign and not plan.to_copy and screen_view(office).generation == 2


def test_help_and_a_server_url_without_a_token(tmp_path):
    result = sync_cli("--help", cwd=tmp_path)
    assert result.returncode == 0
    assert all(command in result.stdout for command in ("keygen", "sign-publishers", "publish", "notice", "serve"))
    keygen("office", tmp_path)
    env_token = os.environ.pop("KIOSK_STAFF_TOKEN", None)
    try:
        url = sync_cli("publish", "--channel", CHANNEL, "--to", "https://cms.example/", "--key", "office.key", cwd=tmp_path)
    finally:
        if env_token is not None:
            os.environ["KIOSK_STAFF_TOKEN"] = env_token
    assert url.returncode == 1 and "needs your staff token" in url.stderr
    other = sync_cli("publish", "--channel", CHANNEL, "--to", "ftp://cms.example/", "--key", "office.key", cwd=tmp_path)
    assert other.returncode == 2 and "folder or an http(s):// server URL" in other.stderr
