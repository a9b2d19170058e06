"""Editing content in the console as staff do: forms over the files, round-trip saves that keep what was not
edited, problems beside their fields, conflicting saves refused with both versions shown."""

from __future__ import annotations

import copy
from dataclasses import replace
import difflib
import html
import re
import unicodedata

import pytest

from sync.server.console import forms, yamledit
from sync.server.console.planning import break_marks
from sync.server.console.records import ConsoleRecords
from sync.server.console.views import file_view
from player.content import parse_playlist
from tests.conftest import REPO, database_for
from tests.console_rig import log_in
from tests.html_forms import form_fields
from tests.server_rig import start_rig

DAYTIME = (REPO / "playlists" / "daytime.yaml").read_text(encoding="utf-8")


def demo_files() -> dict[str, bytes]:
    files = {f"playlists/{p.name}": p.read_bytes() for p in (REPO / "playlists").glob("*.yaml")}
    files.update({f"media/{p.name}": p.read_bytes() for p in (REPO / "media").iterdir() if p.is_file()})
    return files


def changed_lines(before: str, after: str) -> list[str]:
    return [line for line in difflib.unified_diff(before.splitlines(), after.splitlines(), n=0, lineterm="")
            if line[:1] in "+-" and not line.startswith(("+++", "---"))]


def edit(text: str, **values: str) -> str:
    document = yamledit.load(text)
    unedited = copy.deepcopy(document)
    forms.apply_fields(document, {k.replace("__", "|").replace("_", "."): [v] for k, v in values.items()},
                       ("vi", "en", "km", "zh"))
    return yamledit.render(text, unedited, document)


def test_an_unedited_file_saves_byte_identical():
    for path in (REPO / "playlists").glob("*.yaml"):
        text = path.read_text(encoding="utf-8")
        document = yamledit.load(text)
        assert yamledit.render(text, copy.deepcopy(document), document) == text


def test_one_edited_field_changes_only_its_line_and_comments_stay():
    after = edit(DAYTIME, **{"items/1__text_km_title": "ម៉ោង\u200bបើក"})
    assert changed_lines(DAYTIME, after) == ['-        title: "ម៉ោង\u200bបើក\u200bច្រកទ្វារ"', '+        title: "ម៉ោង\u200bបើក"']
    assert after.count("#") == DAYTIME.count("#")


@pytest.mark.parametrize("field, value, expected", [
    ("items/0__duration", "12", ["-    duration: 10", "+    duration: 12"]),
    ("items/0__duration", "7.5", ["-    duration: 10", "+    duration: 7.5"]),
    ("items/0__fit", "fit", ["-    fit: fill", "+    fit: fit"]),
    ("items/0__text_vi_caption", "", ['-      vi: {title: "Chào mừng đến Cửa khẩu Quốc tế Tịnh Biên", caption: "An Giang, '
                                      'Việt Nam · Nội dung mẫu"}', '+      vi: {title: "Chào mừng đến Cửa khẩu Quốc tế '
                                      'Tịnh Biên"}']),
    ("items/0__when_times", "07:00-11:30", ['+    when:', '+      times: ["07:00-11:30"]']),
])
def test_a_field_edit_touches_only_its_lines(field, value, expected):
    assert changed_lines(DAYTIME, edit(DAYTIME, **{field: value})) == expected


def test_text_is_saved_in_nfc():
    decomposed = unicodedata.normalize("NFD", "Giờ mở cửa mới")
    after = edit(DAYTIME, **{"items/1__text_vi_title": decomposed})
    assert "Giờ mở cửa mới" in after and decomposed not in after


