"""Line breaking per script and the fit-or-cut rules, with a measure that counts characters."""

from __future__ import annotations

import pytest

from player.breaks import clusters, line_segments
from player.textlayout import ELLIPSIS, body_floor_px, largest_fitting, truncate, wrap


def chars(text: str) -> int:
    return len(text) * 10  # every character 10 px wide


@pytest.mark.parametrize("text, width, language, lines", [
    ("Chào mừng đến cửa khẩu", 100, "vi", ("Chào mừng", "đến cửa", "khẩu")),
    ("Welcome to the gate", 110, "en", ("Welcome to", "the gate")),
    ("Line one\nLine two", 500, "en", ("Line one", "Line two")),
    ("abcdefghijkl", 50, "en", ("abcde", "fghij", "kl")),  # a word longer than the line
])
def test_wrap_latin_at_spaces(text, width, language, lines):
    assert wrap(text, width, chars, language) == lines


def test_chinese_breaks_between_characters_but_not_before_closing_punctuation():
    lines = wrap("欢迎来到国际口岸。开放时间：每天", 80, chars, "zh")
    assert "".join(lines) == "欢迎来到国际口岸。开放时间：每天"
    assert all(line[0] not in "。，：；？！、" for line in lines)
    assert all(chars(line) <= 80 or len(line) == 2 and line[1] in "。：" for line in lines)


def test_khmer_breaks_at_word_boundaries_and_zero_width_spaces():
    text = "សូមស្វាគមន៍មកកាន់ច្រកទ្វារព្រំដែន"
    words = line_segments(text, "km")
    assert len(words) >= 3  # ICU's dictionary finds the words of an unspaced Khmer run
    assert "".join(words) == text
    assert line_segments("ច្រក\u200bទ្វារ", "km") == ("ច្រក\u200b", "ទ្វារ")
    # The zero-width space is a break hint, never drawn.
    assert all("\u200b" not in line for line in wrap("ច្រក\u200bទ្វារ", 40, chars, "km"))


def test_khmer_is_never_broken_inside_a_cluster():
    text = "ស្វាគមន៍ព្រំដែនអន្តរជាតិ"
    allowed = set()
    position = 0
    for cluster in clusters(text):
        position += len(cluster)
        allowed.add(position)
    assert "ស្វា" in clusters(text)  # a consonant with its subscript and vowel is one cluster
    for width in (20, 30, 40, 60, 90):
        lines = wrap(text, width, chars, "km")
        cut = 0
        for line in lines[:-1]:
            cut += len(line)
            assert cut in allowed, f"width {width}: broke inside a cluster after {line!r}"


def test_truncate_adds_an_ellipsis_only_when_text_is_dropped():
    assert truncate(("a", "b"), 2, 100, chars).lines == ("a", "b")
    cut = truncate(("first line", "second line", "third"), 2, 100, chars)
    assert cut.cut and cut.lines[-1].endswith(ELLIPSIS) and len(cut.lines) == 2
    assert chars(cut.lines[-1]) <= 100


def test_largest_fitting_size():
    assert largest_fitting(lambda s: s <= 73, 40, 120) == 73
    assert largest_fitting(lambda s: False, 40, 120) is None
    assert largest_fitting(lambda s: True, 40, 120) == 120


@pytest.mark.parametrize("width_px, width_mm, at_least, at_most", [
    (1920, 952, 68, 74),  # 43" 1080p: capitals of ~50 px
    (3840, 952, 136, 148),  # the same panel at 4K needs twice the pixels
    (1920, 1210, 53, 58),  # 55" 1080p
])
def test_body_floor_makes_capitals_25_mm(width_px, width_mm, at_least, at_most):
    assert at_least <= body_floor_px(width_px / width_mm) <= at_most


def test_a_word_joiner_keeps_a_khmer_place_name_on_one_line_and_is_not_drawn():
    from player.textlayout import clean

    plain, joined = "និង\u200bបឹង\u200bធុយលៀម", "និង\u200bបឹង\u200bធុយ\u2060លៀម"
    width = chars("និងបឹងធុយ")  # room for everything up to the middle of the name
    assert clean(wrap(plain, width, chars, "km")[-1]) == "លៀម"  # the dictionary does not know the name: split
    lines = wrap(joined, width, chars, "km")
    assert [clean(line) for line in lines][-1] == "ធុយលៀម"  # kept whole, and the joiner is not drawn
