"""The console in a real browser (Debian's chromium, driven by Playwright) against a real server and a headless player:
set a password, log in, import the signing key, edit a Khmer text with its break marks, preview it, publish it
signed by the browser and see the screen switch; post and clear a notice; resume a cut upload; keep a form through an
expired session; a save from a second tab; the timeline of a fixed day; and every page in both languages,
photographed, without horizontal scroll.

One browser for the module, one server, one player: the checks share them.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat

from sync.server.schema import console_sessions
from tests.conftest import REPO
from tests.console_rig import password_link
from tests.server_rig import Rig, start_rig
from tests.test_server_e2e import ENV, screen_config, wait_for

pytestmark = pytest.mark.slow  # a browser, a server and a player for about a minute
CHROMIUM = "/usr/bin/chromium"
SHOTS = REPO / "out" / "console"
PASSWORD = "một mật khẩu dài"
CONTENT = {
    "playlists/main.yaml": """\
# the test's loop: two text items
id: main
duration: 2
items:
  - id: hours
    type: text
    text:
      vi: {title: "Giờ mở cửa", body: "Hằng ngày 06:00 – 22:00"}
      en: {title: "Opening hours", body: "Daily 06:00 – 22:00"}
      km: {title: "ម៉ោង\u200bបើក\u200bច្រកទ្វារ", body: "រៀងរាល់ថ្ងៃ"}
  - id: gate
    type: image
    media: gate.jpg
    text:
      vi: {caption: "Cửa khẩu"}
""".encode(),
    "playlists/schedule.yaml": b"dayparts:\n  - playlist: main\n",
    "playlists/browse.yaml": """\
title: {vi: "Thông tin cho du khách", en: "Visitor information"}
topics:
  - id: immigration
    icon: passport
    title: {vi: "Xuất nhập cảnh", en: "Immigration", km: "អន្តោប្រវេសន៍", zh: "出入境"}
    pages:
      - {id: arriving, type: text, text: {vi: {title: "Nhập cảnh"}, en: {title: "Arriving"}}}
""".encode(),
    "media/gate.jpg": (REPO / "media" / "gate.jpg").read_bytes(),
}


def launch():
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.skip("browser tests skipped: Playwright for Python is not installed (pip install -e '.[test]')")
    if not Path(CHROMIUM).is_file():
        pytest.skip(f"browser tests skipped: {CHROMIUM} is missing (apt-get install chromium; ./test installs it "
                    "when it may)")
    manager = sync_playwright().start()
    browser = manager.chromium.launch(executable_path=CHROMIUM, args=[
        "--no-sandbox", "--disable-background-networking", "--disable-component-update", "--no-first-run",
        "--disable-dev-shm-usage"])
    return manager, browser


class Player:
    """A headless player following the rig's channel, its log read as it comes."""

    def __init__(self, rig: Rig, root: Path) -> None:
        screen_config(rig, root)
        self.root = root
        self.lines: list[tuple[float, str]] = []
        self.process = subprocess.Popen([sys.executable, "-m", "player", "run", "--headless", "--seconds", "600"],
                                        cwd=root, env=ENV, stderr=subprocess.PIPE, text=True)
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.process.stderr is not None
        for line in self.process.stderr:
            self.lines.append((time.monotonic(), line.rstrip()))

    def said(self, text: str, after: float = 0.0) -> float | None:
        return next((when for when, line in list(self.lines) if when >= after and text in line), None)

    def proof_has(self, item: str) -> bool:
        path = self.root / "state" / "proof-of-play.jsonl"
        return path.exists() and f'"item": "{item}"' in path.read_text(encoding="utf-8")

    def stop(self) -> str:
        self.process.terminate()
        try:
            self.process.wait(60)
        except subprocess.TimeoutExpired:
            self.process.kill()
        return "\n".join(line for _, line in self.lines[-80:])


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    manager, browser = launch()
    tmp = tmp_path_factory.mktemp("browser")
    rig = start_rig(tmp / "server")
    assert rig.publish(1, CONTENT).status_code == 201
    rig.add_staff("minh", ["gate"])
    player = Player(rig, tmp / "screen")
    context = browser.new_context(viewport={"width": 1366, "height": 768}, locale="vi-VN")
    page = context.new_page()
    page.set_default_timeout(20000)
    yield rig, player, page, tmp
    log = player.stop()
    context.close()
    browser.close()
    manager.stop()
    rig.stop()
    print(log[-2000:])


