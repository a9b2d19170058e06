"""The schedule timeline for a fixed day (what plays hour by hour, and why an item does not) and the translation board,
as pure view-models over the player's own content model."""

from __future__ import annotations

import time
from datetime import date

import pytest

from player.content import load_content
from sync.server.console.planning import after_edit, board, timeline
from tests.conftest import VN, make_screen

PLAYLISTS = {
    "daytime.yaml": """\
items:
  - {id: hours, type: text, text: {vi: "Giờ mở cửa", en: "Opening hours", km: "ម៉ោង\u200bបើក"}}
  - {id: market, type: text, when: {weekdays: [sat, sun]}, text: {vi: "Chợ phiên", zh: "集市"}}
  - {id: morning, type: text, when: {times: ["06:00-09:00"]}, text: {vi: "Buổi sáng"}}
""",
    "tet.yaml": 'items:\n  - {id: greeting, type: text, text: {vi: "Chúc mừng năm mới", en: "Happy New Year"}}\n',
    "night.yaml": 'items:\n  - {id: closed, type: text, text: {vi: "Cửa khẩu đã đóng"}}\n',
    "schedule.yaml": """\
dayparts:
  - {playlist: daytime, priority: 0}
  - {playlist: night, priority: 10, when: {times: ["22:00-06:00"]}}
  - {playlist: tet, priority: 20, when: {dates: ["2027-02-05..2027-02-08"], times: ["08:00-12:00"]}}
""",
}
FALLBACK = {"km": "en", "zh": "en", "en": "vi"}


def resolve(language, available):
    code = language
    while code is not None:
        if code in available:
            return code
        code = FALLBACK.get(code)
    return None


@pytest.fixture(scope="module")
def content(tmp_path_factory):
    root = tmp_path_factory.mktemp("plan")
    make_screen(root, PLAYLISTS)
    loaded, problems = load_content(root / "playlists", root / "media", ("vi", "en", "km", "zh"), lambda c: True)
    assert not [p for p in problems if p.severity == "error"], problems
    return loaded


def test_tet_day_hour_by_hour(content):
    hours = timeline(content, ("vi", "en", "km", "zh"), resolve, date(2027, 2, 6), VN)  # a Saturday, Tết
    by_hour = {h.start.hour: h for h in hours}
    assert len(hours) == 24
    assert by_hour[3].daypart == "night" and by_hour[7].daypart == "daytime" and by_hour[9].daypart == "tet"
    assert by_hour[7].items == ("hours", "market", "morning") and by_hour[13].items == ("hours", "market")
    assert by_hour[22].daypart == "night"


@pytest.mark.parametrize("day, hour, item, why", [
    ("2027-02-03", 13, "daytime/market", [("weekday", "sat sun")]),  # a Wednesday
    ("2027-02-06", 13, "daytime/morning", [("window", "06:00-09:00")]),
    ("2027-02-06", 9, "daytime/hours", [("higher-daypart", "tet")]),
    ("2027-02-10", 10, "tet/greeting", [("daypart-date", "2027-02-05..2027-02-08")]),
    ("2027-02-06", 10, "tet/greeting", []),
])
def test_why_an_item_is_not_playing(content, day, hour, item, why):
    hours = timeline(content, ("vi", "en", "km", "zh"), resolve, date.fromisoformat(day), VN, item)
    assert list(hours[hour].why_not) == why


def test_a_day_is_quick_to_lay_out(content):
    started = time.perf_counter()
    timeline(content, ("vi", "en", "km", "zh"), resolve, date(2027, 2, 6), VN, "daytime/market")
    assert time.perf_counter() - started < 5  # a hang; the 300 ms target is bench.console_bench's


def test_the_translation_board(content):
    rows = {f"{r.playlist}/{r.item}": dict(r.cells) for r in board(content.playlists, ("vi", "en", "km", "zh"), resolve,
                                                                  {"daytime/hours/en"})}
    hours, market = rows["daytime/hours"], rows["daytime/market"]
    assert hours["vi"].state == "own" and hours["en"].state == "check" and hours["km"].state == "own"
    assert hours["zh"].state == "fallback" and hours["zh"].via == "en"
    assert market["en"].state == "fallback" and market["en"].via == "vi" and market["zh"].state == "own"
    assert market["km"].state == "fallback" and market["km"].via == "vi"


def test_editing_the_vietnamese_marks_the_others_until_edited_or_confirmed():
    pending = after_edit(set(), "daytime", {"vi": ["hours"]}, ("vi", "en", "km", "zh"))
    assert pending == {"daytime/hours/en", "daytime/hours/km", "daytime/hours/zh"}
    assert after_edit(pending, "daytime", {"km": ["hours"]}, ("vi", "en", "km", "zh")) == \
        {"daytime/hours/en", "daytime/hours/zh"}


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def rig(request, tmp_path_factory):
    from tests.conftest import database_for
    from tests.server_rig import start_rig
    from tests.test_console_edit import demo_files

    running = start_rig(tmp_path_factory.mktemp("days"), database_for(request.param, request))
    assert running.publish(1, demo_files()).status_code == 201
    yield running
    running.stop()


def test_staff_keep_their_own_days_for_the_timeline(rig):
    from tests.console_rig import log_in

    lan = log_in(rig)
    page = lan.get("/console/channels/gate/timeline?day=2027-09-25")
    assert "Tết Nguyên Đán (2027-02-06)" in page.text  # the built-in days of the year shown, beside the kept ones
    kept = lan.post("/console/channels/gate/timeline/days", {"day": "2027-09-29", "name": "Lễ  Sene Dolta ",
                                                            "action": "keep"})
    assert kept.status_code == 303 and kept.headers["location"].endswith("timeline?day=2027-09-29")
    shown = lan.get(kept.headers["location"]).text
    assert "Lễ Sene Dolta (2027-09-29)" in shown and "Lịch theo giờ: 2027-09-29" in shown
    assert lan.post("/console/channels/gate/timeline/days", {"day": "2027-13-01", "name": "x"}).status_code == 422
    assert lan.post("/console/channels/gate/timeline/days", {"day": "2027-10-01", "name": "  "}).status_code == 422
    rig.add_staff("minh", ["gate"])
    assert "Lễ Sene Dolta (2027-09-29)" in log_in(rig, "minh").get("/console/channels/gate/timeline").text  # shared
    gone = lan.post("/console/channels/gate/timeline/days", {"day": "2027-09-29", "action": "forget"})
    assert gone.status_code == 303 and "(2027-09-29)" not in lan.get("/console/channels/gate/timeline").text
    actions = [row["action"] for row in rig.db.audit_log(10, channel="gate")]
    assert "day kept" in actions and "day removed" in actions
