"""Urgent notices on the screen: which one shows (pure), how it looks, and the sync client that keeps them."""

from __future__ import annotations

import json
import threading
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pygame
import pytest

from player.notices import (COLORS, NoticeBoard, ShownNotice, choose_notice, ordered_languages, parse_notices,
                            render_notice)
from player.slides import SlideRenderer
from sync.client import HttpSource
from sync.notice import build_notice
from sync.notice_feed import follow_notices
from sync.store import Store
from sync.upload import seal_notice
from tests.conftest import at
from tests.server_rig import start_rig

T0 = at("2026-11-26 14:00")


def shown(notice_id: str, level: str, created: str, expires: str, texts=(("vi", "Cổng tạm đóng"), ("en", "Gate closed"))):
    return ShownNotice(notice_id, level, tuple(texts), at(created), at(expires))


@pytest.mark.parametrize("now, expected", [
    ("2026-11-26 13:59", "urgent-new"),   # the most severe live one wins
    ("2026-11-26 15:30", "info-long"),    # after the urgent ones expire
    ("2026-11-26 19:00", None),           # all expired
])
def test_the_most_severe_live_notice_shows_the_newest_among_equals(now, expected):
    notices = [shown("info-long", "info", "2026-11-26 10:00", "2026-11-26 18:00"),
               shown("urgent-old", "urgent", "2026-11-26 09:00", "2026-11-26 15:00"),
               shown("urgent-new", "urgent", "2026-11-26 11:00", "2026-11-26 15:00")]
    chosen = choose_notice(notices, at(now))
    assert (chosen.id if chosen else None) == expected


@pytest.mark.parametrize("texts, screen, expected", [
    ((("en", "E"), ("vi", "V"), ("zh", "Z")), ("vi", "en", "km", "zh"), ["vi", "en", "zh"]),
    ((("zh", "Z"), ("km", "K")), ("vi", "zh", "km", "en"), ["zh", "km"]),
    ((("en", "E"), ("fr", "F")), ("vi", "en"), ["en", "fr"]),
])
def test_vietnamese_leads_then_the_screens_order(texts, screen, expected):
    assert ordered_languages(ShownNotice("n", "info", texts, T0, T0), screen) == expected


def test_a_damaged_notices_file_shows_nothing_rather_than_failing():
    assert parse_notices(b"{not json") == []
    good = {"id": "n1", "level": "urgent", "texts": {"vi": "A"}, "created": "2026-11-26T14:00:00+07:00",
            "expires": "2026-11-26T15:00:00+07:00"}
    data = json.dumps({"notices": [good, {"id": "bad", "level": "urgent"}, dict(good, level="shout")]}).encode()
    assert [n.id for n in parse_notices(data)] == ["n1"]


@pytest.fixture
def renderer():
    return SlideRenderer((960, 540), 960 / 476, Path("media"))


def test_an_urgent_notice_fills_the_screen_and_a_short_warning_is_a_band():
    renderer = SlideRenderer((1920, 1080), 1920 / 952, Path("media"))  # a 43-inch panel
    texts = (("vi", "Cổng tạm đóng"), ("en", "Gate closed"), ("km", "ច្រកទ្វារបិទ"), ("zh", "口岸暂停通关"))
    urgent = render_notice(renderer, ShownNotice("u", "urgent", texts, T0, T0), ("vi", "en", "km", "zh"))
    assert len(urgent) == 3 and all(p.get_size() == (1920, 1080) for p in urgent)  # vi with en, km, zh in turn
    assert urgent[0].get_at((960, 1040))[:3] == COLORS["urgent"]
    band = render_notice(renderer, ShownNotice("w", "warning", texts[:2], T0, T0), ("vi", "en"))
    assert len(band) == 1 and band[0].get_height() < 1080 * 0.5
    assert band[0].get_at((5, 5))[:3] == COLORS["warning"]


def test_a_warning_too_long_for_the_band_takes_the_whole_screen(renderer):
    long = "Cổng tạm đóng 30 phút do sự cố kỹ thuật. Xin vui lòng chờ tại khu vực A và giữ hộ chiếu bên mình."
    pictures = render_notice(renderer, ShownNotice("w", "warning", (("vi", long), ("en", "Gate closed")), T0, T0), ("vi", "en"))
    assert pictures[0].get_size() == (960, 540)


def test_the_board_draws_a_notice_as_soon_as_the_file_has_it_and_stops_at_expiry(tmp_path, renderer):
    path = tmp_path / "notices.json"
    now = [T0]
    changes: list[tuple[str | None, str | None]] = []
    board = NoticeBoard(path, renderer, ("vi", "en"), lambda: now[0],
                        lambda old, new: changes.append((old and old.id, new and new.id))).start()
    try:
        canvas = pygame.Surface((960, 540))
        canvas.fill((0, 128, 0))
        assert board.draw(canvas, 0.0) is False
        record = {"id": "n1", "level": "urgent", "texts": {"vi": "Cổng tạm đóng", "en": "Gate closed"},
                  "created": T0.isoformat(), "expires": (T0 + timedelta(minutes=5)).isoformat()}
        path.write_text(json.dumps({"format": 1, "notices": [record]}), encoding="utf-8")
        deadline = time.monotonic() + 5
        while board.showing is None and time.monotonic() < deadline:
            time.sleep(0.05)
        assert board.draw(canvas, 0.0) and canvas.get_at((480, 530))[:3] == COLORS["urgent"]
        now[0] = T0 + timedelta(minutes=6)
        deadline = time.monotonic() + 5
        while board.showing is not None and time.monotonic() < deadline:
            time.sleep(0.05)
        assert board.showing is None and changes == [(None, "n1"), ("n1", None)]
    finally:
        board.stop()