def test_structure_buttons_add_copy_move_delete():
    document = yamledit.load(DAYTIME)
    ids = lambda: [item["id"] for item in document["items"]]  # noqa: E731
    first = ids()
    assert forms.apply_action(document, "copy:items/0") == "items/1" and ids()[1] == "welcome-2"
    forms.apply_action(document, "down:items/0")
    assert ids()[:2] == ["welcome-2", "welcome"]
    forms.apply_action(document, "delete:items/0")
    assert ids() == first
    assert forms.apply_action(document, "add:items") == f"items/{len(first)}"
    text = yamledit.render(DAYTIME, yamledit.load(DAYTIME), document)
    playlist, problems = parse_playlist(yamledit.load(text), "daytime.yaml", "daytime", ("vi", "en"), lambda c: True)
    assert playlist is not None and playlist.items[-1].id == f"item-{len(first) + 1}"


def test_khmer_break_marks_follow_icu_and_a_click_inserts_a_mark():
    pieces = break_marks("សូម\u200bស្វាគមន៍")
    assert "".join(p.text for p in pieces) == "សូម\u200bស្វាគមន៍"
    assert any(p.breaks for p in pieces)  # ICU breaks after the zero-width space
    subscript = next(p for p in pieces if "្" in p.text)  # a stacked consonant stays one piece, never split
    assert len(subscript.text) >= 3
    document = yamledit.load('items:\n  - id: a\n    type: text\n    text:\n      km: {title: "ច្រកទ្វារ"}\n')
    forms.apply_action(document, "insert:items/0|text.km.title:4:2060")
    assert document["items"][0]["text"]["km"]["title"] == "ច្រក\u2060ទ្វារ"


def test_problems_sit_beside_their_fields_in_the_console_language():
    text = DAYTIME.replace("    duration: 12\n", "    duration: -4\n", 1)
    playlist, problems = parse_playlist(yamledit.load(text), "daytime.yaml", "daytime", ("vi", "en", "km", "zh"),
                                        lambda c: True)
    from sync.server.console.drafts import field_key
    keyed = [replace(p, key=field_key(p.key)) for p in problems]
    view = file_view("playlists/daytime.yaml", yamledit.load(text), keyed, "vi")
    arrivals = next(n for n in view.nodes if n.id == "arrivals")
    assert [s.text for s in arrivals.problems("duration")] == ["Giá trị -4 nằm ngoài khoảng cho phép."]
    english = file_view("playlists/daytime.yaml", yamledit.load(text), keyed, "en")
    assert [s.text for s in next(n for n in english.nodes if n.id == "arrivals").problems("duration")] == \
        ["-4 is outside the allowed range."]


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def rig(request, tmp_path_factory):
    running = start_rig(tmp_path_factory.mktemp("edit"), database_for(request.param, request))
    assert running.publish(1, demo_files()).status_code == 201
    yield running
    running.stop()


def test_saving_through_the_page_and_a_conflicting_save(rig):
    lan = log_in(rig)
    page = lan.get("/console/channels/gate/edit/daytime.yaml")
    assert page.status_code == 200 and 'lang="km"' in page.text and "data-keep" in page.text
    fields = [f for f in form_fields(page.text, "/edit/daytime.yaml") if f[0] != "csrf"]
    unchanged = lan.post("/console/channels/gate/edit/daytime.yaml", fields + [("action", "save")])
    assert unchanged.status_code == 200 and "Đã lưu" in unchanged.text
    rows = ConsoleRecords(rig.db)
    assert rows.draft_files("gate", "lan")["playlists/daytime.yaml"].data == demo_files()["playlists/daytime.yaml"]
    # a second tab saves first; this tab's save is refused and both versions are shown
    other = [(k, "Giờ mở cửa (tab 2)" if k == "items/1|text.vi.title" else v) for k, v in fields]
    assert lan.post("/console/channels/gate/edit/daytime.yaml", other + [("action", "save")]).status_code == 303
    mine = [(k, "Giờ mở cửa (tab 1)" if k == "items/1|text.vi.title" else v) for k, v in fields]
    refused = lan.post("/console/channels/gate/edit/daytime.yaml", mine + [("action", "save")])
    assert refused.status_code == 409
    assert "Giờ mở cửa (tab 2)" in refused.text and "Giờ mở cửa (tab 1)" in refused.text
    assert "đã được lưu ở một thẻ hoặc cửa sổ khác" in refused.text
    yours = html.unescape(re.search(r'<textarea name="yours" hidden>(.*?)</textarea>', refused.text, re.S).group(1))
    kept = lan.post("/console/channels/gate/resolve/daytime.yaml", {"choice": "mine", "source": "draft", "yours": yours})
    assert kept.status_code == 303
    assert "Giờ mở cửa (tab 1)" in rows.draft_files("gate", "lan")["playlists/daytime.yaml"].data.decode()


