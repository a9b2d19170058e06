"""The server against hostile and careless clients (issue 11): parse nothing unverified, no 500 ever, notices clearable."""

from __future__ import annotations

import asyncio
import csv
import io
import json
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Iterator

import pytest
import requests
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from PIL import Image

from sync.client import HttpSource, sync_once
from sync.envelope import key_id, seal
from sync.keys import PublisherList, make_publisher, public_text, seal_publishers
from sync.notice import Notice, notice_payload
from sync.server.db import Screen
from sync.server.monitor import Watch, check_once, screen_status
from sync.store import Store
from tests.conftest import DATA
from tests.server_rig import Hook, Rig, start_rig

DEEP = b"[" * 100_000 + b"]" * 100_000
DEEP_NOTICE = b"[" * 16_000 + b"]" * 16_000  # within the 32 kB a notice may have
LONG_NUMBER = b"9" * 5000


@pytest.fixture
def rig(tmp_path: Path, database: str | None) -> Iterator[Rig]:
    rig = start_rig(tmp_path / "data", database)
    yield rig
    rig.stop()


def refused(answer: requests.Response, status: int, *words: str) -> str:
    assert answer.status_code == status, (answer.status_code, answer.text[:300])
    error = answer.json()["error"]
    for word in words:
        assert word in error, error
    return error


def fake_notice(rig: Rig, payload: bytes) -> bytes:
    """An envelope claiming the channel publisher's key id, with a signature that is not its own."""
    real = seal(payload, "notice", rig.publisher)
    header, _, body = real.partition(b"\n")
    forged = seal(body, "notice", Ed25519PrivateKey.generate()).split(b"\n", 1)[0].split(b" ")[-1]
    return b" ".join(header.split(b" ")[:-1] + [forged]) + b"\n" + body


@pytest.mark.parametrize("payload", [DEEP_NOTICE, b'{"format": 1, "id": ' + LONG_NUMBER + b"}", b"\xff not json",
                                     b'{"format": 1, "id": "x", "id": "y"}'],
                         ids=["nested-16000-deep", "5000-digit-number", "not-utf8", "duplicate-key"])
def test_a_notice_with_a_forged_signature_is_refused_for_its_signature_before_anything_is_parsed(rig: Rig,
                                                                                              payload: bytes) -> None:
    answer = rig.staff().post(f"{rig.url}/api/notices", data=fake_notice(rig, payload))
    refused(answer, 422, "signature does not match")


def test_a_notice_signed_by_a_key_no_channel_lists_is_refused_before_parsing(rig: Rig) -> None:
    stranger = Ed25519PrivateKey.generate()
    answer = rig.staff().post(f"{rig.url}/api/notices", data=seal(DEEP_NOTICE, "notice", stranger))
    refused(answer, 422, key_id(stranger.public_key()), "no publisher list")


def test_a_validly_signed_but_unusable_notice_is_a_422_naming_what_is_wrong(rig: Rig) -> None:
    for payload, words in ((DEEP_NOTICE, ("nested deeper",)), (b'{"format": 1, "id": ' + LONG_NUMBER + b"}", ("digits",))):
        refused(rig.staff().post(f"{rig.url}/api/notices", data=seal(payload, "notice", rig.publisher)), 422, *words)


def test_a_notice_for_a_channel_whose_list_lacks_the_signer_is_refused(rig: Rig) -> None:
    rig.staff().put(f"{rig.url}/api/channels/hall", json={"root_key": rig.root_public}).raise_for_status()
    now = datetime.now(timezone.utc).replace(microsecond=0)
    payload = notice_payload(Notice("notice-0042", "urgent", (("vi", "Cổng tạm đóng"),), ("gate", "hall"), (),
                                    now, now + timedelta(hours=1)))
    refused(rig.staff().post(f"{rig.url}/api/notices", data=seal(payload, "notice", rig.publisher)), 409, "hall")


JSON_ROUTES = [("POST", "/api/blobs/missing", "staff"), ("PUT", "/api/channels/gate", "staff"),
               ("POST", "/api/screens", "staff"), ("POST", "/api/heartbeat", "screen"), ("POST", "/api/proof", "screen")]


