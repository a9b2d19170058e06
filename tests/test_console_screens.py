"""The screens pages as office staff read them: flags in the console's language, files that fail, the error history,
proof-of-play totals by item and day, and the CSV export, from real heartbeats and proof lines."""

from __future__ import annotations

import csv
import io
from datetime import datetime, timedelta, timezone

import pytest
import requests

from tests.conftest import REPO, database_for
from tests.console_rig import log_in
from tests.server_rig import start_rig
from tests.test_console_edit import demo_files


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def rig(request, tmp_path_factory):
    running = start_rig(tmp_path_factory.mktemp("screens"), database_for(request.param, request))
    assert running.publish(1, demo_files()).status_code == 201
    running.add_staff("tam", ["other"])
    yield running
    running.stop()


def beat(**changes: object) -> dict[str, object]:
    return {"version": "0.1.0", "generation": 1, "item": "hours", "playlist": "daytime", "uptime": 60.0,
            "clock": datetime.now(timezone.utc).isoformat(), **changes}


def test_a_screen_in_trouble_reads_in_vietnamese_with_its_errors_and_what_it_played(rig):
    token = rig.add_screen("gate-hall-2")
    headers = {"Authorization": f"Bearer {token}"}
    for error in ("media/clip.mp4: cannot decode", "media/clip.mp4: cannot decode", "sync: the link dropped"):
        requests.post(f"{rig.url}/api/heartbeat", headers=headers, json=beat(
            last_error=error, fallback=True, skips=4, broken=["daytime/river-clip: media/clip.mp4 cannot be decoded"])
        ).raise_for_status()
    today = datetime.now(timezone(timedelta(hours=7))).date().isoformat()
    lines = [{"id": f"line{n:08d}", "screen": "gate-hall-2", "item": "hours" if n < 3 else "customs",
              "playlist": "daytime", "language": "vi", "start": f"{today}T08:{n:02d}:00+07:00", "planned": 10.0,
              "actual": 10.0, "status": "completed"} for n in range(5)]
    requests.post(f"{rig.url}/api/proof", json={"lines": lines}, headers=headers).raise_for_status()
    lan = log_in(rig)
    table = lan.get("/console/screens/table").text
    assert "Đang hiện trang dự phòng (không có gì phát được)" in table
    assert 'title="showing the fallback slide' in table  # the monitor's own words, on hover
    page = lan.get("/console/screens/gate-hall-2").text
    assert "Tệp không phát được lúc này" in page and "media/clip.mp4 cannot be decoded" in page
    assert "Lượt bỏ qua từ khi khởi động: 4" in page
    # the error history keeps each new last error once, newest first
    errors = page[page.index("50 lỗi gần nhất"):]
    assert errors.count("cannot decode") == 1 and errors.index("the link dropped") < errors.index("cannot decode")
    totals = page[page.index("Đã phát"):]
    assert ">hours</td><td>3</td><td>30</td>" in totals and ">customs</td><td>2</td><td>20</td>" in totals
    exported = lan.get("/console/screens/gate-hall-2/proof.csv", params={"start": today, "end": today})
    rows = list(csv.DictReader(io.StringIO(exported.text)))
    assert exported.headers["content-type"].startswith("text/csv") and len(rows) == 5
    assert {r["item"] for r in rows} == {"hours", "customs"}
    english = lan.get("/console/language/en?back=/console/screens")
    assert "Showing the fallback slide" in lan.get("/console/screens/table").text and english.status_code == 200
    lan.get("/console/language/vi?back=/console/")
    # a staff member of another channel does not see this screen at all
    tam = log_in(rig, "tam")
    assert "gate-hall-2" not in tam.get("/console/screens/table").text
    assert tam.get("/console/screens/gate-hall-2").status_code == 404
    assert tam.get("/console/screens/gate-hall-2/proof.csv").status_code == 404


def test_a_screen_set_up_unlike_its_channel_profile_is_flagged(rig):
    from sync.server.console.records import ConsoleRecords

    ConsoleRecords(rig.db).set_profile("gate", (REPO / "kiosk.yaml").read_bytes(), "lan", "2026-11-30T08:00:00+07:00")
    token = rig.add_screen("gate-hall-3")
    portrait = {"languages": ["vi", "en"], "fallback": {}, "size": [1080, 1920], "rotation": 90, "width_mm": None,
                "touch": False}
    requests.post(f"{rig.url}/api/heartbeat", headers={"Authorization": f"Bearer {token}"},
                  json=beat(profile=portrait)).raise_for_status()
    table = log_in(rig).get("/console/screens/table").text
    row = table[table.index("gate-hall-3"):].split("</tr>")[0]
    assert "Cấu hình khác với kênh: languages" in row and "rotation" in row
