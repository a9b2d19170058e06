"""What the console must never allow: an editor on an admin page, another channel's draft, and a copy of the server's
data folder that could publish or post a notice (the server holds no private key)."""

from __future__ import annotations

import shutil
from datetime import datetime, timedelta, timezone

import pytest
import requests
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from sync.notice import build_notice
from sync.server.console.routes_screens import profile_differences
from sync.server.run import start_in_thread
from sync.server.settings import ServerSettings
from sync.server.tokens import make_token
from sync.upload import seal_notice
from tests.console_rig import log_in
from tests.server_rig import start_rig
from tests.test_console_edit import demo_files


@pytest.fixture(scope="module")
def rig(tmp_path_factory):
    running = start_rig(tmp_path_factory.mktemp("security"))
    assert running.publish(1, demo_files()).status_code == 201
    running.add_staff("minh", ["gate"])
    running.add_staff("tam", ["other"])
    yield running
    running.stop()


def test_an_editor_is_refused_admin_pages_and_other_channels(rig):
    minh = log_in(rig, "minh")
    assert minh.get("/console/channels/gate/").status_code == 200
    profile = minh.get("/console/channels/gate/profile")
    assert profile.status_code == 403 and "chỉ dành cho quản trị viên" in profile.text
    tam = log_in(rig, "tam")
    assert tam.get("/console/channels/gate/edit/daytime.yaml").status_code == 403
    assert tam.get("/console/screens/nowhere").status_code == 404
    assert "Kênh gate" not in tam.get("/console/").text


def test_a_copy_of_the_data_folder_holds_no_private_key_and_cannot_publish(rig, tmp_path):
    lan = log_in(rig)
    lan.get("/console/channels/gate/publish")  # a draft, a summary: everything the console keeps
    copy = tmp_path / "copy"
    shutil.copytree(rig.data, copy)
    for path in copy.rglob("*"):
        if path.is_file():
            assert b"PRIVATE KEY" not in path.read_bytes(), path
    # a server started on the copy, with a staff token its holder made in the copied records
    thief = start_in_thread(ServerSettings(data=copy, port=0))
    try:
        token = make_token("staff")
        thief.server.config.app.state.db.add_staff("thief", ["*"], True, token, "2026-11-30T00:00:00+00:00")
        staff = requests.Session()
        staff.headers["Authorization"] = f"Bearer {token.text}"
        stolen = Ed25519PrivateKey.generate()  # all the thief can sign with: a key no publisher list names
        manifest = rig.manifest(rig.current_generation() + 1, {}, key=stolen)
        answer = staff.post(f"{thief.url}/api/channels/gate/manifest", data=manifest)
        assert answer.status_code == 422 and "publisher list" in answer.json()["error"]
        now = datetime.now(timezone.utc).replace(microsecond=0)
        notice = build_notice("stolen-notice-1", "urgent", [("vi", "Giả mạo")], ["gate"], [], now, now + timedelta(hours=1))
        answer = staff.post(f"{thief.url}/api/notices", data=seal_notice(notice, stolen))
        assert answer.status_code == 422 and "does not trust it" in answer.json()["error"]
    finally:
        thief.stop()


@pytest.mark.parametrize("reported, differs", [
    ({"languages": ["vi", "en", "km", "zh"], "size": [1920, 1080], "rotation": 0}, []),
    ({"languages": ["vi", "en"], "size": [1920, 1080], "rotation": 90}, ["languages", "rotation"]),
    (None, []),
])
def test_a_screen_whose_profile_differs_is_flagged(reported, differs):
    expected = {"languages": ["vi", "en", "km", "zh"], "fallback": {"km": "en"}, "size": [1920, 1080], "rotation": 0,
                "width_mm": 952.0, "touch": False}
    assert profile_differences(expected, reported) == differs


def test_on_plain_http_over_the_lan_the_console_says_signing_cannot_work(rig):
    lan = log_in(rig)
    lan.get("/console/channels/gate/")
    assert lan.post("/console/channels/gate/draft", {"action": "new-playlist", "name": "tet-2027"}).status_code == 303
    local = lan.get("/console/channels/gate/publish").text
    assert '<p class="banner insecure" id="insecure" hidden>' in local and 'class="primary" disabled' not in local
    # how an office PC reaches the server over plain http (the cookie named by hand: requests files it under Host)
    lan_host = {"Host": "kiosk-server.office.lan:8470", "Cookie": f"kiosk_console={lan.session.cookies['kiosk_console']}"}
    page = requests.get(f"{rig.url}/console/channels/gate/publish", headers=lan_host).text
    assert '<p class="banner insecure" id="insecure">' in page and "trình duyệt không cho phép ký ở đây" in page
    assert '<button class="primary" disabled>' in page  # the sign button is off, not a click that fails later
    keys = requests.get(f"{rig.url}/console/keys", headers=lan_host).text
    assert "data-make-key" not in keys and "data-import-key" not in keys


def test_a_draft_that_changes_nothing_offers_no_publish(rig):
    import base64

    from sync.manifest import FileEntry, build_manifest, manifest_payload
    from sync.server.console.records import ConsoleRecords

    rig.add_staff("hanh", ["gate"])
    hanh = log_in(rig, "hanh")
    page = hanh.get("/console/channels/gate/publish").text
    assert "Không có gì thay đổi so với nội dung đang phát." in page and 'data-sign="manifest"' not in page
    files = ConsoleRecords(rig.db).draft_files("gate", "hanh")
    payload = manifest_payload(build_manifest("gate", 2, datetime.now(timezone.utc),
                                              [FileEntry(p, f.sha256, f.size) for p, f in sorted(files.items())]))
    refused = hanh.post("/console/channels/gate/publish", {"payload": base64.b64encode(payload).decode(),
                                                           "signature": base64.b64encode(bytes(64)).decode(),
                                                           "key_id": "0123456789abcdef"})
    assert refused.status_code == 422 and "Không có gì thay đổi" in refused.text
