"""The audit log as office staff read it: local times, Vietnamese text as written (not JSON escapes), every action
named in the console's language, and log-ins shown to admins only."""

from __future__ import annotations

import re
import zoneinfo

import pytest

from sync.server.console.logview import audit_rows, fact_value, local_time
from tests.console_rig import log_in
from tests.server_rig import start_rig

VN = zoneinfo.ZoneInfo("Asia/Ho_Chi_Minh")


@pytest.mark.parametrize("iso, shown", [
    ("2026-11-30T04:17:23+00:00", "2026-11-30 11:17:23"),
    ("2026-11-30T23:30:00+00:00", "2026-12-01 06:30:00"),
    ("2026-11-30T11:17:23+07:00", "2026-11-30 11:17:23"),
    ("2026-11-30T11:17:23", "2026-11-30 11:17:23"),
    ("not a time", "not a time"),
    (None, ""),
])
def test_times_are_the_office_clock(iso, shown):
    assert local_time(iso, VN) == shown


@pytest.mark.parametrize("value, shown", [
    ("Cổng tạm đóng", "Cổng tạm đóng"),
    (["gate", "hall"], "gate, hall"),
    ({"vi": "Cổng tạm đóng 30 phút", "en": "The gate is closed"}, "vi: Cổng tạm đóng 30 phút · en: The gate is closed"),
    ({"n": 3}, '{"n": 3}'),
    (20983865, "20983865"),
])
def test_details_read_as_words(value, shown):
    assert fact_value(value) == shown


def test_a_row_keeps_its_channels_and_leaves_the_summary_to_the_template():
    [row] = audit_rows([{"time": "2026-11-30T04:17:17+00:00", "actor": "lan", "action": "notice",
                         "channel": "gate,hall", "detail": {"id": "n1", "texts": {"vi": "Cổng tạm đóng"},
                                                            "expires": "2026-11-30T06:17:17+00:00"}}], VN)
    assert row.channels == ("gate", "hall") and row.time == "2026-11-30 11:17:17"
    assert row.facts == (("id", "n1"), ("texts", "vi: Cổng tạm đóng"), ("expires", "2026-11-30 13:17:17"))


@pytest.fixture(scope="module")
def rig(tmp_path_factory):
    running = start_rig(tmp_path_factory.mktemp("audit"))
    running.add_staff("minh", ["gate"])
    yield running
    running.stop()


def test_the_audit_page_in_both_languages_and_for_an_editor(rig):
    lan = log_in(rig)
    rig.db.audit("2026-11-30T04:17:17+00:00", "lan", "notice", "gate", {"texts": {"vi": "Cổng tạm đóng 30 phút"}})
    page = lan.get("/console/audit").text
    assert "vi: Cổng tạm đóng 30 phút" in page and "\\u" not in page
    assert "2026-11-30 11:17:17" in page and "+00:00" not in page
    assert "đăng nhập" in page and "danh sách khoá ký" in page  # log-ins and the publisher list, in Vietnamese
    lan.get("/console/language/en?back=/console/")
    assert "publisher list" in lan.get("/console/audit").text
    minh = log_in(rig, "minh")
    editor = minh.get("/console/audit").text
    assert "Cổng tạm đóng" in editor and not re.search(r"<td>đăng nhập</td>", editor)  # log-ins are for admins


def test_a_notice_says_until_when_on_the_office_clock_and_keeps_what_was_typed_when_refused(rig):
    from datetime import datetime, timedelta

    lan = log_in(rig)
    lan.get("/console/notices")
    refused = lan.post("/console/notices/prepare", {"text.en": "Closed for 30 minutes", "channel": "gate",
                                                     "level": "urgent", "lasting": "2h"})
    assert refused.status_code == 422 and "Closed for 30 minutes" in refused.text
    ready = lan.post("/console/notices/prepare", {"text.vi": "Cổng tạm đóng 30 phút", "channel": "gate",
                                                   "level": "urgent", "lasting": "2h"})
    assert ready.status_code == 200 and "data-sign=\"notice\"" in ready.text
    until = re.search(r"đến (\d{4}-\d\d-\d\d \d\d:\d\d)", ready.text).group(1)
    expected = datetime.now(VN) + timedelta(hours=2)
    shown = datetime.strptime(until, "%Y-%m-%d %H:%M").replace(tzinfo=VN)
    assert abs((shown - expected).total_seconds()) < 120, (until, expected)