@pytest.mark.parametrize("body", [DEEP, b'{"blobs": ' + LONG_NUMBER + b"}", b'{"x": ' + b"1" * 4000 + b"}",
                                  b'{"lines": [{"id": "abcdefgh", "actual": ' + LONG_NUMBER + b"}]}",
                                  b'{"uptime": 1e999, "version": "1", "clock": "2026-11-27T09:00:00+07:00"}'],
                         ids=["nested", "5000-digits", "4000-digits", "digits-in-a-list", "infinity"])
@pytest.mark.parametrize("method, path, who", JSON_ROUTES, ids=[p for _, p, _ in JSON_ROUTES])
def test_no_json_body_however_deep_or_long_gets_a_server_error(rig: Rig, method: str, path: str, who: str,
                                                              body: bytes) -> None:
    token = rig.admin_token if who == "staff" else rig.add_screen("gate-01")
    answer = requests.request(method, rig.url + path, data=body, headers={
        "Authorization": f"Bearer {token}", "Content-Type": "application/json"}, timeout=30)
    refused(answer, 422, "body")


@pytest.mark.parametrize("value", ["9" * 5000, "1e999", "-" + "9" * 400])
def test_no_query_number_gets_a_server_error(rig: Rig, value: str) -> None:
    answer = rig.staff().get(f"{rig.url}/api/audit", params={"limit": value})
    refused(answer, 422, "limit")


def test_a_notice_id_ending_in_a_newline_is_refused_and_an_accepted_notice_can_always_be_cleared(rig: Rig) -> None:
    now = datetime.now(timezone.utc).replace(microsecond=0)

    def post(notice_id: str) -> requests.Response:
        payload = json.dumps({"format": 1, "id": notice_id, "level": "urgent", "texts": {"vi": "Cổng tạm đóng"},
                              "channels": ["gate"], "screens": [], "created": now.isoformat(),
                              "expires": (now + timedelta(days=14)).isoformat()}).encode()
        return rig.staff().post(f"{rig.url}/api/notices", data=seal(payload, "notice", rig.publisher))

    refused(post("x" * 20 + "\n"), 422, "id")
    for notice_id in ("x" * 8, "A-z_09" * 10 + "abcd", "-" * 64):
        assert post(notice_id).status_code == 201, notice_id
        assert rig.staff().delete(f"{rig.url}/api/notices/{notice_id}").status_code == 204, notice_id
    assert rig.staff().get(f"{rig.url}/api/notices").json() == []


def test_a_root_key_rotation_goes_through_and_a_screen_with_the_new_root_follows(rig: Rig, tmp_path: Path) -> None:
    old_root = rig.root
    for version in (2, 3):  # the old root's count has gone past where a new root starts
        plist = PublisherList("gate", version, (make_publisher("office", rig.publisher.public_key()),))
        rig.staff().put(f"{rig.url}/api/channels/gate/publishers",
                        data=seal_publishers(plist, old_root)).raise_for_status()
    assert rig.publish(1, {"playlists/a.yaml": b"items: []\n"}).status_code == 201
    store = Store(tmp_path / "store").open()
    assert sync_once(HttpSource(rig.url, "gate"), store, old_root.public_key(), "gate").generation == 1

    new_root = Ed25519PrivateKey.generate()
    rig.staff().put(f"{rig.url}/api/channels/gate", json={"root_key": public_text(new_root.public_key())}
                    ).raise_for_status()
    stale = rig.publish(2, {"playlists/a.yaml": b"items: [old]\n"})
    refused(stale, 409, "does not verify against its root key", "sign a new one")
    plist = PublisherList("gate", 1, (make_publisher("office", rig.publisher.public_key()),))
    refused(rig.staff().put(f"{rig.url}/api/channels/gate/publishers", data=seal_publishers(plist, old_root)), 422,
            "root key")
    answer = rig.staff().put(f"{rig.url}/api/channels/gate/publishers", data=seal_publishers(plist, new_root))
    assert answer.status_code == 200 and answer.json()["version"] == 1, answer.text
    assert rig.publish(2, {"playlists/a.yaml": b"items: [new]\n"}).status_code == 201

    kept = sync_once(HttpSource(rig.url, "gate"), store, old_root.public_key(), "gate")
    assert kept.status == "failed" and kept.generation == 1, "a screen still on the old root keeps what it has"
    followed = sync_once(HttpSource(rig.url, "gate"), store, new_root.public_key(), "gate")
    assert followed.status == "updated" and followed.generation == 2, followed.message
    plist = PublisherList("gate", 2, (make_publisher("office", rig.publisher.public_key()),))
    rig.staff().put(f"{rig.url}/api/channels/gate/publishers", data=seal_publishers(plist, new_root)).raise_for_status()
    assert rig.publish(3, {"playlists/a.yaml": b"items: [newer]\n"}).status_code == 201
    assert sync_once(HttpSource(rig.url, "gate"), store, new_root.public_key(), "gate").generation == 3


