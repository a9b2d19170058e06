"""The README stays true: every command, kiosk.yaml key and playlist key is documented, and .ci/run runs ./test."""

from __future__ import annotations

import pytest

from player.cli import build_parser
from player.touch.browse import MENU_KEYS, TOPIC_KEYS
from player.content import ITEM_KEYS, PLAYLIST_KEYS
from tests.conftest import REPO

README = (REPO / "README.md").read_text(encoding="utf-8")
KIOSK_KEYS = ["screen.id", "screen.name", "display.fullscreen", "display.size", "display.rotation", "display.width_mm",
              "display.fps", "languages.order", "languages.fallback", "languages.fonts", "timezone", "content.playlists",
              "content.media", "state_dir", "overlays.clock", "overlays.ticker", "overlays.shift_every",
              "overlays.shift_pixels", "touch.enabled", "touch.idle_timeout", "touch.exit_pin_hash",
              "touch.exit_corner", "touch.exit_taps", "fallback.background", "fallback.image",
              "audio.volume", "sync.server", "sync.channel", "sync.root_key", "sync.ca_file", "sync.poll_seconds",
              "sync.store_limit_mb", "sync.keep_generations", "sync.token_file", "sync.heartbeat_seconds",
              "sync.screenshot_seconds", "sync.min_rate_kb", "power.on", "power.method", "power.on_command",
              "power.off_command", "power.check_seconds", "update.channel", "update.window",
              "update.trial_seconds", "update.ready_seconds"]


def commands() -> list[str]:
    sub = next(a for a in build_parser()._actions if a.dest == "command")
    return sorted(sub.choices)  # type: ignore[union-attr]


@pytest.mark.parametrize("command", commands())
def test_every_command_is_in_the_readme(command):
    assert f"`{command}" in README


def sync_commands() -> list[str]:
    from sync.cli import build_parser as sync_parser
    sub = next(a for a in sync_parser()._actions if a.dest == "command")
    return sorted(sub.choices)  # type: ignore[union-attr]


@pytest.mark.parametrize("command", sync_commands())
def test_every_sync_command_is_in_the_readme(command):
    assert f"python -m sync {command}" in README


@pytest.mark.parametrize("key", KIOSK_KEYS)
def test_every_kiosk_key_is_in_the_readme(key):
    assert f"`{key}`" in README


def test_the_kiosk_key_list_is_complete():
    from player.config import TOP_KEYS
    assert {key.split(".")[0] for key in KIOSK_KEYS} == TOP_KEYS


@pytest.mark.parametrize("key", sorted(ITEM_KEYS | PLAYLIST_KEYS))
def test_every_playlist_key_is_in_the_readme(key):
    assert f"`{key}`" in README or f"\n{key}:" in README


@pytest.mark.parametrize("key", sorted(MENU_KEYS | TOPIC_KEYS))
def test_every_browse_menu_key_is_in_the_readme(key):
    assert f"`{key}`" in README or f"`topics[].{key}`" in README


def test_ci_runs_the_readme_test_command():
    assert "./test" in README.split("## Commands")[0]
    assert "exec ./test" in (REPO / ".ci" / "run").read_text()
