"""Names and ids from outside match whole: no trailing newline, NUL, look-alike letters or overlong values slip in.

`re.match` with `$` accepts "x\\n": a notice id with a trailing newline was once
accepted by the server and could never be cleared. Every pattern now matches the
whole value; this table holds each kind of near miss against each checker.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import pytest

from player.config import load_config
from player.errors import ContentError
from sync.errors import ManifestError
from sync.manifest import check_channel, parse_manifest
from sync.notice import Notice, notice_payload, parse_notice
from sync.server.tokens import make_token, parse_token

GOOD_SHA = "a" * 64
T0 = datetime(2026, 11, 30, 9, 0, tzinfo=timezone(timedelta(hours=7)))


def channel_ok(value: str) -> bool:
    try:
        check_channel(value)
    except ManifestError:
        return False
    return True


def sha_ok(value: str) -> bool:
    payload = ('{"format": 1, "channel": "tinh-bien", "generation": 1, "created": "x", "files": '
               '[{"path": "media/a.png", "sha256": %s, "size": 1}]}')
    try:
        parse_manifest((payload % json.dumps(value)).encode())
    except ManifestError:
        return False
    return True


def notice_ok(notice_id: str = "notice-0001", screen: str = "tb-gate-01") -> bool:
    notice = Notice(notice_id, "urgent", (("vi", "Cổng tạm đóng"),), ("tinh-bien",), (screen,), T0, T0 + timedelta(hours=1))
    try:
        parse_notice(notice_payload(notice))
    except ManifestError:
        return False
    return True


def screen_id_ok(tmp_path, value: str) -> bool:
    path = tmp_path / "kiosk.yaml"
    path.write_text("screen:\n  id: " + json.dumps(value) + "\n", encoding="utf-8")
    try:
        load_config(path)
    except ContentError:
        return False
    return True


NEAR_MISSES = [
    ("{}\n", "a trailing newline"),
    ("{}\x00", "a trailing NUL"),
    ("\n{}", "a leading newline"),
    ("{} ", "a trailing space"),
]


@pytest.mark.parametrize("template, why", NEAR_MISSES)
def test_a_value_with_extra_characters_is_refused_everywhere(tmp_path, template, why):
    assert not channel_ok(template.format("tinh-bien")), why
    assert not sha_ok(template.format(GOOD_SHA)), why
    assert not notice_ok(notice_id=template.format("notice-0001")), why
    assert not notice_ok(screen=template.format("tb-gate-01")), why
    assert not screen_id_ok(tmp_path, template.format("tb-gate-01")), why


@pytest.mark.parametrize("checker, good, lookalike", [
    (channel_ok, "tinh-bien", "tinh-bіen"),          # Cyrillic і
    (sha_ok, GOOD_SHA, "а" + "a" * 63),               # Cyrillic а
    (lambda v: notice_ok(notice_id=v), "notice-0001", "notice-ΟΟ01"),  # Greek capital omicron
    (lambda v: notice_ok(screen=v), "tb-gate-01", "tb-gate-０1"),      # full-width zero
])
def test_look_alike_letters_are_refused(checker, good, lookalike):
    assert checker(good)
    assert not checker(lookalike)


@pytest.mark.parametrize("checker, longest, alphabet", [
    (channel_ok, 64, "c"),
    (lambda v: notice_ok(notice_id=v), 64, "n"),
    (lambda v: notice_ok(screen=v), 64, "s"),
])
def test_lengths_are_bounded_on_both_sides(checker, longest, alphabet):
    assert checker(alphabet * longest)
    assert not checker(alphabet * (longest + 1))
    assert not checker("")


def test_a_sha256_must_be_exactly_64_hex_digits():
    assert sha_ok(GOOD_SHA)
    assert not sha_ok(GOOD_SHA[:-1])
    assert not sha_ok(GOOD_SHA + "a")
    assert not sha_ok(GOOD_SHA.upper())


def test_a_token_with_a_trailing_newline_is_still_read_after_trimming_but_not_with_inner_junk():
    token = make_token("screen").text
    assert parse_token(token) is not None
    assert parse_token(token + "\n") is not None  # a token file ends with a newline; it is trimmed on purpose
    assert parse_token(token + "\x00") is None
    assert parse_token(token + "x") is None