# --- records staff read --------------------------------------------------------------------------------------

def test_proof_cells_a_spreadsheet_would_run_are_exported_as_text(rig: Rig) -> None:
    token = rig.add_screen("gate-01")
    formulas = {"item": "=HYPERLINK(\"http://evil\",\"x\")", "playlist": "+1+1", "language": "-2+3",
                "status": "@SUM(A1)", "reason": "\t=1+1"}
    line = {"id": "line-0001", "start": "2026-11-26T08:00:00+07:00", "planned": -1.5, "actual": 10.0, **formulas}
    plain = {**line, "id": "line-0002", "item": "hours", "playlist": "day", "language": "vi", "status": "played",
             "reason": "a - b"}
    requests.post(f"{rig.url}/api/proof", json={"lines": [line, plain]},
                  headers={"Authorization": f"Bearer {token}"}).raise_for_status()
    rows = {r["id"]: r for r in csv.DictReader(io.StringIO(rig.staff().get(f"{rig.url}/api/proof.csv").text))}
    for key, value in formulas.items():
        assert rows["line-0001"][key] == "'" + value, key
    assert rows["line-0001"]["planned"] == "-1.5", "numbers stay numbers"
    assert rows["line-0002"] == {**{k: str(v) for k, v in plain.items()}, "screen": "gate-01"}


def test_staff_see_only_the_audit_rows_of_their_channels_and_only_admins_see_staff_changes(rig: Rig) -> None:
    rig.staff().put(f"{rig.url}/api/channels/hall", json={"root_key": rig.root_public}).raise_for_status()
    rig.add_screen("gate-01")
    rig.add_screen("hall-01", channel="hall")
    rig.db.audit("2026-11-26T08:00:00+07:00", "server admin", "staff token", None, {"name": "minh"})
    minh = rig.add_staff("minh", ["gate"])
    seen = rig.staff(minh).get(f"{rig.url}/api/audit").json()
    assert seen and {row["channel"] for row in seen} == {"gate"}, seen
    everything = rig.staff().get(f"{rig.url}/api/audit").json()
    assert {row["channel"] for row in everything} >= {"gate", "hall", None}
    refused(rig.staff(minh).get(f"{rig.url}/api/audit", params={"channel": "hall"}), 403, "hall")


def png_of(size: tuple[int, int]) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, (20, 120, 60)).save(out, "PNG")
    return out.getvalue()


def test_screenshots_are_decoded_before_they_are_kept_and_served_as_what_they_are(rig: Rig) -> None:
    screen = {"Authorization": f"Bearer {rig.add_screen('gate-01')}"}
    url = f"{rig.url}/api/screenshot"
    good = png_of((320, 180))
    assert requests.put(url, data=good, headers=screen).status_code == 204
    html = b"\x89PNG\r\n\x1a\n<html><script>alert(1)</script></html>"
    refused(requests.put(url, data=html, headers=screen), 415, "PNG or JPEG")
    bomb = (DATA / "huge-20000x20000.png").read_bytes()
    assert len(bomb) < 2048 * 1024
    refused(requests.put(url, data=bomb, headers=screen), 413, "pixels")
    refused(requests.put(url, data=png_of((4000, 2200)), headers=screen), 413, "4000×2200", "screenshot_pixels")
    shown = rig.staff().get(f"{rig.url}/api/screens/gate-01/screenshot")
    assert shown.content == good and shown.headers["X-Content-Type-Options"] == "nosniff"
    assert shown.headers["Content-Type"] == "image/png"


# --- frozen and missing screens ------------------------------------------------------------------------------