def test_staff_edit_preview_publish_and_the_screen_follows(world):
    rig, player, page, tmp = world
    assert wait_for(lambda: player.said("playing content generation gate-0000000001"), 60), "the player never synced"
    # the set-password link from `staff add`, then log in
    page.goto(rig.url + password_link(rig, "lan"))
    page.fill("input[name=password]", PASSWORD)
    page.fill("input[name=again]", PASSWORD)
    page.click("button.primary")
    page.wait_for_url("**/console/login?why=password-set**")
    assert "Đã đặt mật khẩu" in page.content()
    page.fill("input[name=name]", "lan")
    page.fill("input[name=password]", PASSWORD)
    page.click("button.primary")
    page.wait_for_url("**/console/")
    assert "Xin chào lan" in page.inner_text("main")
    # the office's publisher key, imported once into this browser (kept non-extractable in IndexedDB)
    key_file = tmp / "office.key"
    key_file.write_bytes(rig.publisher.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption()))
    page.goto(rig.url + "/console/keys")
    page.set_input_files("form[data-import-key] input[type=file]", str(key_file))
    page.click("form[data-import-key] button")
    page.wait_for_selector("[data-listed-yes]:not([hidden])")
    assert "có thể ký" in page.inner_text("[data-key-panel]")
    assert page.evaluate("async () => (await window.kioskConsole.currentKey()).key.extractable") is False
    # edit the Khmer title; the break marks follow the saved text, and a click on one inserts a word joiner
    page.goto(rig.url + "/console/channels/gate/edit/main.yaml")
    page.click("details#items\\/0 > summary")  # an item opens when staff click it
    page.fill("[name='items/0|text.km.title']", "ម៉ោង\u200bបើក\u200bច្រកទ្វារ\u200bថ្មី")
    page.click("button[name=action][value=save]")
    page.wait_for_url("**saved=1**")
    assert "Đã lưu." in page.inner_text("main")
    marks = page.locator("[data-marks='items/0|text.km.title'] button.mark")
    assert marks.count() >= 3
    joiner = page.locator("[data-marks='items/0|text.km.title'] button.mark[value$=':2060']").first
    joiner.click()
    page.wait_for_load_state()
    title = page.input_value("[name='items/0|text.km.title']")
    assert "\u2060" in title and title.replace("\u2060", "") == "ម៉ោង\u200bបើក\u200bច្រកទ្វារ\u200bថ្មី"
    # the player's own renderer draws the item in each language
    page.click("#items\\/0 >> text=Xem trước")
    page.wait_for_selector(".preview img")
    # each picture is drawn by the render worker on request: on a busy machine the first can take seconds
    page.wait_for_function("() => [...document.querySelectorAll('.preview img')].every(i => i.complete)", timeout=60000)
    loaded = page.evaluate("() => [...document.querySelectorAll('.preview img')].map(i => i.complete && i.naturalWidth)")
    assert len(loaded) == 3 and all(width == 1920 for width in loaded)
    # publish: the summary by item, then signed in the browser and posted through the server's checks
    page.goto(rig.url + "/console/channels/gate/publish")
    summary = page.inner_text("main")
    assert "Mục đã sửa: hours" in summary and "Chữ đã sửa (ភាសាខ្មែរ): hours" in summary
    clicked = time.monotonic()
    page.click("form[data-sign] button.primary")
    page.wait_for_selector("text=Đã phát hành phiên bản 2")
    assert rig.current_generation() == 2
    switched = wait_for(lambda: player.said("playing content generation gate-0000000002", clicked), 30)
    assert switched is not None, "the screen did not switch to the published generation"
    print(f"publish click to the screen playing it: {switched - clicked:.1f} s")
    assert switched - clicked <= 5, "the issue's bound: the screen plays a publish within 5 s"
    assert not list((rig.data).rglob("*.key"))


