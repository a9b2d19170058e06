"""The files player and sync share: named in sync/layout.py only, and written whole or not at all."""

from __future__ import annotations

import ast
import os
import stat
from pathlib import Path

import pytest

from sync.layout import StateFolder, rotated, write_atomic
from tests.conftest import REPO

STATE = StateFolder(Path("state"))
SHARED_NAMES = {path.name for path in (STATE.log, STATE.proof, STATE.proof_cursor, STATE.now_playing, STATE.power,
                                       STATE.clock, STATE.screenshot, STATE.screenshot_request, STATE.store.state,
                                       STATE.store.notices)}


def test_the_state_folder_is_laid_out_as_the_readme_says():
    assert STATE.proof == Path("state/proof-of-play.jsonl") and STATE.log == Path("state/player.log")
    assert STATE.store.root == Path("state/store") and STATE.store.current == Path("state/store/current")
    assert rotated(STATE.proof, 1) == Path("state/proof-of-play.jsonl.1")


@pytest.mark.parametrize("package", ["player", "sync"])
def test_no_other_module_spells_a_shared_file_name(package):
    spelled = []
    for path in sorted((REPO / package).rglob("*.py")):
        if path == REPO / "sync" / "layout.py":
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and node.value in SHARED_NAMES:
                spelled.append(f"{path.relative_to(REPO)}:{node.lineno} {node.value}")
    assert spelled == []


def test_write_atomic_replaces_the_file_whole_and_leaves_no_temporary_file(tmp_path):
    target = tmp_path / "state" / "now-playing.json"
    write_atomic(target, b"first")
    write_atomic(target, b"second", mode=0o640)
    assert target.read_bytes() == b"second"
    assert stat.S_IMODE(os.stat(target).st_mode) == 0o640
    assert sorted(p.name for p in target.parent.iterdir()) == ["now-playing.json"]


def test_a_write_that_fails_leaves_what_was_there_and_no_temporary_file(tmp_path):
    target = tmp_path / "clock.json"
    target.mkdir()  # the rename over it fails, as a full or read-only disk would fail a step
    with pytest.raises(OSError):
        write_atomic(target, b"new")
    assert target.is_dir() and sorted(p.name for p in tmp_path.iterdir()) == ["clock.json"]
