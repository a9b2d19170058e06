"""Touch navigation as a pure state machine, in tables: screens, settling, idle timeout, the views it reports."""

from __future__ import annotations

import pytest

from player.touch.browse import parse_menu
from player.touch.navigation import (Back, Choose, Home, Leave, Nav, Open, Touch, Turn, Wake, countdown, idle, page_id,
                               step)
from player.yamlsource import parse_yaml

MENU_YAML = """\
title: {vi: Thông tin, en: Information}
topics:
  - {id: customs, title: {vi: Hải quan, en: Customs}, pages: [{id: a, type: text, text: {vi: A}}, {id: b, type: text, text: {vi: B}}, {id: c, type: text, text: {vi: C}}]}
  - id: sights
    title: {vi: Tham quan, en: Sights}
    topics:
      - {id: nui-cam, title: {vi: Núi Cấm}, pages: [{id: photo, type: text, text: {vi: Ảnh}}]}
"""
MENU, _ = parse_menu(parse_yaml(MENU_YAML, "browse.yaml"), "browse.yaml", ("vi", "en"), lambda code: True)


def run(actions: list[tuple[float, object]], start: Nav | None = None) -> tuple[Nav, list]:
    nav, views = start or Nav(), []
    for now, action in actions:
        result = step(nav, action, MENU, now)
        nav = result.nav
        views += result.views
    return nav, views


def where(nav: Nav) -> str:
    if not nav.active:
        return "loop"
    return "/".join(nav.path) + (f"#{page_id(nav, MENU)}" if page_id(nav, MENU) else "") + f" {nav.language}"


@pytest.mark.parametrize("actions, expected", [
    ([(0, Wake("en"))], " en"),
    ([(0, Wake("vi")), (1, Open("customs"))], "customs#a vi"),
    ([(0, Wake("vi")), (1, Open("customs")), (2, Turn(1)), (3, Turn(1))], "customs#c vi"),
    ([(0, Wake("vi")), (1, Open("customs")), (2, Turn(1)), (3, Turn(1)), (4, Turn(1))], "customs#c vi"),  # last page stays
    ([(0, Wake("vi")), (1, Open("customs")), (2, Turn(-1))], "customs#a vi"),  # first page stays
    ([(0, Wake("vi")), (1, Open("sights")), (2, Open("nui-cam"))], "sights/nui-cam#photo vi"),
    ([(0, Wake("vi")), (1, Open("sights")), (2, Open("nui-cam")), (3, Back())], "sights vi"),
    ([(0, Wake("vi")), (1, Open("sights")), (2, Open("nui-cam")), (3, Home())], " vi"),
    ([(0, Wake("vi")), (1, Back())], "loop"),
    ([(0, Wake("vi")), (1, Open("customs")), (2, Turn(1)), (3, Choose("en"))], "customs#b en"),  # same page, new language
    ([(0, Wake("vi")), (1, Open("nui-cam"))], " vi"),  # not a tile of this menu
    ([(0, Wake("vi")), (1, Open("customs")), (2, Open("sights"))], "customs#a vi"),  # no tiles on a page
    ([(0, Wake("vi")), (0.1, Open("customs"))], " vi"),  # too soon: the home menu is still coming in
    ([(0, Wake("vi")), (1, Open("customs")), (2, Turn(1)), (2.1, Turn(1)), (2.2, Turn(1))], "customs#b vi"),
    ([(0, Wake("vi")), (1, Open("customs")), (5, Leave("notice"))], "loop"),
    ([(0, Wake("vi")), (1, Back()), (1.1, Wake("vi"))], "loop"),  # a double tap on Back does not reopen at once
    ([(0, Open("customs")), (1, Turn(1))], "loop"),  # nothing but a tap wakes the kiosk
])
def test_screens(actions, expected):
    assert where(run(actions)[0]) == expected


def test_each_screen_left_is_reported_with_how_long_it_was_seen():
    _, views = run([(0, Wake("km")), (2, Open("customs")), (7.5, Turn(1)), (9, Choose("zh")), (20, Leave("idle"))])
    assert [(v.topic, v.page, v.language, v.seconds, v.ended) for v in views] == [
        ("", "", "km", 2, "open"),
        ("customs", "a", "km", 5.5, "page"),
        ("customs", "b", "km", 1.5, "language"),
        ("customs", "b", "zh", 11, "idle"),
    ]


def test_refused_and_idle_touches_still_count_as_the_visitor_being_there():
    nav, _ = run([(0, Wake("vi")), (1, Open("customs")), (30, Touch()), (40, Turn(-1))])
    assert nav.last_touch == 40
    assert not idle(nav, 99.9, 60) and idle(nav, 100, 60)


@pytest.mark.parametrize("since_touch, shown", [(0, None), (49.9, None), (50.0, 10), (50.5, 10), (55.2, 5), (59.9, 1), (60, None)])
def test_countdown_in_the_last_ten_seconds(since_touch, shown):
    nav, _ = run([(0, Wake("vi"))])
    assert countdown(nav, since_touch, 60) == shown


def test_leaving_when_not_browsing_does_nothing():
    nav, views = run([(0, Leave("notice"))])
    assert not nav.active and views == []