def test_a_notice_goes_on_and_off_the_screen(world):
    rig, player, page, _ = world
    page.goto(rig.url + "/console/notices")
    page.fill("textarea[name='text.vi']", "Cổng tạm đóng 30 phút")
    page.fill("textarea[name='text.en']", "The gate is closed for 30 minutes")
    assert page.inner_text("label:has(textarea[name='text.vi']) .counter") == "21 / 600"
    page.click("form[action='/console/notices/prepare'] button.primary")
    page.wait_for_selector("form[data-sign='notice']")
    page.wait_for_function("() => document.querySelector('.preview img').complete")
    assert page.evaluate("() => document.querySelector('.preview img').naturalWidth") == 1920  # the player's picture
    posted = time.monotonic()
    page.click("form[data-sign='notice'] button.primary")
    page.wait_for_selector("article[id^=notice-]")
    page.wait_for_load_state()
    assert page.input_value("textarea[name='text.vi']") == ""  # a new notice starts empty, not with the one posted
    shown = wait_for(lambda: player.said("showing urgent notice", posted), 20)
    assert shown is not None, "the notice never reached the screen"
    notice_id = page.get_attribute("article[id^=notice-]", "id").removeprefix("notice-")
    cleared = time.monotonic()
    page.click(f"#notice-{notice_id} button.danger")
    page.wait_for_selector("text=Không có thông báo nào.")
    gone = wait_for(lambda: player.proof_has(f"notice:{notice_id}") and time.monotonic(), 20)
    assert gone, "the notice did not leave the screen"
    print(f"notice on screen after {shown - posted:.1f} s, off after {gone - cleared:.1f} s")
    assert shown - posted <= 2 and gone - cleared <= 2, "the issue's bound: on and off the screen within 2 s"


def test_a_cut_upload_resumes_without_sending_everything_again(world):
    rig, _, page, tmp = world
    data = os.urandom(20 * 2**20 + 12345)  # three 8 MB chunks
    upload = tmp / "hành lang.bin"
    upload.write_bytes(data)
    sent: list[str] = []
    cut = {"done": False}

    def route(request_route):
        url = request_route.request.url
        if request_route.request.method == "PUT":
            sent.append(url.rsplit("=", 1)[1])
            if url.endswith(f"offset={8 * 2**20}") and not cut["done"]:
                cut["done"] = True
                request_route.abort("connectionreset")  # the link drops in the middle of the second chunk
                return
        request_route.continue_()

    page.route("**/console/uploads/**", route)
    page.goto(rig.url + "/console/channels/gate/media")
    page.set_input_files("form[data-upload] input[type=file]", str(upload))
    page.click("form[data-upload] button.primary")
    page.wait_for_selector("text=hanh-lang.bin", timeout=60000)
    page.unroute("**/console/uploads/**")
    assert sent.count(str(8 * 2**20)) == 2 and len(sent) == 4  # only the cut chunk went twice
    digest = hashlib.sha256(data).hexdigest()
    assert (rig.data / "content" / "blobs" / digest).read_bytes() == data


def test_an_expired_session_keeps_what_was_typed(world):
    rig, _, page, _ = world
    page.goto(rig.url + "/console/channels/gate/edit/main.yaml")
    page.click("details#items\\/0 > summary")
    page.fill("[name='items/0|text.vi.body']", "Hằng ngày 05:30 – 22:30 (đang gõ)")
    page.check("[name='items/0|when.weekdays'][value=sat]")  # a weekday chip is kept too
    with rig.db.engine.begin() as c:
        c.execute(console_sessions.update().values(seen=time.time() - 3600))
    page.click("button[name=action][value=save]")
    page.wait_for_url("**/console/login?why=session-idle**")
    assert "nội dung đang gõ vẫn được giữ" in page.inner_text("main")
    page.fill("input[name=name]", "lan")
    page.fill("input[name=password]", PASSWORD)
    page.click("button.primary")
    page.wait_for_url("**/edit/main.yaml")
    assert page.input_value("[name='items/0|text.vi.body']") == "Hằng ngày 05:30 – 22:30 (đang gõ)"
    assert page.is_checked("[name='items/0|when.weekdays'][value=sat]")
    assert not page.is_checked("[name='items/0|when.weekdays'][value=sun]")


def test_the_channel_profile_is_picked_as_a_file(world):
    rig, _, page, _ = world
    page.goto(rig.url + "/console/channels/gate/profile")
    page.set_input_files("input[data-fill=profile-text]", str(REPO / "kiosk.yaml"))
    page.wait_for_function("() => document.getElementById('profile-text').value.length > 0")
    assert page.input_value("#profile-text") == (REPO / "kiosk.yaml").read_text(encoding="utf-8")


PAGES = ["/console/", "/console/channels/gate/", "/console/channels/gate/edit/main.yaml?node=items/0",
         "/console/channels/gate/edit/schedule.yaml", "/console/channels/gate/edit/browse.yaml?node=topics/0",
         "/console/channels/gate/media", "/console/channels/gate/publish", "/console/keys", "/console/notices",
         "/console/screens", "/console/screens/kiosk-1", "/console/audit", "/console/channels/gate/profile",
         "/console/channels/gate/timeline?day=2027-02-06&item=main/gate", "/console/channels/gate/translations",
         "/console/channels/gate/preview/main.yaml/hours", "/console/channels/gate/preview-browse",
         "/console/channels/gate/compare/main.yaml"]
