"""What the kiosk's painter thread has drawn: screens (a few, most recent kept), bars per language, the keypad.

Requests go to the painter (a Preparer) at most once each; `collect()` takes
whatever is finished without waiting, so a frame never blocks on drawing.
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from typing import Any

from ..prepare import Preparer
from .painter import Chrome, ChromeKey, MenuKey, Painted, ScreenKey

log = logging.getLogger(__name__)

CACHE_SCREENS = 12  # full-canvas pictures (8 MB each at 1080p): the screens around the visitor


class ScreenCache:
    def __init__(self, painter: Preparer) -> None:
        self.painter = painter
        self.screens: OrderedDict[ScreenKey, Painted] = OrderedDict()
        self.chrome: dict[str, Chrome] = {}
        self.keypad: Any = None  # the keypad's panel, once drawn
        self.asked: dict[int, object] = {}

    @property
    def busy(self) -> bool:
        return bool(self.asked)

    def get(self, key: ScreenKey) -> Painted | None:
        return self.screens.get(key)

    def ask(self, key: object) -> None:
        """Have `key` drawn unless it is drawn or on its way."""
        if key in self.asked.values() or (isinstance(key, ScreenKey) and key in self.screens):
            return
        self.asked[self.painter.request(key)] = key

    def touch(self, key: ScreenKey) -> None:
        if key in self.screens:
            self.screens.move_to_end(key)

    def collect(self, keep: tuple[object, ...] = ()) -> list[Any]:
        """File what the painter finished; returns the browse menus it read (MenuKey results), oldest first.

        The oldest screens beyond CACHE_SCREENS are let go of, except those in `keep` (on screen now).
        """
        menus = []
        for token, result in self.painter.ready():
            key = self.asked.pop(token, None)
            if isinstance(key, ChromeKey) and isinstance(result, Chrome):
                self.chrome[key.language] = result
            elif key == "keypad":
                self.keypad = result
            elif isinstance(key, MenuKey):
                menus.append(result)
            elif isinstance(key, ScreenKey) and isinstance(result, Painted):
                if result.error:
                    log.error("%s cannot be shown: %s", key.label, result.error)
                self.screens[key] = result
                self._trim(keep)
        return menus

    def _trim(self, keep: tuple[object, ...]) -> None:
        for old_key in list(self.screens):
            if len(self.screens) <= CACHE_SCREENS:
                return
            old = self.screens[old_key]
            if any(old is kept for kept in keep):
                continue
            del self.screens[old_key]
            old.close()

    def drop_videos(self, keep: object) -> None:
        """A video page plays once per visit: let go of every one but `keep`."""
        for key, painted in list(self.screens.items()):
            if painted.video is not None and painted is not keep:
                painted.close()
                del self.screens[key]

    def clear(self) -> None:
        for painted in self.screens.values():
            painted.close()
        self.screens.clear()

    def close(self) -> None:
        self.painter.close()
        self.clear()
