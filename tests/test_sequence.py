"""What plays now: rotate and stack rounds, dayparts and priorities, midnight, clock jumps, skips."""

from __future__ import annotations

from pathlib import Path

from player.config import KioskConfig
from player.content import parse_playlist
from player.model import Content, Daypart
from player.sequence import Cursor, Program
from player.when import When, parse_window
from player.yamlsource import parse_yaml
from tests.conftest import at

CONFIG = KioskConfig("t", Path("kiosk.yaml"))
FOUR = {"vi": "Xin chào", "en": "Hello", "km": "សួស្ដី", "zh": "你好", "fr": "Bonjour"}


def playlist(text: str, name: str = "main"):
    pl, problems = parse_playlist(parse_yaml(text, name), f"{name}.yaml", name, CONFIG.languages, lambda c: True)
    assert pl is not None and not [p for p in problems if p.severity == "error"], problems
    return pl


def program(*playlists, dayparts=None) -> Program:
    parts = dayparts or [Daypart(p.id) for p in playlists[:1]]
    return Program.build(Content(tuple(playlists), tuple(parts)), CONFIG.languages, CONFIG.resolve_language)


def run(prog: Program, moments: list[str], cursor: Cursor | None = None) -> list[str]:
    """The slots shown one after another, one decision per moment."""
    cursor = cursor or Cursor()
    shown = []
    for moment in moments:
        decision = prog.decide(cursor, at(moment))
        cursor = decision.cursor
        shown.append("-" if decision.slot is None else f"{decision.slot.item.id}:{'+'.join(decision.slot.languages)}")
    return shown


def item(id_: str, langs=("vi", "en", "km", "zh"), extra: str = "") -> str:
    texts = "".join(f"\n      {c}: {{body: '{FOUR[c]}'}}" for c in langs)
    return f"\n  - id: {id_}\n    type: text\n    text:{texts}{extra}"


def test_rotate_shows_each_language_in_turn_vietnamese_first():
    prog = program(playlist("items:" + item("a") + item("b", ("en", "vi"))))
    assert run(prog, ["2026-11-27 09:00"] * 7) == ["a:vi", "a:en", "a:km", "a:zh", "b:vi", "b:en", "a:vi"]


def test_missing_language_falls_back_along_the_chain_or_is_skipped():
    # km and zh fall back to en; en is already shown in this round, so they are skipped.
    prog = program(playlist("items:" + item("a", ("vi", "en")) + item("b", ("vi", "km"))))
    assert run(prog, ["2026-11-27 09:00"] * 5) == ["a:vi", "a:en", "b:vi", "b:km", "a:vi"]


def test_language_outside_the_rotation_stands_in_through_the_chain():
    prog = program(playlist("items:" + item("a", ("vi", "fr"))))
    config = KioskConfig("t", Path("k"), languages=("vi", "en"), fallback_chain=(("en", "fr"),))
    prog = Program.build(prog.content, config.languages, config.resolve_language)
    assert run(prog, ["2026-11-27 09:00"] * 3) == ["a:vi", "a:fr", "a:vi"]


def test_stack_puts_vietnamese_first_on_one_slide():
    prog = program(playlist("items:" + item("a", extra="\n    presentation: stack\n    stack_languages: [en, vi]")))
    assert run(prog, ["2026-11-27 09:00"] * 2) == ["a:vi+en", "a:vi+en"]


def test_item_windows_and_midnight():
    pl = playlist("items:" + item("day", ("vi",), "\n    when: {times: ['06:00-22:00']}")
                  + item("night", ("vi",), "\n    when: {times: ['22:00-06:00']}"))
    prog = program(pl)
    assert run(prog, ["2026-11-27 21:59", "2026-11-27 22:00", "2026-11-28 05:59", "2026-11-28 06:00"]) == \
        ["day:vi", "night:vi", "night:vi", "day:vi"]