SIGNED_OUT = ["/console/login", "PASSWORD-LINK"]


def test_a_save_from_a_second_tab_is_not_lost_and_the_timeline_shows_why_an_item_rests(world):
    rig, _, page, _ = world
    url = rig.url + "/console/channels/gate/edit/main.yaml"
    other = page.context.new_page()
    try:
        page.goto(url)
        other.goto(url)
        # the second tab keeps the image item to Mondays and saves first
        other.click("details#items\\/1 > summary")
        other.check("[name='items/1|when.weekdays'][value=mon]")
        other.click("button[name=action][value=save]")
        other.wait_for_url("**saved=1**")
    finally:
        other.close()
    # this tab, opened before that save, changes the caption: refused, both versions side by side
    page.click("details#items\\/1 > summary")
    page.fill("[name='items/1|text.vi.caption']", "Cửa khẩu (thẻ 1)")
    page.click("button[name=action][value=save]")
    page.wait_for_selector("text=Chưa lưu: tệp đã thay đổi ở nơi khác")
    both = page.inner_text("main")
    assert "đã được lưu ở một thẻ hoặc cửa sổ khác" in both
    assert "Cửa khẩu (thẻ 1)" in both and "mon" in both
    page.click("button[name=choice][value=theirs]")
    page.wait_for_url("**/edit/main.yaml?taken=1")
    assert "Đã dùng bản kia" in page.inner_text("main")  # and what this tab had typed is not put back
    page.click("details#items\\/1 > summary")
    assert page.is_checked("[name='items/1|when.weekdays'][value=mon]")
    assert page.input_value("[name='items/1|text.vi.caption']") == "Cửa khẩu"
    # Tết 2027 is a Saturday: hour by hour the loop plays its text, and the image says why it rests
    page.goto(rig.url + "/console/channels/gate/timeline?day=2027-02-06&item=main/gate")
    hours = page.locator(".hours b", has_text=":00")
    assert hours.count() == 24
    day = page.inner_text(".hours")
    assert day.count("main/gate: không phải thứ được chọn") == 24 and day.count("main: hours") == 24


def test_every_page_in_both_languages_fits_and_is_photographed(world):
    rig, _, page, _ = world
    asked = time.time()
    rig.staff().post(f"{rig.url}/api/screens/kiosk-1/screenshot-request").raise_for_status()
    assert wait_for(lambda: (rig.db.screen("kiosk-1").screenshot_at or 0) > asked - 1, 40), "no screenshot came"
    shutil.rmtree(SHOTS, ignore_errors=True)
    (SHOTS / "768").mkdir(parents=True)
    wide: list[str] = []
    stranger = page.context.browser.new_context(viewport={"width": 1366, "height": 768})
    for lang in ("vi", "en"):
        for viewer, paths in ((page, PAGES), (stranger.new_page(), SIGNED_OUT)):
            viewer.goto(rig.url + f"/console/language/{lang}?back=/console/")
            for path in paths:
                path = password_link(rig, "minh") if path == "PASSWORD-LINK" else path
                for width, height in ((1366, 768), (768, 1024)):
                    viewer.set_viewport_size({"width": width, "height": height})
                    answer = viewer.goto(rig.url + path)
                    assert answer is not None and answer.status == 200, (path, answer and answer.status)
                    viewer.wait_for_load_state("networkidle")
                    if viewer.evaluate("() => document.documentElement.scrollWidth > "
                                       "document.documentElement.clientWidth"):
                        wide.append(f"{path} at {width}×{height} ({lang})")
                    if width == 1366:
                        viewer.screenshot(path=str(SHOTS / f"{shot_name(path)}.{lang}.png"), full_page=True)
                    else:  # the tablet layout, kept apart so the count below stays one picture a page
                        viewer.screenshot(path=str(SHOTS / "768" / f"{shot_name(path)}.{lang}.png"), full_page=True)
    stranger.close()
    page.set_viewport_size({"width": 1366, "height": 768})
    page.goto(rig.url + "/console/language/vi?back=/console/")
    assert not wide, f"horizontal scroll on: {wide}"
    assert len(list(SHOTS.glob("*.png"))) == 2 * (len(PAGES) + len(SIGNED_OUT))


def shot_name(path: str) -> str:
    if path.startswith("/console/password/"):
        return "password"
    name = path.removeprefix("/console/").split("?")[0].strip("/").replace("/", "-").replace("channels-gate-", "")
    return name.removeprefix("channels-") or "home"
