"""kiosk.yaml's `update` section: the software channel a screen follows, and when and how it takes a release."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, time
from typing import Any

from .fields import Reader
from .when import TimeWindow, When, parse_window
from .yamlsource import line_of

KEYS = {"channel", "window", "trial_seconds", "ready_seconds"}
_CHANNEL = re.compile(r"[a-z0-9][a-z0-9_-]{0,63}")
NIGHT = When(times=(TimeWindow(time(2), time(5)),))  # when no power schedule says the panel is off


@dataclass(frozen=True)
class UpdateSettings:
    channel: str = "stable"
    window: When | None = None  # None: while the power schedule has the panel off, else 02:00-05:00
    anytime: bool = False  # `window: any`: as soon as a release is ready (a pilot screen in the office)
    trial_seconds: float = 600.0  # how long a new version must run well before it is kept
    ready_seconds: float = 90.0  # how long a new version may take to put its first frame up

    def may_switch(self, power_on: tuple[When, ...], now: datetime) -> bool:
        """The switch may happen at `now`: inside the window (or, by default, while the panel is scheduled off)."""
        if self.anytime:
            return True
        if self.window is not None:
            return self.window.is_open(now)
        if power_on:
            return not any(rule.is_open(now) for rule in power_on)
        return NIGHT.is_open(now)


def parse_update(r: Reader, top: dict[str, Any], has_sync: bool) -> UpdateSettings | None:
    """The `update` section, every problem reported through `r`; None when kiosk.yaml has none."""
    if top.get("update") is None:
        return None
    m = r.mapping(top.get("update"), "update", KEYS, line_of(top, "update"))
    if not has_sync:
        r.error("update-needs-sync", "update", "needs a `sync` section: releases come over the same path as content, checked with "
                "sync.root_key", line_of(top, "update"))
    channel = r.field(m, "channel", "update", (str,), "stable", what="a software channel name such as stable or pilot")
    if not _CHANNEL.fullmatch(channel or ""):
        r.error("bad-channel", "update.channel", f"{channel!r} must be lower-case letters, digits, '-' or '_'", line_of(m, "channel"))
        channel = "stable"
    window, anytime = None, False
    raw = m.get("window")
    if raw == "any":
        anytime = True
    elif raw is not None:
        windows = raw if isinstance(raw, list) else [raw]
        parsed = []
        for i, entry in enumerate(windows):
            try:
                parsed.append(parse_window(entry))
            except ValueError as exc:
                r.error("bad-when", f"update.window[{i}]" if isinstance(raw, list) else "update.window",
                        f"{exc}; write times like \"02:00-05:00\", a list of them, or any", line_of(m, "window"))
        if not windows:
            r.error("empty-list", "update.window", "is an empty list: no update could ever switch; leave it out for the default",
                    line_of(m, "window"))
        window = When(times=tuple(parsed)) if parsed else None
    return UpdateSettings(channel, window, anytime,
                          r.number(m, "trial_seconds", "update", 600.0, low=5, high=86400),
                          r.number(m, "ready_seconds", "update", 90.0, low=5, high=900))
