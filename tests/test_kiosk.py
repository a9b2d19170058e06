"""The touch kiosk on a real (headless) display: real FINGER and mouse events, what a visitor would see."""

from __future__ import annotations

import json

import shutil
import time
from pathlib import Path

import pygame
import pytest

from player.config import load_config
from player.proof import read_proof
from player.screen import build_screen
from player.source import load_program
from player.touch.lockdown import hash_pin
from player.touch.painter import MENU_BACKGROUND, SELECTED
from tests.conftest import REPO, at, make_screen
from tools import make_test_clips as clips

SIZE = (960, 540)
LOOP = """\
items:
  - {id: red, type: text, duration: 5, transition: cut, background: '#c03030', text: {vi: {title: 'Đỏ'}, en: {title: 'Red'}}}
  - {id: green, type: text, duration: 5, transition: cut, background: '#30a040', text: {vi: {title: 'Xanh'}, en: {title: 'Green'}}}
"""
PIN = "2468"


class Rig:
    """A screen's loop and kiosk as `player run` builds them, driven frame by frame on a fake monotonic clock."""

    def __init__(self, root: Path, idle: int = 60, browse: str | None = None) -> None:
        config_path = make_screen(root, {"main.yaml": LOOP}, size=SIZE, width_mm=476)
        if browse is None:
            shutil.copy(REPO / "playlists" / "browse.yaml", root / "playlists" / "browse.yaml")
        else:
            (root / "playlists" / "browse.yaml").write_text(browse, encoding="utf-8")
        for name in ("bg-navy.jpg", "bg-teal.jpg", "bg-maroon.jpg", "exchange.jpg", "nui-cam.jpg", "tra-su.jpg", "nui-sam.jpg"):
            shutil.copy(REPO / "media" / name, root / "media" / name)
        with config_path.open("a", encoding="utf-8") as out:
            out.write(f"touch: {{enabled: true, idle_timeout: {idle}, exit_pin_hash: '{hash_pin(PIN, iterations=1000)}'}}\n"
                      "overlays: {clock: false, ticker: false}\n")
        self.config = config = load_config(config_path)
        self.now = at("2026-11-27 09:00")
        self.built = build_screen(config, self.now)
        self.loop, self.writer = self.built.loop, self.built.writer
        assert self.built.kiosk is not None
        self.kiosk = self.built.kiosk
        self.proof_path = root / "state" / "proof-of-play.jsonl"
        self.layout = self.kiosk.layout
        self.screen = pygame.Surface(config.display.canvas)
        self.mono = 1000.0
        self.built.start(self.mono)
        self.frame()

    def close(self) -> None:
        self.built.close(self.mono)

    def frame(self, dt: float = 1 / 60) -> pygame.Surface:
        for event in pygame.event.get():
            self.built.handle(event, self.mono)
        self.built.frame(self.screen, self.mono, self.now, dt)
        self.mono += dt
        return self.screen

    def settle(self, seconds: float = 0.5) -> None:
        """Frames for `seconds` of screen time, waiting in real time for the painter where it is still busy."""
        end = self.mono + seconds
        while self.mono < end:
            self.frame()
        deadline = time.monotonic() + 5
        while (self.kiosk.cache.busy or (self.kiosk.nav.active and self.kiosk.shown is not None
                                      and self.kiosk.shown.key != self.kiosk._key())) and time.monotonic() < deadline:
            time.sleep(0.01)
            self.frame(0.0)
        self.frame(0.0)

    def finger(self, kind: int, x: float, y: float, finger: int = 1) -> None:
        w, h = self.config.display.canvas
        pygame.event.post(pygame.event.Event(kind, x=x / w, y=y / h, dx=0.0, dy=0.0, finger_id=finger, touch_id=1, pressure=1.0))

    def tap(self, point: tuple[float, float], finger: int = 1) -> None:
        self.finger(pygame.FINGERDOWN, *point, finger=finger)
        self.finger(pygame.FINGERUP, *point, finger=finger)

    def swipe(self, dx: float, steps: int = 6) -> None:
        """A finger dragged sideways across the middle of the screen over a few frames."""
        x0, y = self.config.display.canvas[0] / 2, self.config.display.canvas[1] / 2
        self.finger(pygame.FINGERDOWN, x0, y)
        self.frame()
        for i in range(1, steps + 1):
            self.finger(pygame.FINGERMOTION, x0 + dx * i / steps, y)
            self.frame()
        self.finger(pygame.FINGERUP, x0 + dx, y)


