"""Previews come from one spawned worker running the player's renderer: the server process never loads pygame, a
stuck worker is stopped, a dead one is started again; uploads resume where a cut left them."""

from __future__ import annotations

import asyncio
import hashlib
import os
import re
import signal
import subprocess
import sys

import pytest
import requests

from sync.server.console.preview import PreviewFailed, RenderWorker
from tests.conftest import REPO
from tests.console_rig import log_in
from tests.server_rig import start_rig
from tests.test_console_edit import demo_files

SERVER_ONLY = """
import sys, tempfile
from pathlib import Path
from tests.console_rig import log_in
from tests.server_rig import start_rig
rig = start_rig(Path(tempfile.mkdtemp()))
rig.publish(1, {"playlists/main.yaml": b"items:\\n  - {id: a, type: text, text: {vi: Xin chao, en: Hello}}\\n"})
page = log_in(rig).get("/console/channels/gate/preview/main.yaml/a")
assert page.status_code == 200 and page.text.count("<img") == 2, page.text[-800:]
rig.stop()
print("LOADED", sorted({m.split(".")[0] for m in sys.modules if m.split(".")[0] in ("pygame", "av")}))
"""


@pytest.mark.slow  # a server, a browser-less staff member and the worker in a fresh interpreter
def test_the_server_process_stays_free_of_pygame_while_previews_render():
    done = subprocess.run([sys.executable, "-c", SERVER_ONLY], cwd=REPO, capture_output=True, text=True, timeout=180,
                          env={**os.environ, "PYTHONPATH": str(REPO)})
    assert done.returncode == 0, done.stderr[-3000:]
    assert "LOADED []" in done.stdout


@pytest.fixture(scope="module")
def rig(tmp_path_factory):
    running = start_rig(tmp_path_factory.mktemp("preview"))
    assert running.publish(1, demo_files()).status_code == 201
    yield running
    running.stop()


def test_a_dead_worker_is_started_again_and_a_stuck_one_stopped(rig):
    lan = log_in(rig)
    first = lan.get("/console/channels/gate/preview/daytime.yaml/opening-hours")
    assert first.status_code == 200 and "<img" in first.text
    worker: RenderWorker = rig.running.server.config.app.state.render_worker
    started, pid = worker.started, worker.pid
    assert pid is not None
    os.kill(pid, signal.SIGKILL)
    again = lan.get("/console/channels/gate/preview/daytime.yaml/opening-hours")
    assert again.status_code == 200 and "<img" in again.text and worker.started == started + 1
    impatient = RenderWorker(timeout=0.01)
    with pytest.raises(PreviewFailed, match="longer than"):
        asyncio.run(impatient.ask({"do": "ping"}))
    assert impatient.pid is None  # killed, not left running
    impatient.close()


def test_a_cut_upload_resumes_from_where_the_server_is(rig):
    lan = log_in(rig)
    data = os.urandom(9 * 2**20 + 77)
    started = lan.post("/console/uploads", {"name": "Cửa khẩu đêm.mp4", "size": str(len(data)), "channel": "gate"})
    assert started.status_code == 200, started.text
    upload = started.json()["id"]
    headers = {"Origin": rig.url, "X-CSRF-Token": lan.csrf, "X-Console-Fetch": "1"}
    put = lambda offset, body: lan.session.put(f"{rig.url}/console/uploads/{upload}?offset={offset}", data=body,  # noqa: E731
                                               headers=headers)
    assert put(0, data[:8 * 2**20]).json()["received"] == 8 * 2**20
    half = data[8 * 2**20: 8 * 2**20 + 4096]
    try:  # the link drops part way through the second chunk
        requests.put(f"{rig.url}/console/uploads/{upload}?offset={8 * 2**20}", headers={**headers,
                     "Content-Length": str(len(data) - 8 * 2**20)}, data=iter([half]), cookies=lan.session.cookies,
                     timeout=2)
    except requests.RequestException:
        pass
    where = lan.session.get(f"{rig.url}/console/uploads/{upload}", headers=headers).json()["received"]
    assert 8 * 2**20 <= where <= 8 * 2**20 + 4096
    wrong = put(0, data[:10])
    assert wrong.status_code == 409
    assert put(where, data[where:]).json()["received"] == len(data)
    finished = lan.post(f"/console/uploads/{upload}/finish", {})
    assert finished.status_code == 200 and "Cua-khau-dem.mp4" in finished.text
    digest = hashlib.sha256(data).hexdigest()
    assert (rig.data / "content" / "blobs" / digest).read_bytes() == data
    library = lan.get("/console/channels/gate/media")
    assert "Cua-khau-dem.mp4" in library.text and "chưa dùng" in library.text
    deleted = lan.post("/console/channels/gate/media/delete", {"name": "Cua-khau-dem.mp4"})
    assert deleted.status_code == 303 and "Cua-khau-dem.mp4" not in lan.get("/console/channels/gate/media").text
    in_use = lan.post("/console/channels/gate/media/delete", {"name": "gate.jpg"})
    assert in_use.status_code == 409 and "đang được dùng" in in_use.text
    other = lan.session.put(f"{rig.url}/console/uploads/{upload}?offset=0", data=b"x",
                            headers={"Origin": "http://evil.example", "X-CSRF-Token": lan.csrf})
    assert other.status_code == 403


