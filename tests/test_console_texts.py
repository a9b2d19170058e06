"""Every word the console shows exists in Vietnamese and in English: the keys its templates and routes use, and the
families of keys they build (a choice, a weekday, a level, a reason)."""

from __future__ import annotations

import re

import pytest

from sync.notice import LEVELS
from sync.server.console.forms import WEEKDAYS
from sync.server.console.routes_notices import LASTING
from sync.server.console.texts import WORDS, say
from tests.conftest import REPO

CONSOLE = REPO / "sync" / "server" / "console"
FAMILIES = {
    "choice-": ("text", "image", "video", "cut", "crossfade", "slide", "rotate", "stack", "fit", "fill"),
    "day-": WEEKDAYS + ("tet", "khmer-new-year", "reunification", "labour-day", "national-day"),
    "level-": LEVELS, "lasting-": tuple(LASTING), "cell-": ("own", "check", "fallback", "skipped"),
    "conflict-": ("draft", "published"), "conflict-theirs-": ("draft", "published"),
    "flag-": ("never-seen", "silent", "behind", "fallback", "software-behind", "dropping"),
    "action-": ("login", "login failed", "save", "upload", "delete", "publish", "notice", "notice cleared",
                "password set", "profile", "publishers", "channel", "software", "screen token", "screen revoked",
                "staff token", "staff revoked", "password link", "flag", "recovered", "releasers", "release", "halt",
                "day kept", "day removed"),
    "why-": ("weekday", "date", "window", "daypart-weekday", "daypart-date", "daypart-window", "higher-daypart",
             "no-daypart", "unknown"),
}


def used_keys() -> set[str]:
    keys: set[str] = set()
    for path in (CONSOLE / "templates").glob("*.html"):
        keys |= set(re.findall(r"""[^.\w]t\(["']([a-z0-9-]+)["']\s*[,)]""", path.read_text(encoding="utf-8")))
    for path in CONSOLE.glob("*.py"):
        keys |= set(re.findall(r"""say\(["']([a-z0-9-]+)["']""", path.read_text(encoding="utf-8")))
    return keys


def test_every_key_used_has_both_languages():
    keys = used_keys()
    assert len(keys) > 150
    missing = sorted(k for k in keys if k not in WORDS)
    assert not missing, missing


@pytest.mark.parametrize("prefix", sorted(FAMILIES))
def test_every_key_of_a_family_exists(prefix):
    assert [f"{prefix}{name}" for name in FAMILIES[prefix] if f"{prefix}{name}" not in WORDS] == []


def test_vietnamese_and_english_differ_and_are_not_empty():
    for key, (vi, en) in WORDS.items():
        assert vi.strip() and en.strip(), key
    assert say("nav-screens", "vi") == "Màn hình" and say("nav-screens", "en") == "Screens"