PUBLISHES = [(1, 1000.0), (2, 5000.0), (3, 9000.0)]


@pytest.mark.parametrize("generation, now, kind", [
    (3, 20_000.0, None),  # up to date
    (2, 9_000.0 + 899, None),  # behind for less than 15 min
    (2, 9_000.0 + 901, "behind"),
    (1, 5_000.0 + 901, "behind"),  # behind since generation 2, however often the channel published since
    (None, 2_000.0, "behind"),  # never synced
])
def test_a_screen_playing_an_older_generation_than_its_channel_for_too_long_is_flagged(generation: int | None,
                                                                                       now: float,
                                                                                       kind: str | None) -> None:
    screen = Screen("s1", "gate", 10**9, now - 10, {"generation": generation}, None, False, None, False, 0.0)
    status = screen_status(screen, now, Watch(180.0, 900.0), PUBLISHES)
    assert status.flag_kind == kind and status.as_json()["lagging"] is (kind == "behind")
    assert kind is None or "generation 3 published" in str(status.flag)


def test_frozen_and_never_seen_screens_reach_the_webhook_once_and_the_screen_list(tmp_path: Path,
                                                                                  database: str | None) -> None:
    rig = start_rig(tmp_path / "data", database, lagging_after=0.0)
    hook = Hook()
    try:
        frozen = {"Authorization": f"Bearer {rig.add_screen('gate-frozen', offline_after=3600)}"}
        rig.add_screen("gate-never", offline_after=60)
        assert rig.publish(1, {"playlists/a.yaml": b"items: []\n"}).status_code == 201
        requests.post(f"{rig.url}/api/heartbeat", json=heartbeat(generation=1), headers=frozen).raise_for_status()
        assert rig.publish(2, {"playlists/a.yaml": b"items: [new]\n"}).status_code == 201
        requests.post(f"{rig.url}/api/heartbeat", json=heartbeat(generation=1), headers=frozen).raise_for_status()
        listed = {s["id"]: s for s in rig.staff().get(f"{rig.url}/api/screens").json()}
        assert listed["gate-frozen"]["lagging"] is True and listed["gate-frozen"]["channel_generation"] == 2
        assert "behind the channel" in rig.staff().get(f"{rig.url}/status").text
        later = time.time() + 120
        watch = Watch(180.0, 0.0)
        changed = asyncio.run(check_once(rig.db, watch, hook.url, later))
        assert asyncio.run(check_once(rig.db, watch, hook.url, later + 60)) == []
        assert sorted(s.flag_kind or "" for s in changed) == ["behind", "never seen"]
        assert sorted((c["event"], c["screen"]["id"], c["screen"]["flag_kind"]) for c in hook.calls) == [  # type: ignore[index]
            ("flagged", "gate-frozen", "behind"), ("flagged", "gate-never", "never seen")]
        requests.post(f"{rig.url}/api/heartbeat", json=heartbeat(generation=2), headers=frozen).raise_for_status()
        recovered = asyncio.run(check_once(rig.db, watch, hook.url, later + 120))
        assert [(s.id, s.flag_kind) for s in recovered] == [("gate-frozen", None)]
        assert hook.calls[-1]["event"] == "recovered"
    finally:
        hook.server.shutdown()
        rig.stop()


def heartbeat(**changes: object) -> dict[str, object]:
    return {"version": "0.1.0", "uptime": 1.0, "clock": datetime.now(timezone.utc).isoformat(), **changes}


@pytest.mark.parametrize("text", ["a\u0000b", "\ud800"], ids=["NUL", "lone-surrogate"])
def test_text_no_engine_can_store_is_refused_with_422_not_a_server_error(rig: Rig, text: str) -> None:
    token = rig.add_screen("gate-01")
    line = {"id": "line-0001", "start": "2026-11-26T08:00:00+07:00", "planned": 1.0, "actual": 1.0, "item": text,
            "playlist": "p", "language": "vi", "status": "played", "reason": ""}
    body = json.dumps({"lines": [line]}).encode()  # ASCII, with \\u escapes
    answer = requests.post(f"{rig.url}/api/proof", data=body,
                           headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"})
    refused(answer, 422, "body")
    refused(rig.staff().get(f"{rig.url}/api/proof.csv", params={"item": "a\u0000b"}), 422, "item")