def upload(lan, name: str, data: bytes) -> requests.Response:
    """One upload as the console's script sends it: start, 8 MB chunks, finish."""
    upload_id = lan.post("/console/uploads", {"name": name, "size": str(len(data)), "channel": "gate"}).json()["id"]
    headers = {"Origin": lan.rig.url, "X-CSRF-Token": lan.csrf, "X-Console-Fetch": "1"}
    for offset in range(0, len(data), 8 * 2**20):
        lan.session.put(f"{lan.rig.url}/console/uploads/{upload_id}?offset={offset}",
                        data=data[offset:offset + 8 * 2**20], headers=headers).raise_for_status()
    return lan.post(f"/console/uploads/{upload_id}/finish", {})


def test_the_library_shows_what_each_file_is_and_warns_above_1080p(rig, tmp_path):
    from PIL import Image

    lan = log_in(rig)
    big = tmp_path / "big.jpg"
    Image.new("RGB", (2560, 1440), (12, 60, 100)).save(big, quality=80)
    assert upload(lan, "Cửa khẩu 2K.jpg", big.read_bytes()).status_code == 200
    assert upload(lan, "bang-gia.pdf", b"%PDF-1.4 not a picture").status_code == 200
    library = lan.get("/console/channels/gate/media").text
    rows = {m.group(1): m.group(0) for m in re.finditer(r"<tr[^>]*>\s*<td>.*?<b>([^<]+)</b>.*?</tr>", library, re.S)}
    assert "video 1920×1080 · 10.0 s · h264" in rows["sample-clip.mp4"]
    assert "ảnh 1920×1080" in rows["gate.jpg"] and "Lớn hơn 1080p" not in rows["gate.jpg"]
    assert "ảnh 2560×1440" in rows["Cua-khau-2K.jpg"] and "Lớn hơn 1080p" in rows["Cua-khau-2K.jpg"]
    assert "Không đọc được tệp này như ảnh hay video" in rows["bang-gia.pdf"] and "<img" not in rows["bang-gia.pdf"]
    assert str(rig.data) not in library  # the server's own paths are not staff's business
    poster = re.search(r'<img class="thumb" src="([^"]+)"', rows["sample-clip.mp4"]).group(1)
    answer = lan.get(poster)
    assert answer.headers["content-type"] == "image/jpeg" and answer.content[:3] == b"\xff\xd8\xff"


def test_a_draft_is_laid_out_for_the_worker_again_only_when_it_changed(rig):
    lan = log_in(rig)
    folder = rig.running.server.config.app.state.drafts.work / "draft~gate~lan"
    assert lan.get("/console/channels/gate/preview/daytime.yaml/opening-hours").status_code == 200
    mark = folder / "playlists" / "left-here.txt"
    mark.write_text("a file the layout would remove")
    assert lan.get("/console/channels/gate/preview/daytime.yaml/opening-hours").status_code == 200
    assert mark.exists()  # the same draft: the folder was not laid out again
    lan.post("/console/channels/gate/draft", {"action": "remove-file", "name": "night.yaml"})
    assert lan.get("/console/channels/gate/preview/daytime.yaml/opening-hours").status_code == 200
    assert not mark.exists() and not (folder / "playlists" / "night.yaml").exists()  # a changed draft: laid out anew
