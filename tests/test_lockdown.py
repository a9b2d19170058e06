"""The staff exit: PIN hashes, wrong PINs locked out for longer each time, the corner gesture (pure, in tables)."""

from __future__ import annotations

import pytest

from player.touch.lockdown import (FIRST_LOCKOUT, MAX_LOCKOUT, Attempts, CornerTaps, check_pin, check_pin_format, corner_box,
                             hash_pin, parse_pin_hash)


def test_a_pin_hash_is_salted_and_checks_only_its_pin():
    one, two = hash_pin("2468", iterations=1000), hash_pin("2468", iterations=1000)
    assert one != two, "the same PIN twice gives two different lines (a random salt)"
    assert "2468" not in one
    assert check_pin("2468", one) and check_pin("2468", two)
    assert not check_pin("2469", one) and not check_pin("", one) and not check_pin("24680", one)


@pytest.mark.parametrize("value", ["2468", "sha256$abc", "pbkdf2-sha256$12$c2FsdHNhbHRzYWx0$xx", None, 1234,
                                   "pbkdf2-sha256$1000$c2FsdHNhbHRzYWx0c2FsdA==$" + "A" * 40])
def test_anything_but_a_made_hash_is_refused_with_how_to_make_one(value):
    with pytest.raises(ValueError, match="hash-pin"):
        parse_pin_hash(value)


@pytest.mark.parametrize("pin, ok", [("2468", True), ("123456789012", True), ("123", False), ("1234567890123", False),
                                     ("12a4", False), ("١٢٣٤", False)])
def test_pin_format(pin, ok):
    assert (check_pin_format(pin) is None) == ok


def test_wrong_pins_lock_the_keypad_for_longer_each_time():
    attempts, waits = Attempts(), []
    now = 0.0
    for _ in range(12):
        attempts = attempts.failed(now)
        waits.append(attempts.wait(now))
        now += attempts.wait(now)  # the next try as soon as it is allowed
    assert waits[:2] == [0, 0]
    assert waits[2:6] == [FIRST_LOCKOUT, 2 * FIRST_LOCKOUT, 4 * FIRST_LOCKOUT, 8 * FIRST_LOCKOUT]
    assert max(waits) == MAX_LOCKOUT and waits == sorted(waits)


@pytest.mark.parametrize("taps, opens", [
    ([(0.0, True)] * 1 + [(t, True) for t in (1.0, 2.0, 3.0, 4.0)], [False, False, False, False, True]),
    ([(0.0, True), (1.0, True), (3.0, True), (4.0, True), (5.0, True)], [False, False, False, False, False]),  # a 2 s gap
    ([(0.0, True), (0.5, True), (1.0, False), (1.5, True), (2.0, True)], [False] * 5),  # a tap elsewhere breaks the row
    ([(t / 10, True) for t in range(5)], [False, False, False, False, True]),
])
def test_the_corner_gesture_needs_its_taps_in_a_row(taps, opens):
    state, seen = CornerTaps(), []
    for now, inside in taps:
        state, opened = state.tap(inside, now, 5)
        seen.append(opened)
    assert seen == opens


@pytest.mark.parametrize("corner, box", [("top-left", (0, 0, 100, 100)), ("top-right", (1820, 0, 100, 100)),
                                         ("bottom-left", (0, 980, 100, 100)), ("bottom-right", (1820, 980, 100, 100))])
def test_corner_boxes(corner, box):
    assert corner_box((1920, 1080), corner, 100) == box


@pytest.mark.parametrize("kept, failures, wait", [
    ({"failures": 4, "locked_for": 42.5}, 4, 42.5),     # the lockout runs again in full after a restart
    ({"failures": 2, "locked_for": 0}, 2, 0.0),
    ({"failures": 9, "locked_for": 1e9}, 9, 3600.0),    # never more than the longest lockout
    ({"failures": 5, "locked_for": -3}, 5, 0.0),
    ({"failures": "5"}, 0, 0.0),                        # unreadable: counted as no wrong PIN
    ({"failures": True, "locked_for": 10}, 0, 0.0),
    ([1, 2], 0, 0.0),
    (None, 0, 0.0),
])
def test_wrong_pins_kept_on_disk_come_back_after_a_restart(kept, failures, wait):
    restored = Attempts.from_record(kept, now=500.0)
    assert restored.failures == failures and restored.wait(500.0) == wait


def test_what_is_kept_is_the_lockout_left_not_a_clock_reading():
    locked = Attempts().failed(10.0).failed(11.0).failed(12.0)  # locked until 42
    assert locked.record(now=20.0) == {"failures": 3, "locked_for": 22.0}
    assert Attempts.from_record(locked.record(20.0), now=9000.0).wait(9000.0) == 22.0