def test_a_publish_since_the_draft_began_is_not_overwritten_silently(rig):
    minh_token = rig.add_staff("minh", ["gate"])
    del minh_token
    lan = log_in(rig, "minh")
    page = lan.get("/console/channels/gate/edit/night.yaml")
    fields = [f for f in form_fields(page.text, "/edit/night.yaml") if f[0] != "csrf"]
    files = demo_files()
    files["playlists/night.yaml"] = files["playlists/night.yaml"].replace(b"id: night", b"id: night  # published", 1)
    generation = rig.current_generation() + 1
    assert rig.publish(generation, files).status_code == 201
    first_title = next(k for k, _ in fields if k.endswith("|text.vi.title"))
    mine = [(k, "Đêm (bản của tôi)" if k == first_title else v) for k, v in fields]
    refused = lan.post("/console/channels/gate/edit/night.yaml", mine + [("action", "save")])
    assert refused.status_code == 409 and "# published" in refused.text and "Đêm (bản của tôi)" in refused.text
    assert "đã được phát hành bản mới" in refused.text


def test_a_problem_shows_beside_its_field_on_the_page(rig):
    lan = log_in(rig)
    page = lan.get("/console/channels/gate/edit/daytime.yaml")
    fields = [f for f in form_fields(page.text, "/edit/daytime.yaml") if f[0] != "csrf"]
    bad = [(k, "-3" if k == "items/0|duration" else v) for k, v in fields]
    assert lan.post("/console/channels/gate/edit/daytime.yaml", bad + [("action", "save")]).status_code == 303
    shown = lan.get("/console/channels/gate/edit/daytime.yaml")
    item = shown.text[shown.text.index('id="items/0"'):shown.text.index('id="items/1"')]
    assert "Giá trị -3 nằm ngoài khoảng cho phép." in item
    assert "1 lỗi" in lan.get("/console/channels/gate/").text


def test_files_the_draft_removed_stay_removed_when_it_moves_onto_a_newer_generation(rig):
    files = demo_files()
    assert rig.publish(rig.current_generation() + 1, files).status_code == 201
    rig.add_staff("hoa", ["gate"])
    hoa = log_in(rig, "hoa")
    hoa.get("/console/channels/gate/")
    assert hoa.post("/console/channels/gate/draft", {"action": "remove-file", "name": "night.yaml"}).status_code == 303
    # someone else publishes a change to another file meanwhile
    files["playlists/daytime.yaml"] += b"# published by someone else\n"
    assert rig.publish(rig.current_generation() + 1, files).status_code == 201
    assert hoa.post("/console/channels/gate/rebase", {}).status_code == 303
    held = ConsoleRecords(rig.db).draft_files("gate", "hoa")
    assert "playlists/night.yaml" not in held  # not brought back by the rebase
    assert held["playlists/daytime.yaml"].data.endswith(b"# published by someone else\n")
    summary = hoa.get("/console/channels/gate/publish").text.split("</section>")[0].split("Cảnh báo")[0]
    assert "night.yaml" in summary and "daytime.yaml" not in summary
    # a file the draft removed but another publish changed comes back, in its new version: nothing is lost
    files["playlists/night.yaml"] += b"# changed\n"
    assert rig.publish(rig.current_generation() + 1, files).status_code == 201
    assert hoa.post("/console/channels/gate/rebase", {}).status_code == 303
    assert ConsoleRecords(rig.db).draft_files("gate", "hoa")["playlists/night.yaml"].data.endswith(b"# changed\n")
    assert any(row["action"] == "delete" and row["actor"] == "hoa" for row in rig.db.audit_log(channel="gate"))
