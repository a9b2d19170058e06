"""Console log-in as staff meet it: a set-password link, sessions, CSRF and Origin on every change, lock-outs, roles,
and the API left to tokens."""

from __future__ import annotations

import subprocess
import sys
import time

import pytest
import requests

from sync.server.console.passwords import check_password, hash_password, lock_seconds
from sync.server.console.sessions import IDLE_SECONDS, MAX_SECONDS, ended_by_time, same_origin
from sync.server.schema import console_sessions
from tests.conftest import REPO, database_for
from tests.console_rig import PASSWORD, Browser, csrf_of, log_in, password_link
from tests.server_rig import start_rig


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def rig(request, tmp_path_factory):
    running = start_rig(tmp_path_factory.mktemp("console"), database_for(request.param, request))
    running.add_staff("minh", ["gate"])
    yield running
    running.stop()


@pytest.mark.parametrize("failures, locked", [(0, 0), (4, 0), (5, 30), (6, 60), (7, 120), (11, 1920), (12, 3600),
                                              (40, 3600)])
def test_lock_out_doubles_from_30_seconds_to_an_hour(failures, locked):
    assert lock_seconds(failures) == locked


@pytest.mark.parametrize("created, seen, now, ended", [
    (0, 0, IDLE_SECONDS - 1, None), (0, 0, IDLE_SECONDS, "idle"), (0, MAX_SECONDS - 60, MAX_SECONDS - 1, None),
    (0, MAX_SECONDS - 1, MAX_SECONDS, "expired")])
def test_sessions_end_after_30_minutes_idle_or_12_hours(created, seen, now, ended):
    assert ended_by_time(created, seen, now) == ended


@pytest.mark.parametrize("origin, referer, ok", [
    ("http://127.0.0.1:8470", None, True), ("http://evil.example", None, False), ("null", None, False),
    (None, "http://127.0.0.1:8470/console/x", True), (None, None, False), ("https://127.0.0.1:8470", None, False)])
def test_only_this_servers_pages_may_change_things(origin, referer, ok):
    assert same_origin(origin, referer, "127.0.0.1:8470", "http") is ok


def test_passwords_are_argon2id_and_quick_enough():
    started = time.perf_counter()
    stored = hash_password(PASSWORD)
    assert stored.startswith("$argon2id$") and check_password(stored, PASSWORD)
    assert not check_password(stored, PASSWORD + "x") and not check_password(None, PASSWORD)
    assert time.perf_counter() - started < 3  # a hang; the 0.5 s target is argon2-cffi's defaults (about 60 ms here)


def test_set_password_then_log_in_and_out(rig):
    browser = log_in(rig)
    home = browser.get("/console/")
    assert "Xin chào lan" in home.text and "Kênh gate" in home.text
    assert "frame-ancestors 'none'" in home.headers["content-security-policy"]
    assert "script-src 'self'" in home.headers["content-security-policy"]
    cookie = next(c for c in browser.session.cookies if c.name == "kiosk_console")
    assert cookie.has_nonstandard_attr("HttpOnly") and cookie.get_nonstandard_attr("SameSite").lower() == "strict"
    assert browser.get("/console/language/en?back=/console/").url.endswith("/console/")
    assert "Hello lan" in browser.get("/console/").text
    browser.get("/console/language/vi?back=/console/")
    # the same link does not work twice
    page = browser.get(password_link(rig, "lan"))
    link = page.url.replace(rig.url, "")
    assert browser.post(link, {"password": PASSWORD, "again": PASSWORD}, csrf=csrf_of(page.text)).status_code == 303
    assert browser.get(link).status_code == 404
    assert browser.get("/console/", allow_redirects=False).status_code == 303  # a new password ends old sessions
    browser = log_in(rig, set_first=False)
    out = browser.post("/console/logout")
    assert out.status_code == 303 and "logged-out" in out.headers["location"]
    assert browser.get("/console/", allow_redirects=False).status_code == 303
    actions = [row["action"] for row in rig.db.audit_log(20)]
    assert "login" in actions and "password set" in actions


