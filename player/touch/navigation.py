"""Touch navigation as a pure state machine: which browse screen is up, idle timeout, and what each view lasted.

`step(nav, action, menu, now)` returns the next state and the views that ended
(for proof of play); `now` is monotonic seconds, passed in. No pygame here.

Screens: the loop (inactive), the home menu (path ()), a topic's menu of
sub-topics, or a page of a topic. A screen change is refused while the one
before it is still settling (`SETTLE_SECONDS`, the length of its transition),
so a double tap or a tap during a slide never moves two screens.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

from .browse import Menu

SETTLE_SECONDS = 0.3
COUNTDOWN_SECONDS = 10


@dataclass(frozen=True)
class Nav:
    active: bool = False
    language: str = "vi"
    path: tuple[str, ...] = ()  # topic ids from the home menu; () is the home menu
    page: int = 0  # which page, when the topic at `path` has pages
    since: float = 0.0  # when this screen (in this language) was put up
    last_touch: float = 0.0
    settled: float = 0.0  # no screen change before this time

    @property
    def screen(self) -> tuple[bool, str, tuple[str, ...], int]:
        """What the visitor sees; a change of it is a new screen."""
        return (self.active, self.language, self.path, self.page) if self.active else (False, "", (), 0)


@dataclass(frozen=True)
class View:
    """One screen seen by a visitor: the topic path ("" for the home menu), the page id ("" for a menu)."""

    topic: str
    page: str
    language: str
    start: float  # monotonic
    seconds: float
    ended: str  # what ended it: open, page, back, home, language, idle, notice, exit, ...


# -- actions ------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Wake:
    """A tap on the loop: the home menu in the language the loop was showing."""
    language: str


@dataclass(frozen=True)
class Open:
    topic: str  # a tile of the current menu screen


@dataclass(frozen=True)
class Turn:
    step: int  # +1 the next page (swipe left), -1 the previous one (swipe right)


@dataclass(frozen=True)
class Back:
    """Up one level; from the home menu back to the loop."""


@dataclass(frozen=True)
class Home:
    pass


@dataclass(frozen=True)
class Choose:
    language: str


@dataclass(frozen=True)
class Touch:
    """Any touch that does nothing else: the visitor is still there."""


@dataclass(frozen=True)
class Leave:
    """Back to the loop at once, settling or not (idle timeout, an urgent notice, the staff exit)."""
    reason: str


Action = Wake | Open | Turn | Back | Home | Choose | Touch | Leave


@dataclass(frozen=True)
class Step:
    nav: Nav
    views: tuple[View, ...] = ()


def pages_of(nav: Nav, menu: Menu) -> int:
    topic = menu.find(nav.path) if nav.path else None
    return len(topic.pages) if topic else 0


def page_id(nav: Nav, menu: Menu) -> str:
    topic = menu.find(nav.path) if nav.path else None
    if topic is None or not topic.pages:
        return ""
    return topic.pages[min(nav.page, len(topic.pages) - 1)].id


def _view(nav: Nav, menu: Menu, now: float, ended: str) -> View:
    return View("/".join(nav.path), page_id(nav, menu), nav.language, nav.since, max(0.0, now - nav.since), ended)


def _go(nav: Nav, menu: Menu, now: float, ended: str, settle: float, **changes: object) -> Step:
    new = replace(nav, since=now, last_touch=now, settled=now + settle, **changes)  # type: ignore[arg-type]
    return Step(new, (_view(nav, menu, now, ended),))


def step(nav: Nav, action: Action, menu: Menu, now: float, settle: float = SETTLE_SECONDS) -> Step:
    """The state after `action` at monotonic time `now`, and the view it ended (if the screen changed)."""
    if isinstance(action, Leave):
        if not nav.active:
            return Step(nav)
        return Step(replace(nav, active=False, path=(), page=0, settled=now + settle),
                    (_view(nav, menu, now, action.reason),))
    if not nav.active:
        if isinstance(action, Wake) and now >= nav.settled:
            return Step(Nav(True, action.language, (), 0, now, now, now + settle))
        return Step(nav)
    touched = replace(nav, last_touch=now)
    if isinstance(action, Touch) or now < nav.settled:
        return Step(touched)
    if isinstance(action, Choose):
        if action.language == nav.language:
            return Step(touched)
        return _go(nav, menu, now, "language", settle, language=action.language)
    if isinstance(action, Home):
        if not nav.path:
            return Step(touched)
        return _go(nav, menu, now, "home", settle, path=(), page=0)
    if isinstance(action, Back):
        if not nav.path:
            return Step(replace(nav, active=False, settled=now + settle), (_view(nav, menu, now, "back"),))
        return _go(nav, menu, now, "back", settle, path=nav.path[:-1], page=0)
    if isinstance(action, Open):
        if not any(t.id == action.topic for t in menu.children(nav.path)) or pages_of(nav, menu):
            return Step(touched)
        return _go(nav, menu, now, "open", settle, path=nav.path + (action.topic,), page=0)
    if isinstance(action, Turn):
        count = pages_of(nav, menu)
        target = nav.page + (1 if action.step > 0 else -1)
        if not count or not 0 <= target < count:
            return Step(touched)  # the first or last page: it stays (the screen shows a nudge)
        return _go(nav, menu, now, "page", settle, page=target)
    return Step(touched)


def idle(nav: Nav, now: float, timeout: float) -> bool:
    """True when a visitor has left the screen alone for `timeout` seconds."""
    return nav.active and now - nav.last_touch >= timeout


def countdown(nav: Nav, now: float, timeout: float, shown: int = COUNTDOWN_SECONDS) -> int | None:
    """Whole seconds left before the idle return, during its last `shown` seconds; else None."""
    if not nav.active:
        return None
    left = timeout - (now - nav.last_touch)
    if left > shown or left <= 0:
        return None
    return max(1, math.ceil(left))