def test_higher_priority_daypart_takes_over_and_the_loop_resumes_where_it_left():
    main = playlist("items:" + item("m1", ("vi",)) + item("m2", ("vi",)) + item("m3", ("vi",)), "main")
    notice = playlist("items:" + item("n1", ("vi",)), "notice")
    parts = [Daypart("main", 0), Daypart("notice", 10, When(times=(parse_window("12:00-12:30"),)))]
    prog = program(main, notice, dayparts=parts)
    assert run(prog, ["2026-11-27 11:58", "2026-11-27 11:59", "2026-11-27 12:00", "2026-11-27 12:10",
                      "2026-11-27 12:30", "2026-11-27 12:31"]) == ["m1:vi", "m2:vi", "n1:vi", "n1:vi", "m3:vi", "m1:vi"]


def test_clock_jump_neither_replays_from_the_top_nor_stalls():
    prog = program(playlist("items:" + item("a", ("vi",)) + item("b", ("vi",)) + item("c", ("vi",))))
    # NTP moves the clock back three hours, then forward a day: the loop just goes on.
    assert run(prog, ["2026-11-27 09:00", "2026-11-27 09:00", "2026-11-27 06:00", "2026-11-28 06:00"]) == \
        ["a:vi", "b:vi", "c:vi", "a:vi"]


def test_jump_into_a_window_where_some_items_are_closed_goes_to_the_next_eligible():
    pl = playlist("items:" + item("a", ("vi",)) + item("b", ("vi",), "\n    when: {times: ['08:00-09:00']}")
                  + item("c", ("vi",)))
    prog = program(pl)
    assert run(prog, ["2026-11-27 08:30", "2026-11-27 23:00", "2026-11-27 23:00"]) == ["a:vi", "c:vi", "a:vi"]


def test_nothing_eligible_gives_the_fallback_and_a_recheck_soon():
    prog = program(playlist("items:" + item("a", ("vi",), "\n    when: {times: ['08:00-09:00']}")))
    decision = prog.decide(Cursor(), at("2026-11-27 10:00"))
    assert decision.slot is None and 0 < decision.seconds <= 10


def test_skipped_items_are_passed_over():
    prog = program(playlist("items:" + item("a", ("vi",)) + item("b", ("vi",))))
    decision = prog.decide(Cursor(), at("2026-11-27 10:00"), skip=frozenset({("main", "a")}))
    assert decision.slot.item.id == "b"


def test_a_daypart_with_a_broken_when_is_left_out_not_opened_all_day(tmp_path):
    from player.content import load_content
    folder = tmp_path / "playlists"
    folder.mkdir()
    (folder / "main.yaml").write_text("items:\n  - {id: m, type: text, text: {vi: Chào}}\n", encoding="utf-8")
    (folder / "notice.yaml").write_text("items:\n  - {id: n, type: text, text: {vi: Thông báo}}\n", encoding="utf-8")
    (folder / "schedule.yaml").write_text(
        "dayparts:\n  - {playlist: main}\n  - {playlist: notice, priority: 10, when: {times: ['12:00-12.30']}}\n",
        encoding="utf-8")
    content, problems = load_content(folder, tmp_path, ("vi",), lambda c: True, at("2026-11-27 09:00"))
    assert any(p.key == "dayparts[1].when.times[0]" for p in problems)
    prog = Program.build(content, ("vi",), CONFIG.resolve_language)
    assert run(prog, ["2026-11-27 09:00", "2026-11-27 12:10"]) == ["m:vi", "m:vi"]


def test_posters_per_language_without_text_rotate_too():
    pl = playlist("items:\n  - id: poster\n    type: image\n    media: {default: p-vi.jpg, km: p-km.jpg, zh: p-zh.jpg}\n")
    prog = program(pl)
    shown = [(d.slot.language, d.slot.item.media_for(d.slot.language)) for d in
             (prog.decide(c, at("2026-11-27 09:00")) for c in
              [Cursor(), Cursor("main", (("main", 0),)), Cursor("main", (("main", 1),))])]
    assert shown == [("vi", "p-vi.jpg"), ("km", "p-km.jpg"), ("zh", "p-zh.jpg")]