def test_changes_without_csrf_or_from_another_site_are_refused(rig):
    browser = log_in(rig)
    assert browser.post("/console/logout", csrf="").status_code == 403
    assert browser.post("/console/logout", csrf="0" * 40).status_code == 403
    foreign = browser.post("/console/logout", origin="http://evil.example")
    assert foreign.status_code == 403 and "Origin" in foreign.text
    assert browser.get("/console/").status_code == 200  # still logged in: nothing happened


def test_wrong_passwords_lock_the_name(rig):
    browser = Browser(rig, requests.Session())
    token = csrf_of(browser.get("/console/login").text)
    for attempt in range(5):
        answer = browser.post("/console/login", {"name": "minh", "password": f"wrong {attempt}"}, csrf=token)
        assert answer.status_code == 401 and "Sai tên hoặc mật khẩu" in answer.text
    locked = browser.post("/console/login", {"name": "minh", "password": "still wrong"}, csrf=token)
    assert locked.status_code == 429 and "tạm bị khoá" in locked.text
    assert [r["action"] for r in rig.db.audit_log(5)].count("login failed") == 5
    rig.db.engine.dispose()


def test_an_expired_session_asks_to_log_in_again_and_comes_back(rig):
    browser = log_in(rig)
    with rig.db.engine.begin() as c:
        c.execute(console_sessions.update().values(seen=time.time() - IDLE_SECONDS - 5))
    answer = browser.get("/console/?x=1", allow_redirects=False)
    assert answer.status_code == 303
    assert "why=session-idle" in answer.headers["location"] and "next=/console/%3Fx%3D1" in answer.headers["location"]
    page = browser.get(answer.headers["location"])
    assert "nội dung đang gõ vẫn được giữ" in page.text


def test_the_api_takes_tokens_only(rig):
    browser = log_in(rig)
    assert browser.session.get(f"{rig.url}/api/channels").status_code == 401
    assert rig.staff().get(f"{rig.url}/api/channels").status_code == 200


def test_staff_add_prints_a_set_password_link(tmp_path):
    data = tmp_path / "data"
    out = subprocess.run([sys.executable, "-m", "sync", "server", "staff", "add", "thu", "--channel", "gate", "--data",
                          str(data), "--url", "https://console.office.lan:8470"], cwd=REPO, capture_output=True,
                         text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert "https://console.office.lan:8470/console/password/" in out.stdout and "24" in out.stdout
    again = subprocess.run([sys.executable, "-m", "sync", "server", "staff", "passwd", "thu", "--data", str(data)],
                           cwd=REPO, capture_output=True, text=True, timeout=60)
    assert again.returncode == 0 and "http://127.0.0.1:8470/console/password/" in again.stdout, again.stderr


def test_staff_revoke_ends_every_console_session(rig, tmp_path):
    rig.add_staff("tuan", ["gate"])
    tab_one, tab_two = log_in(rig, "tuan"), log_in(rig, "tuan", set_first=False)
    assert tab_one.get("/console/", allow_redirects=False).status_code == 200
    settings = tmp_path / "server.yaml"
    settings.write_text(f"data: {rig.data}\n" + (f"database: {rig.settings.database_url}\n" if rig.settings.database_url
                                                 else ""), encoding="utf-8")
    out = subprocess.run([sys.executable, "-m", "sync", "server", "staff", "revoke", "tuan", "--config", str(settings)],
                         cwd=REPO, capture_output=True, text=True, timeout=60)
    assert out.returncode == 0 and "2 console session(s) ended" in out.stdout, out.stdout + out.stderr
    for tab in (tab_one, tab_two):
        assert tab.get("/console/", allow_redirects=False).status_code == 303
    again = Browser(rig, requests.Session())
    page = again.get("/console/login")
    refused = again.post("/console/login", {"name": "tuan", "password": PASSWORD}, csrf=csrf_of(page.text))
    assert refused.status_code == 401