def test_the_sync_client_keeps_only_verified_notices_for_this_screen_and_drops_cleared_ones(tmp_path):
    rig = start_rig(tmp_path / "server")
    store = Store(tmp_path / "store").open()
    stop = threading.Event()
    clock = lambda: datetime.now(timezone.utc)  # noqa: E731
    source = HttpSource(rig.url, "gate", wait=5)
    feeder = threading.Thread(target=follow_notices, args=(source, store, rig.root.public_key(), "gate", "kiosk-1",
                                                           clock, stop), daemon=True)
    feeder.start()
    path = store.root / "notices.json"
    try:
        now = datetime.now(timezone.utc).replace(microsecond=0)
        for notice_id, screens in (("for-me-0001", []), ("for-other-01", ["kiosk-2"])):
            notice = build_notice(notice_id, "urgent", [("vi", "Cổng tạm đóng")], ["gate"], screens, now,
                                  now + timedelta(minutes=10))
            rig.staff().post(f"{rig.url}/api/notices", data=seal_notice(notice, rig.publisher)).raise_for_status()
        assert _wait_for(lambda: [n["id"] for n in _notices(path)] == ["for-me-0001"])
        rig.staff().delete(f"{rig.url}/api/notices/for-me-0001").raise_for_status()
        assert _wait_for(lambda: _notices(path) == [])
    finally:
        stop.set()
        rig.stop()
        feeder.join(15)


def _notices(path: Path) -> list[dict[str, object]]:
    try:
        return json.loads(path.read_text(encoding="utf-8"))["notices"]  # type: ignore[no-any-return]
    except (OSError, ValueError):
        return [{"id": "not yet"}]


def _wait_for(condition, seconds: float = 10.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return False



@pytest.mark.slow  # a sync client waits out its retry
def test_a_screen_offline_when_a_notice_is_posted_shows_it_once_it_reconnects(tmp_path):
    rig = start_rig(tmp_path / "server")
    now = datetime.now(timezone.utc).replace(microsecond=0)
    notice = build_notice("while-away-1", "urgent", [("vi", "Cổng tạm đóng")], ["gate"], [], now, now + timedelta(minutes=10))
    rig.staff().post(f"{rig.url}/api/notices", data=seal_notice(notice, rig.publisher)).raise_for_status()
    rig.stop()  # the link goes down
    store = Store(tmp_path / "store").open()
    stop = threading.Event()
    source = HttpSource(rig.url, "gate", wait=5)
    feeder = threading.Thread(target=follow_notices, args=(source, store, rig.root.public_key(), "gate", "kiosk-1",
                                                           lambda: datetime.now(timezone.utc), stop, 0.3), daemon=True)
    feeder.start()
    path = store.root / "notices.json"
    try:
        time.sleep(1.0)  # a few failed tries
        assert not path.exists()
        rig.restart()  # the link is back: the same server and data, on the same port
        assert _wait_for(lambda: [n["id"] for n in _notices(path)] == ["while-away-1"], 15)
    finally:
        stop.set()
        rig.stop()
        feeder.join(15)


def test_an_urgent_notice_sends_a_browsing_visitor_back_to_the_loop_and_holds_touches(tmp_path):
    from player.notices import NoticeLayer
    from tests.test_kiosk import Rig as KioskRig

    pygame.event.clear()
    kiosk = KioskRig(tmp_path / "screen")
    path = tmp_path / "notices.json"
    board = NoticeBoard(path, SlideRenderer((960, 540), 960 / 476, Path("media")), ("vi", "en"), lambda: T0,
                        lambda old, new: None).start()
    layer = NoticeLayer(board, kiosk.kiosk)
    try:
        kiosk.tap((480, 270))
        kiosk.settle()
        assert kiosk.kiosk.active  # a visitor is browsing the home menu
        record = {"id": "n-urgent", "level": "urgent", "texts": {"vi": "Cổng tạm đóng", "en": "Gate closed"},
                  "created": T0.isoformat(), "expires": (T0 + timedelta(minutes=5)).isoformat()}
        path.write_text(json.dumps({"format": 1, "notices": [record]}), encoding="utf-8")
        assert _wait_for(lambda: board.showing is not None, 5)
        kiosk.frame()
        layer.draw(kiosk.screen, kiosk.mono)
        assert not kiosk.kiosk.active  # back to the (paused) loop, under the notice
        assert kiosk.screen.get_at((480, 530))[:3] == COLORS["urgent"]
        assert layer.holds_touches()
        path.write_text(json.dumps({"format": 1, "notices": []}), encoding="utf-8")
        assert _wait_for(lambda: board.showing is None, 5)
        assert not layer.holds_touches()
        kiosk.settle(1.0)
        kiosk.tap((480, 270))  # with the notice gone, the kiosk answers taps again
        kiosk.settle()
        assert kiosk.kiosk.active
        kiosk.writer.close()
        lines = [json.loads(line) for line in kiosk.proof_path.read_text().splitlines()]
        assert any(line.get("kind") == "touch" and line.get("ended") == "notice" for line in lines)
    finally:
        board.stop()
        kiosk.close()