@pytest.fixture
def rig(tmp_path):
    pygame.event.clear()
    r = Rig(tmp_path)
    yield r
    r.close()


def changed(a: pygame.Surface, b: pygame.Surface) -> bool:
    return pygame.image.tobytes(a, "RGB") != pygame.image.tobytes(b, "RGB")


def color_at(surface: pygame.Surface, point: tuple[int, int]) -> tuple[int, int, int]:
    return tuple(surface.get_at((int(point[0]), int(point[1]))))[:3]


def test_a_tap_on_the_loop_opens_the_home_menu_in_the_language_on_screen(rig):
    before = rig.screen.copy()
    assert color_at(before, (20, SIZE[1] // 2)) == (192, 48, 48)  # the loop's red slide
    rig.tap((SIZE[0] / 2, SIZE[1] / 2))
    rig.frame()
    assert changed(before, rig.screen), "the tap showed nothing in the frame after it"
    rig.settle()
    assert rig.kiosk.active and rig.kiosk.nav.language == "vi" and rig.kiosk.nav.path == ()
    tiles = rig.layout.tiles(6)
    assert color_at(rig.screen, (tiles[0].x + 4, tiles[0].y + tiles[0].h // 2)) == (0x14, 0x40, 0x6a)  # immigration
    assert color_at(rig.screen, (tiles[5].x + 4, tiles[5].y + tiles[5].h // 2)) == (0x96, 0x18, 0x2a)  # emergency
    assert color_at(rig.screen, (tiles[0].x - 2, tiles[0].y + 4)) == MENU_BACKGROUND


def shows(rig: Rig, path: tuple[str, ...], page: int | None, language: str) -> bool:
    """The screen's content room is that page's (or menu's) picture, pixel for pixel."""
    from player.touch.painter import ScreenKey
    painted = rig.kiosk.cache.get(ScreenKey(path, page, language))
    if painted is None or painted.picture is None:
        return False
    room = pygame.Rect(rig.layout.content().rect)
    return pygame.image.tobytes(rig.screen.subsurface(room), "RGB") == pygame.image.tobytes(painted.picture.subsurface(room), "RGB")


def tile(rig: Rig, index: int, count: int = 6) -> tuple[int, int]:
    return rig.layout.tiles(count)[index].center


def open_home(rig: Rig) -> None:
    rig.tap((SIZE[0] / 2, SIZE[1] / 2))
    rig.settle()


def test_pages_turn_with_swipes_and_arrows_and_stop_at_the_ends(rig):
    open_home(rig)
    rig.tap(tile(rig, 0))  # immigration: 3 pages
    rig.settle()
    assert shows(rig, ("immigration",), 0, "vi")
    rig.swipe(-SIZE[0] * 0.3)  # finger moves left: the next page
    rig.settle()
    assert shows(rig, ("immigration",), 1, "vi")
    rig.tap(rig.layout.pager()[2].center)  # the next arrow
    rig.settle()
    assert shows(rig, ("immigration",), 2, "vi")
    last = rig.screen.copy()
    rig.swipe(-SIZE[0] * 0.3)  # past the last page: it stays
    rig.settle()
    assert shows(rig, ("immigration",), 2, "vi") and not changed(last, rig.screen)
    rig.swipe(SIZE[0] * 0.3)  # finger moves right: back one page
    rig.settle()
    assert shows(rig, ("immigration",), 1, "vi")
    rig.swipe(SIZE[0] * 0.02)  # a small wobble is neither a swipe nor a tap
    rig.settle()
    assert shows(rig, ("immigration",), 1, "vi")


def test_a_page_follows_the_finger_while_it_drags(rig):
    open_home(rig)
    rig.tap(tile(rig, 1))  # customs: 2 pages
    rig.settle()
    still = rig.screen.copy()
    x0, y = SIZE[0] / 2, SIZE[1] / 2
    rig.finger(pygame.FINGERDOWN, x0, y)
    rig.frame()
    rig.finger(pygame.FINGERMOTION, x0 - 200, y)
    rig.frame()
    moved = rig.screen.copy()
    room = rig.layout.content()
    # what was at x+200 is now at x: the page moved with the finger
    assert color_at(moved, (room.x + 100, room.y + 40)) == color_at(still, (room.x + 300, room.y + 40))
    rig.finger(pygame.FINGERUP, x0 - 200, y)
    rig.settle()
    assert shows(rig, ("customs",), 1, "vi")


def test_the_language_bar_switches_the_same_screen_to_each_language(rig):
    open_home(rig)
    titles = {}
    for code, box in rig.layout.language_buttons():
        rig.tap(box.center)
        rig.settle()
        assert rig.kiosk.nav.language == code and shows(rig, (), None, code)
        assert color_at(rig.screen, (box.x + 3, box.y + box.h // 2)) == SELECTED  # the chosen language is lit
        top = rig.layout.title()
        titles[code] = pygame.image.tobytes(rig.screen.subsurface(pygame.Rect(top.rect)), "RGB")
    assert len(set(titles.values())) == 4, "each language shows its own title"


def test_back_and_home_buttons_and_nested_topics(rig):
    open_home(rig)
    rig.tap(tile(rig, 4))  # sights: a menu of three sub-topics
    rig.settle()
    assert shows(rig, ("sights",), None, "vi")
    rig.tap(tile(rig, 0, 3))  # Núi Cấm
    rig.settle()
    assert shows(rig, ("sights", "nui-cam"), 0, "vi")
    rig.tap(rig.layout.back().center)
    rig.settle()
    assert shows(rig, ("sights",), None, "vi")
    rig.tap(tile(rig, 1, 3))
    rig.settle()
    rig.tap(rig.layout.home().center)
    rig.settle()
    assert shows(rig, (), None, "vi")
    rig.tap(rig.layout.back().center)  # Back on the home menu: the loop again
    rig.settle()
    assert not rig.kiosk.active and color_at(rig.screen, (20, SIZE[1] // 2)) == (192, 48, 48)


def test_fast_repeated_taps_and_taps_during_a_slide_move_one_page(rig):
    open_home(rig)
    rig.tap(tile(rig, 0))
    rig.settle()
    nxt = rig.layout.pager()[2].center
    for _ in range(8):  # eight taps in 8 frames (0.13 s)
        rig.tap(nxt)
        rig.frame()
    rig.settle()
    assert shows(rig, ("immigration",), 1, "vi")
    rig.tap(nxt)  # starts a slide...
    rig.frame()
    rig.frame()
    rig.tap(nxt)  # ...and a tap in the middle of it
    rig.settle()
    assert shows(rig, ("immigration",), 2, "vi")


def test_a_mouse_works_like_a_finger_and_a_finger_counts_once(rig):
    pygame.event.post(pygame.event.Event(pygame.MOUSEBUTTONDOWN, pos=(SIZE[0] // 2, SIZE[1] // 2), button=1, touch=False))
    pygame.event.post(pygame.event.Event(pygame.MOUSEBUTTONUP, pos=(SIZE[0] // 2, SIZE[1] // 2), button=1, touch=False))
    rig.settle()
    assert shows(rig, (), None, "vi")
    rig.tap(tile(rig, 0))
    rig.settle()
    # a finger on the next arrow, with the mouse events SDL makes from it, well after the last change
    point = rig.layout.pager()[2].center
    rig.tap(point)
    pygame.event.post(pygame.event.Event(pygame.MOUSEBUTTONDOWN, pos=point, button=1, touch=True))
    pygame.event.post(pygame.event.Event(pygame.MOUSEBUTTONUP, pos=point, button=1, touch=True))
    rig.frame()
    rig.settle(1.0)
    assert shows(rig, ("immigration",), 1, "vi")
    # a mouse drag is a swipe
    x, y = SIZE[0] // 2, SIZE[1] // 2
    pygame.event.post(pygame.event.Event(pygame.MOUSEBUTTONDOWN, pos=(x, y), button=1, touch=False))
    rig.frame()
    for step in range(1, 6):
        pygame.event.post(pygame.event.Event(pygame.MOUSEMOTION, pos=(x - 50 * step, y), rel=(-50, 0), buttons=(1, 0, 0), touch=False))
        rig.frame()
    pygame.event.post(pygame.event.Event(pygame.MOUSEBUTTONUP, pos=(x - 250, y), button=1, touch=False))
    rig.settle()
    assert shows(rig, ("immigration",), 2, "vi")


def test_several_fingers_at_once_count_as_the_first(rig):
    open_home(rig)
    first, second = tile(rig, 0), tile(rig, 5)
    rig.finger(pygame.FINGERDOWN, *first, finger=1)
    rig.finger(pygame.FINGERDOWN, *second, finger=2)
    rig.finger(pygame.FINGERUP, *second, finger=2)
    rig.finger(pygame.FINGERMOTION, first[0] + 1, first[1], finger=1)
    rig.finger(pygame.FINGERUP, *first, finger=1)
    rig.settle()
    assert shows(rig, ("immigration",), 0, "vi")


def test_idle_timeout_counts_down_then_resumes_the_loop_where_it_was(tmp_path):
    pygame.event.clear()
    rig = Rig(tmp_path, idle=15)
    try:
        rig.settle(2.0)  # 2 s into the red slide (5 s long)
        showing = rig.loop.current
        left = showing.end - rig.mono
        rig.tap((SIZE[0] / 2, SIZE[1] / 2))
        rig.settle()
        rig.tap(tile(rig, 2))
        rig.settle()
        banner_area = pygame.Rect(rig.layout.content().rect)
        rig.settle(15 - 10 - 1.0)  # 4 s since the last touch: no countdown yet
        assert rig.kiosk.active and not any_color(rig.screen.subsurface(banner_area), SELECTED)
        rig.settle(2.0)  # inside the last 10 s: the countdown banner shows
        assert any_color(rig.screen.subsurface(banner_area), SELECTED)
        for _ in range(60 * 12):  # frame by frame until the screen goes back by itself
            rig.frame()
            if not rig.kiosk.active:
                break
        assert not rig.kiosk.active
        assert rig.loop.current is showing, "the loop moved on while a visitor browsed"
        assert abs((showing.end - rig.mono) - left) < 0.1, "the slide lost (or gained) time while paused"
        assert color_at(rig.screen, (20, SIZE[1] // 2)) == (192, 48, 48)
    finally:
        rig.close()


def any_color(surface: pygame.Surface, color: tuple[int, int, int], near: int = 0, step: int = 4) -> bool:
    """Some pixel of `surface` (every `step`th) is `color`, give or take `near` per channel."""
    return any(all(abs(a - b) <= near for a, b in zip(tuple(surface.get_at((x, y)))[:3], color))
               for x in range(0, surface.get_width(), step) for y in range(0, surface.get_height(), step))


def press_keys(rig: Rig, labels: str) -> None:
    keys = dict(rig.layout.keypad()[2])
    for label in labels:
        rig.tap(keys[{"<": "del", "!": "ok"}.get(label, label)].center)
        rig.frame()
    deadline = time.monotonic() + 5
    while rig.kiosk.keypad is not None and rig.kiosk.keypad.checking and time.monotonic() < deadline:
        time.sleep(0.01)
        rig.frame(0.0)
    rig.frame()


def corner_taps(rig: Rig, count: int = 5) -> None:
    for _ in range(count):
        rig.tap((5, 5))
        rig.frame()
    rig.settle(0.1)


def test_staff_leave_by_corner_taps_and_the_pin_with_status_64(rig):
    corner_taps(rig, 4)
    assert rig.kiosk.keypad is None, "four taps are not enough"
    corner_taps(rig, 1)
    assert rig.kiosk.keypad is not None
    panel = rig.layout.keypad()[0]
    assert color_at(rig.screen, (panel.x + 1, panel.y + panel.h // 2)) == (233, 182, 64)  # the keypad's frame shows
    press_keys(rig, "1357!")
    assert rig.kiosk.exit_status is None and rig.kiosk.keypad is not None
    press_keys(rig, "2468!")
    assert rig.kiosk.exit_status == 64
    rig.writer.close()
    assert any(line.get("ended") == "exit" for line in read_proof(rig.proof_path))


def test_wrong_pins_lock_the_keypad_and_cancel_goes_back(rig):
    corner_taps(rig)
    for _ in range(3):
        press_keys(rig, "1111!")
    press_keys(rig, "2468!")  # the right PIN, but locked out: refused without a check
    assert rig.kiosk.exit_status is None
    assert rig.kiosk.keypad.status(rig.mono).startswith("Khóa")
    display = rig.layout.keypad()[1]
    assert any_color(rig.screen.subsurface(pygame.Rect(display.rect)), (233, 182, 64), near=60, step=1), "the lockout is not shown"
    press_keys(rig, "<")
    rig.tap(dict(rig.layout.keypad()[2])["cancel"].center)
    rig.settle()
    assert rig.kiosk.keypad is None and shows(rig, (), None, "vi")  # back where the staff member started
    corner_taps(rig)  # the lockout outlives the keypad
    press_keys(rig, "2468!")
    assert rig.kiosk.exit_status is None


def test_the_lockout_survives_a_restart_of_the_player(tmp_path):
    pygame.event.clear()
    first = Rig(tmp_path)
    try:
        corner_taps(first)
        for _ in range(3):  # three wrong PINs lock the keypad for 30 s
            press_keys(first, "1111!")
        assert first.kiosk.keypad.status(first.mono).startswith("Khóa")
    finally:
        first.close()  # a power cut: the state folder is all that remains
    again = Rig(tmp_path)  # the same screen started again; its lockout runs again in full from its first frame
    try:
        corner_taps(again)
        press_keys(again, "2468!")  # the right PIN, but still locked: refused without a check
        assert again.kiosk.exit_status is None
        status = again.kiosk.keypad.status(again.mono)
        assert status.startswith("Khóa") and 25 <= int(status.split()[1]) <= 30, status
        again.mono += 31.0
        press_keys(again, "1111!")  # the count went on from three: the fourth wrong PIN locks for a minute
        assert 55 <= again.kiosk.attempts.wait(again.mono) <= 60
        again.mono += 61.0
        press_keys(again, "2468!")
        assert again.kiosk.exit_status == 64
    finally:
        again.close()
    assert json.loads((tmp_path / "state" / "pin-attempts.json").read_text()) == {"failures": 0, "locked_for": 0.0}


def test_keys_and_window_close_do_nothing_in_touch_mode(rig):
    open_home(rig)
    before = rig.screen.copy()
    for event in (pygame.event.Event(pygame.KEYDOWN, key=pygame.K_ESCAPE, mod=0, unicode="\x1b", scancode=41),
                  pygame.event.Event(pygame.KEYDOWN, key=pygame.K_F4, mod=pygame.KMOD_LALT, unicode="", scancode=61),
                  pygame.event.Event(pygame.QUIT)):
        pygame.event.post(event)
    rig.settle()
    assert rig.kiosk.active and rig.kiosk.exit_status is None and not changed(before, rig.screen)


def test_touch_views_go_into_proof_of_play_next_to_play_lines(rig):
    open_home(rig)
    rig.settle(1.0)
    rig.tap(rig.layout.language_buttons()[2][1].center)  # Khmer
    rig.settle(0.5)
    rig.tap(tile(rig, 5))  # emergency numbers
    rig.settle(2.0)
    rig.kiosk.leave("notice")  # what an urgent notice does
    rig.settle(0.5)
    assert not rig.kiosk.active
    rig.kiosk.close()
    rig.loop.stop(rig.mono)
    rig.writer.close()
    lines = read_proof(rig.proof_path)
    touch = [(l["topic"], l["page"], l["language"], l["ended"]) for l in lines if l.get("kind") == "touch"]
    assert touch == [("", "", "vi", "language"), ("", "", "km", "open"), ("emergency", "numbers", "km", "notice")]
    seconds = [l["seconds"] for l in lines if l.get("kind") == "touch"]
    assert 1.0 <= seconds[0] <= 1.8 and 1.9 <= seconds[2] <= 2.8
    play = [l for l in lines if "kind" not in l]
    assert play and play[-1]["item"] == "red" and play[-1]["status"] == "cut"  # old-style lines, as before


def test_a_new_content_generation_brings_its_own_browse_menu(rig, tmp_path):
    generation = tmp_path / "store" / "gen-2"
    shutil.copytree(tmp_path / "playlists", generation / "playlists")
    shutil.copytree(tmp_path / "media", generation / "media")
    (generation / "playlists" / "browse.yaml").write_text(
        "topics:\n  - {id: only, title: {vi: Mới}, color: '#5a2e72', pages: [{id: p, type: text, text: {vi: Trang mới}}]}\n",
        encoding="utf-8")
    rig.loop.program, _ = load_program(rig.config, rig.now, (generation / "playlists", generation / "media"))
    rig.settle()
    open_home(rig)
    one = rig.layout.tiles(1)[0]
    assert color_at(rig.screen, (one.x + 4, one.y + one.h // 2)) == (0x5a, 0x2e, 0x72)  # one tile, the new menu's


def test_a_video_page_plays_while_it_is_shown_and_stops_when_left(tmp_path):
    (tmp_path / "media").mkdir()
    clips.make_h264_mp4(tmp_path / "media", seconds=3).rename(tmp_path / "media" / "river.mp4")
    pygame.event.clear()
    rig = Rig(tmp_path, browse="topics:\n  - id: river\n    title: {vi: Sông nước}\n    pages:\n"
                               "      - {id: intro, type: text, text: {vi: {title: Sông nước An Giang}}}\n"
                               "      - {id: clip, type: video, media: river.mp4, text: {vi: {title: Đi thuyền}}}\n")
    try:
        open_home(rig)
        rig.tap(tile(rig, 0, 1))
        rig.settle()
        rig.tap(rig.layout.pager()[2].center)
        rig.settle()
        room = pygame.Rect(rig.layout.content().rect)
        seen = set()
        for _ in range(40):  # two thirds of a second, in real time so the decoder keeps up
            rig.frame()
            time.sleep(1 / 60)
            seen.add(pygame.image.tobytes(rig.screen.subsurface(room), "RGB"))
        assert len(seen) >= 5, "the clip did not move"
        video = rig.kiosk.shown.video
        rig.tap(rig.layout.pager()[0].center)  # back to the first page
        rig.settle()
        assert shows(rig, ("river",), 0, "vi")
        assert all(p.video is None for p in rig.kiosk.cache.screens.values()), "the clip is still held"
        assert video._stop, "the clip's decoder still runs"
    finally:
        rig.close()
