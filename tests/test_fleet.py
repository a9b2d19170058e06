"""The screen's reports over real HTTP: proof of play queued while offline reaches the server once and only once,
across rotated files, a line still being written, touch views and a failed upload; heartbeats say what plays."""

from __future__ import annotations

import csv
import io
import json
import os
from datetime import datetime, timezone

import pytest

from sync.errors import FetchError
from sync.fleet import Reporter, pending_lines, read_cursor, screen_facts
from tests.server_rig import start_rig


def play(n: int) -> str:
    return json.dumps({"screen": "kiosk-1", "item": f"item-{n}", "playlist": "daytime", "language": "vi",
                       "start": f"2026-11-26T09:{n % 60:02d}:00+07:00", "planned": 10.0, "actual": 10.0,
                       "status": "completed", "reason": "", "id": f"play{n:010d}"}) + "\n"


def touch(n: int) -> str:
    return json.dumps({"kind": "touch", "screen": "kiosk-1", "topic": "customs", "page": "duty-free",
                       "language": "km", "start": "2026-11-26T10:00:00+07:00", "seconds": 8.5, "ended": "page",
                       "id": f"touch{n:09d}"}) + "\n"


@pytest.fixture
def rig(tmp_path):
    server = start_rig(tmp_path / "server")
    yield server
    server.stop()


def exported(rig) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(rig.staff().get(f"{rig.url}/api/proof.csv").text)))


def test_proof_queued_offline_arrives_once_across_rotation_and_retries(rig, tmp_path):
    state = tmp_path / "state"
    state.mkdir()
    token = rig.add_screen("kiosk-1")
    (state / "proof-of-play.jsonl.1").write_text("".join(play(n) for n in range(5)), encoding="utf-8")
    (state / "proof-of-play.jsonl").write_text(play(5) + touch(6) + '{"kind": "future", "id": "x1234567"}\n'
                                               + play(7)[:40], encoding="utf-8")  # the last line is half written
    offline = Reporter("http://127.0.0.1:9", token, state, None, dict)
    with pytest.raises(FetchError):
        offline.send_proof()
    assert read_cursor(state) is None  # nothing was sent, so nothing is marked sent
    reporter = Reporter(rig.url, token, state, None, dict)
    assert reporter.send_proof(limit=4) == 7  # in batches of 4: the rotated file, then the live one
    rows = exported(rig)
    assert sorted(r["item"] for r in rows) == sorted([f"item-{n}" for n in range(6)] + ["touch:customs/duty-free"])
    touch_row = next(r for r in rows if r["item"].startswith("touch:"))
    assert (touch_row["status"], touch_row["reason"], touch_row["language"]) == ("viewed", "page", "km")
    with (state / "proof-of-play.jsonl").open("a", encoding="utf-8") as out:
        out.write(play(7)[40:])  # the writer finishes the line
    os.replace(state / "proof-of-play.jsonl.1", state / "proof-of-play.jsonl.2")  # and the log rotates meanwhile
    os.replace(state / "proof-of-play.jsonl", state / "proof-of-play.jsonl.1")
    (state / "proof-of-play.jsonl").write_text(play(8), encoding="utf-8")
    assert reporter.send_proof() == 2
    (state / "proof-upload.json").unlink()  # a lost cursor: everything is sent again, nothing counted twice
    assert reporter.send_proof() == 0
    assert len(exported(rig)) == 9


def test_pending_lines_stop_at_a_line_still_being_written(tmp_path):
    (tmp_path / "proof-of-play.jsonl").write_text(play(1) + play(2)[:10], encoding="utf-8")
    lines, cursor = pending_lines(tmp_path, None, 100)
    assert [line["item"] for line in lines] == ["item-1"] and cursor.offset == len(play(1).encode())


def test_a_heartbeat_says_what_plays_and_whether_the_fallback_shows(tmp_path):
    state, store = tmp_path / "state", tmp_path / "state" / "store"
    store.mkdir(parents=True)
    (state / "now-playing.json").write_text(json.dumps({"item": "_fallback", "playlist": None, "clock": "unset (x)",
                                                        "started": 1000.0}), encoding="utf-8")
    (store / "state.json").write_text(json.dumps({"generation": 4, "last_sync": {"status": "failed",
                                                                                 "message": "link down"}}))
    facts = screen_facts(state, store, 0.0, "1.2.3", lambda: datetime(2026, 11, 26, 9, 0, tzinfo=timezone.utc))
    assert facts["fallback"] is True and facts["generation"] == 4 and facts["version"] == "1.2.3"
    assert facts["clock_trusted"] is False and facts["last_error"] == "sync: link down"
    assert facts["uptime"] > 0 and facts["free_disk_mb"] > 0
