"""The central server over real HTTP on 127.0.0.1: publishing, long-poll, fleet status, proof of play, notices."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import socket
import threading
import time
from datetime import datetime, timedelta, timezone

import pytest
import requests
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from PIL import Image

from sync.client import HttpSource, sync_once
from sync.keys import PublisherList, make_publisher, seal_publishers
from sync.notice import build_notice
from sync.server.db import Screen
from sync.server.monitor import Watch, check_once, screen_status
from sync.server.tokens import make_token
from sync.store import Store
from sync.upload import seal_notice
from tests.server_rig import Hook, Rig, start_rig


@pytest.fixture
def rig(tmp_path, database):
    server = start_rig(tmp_path / "server", database)
    yield server
    server.stop()


def beat(**changes):
    body = {"version": "0.1.0", "generation": 3, "item": "hours", "playlist": "daytime", "uptime": 120.0,
            "free_disk_mb": 5120.0, "clock": datetime.now(timezone.utc).isoformat(), "last_error": None,
            "fallback": False}
    body.update(changes)
    return body


def notice(rig: Rig, notice_id: str = "notice-0001", minutes: float = 30, level: str = "urgent", **kw):
    now = datetime.now(timezone.utc).replace(microsecond=0) - timedelta(minutes=kw.get("ago", 0))
    made = build_notice(notice_id, level, kw.get("texts", [("vi", "Cổng tạm đóng"), ("en", "Gate closed")]),
                        kw.get("channels", ["gate"]), kw.get("screens", []), now, now + timedelta(minutes=minutes))
    return seal_notice(made, kw.get("key", rig.publisher))


# --- publishing ------------------------------------------------------------------------------------------------

def test_a_publish_is_served_in_the_static_layout_and_a_screen_syncs_it(rig, tmp_path):
    files = {"playlists/main.yaml": b"items: []\n", "media/gate.jpg": b"\xff\xd8\xff" + b"x" * 5000}
    assert rig.publish(1, files).status_code == 201
    store = Store(tmp_path / "store").open()
    result = sync_once(HttpSource(rig.url, "gate"), store, rig.root.public_key(), "gate")
    assert result.status == "updated" and result.generation == 1
    assert (store.current().path / "media" / "gate.jpg").read_bytes() == files["media/gate.jpg"]
    digest = hashlib.sha256(files["media/gate.jpg"]).hexdigest()
    part = requests.get(f"{rig.url}/blobs/{digest}", headers={"Range": "bytes=4000-"})
    assert part.status_code == 206 and part.content == files["media/gate.jpg"][4000:]
    etag = requests.get(f"{rig.url}/channels/gate/manifest").headers["ETag"]
    assert requests.get(f"{rig.url}/channels/gate/manifest", headers={"If-None-Match": etag}).status_code == 304


def test_publish_refusals_say_what_is_wrong_and_change_nothing(rig):
    assert rig.publish(1, {"playlists/a.yaml": b"items: []\n"}).status_code == 201
    stale = rig.publish(1, {"playlists/a.yaml": b"items: [changed]\n"})
    assert stale.status_code == 409 and "publish generation 2" in stale.json()["error"]
    assert stale.json()["current_generation"] == 1
    lacking = rig.staff().post(f"{rig.url}/api/channels/gate/manifest",
                               data=rig.manifest(2, {"media/never-uploaded.png": b"png bytes"}))
    assert lacking.status_code == 409 and "does not hold" in lacking.json()["error"]
    assert lacking.json()["missing"] == [hashlib.sha256(b"png bytes").hexdigest()]
    stranger = Ed25519PrivateKey.generate()
    rig.upload(b"items: [x]\n")
    forged = rig.staff().post(f"{rig.url}/api/channels/gate/manifest",
                              data=rig.manifest(2, {"playlists/a.yaml": b"items: [x]\n"}, key=stranger))
    assert forged.status_code == 422 and "does not trust" in forged.json()["error"]
    mismatch = rig.staff().put(f"{rig.url}/api/blobs/{'0' * 64}", data=b"not those bytes")
    assert mismatch.status_code == 422 and "hash to" in mismatch.json()["error"]
    assert not (rig.data / "content" / "blobs" / ("0" * 64)).exists()
    assert rig.current_generation() == 1


def test_staff_may_publish_only_to_their_channels_and_the_audit_log_says_who(rig):
    other = rig.add_staff("minh", ["other"])
    rig.upload(b"items: []\n")
    refused = rig.staff(other).post(f"{rig.url}/api/channels/gate/manifest",
                                    data=rig.manifest(1, {"playlists/a.yaml": b"items: []\n"}))
    assert refused.status_code == 403 and "gate" in refused.json()["error"]
    assert requests.post(f"{rig.url}/api/channels/gate/manifest", data=b"x").status_code == 401
    wrong = rig.staff("staff.abcdefabcdef." + "A" * 43).get(f"{rig.url}/api/screens")
    assert wrong.status_code == 401 and "unknown or revoked" in wrong.json()["error"]
    assert rig.publish(1, {"playlists/a.yaml": b"items: []\n"}).status_code == 201
    log = rig.staff().get(f"{rig.url}/api/audit").json()
    publish = next(entry for entry in log if entry["action"] == "publish")
    assert publish["actor"] == "lan" and publish["detail"]["generation"] == 1


def test_a_publisher_list_needs_the_root_key_and_a_higher_version(rig):
    newcomer = Ed25519PrivateKey.generate()
    keys = (make_publisher("office", rig.publisher.public_key()), make_publisher("laptop", newcomer.public_key()))
    url = f"{rig.url}/api/channels/gate/publishers"
    not_root = rig.staff().put(url, data=seal_publishers(PublisherList("gate", 2, keys), newcomer))
    assert not_root.status_code == 422 and "root key" in not_root.json()["error"]
    same = rig.staff().put(url, data=seal_publishers(PublisherList("gate", 1, keys), rig.root))
    assert same.status_code == 409 and "sign version 2" in same.json()["error"]
    assert rig.staff().put(url, data=seal_publishers(PublisherList("gate", 2, keys), rig.root)).status_code == 200
    rig.upload(b"items: []\n")
    by_newcomer = rig.staff().post(f"{rig.url}/api/channels/gate/manifest",
                                   data=rig.manifest(1, {"playlists/a.yaml": b"items: []\n"}, key=newcomer))
    assert by_newcomer.status_code == 201


# --- long-poll -------------------------------------------------------------------------------------------------

def test_a_long_poll_returns_as_soon_as_a_generation_is_published(rig):
    rig.publish(1, {"playlists/a.yaml": b"items: []\n"})
    etag = requests.get(f"{rig.url}/channels/gate/manifest").headers["ETag"]
    answer: dict[str, object] = {}

    def wait() -> None:
        response = requests.get(f"{rig.url}/channels/gate/manifest", params={"wait": 30}, headers={"If-None-Match": etag})
        answer.update(status=response.status_code, at=time.monotonic(), body=response.content)

    waiter = threading.Thread(target=wait)
    waiter.start()
    time.sleep(0.5)
    assert waiter.is_alive()  # held, not answered 304 at once
    published = time.monotonic()
    assert rig.publish(2, {"playlists/a.yaml": b"items: [new]\n"}).status_code == 201
    waiter.join(10)
    assert answer["status"] == 200 and b'"generation":2' in answer["body"]  # type: ignore[operator]
    assert answer["at"] - published < 5  # type: ignore[operator]  # woken by the publish, not by the 30 s wait


def test_an_unchanged_long_poll_ends_with_304_after_its_wait(rig):
    rig.publish(1, {"playlists/a.yaml": b"items: []\n"})
    etag = requests.get(f"{rig.url}/channels/gate/manifest").headers["ETag"]
    started = time.monotonic()
    response = requests.get(f"{rig.url}/channels/gate/manifest", params={"wait": 1}, headers={"If-None-Match": etag})
    assert response.status_code == 304 and time.monotonic() - started >= 0.9
    assert response.headers["X-Long-Poll-Max"] == "60"


def test_screens_long_polls_are_answered_alike_by_the_fast_path_and_by_the_api_route(rig):
    """sync/server/fastpath.py answers plain long-polls before FastAPI; another query parameter sends the same
    request through content_api.channel_document. A screen must not tell the two apart."""
    rig.publish(1, {"playlists/a.yaml": b"items: []\n"})
    url = f"{rig.url}/channels/gate/manifest"

    def seen(response: requests.Response) -> tuple[int, bytes, dict[str, str]]:
        headers = {k.lower(): v for k, v in response.headers.items() if k.lower() not in ("date", "server")}
        return response.status_code, response.content, headers

    def answered_by_fast_path() -> int:
        return requests.get(f"{rig.url}/api/health").json()["fast_path"].get("long-poll", 0)

    before = answered_by_fast_path()
    fresh = seen(requests.get(url))
    assert answered_by_fast_path() == before + 1, "the fast path answered the plain request"
    assert fresh == seen(requests.get(url, params={"via": "api"}))
    assert answered_by_fast_path() == before + 1, "and FastAPI the one with another parameter"
    assert fresh[0] == 200 and b'"generation":1' in fresh[1]
    etag = fresh[2]["etag"]
    for wait in ("0", "0.5"):
        held = seen(requests.get(url, params={"wait": wait}, headers={"If-None-Match": etag}))
        assert held == seen(requests.get(url, params={"wait": wait, "via": "api"}, headers={"If-None-Match": etag}))
        assert held[0] == 304 and held[2]["etag"] == etag
    for wrong in ("soon", "-1", "601", "nan"):
        refused = requests.get(url, params={"wait": wrong}, headers={"If-None-Match": etag})
        assert refused.status_code == 422 and "wait" in refused.json()["error"]
    assert requests.get(f"{rig.url}/channels/nothing-here/manifest").status_code == 404


# --- fleet -----------------------------------------------------------------------------------------------------

def test_heartbeats_show_in_the_screen_list_with_the_clock_offset(rig):
    token = rig.add_screen("gate-hall-1")
    screen = requests.Session()
    screen.headers["Authorization"] = f"Bearer {token}"
    slow = (datetime.now(timezone.utc) - timedelta(seconds=95)).isoformat()
    answer = screen.post(f"{rig.url}/api/heartbeat", json=beat(clock=slow))
    assert answer.status_code == 200 and answer.json()["screenshot"] is False
    listed = rig.staff().get(f"{rig.url}/api/screens").json()
    assert [s["id"] for s in listed] == ["gate-hall-1"] and listed[0]["online"] is True
    assert listed[0]["heartbeat"]["item"] == "hours" and -97 < listed[0]["heartbeat"]["clock_offset_s"] < -93
    assert screen.get(f"{rig.url}/api/screens").status_code == 403  # a screen token is not a staff token


def test_staff_ask_for_a_screenshot_and_see_it_on_the_status_page(rig):
    token = rig.add_screen("gate-hall-1")
    screen = requests.Session()
    screen.headers["Authorization"] = f"Bearer {token}"
    assert rig.staff().post(f"{rig.url}/api/screens/gate-hall-1/screenshot-request").status_code == 202
    assert screen.post(f"{rig.url}/api/heartbeat", json=beat()).json()["screenshot"] is True
    assert screen.post(f"{rig.url}/api/heartbeat", json=beat()).json()["screenshot"] is False  # asked once
    out = io.BytesIO()
    Image.new("RGB", (64, 36), (10, 90, 40)).save(out, "PNG")
    png = out.getvalue()
    assert screen.put(f"{rig.url}/api/screenshot", data=png).status_code == 204
    assert screen.put(f"{rig.url}/api/screenshot", data=b"GIF89a").status_code == 415
    assert rig.staff().get(f"{rig.url}/api/screens/gate-hall-1/screenshot").content == png
    page = rig.staff().get(f"{rig.url}/status")
    assert page.status_code == 200 and "gate-hall-1" in page.text and "/api/screens/gate-hall-1/screenshot" in page.text
    login = requests.get(f"{rig.url}/status")
    assert login.status_code == 401 and login.headers["WWW-Authenticate"].startswith("Basic")
    assert requests.get(f"{rig.url}/status", auth=("lan", rig.admin_token)).status_code == 200


def test_a_revoked_screen_token_is_refused(rig):
    token = rig.add_screen("stolen-1")
    headers = {"Authorization": f"Bearer {token}"}
    assert requests.post(f"{rig.url}/api/heartbeat", json=beat(), headers=headers).status_code == 200
    assert rig.staff().delete(f"{rig.url}/api/screens/stolen-1/token").status_code == 204
    refused = requests.post(f"{rig.url}/api/heartbeat", json=beat(), headers=headers)
    assert refused.status_code == 401 and "revoked" in refused.json()["error"]


def test_heartbeats_are_taken_and_refused_alike_by_the_fast_path_and_by_the_api_route(rig):
    """sync/server/fastpath.py takes plain heartbeats before FastAPI; a query parameter sends one through
    fleet_api.heartbeat. Both store it for the screen holding the token and answer the same; whatever the
    route refuses is still refused, and a body declared too large is refused before it is sent."""
    token, other = rig.add_screen("gate-hall-1"), rig.add_screen("gate-hall-2")
    headers = {"Authorization": f"Bearer {token}"}
    requests.post(f"{rig.url}/api/heartbeat", json=beat(item="notices"), headers={"Authorization": f"Bearer {other}"})

    def items() -> dict[str, str]:
        return {s["id"]: s["heartbeat"]["item"] for s in rig.staff().get(f"{rig.url}/api/screens").json()}

    def fast_path_heartbeats() -> int:
        return requests.get(f"{rig.url}/api/health").json()["fast_path"].get("heartbeat", 0)

    answers = []
    for query, item, by_fast_path in (("", "hours", 1), ("?via=api", "exchange", 0)):
        before = fast_path_heartbeats()
        answer = requests.post(f"{rig.url}/api/heartbeat{query}", json=beat(item=item), headers=headers)
        assert answer.status_code == 200 and answer.headers["content-type"] == "application/json"
        assert fast_path_heartbeats() == before + by_fast_path
        answers.append(answer.json())
        assert items() == {"gate-hall-1": item, "gate-hall-2": "notices"}
    assert [sorted(a) for a in answers] == [["heartbeat_seconds", "screenshot", "server_time"]] * 2
    assert answers[0]["heartbeat_seconds"] == answers[1]["heartbeat_seconds"]
    url = f"{rig.url}/api/heartbeat"
    wrong_field = requests.post(url, json=beat(uptime=-5), headers=headers)
    assert wrong_field.status_code == 422 and "uptime" in wrong_field.json()["error"]
    deep = requests.post(url, data=b"[" * 100000, headers={**headers, "Content-Type": "application/json"})
    assert deep.status_code == 422 and "nested deeper" in deep.json()["error"]
    nul = requests.post(url, json=beat(item="a\u0000b"), headers=headers)
    assert nul.status_code == 422 and "NUL" in nul.json()["error"]
    not_json = requests.post(url, data=json.dumps(beat()), headers={**headers, "Content-Type": "application/jsonx"})
    assert not_json.status_code == 422
    too_big = requests.post(url, json=beat(last_error="x" * 3 * 2**20), headers=headers)
    assert too_big.status_code == 413
    assert requests.post(url, json=beat()).status_code == 401
    assert requests.post(url, json=beat(), headers={"Authorization": token}).status_code == 401, "no scheme"
    assert requests.post(url, json=beat(), headers={"Authorization": f"Bearer {rig.admin_token}"}).status_code == 403
    unknown = requests.post(url, json=beat(), headers={"Authorization": f"Bearer {make_token('screen').text}"})
    assert unknown.status_code == 401 and "unknown or revoked" in unknown.json()["error"]
    assert items() == {"gate-hall-1": "exchange", "gate-hall-2": "notices"}, "nothing refused was kept"
    host, port = rig.url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=10) as raw:  # says 100 MB is coming, sends none
        raw.sendall(f"POST /api/heartbeat HTTP/1.1\r\nHost: {host}\r\nAuthorization: Bearer {token}\r\n"
                    "Content-Type: application/json\r\nContent-Length: 100000000\r\n\r\n".encode())
        assert raw.recv(200).startswith(b"HTTP/1.1 413"), "refused from its Content-Length, before any body"


@pytest.mark.parametrize("silent, fallback, flag", [
    (10, False, None),
    (10, True, "showing the fallback slide (nothing playable)"),
    (400, False, "silent for 7 min (more than 5 min)"),
])
def test_screens_are_flagged_when_silent_too_long_or_on_the_fallback_slide(silent, fallback, flag):
    screen = Screen("s1", "gate", 300.0, 1000.0, beat(fallback=fallback), None, False, None, False)
    assert screen_status(screen, 1000.0 + silent, Watch(180.0)).flag == flag


@pytest.mark.parametrize("shown, dropped, flag", [
    (3000, 20, None),                  # 0.7 %
    (3000, 60, "drops 2.0 % of its video frames"),
    (100, 50, None),                   # too few frames to judge
    (None, None, None),                # a screen that sent no counts (an older player)
])
def test_a_screen_that_drops_more_than_one_percent_of_its_video_frames_is_flagged(shown, dropped, flag):
    screen = Screen("s1", "gate", 300.0, 1000.0, beat(frames_shown_hour=shown, frames_dropped_hour=dropped),
                    None, False, None, False)
    status = screen_status(screen, 1010.0, Watch(180.0))
    assert status.flag is None if flag is None else flag in (status.flag or "")
    assert status.flag_kind == ("dropping" if flag else None)


def test_skips_broken_files_and_dropped_frames_reach_the_status_page(rig):
    token = rig.add_screen("gate-hall-3")
    sent = beat(skips=7, broken=["main/photo: media/river.jpg: not an image"], frames_shown_hour=2900,
                frames_dropped_hour=100)
    assert requests.post(f"{rig.url}/api/heartbeat", json=sent,
                         headers={"Authorization": f"Bearer {token}"}).status_code == 200
    listed = rig.staff().get(f"{rig.url}/api/screens").json()[0]
    assert listed["heartbeat"]["skips"] == 7 and listed["flag_kind"] == "dropping"
    page = rig.staff().get(f"{rig.url}/status").text
    assert "skipped 7 slot(s)" in page and "broken: main/photo: media/river.jpg: not an image" in page
    assert "video frames dropped 3.3 % (last hour)" in page and "drops 3.3 % of its video frames" in page


def test_a_flagged_screen_calls_the_webhook_once(rig):
    hook = Hook()
    token = rig.add_screen("gate-hall-2", offline_after=60)
    requests.post(f"{rig.url}/api/heartbeat", json=beat(), headers={"Authorization": f"Bearer {token}"})
    url = hook.url
    import asyncio
    later = time.time() + 120
    changed = asyncio.run(check_once(rig.db, Watch(180.0), url, later))
    again = asyncio.run(check_once(rig.db, Watch(180.0), url, later + 5))
    hook.server.shutdown()
    assert [s.id for s in changed] == ["gate-hall-2"] and again == []
    calls = hook.calls
    assert len(calls) == 1 and calls[0]["event"] == "flagged" and calls[0]["screen"]["id"] == "gate-hall-2"
    listed = rig.staff().get(f"{rig.url}/api/screens").json()
    assert listed[0]["online"] is True  # by the server's real clock it was just seen


# --- proof of play ---------------------------------------------------------------------------------------------

def proof_line(n: int, day: str = "2026-11-26", item: str = "hours") -> dict[str, object]:
    return {"id": f"line{n:08d}", "screen": "gate-hall-1", "item": item, "playlist": "daytime", "language": "vi",
            "start": f"{day}T08:{n % 60:02d}:00+07:00", "planned": 10.0, "actual": 10.0, "status": "completed"}


def test_proof_lines_sent_twice_are_counted_once_and_export_as_csv(rig):
    token = rig.add_screen("gate-hall-1")
    url, headers = f"{rig.url}/api/proof", {"Authorization": f"Bearer {token}"}
    first = requests.post(url, json={"lines": [proof_line(n) for n in range(5)]}, headers=headers).json()
    retry = requests.post(url, json={"lines": [proof_line(n) for n in range(3, 8)]}, headers=headers).json()
    assert (first["added"], retry["added"], retry["duplicates"]) == (5, 3, 2)
    requests.post(url, json={"lines": [proof_line(100, day="2026-11-27", item="customs")]}, headers=headers)
    exported = rig.staff().get(f"{rig.url}/api/proof.csv", params={"from": "2026-11-26", "to": "2026-11-26"})
    rows = list(csv.DictReader(io.StringIO(exported.text)))
    assert exported.headers["content-type"].startswith("text/csv") and len(rows) == 8
    assert {r["screen"] for r in rows} == {"gate-hall-1"} and rows[0]["status"] == "completed"
    by_item = rig.staff().get(f"{rig.url}/api/proof.csv", params={"item": "customs"}).text
    assert len(list(csv.DictReader(io.StringIO(by_item)))) == 1
    backwards = rig.staff().get(f"{rig.url}/api/proof.csv", params={"from": "2026-11-27", "to": "2026-11-26"})
    assert backwards.status_code == 422 and "before" in backwards.json()["error"]


# --- notices ---------------------------------------------------------------------------------------------------

def test_a_notice_must_be_signed_by_a_channel_publisher(rig):
    forged = rig.staff().post(f"{rig.url}/api/notices", data=notice(rig, key=Ed25519PrivateKey.generate()))
    assert forged.status_code == 422 and "does not trust" in forged.json()["error"]
    unknown = rig.staff().post(f"{rig.url}/api/notices", data=notice(rig, channels=["nowhere"]))
    assert unknown.status_code == 404 and "nowhere" in unknown.json()["error"]
    posted = rig.staff().post(f"{rig.url}/api/notices", data=notice(rig))
    assert posted.status_code == 201
    twice = rig.staff().post(f"{rig.url}/api/notices", data=notice(rig))
    assert twice.status_code == 409


def test_posting_and_clearing_a_notice_wakes_screens_long_polling_it(rig):
    first = requests.get(f"{rig.url}/channels/gate/notices")
    assert json.loads(first.content)["notices"] == []
    answer: dict[str, object] = {}

    def wait() -> None:
        response = requests.get(f"{rig.url}/channels/gate/notices", params={"wait": 30},
                                headers={"If-None-Match": first.headers["ETag"]})
        answer.update(status=response.status_code, body=json.loads(response.content))

    waiter = threading.Thread(target=wait)
    waiter.start()
    time.sleep(0.3)
    rig.staff().post(f"{rig.url}/api/notices", data=notice(rig)).raise_for_status()
    waiter.join(10)
    assert answer["status"] == 200 and len(answer["body"]["notices"]) == 1  # type: ignore[index]
    listed = rig.staff().get(f"{rig.url}/api/notices").json()
    assert listed[0]["texts"]["vi"] == "Cổng tạm đóng" and listed[0]["expired"] is False
    assert rig.staff().delete(f"{rig.url}/api/notices/notice-0001").status_code == 204
    assert json.loads(requests.get(f"{rig.url}/channels/gate/notices").content)["notices"] == []
    assert rig.staff().delete(f"{rig.url}/api/notices/notice-0001").status_code == 404


def test_an_expired_notice_is_refused(rig):
    expired = rig.staff().post(f"{rig.url}/api/notices", data=notice(rig, minutes=30, ago=60))
    assert expired.status_code == 422 and "expired" in expired.json()["error"]
    assert rig.staff().get(f"{rig.url}/api/notices").json() == []


def test_the_openapi_spec_is_served(rig):
    spec = requests.get(f"{rig.url}/openapi.json").json()
    for path in ("/api/blobs/{digest}", "/api/channels/{channel}/manifest", "/api/heartbeat", "/api/proof",
                 "/api/proof.csv", "/api/notices", "/api/screens", "/channels/{channel}/{name}"):
        assert path in spec["paths"], path
