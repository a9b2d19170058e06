"""The staff's way out of a locked-down kiosk: a corner tap gesture, a salted PIN hash, and a growing lockout.

Pure: times are monotonic seconds passed in. The PIN is stored in kiosk.yaml
only as `pbkdf2-sha256$ITERATIONS$SALT$HASH` (salt and hash in base64), made
by `python -m player hash-pin`; checking it takes a fraction of a second on
purpose, so the kiosk runs the check off the render loop.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
import re
from dataclasses import dataclass, replace

SCHEME = "pbkdf2-sha256"
ITERATIONS = 200_000
CORNERS = ("top-left", "top-right", "bottom-left", "bottom-right")
TAP_GAP_SECONDS = 1.5  # the most time between two taps of the corner gesture
FREE_TRIES = 3  # wrong PINs before the first lockout
FIRST_LOCKOUT = 30.0  # seconds; doubles with each wrong PIN after that
MAX_LOCKOUT = 3600.0
PIN_DIGITS = (4, 12)
_HASH = re.compile(r"pbkdf2-sha256\$(\d{4,9})\$([A-Za-z0-9+/=]{16,})\$([A-Za-z0-9+/=]{40,})")


# -- the PIN ------------------------------------------------------------------------------------

def check_pin_format(pin: str) -> str | None:
    """None if `pin` can be typed on the keypad, else what is wrong."""
    low, high = PIN_DIGITS
    if not pin.isdigit() or not pin.isascii():
        return "a PIN is digits only (0-9)"
    if not low <= len(pin) <= high:
        return f"a PIN has {low} to {high} digits"
    return None


def hash_pin(pin: str, salt: bytes | None = None, iterations: int = ITERATIONS) -> str:
    """The string kiosk.yaml stores for `pin` (a new random salt each time unless one is given)."""
    salt = salt if salt is not None else os.urandom(16)
    digest = hashlib.pbkdf2_hmac("sha256", pin.encode("ascii"), salt, iterations)
    return f"{SCHEME}${iterations}${base64.b64encode(salt).decode()}${base64.b64encode(digest).decode()}"


def parse_pin_hash(value: object) -> tuple[int, bytes, bytes]:
    """(iterations, salt, digest) of a stored PIN; ValueError saying what a good one looks like."""
    match = _HASH.fullmatch(value.strip()) if isinstance(value, str) else None
    if match is None:
        raise ValueError("must be a PIN hash made by `python -m player hash-pin` "
                         "(pbkdf2-sha256$ITERATIONS$SALT$HASH), never the PIN itself")
    try:
        salt = base64.b64decode(match.group(2), validate=True)
        digest = base64.b64decode(match.group(3), validate=True)
    except binascii.Error:
        raise ValueError("the salt or hash part is not valid base64; make the line again with "
                         "`python -m player hash-pin`") from None
    if len(digest) != 32:
        raise ValueError("the hash part is not a SHA-256 digest; make the line again with `python -m player hash-pin`")
    return int(match.group(1)), salt, digest


def check_pin(pin: str, stored: str) -> bool:
    """True if `pin` is the PIN `stored` was made from (compared in constant time)."""
    iterations, salt, digest = parse_pin_hash(stored)
    try:
        attempt = hashlib.pbkdf2_hmac("sha256", pin.encode("ascii"), salt, iterations)
    except UnicodeEncodeError:
        return False
    return hmac.compare_digest(attempt, digest)


# -- wrong PINs ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class Attempts:
    """Wrong PINs so far and until when the keypad refuses another try."""

    failures: int = 0
    locked_until: float = 0.0

    def wait(self, now: float) -> float:
        """Seconds before another PIN may be tried (0: now)."""
        return max(0.0, self.locked_until - now)

    def failed(self, now: float) -> "Attempts":
        failures = self.failures + 1
        if failures < FREE_TRIES:
            return replace(self, failures=failures)
        lockout = min(MAX_LOCKOUT, FIRST_LOCKOUT * 2 ** (failures - FREE_TRIES))
        return Attempts(failures, now + lockout)

    def record(self, now: float) -> dict[str, float]:
        """What is kept on disk: the wrong PINs and the seconds of lockout left (the monotonic clock restarts with the machine)."""
        return {"failures": self.failures, "locked_for": round(self.wait(now), 1)}

    @classmethod
    def from_record(cls, data: object, now: float) -> "Attempts":
        """The attempts kept by `record`, the lockout running again in full from `now`, so a power cycle
        never shortens it; anything unreadable counts as no wrong PIN (only the screen's own user writes it)."""
        if not isinstance(data, dict):
            return cls()
        failures, locked_for = data.get("failures"), data.get("locked_for")
        if not isinstance(failures, int) or isinstance(failures, bool) or not 0 <= failures <= 10_000:
            return cls()
        wait = float(locked_for) if isinstance(locked_for, (int, float)) and not isinstance(locked_for, bool) else 0.0
        return cls(failures, now + min(MAX_LOCKOUT, max(0.0, wait)))


# -- the corner gesture -------------------------------------------------------------------------

@dataclass(frozen=True)
class CornerTaps:
    """Taps in a row inside the exit corner, each within TAP_GAP_SECONDS of the one before."""

    count: int = 0
    last: float = float("-inf")

    def tap(self, inside: bool, now: float, needed: int, gap: float = TAP_GAP_SECONDS) -> tuple["CornerTaps", bool]:
        """The state after a tap (inside the corner or not) and whether it completed the gesture."""
        if not inside:
            return CornerTaps(), False
        count = self.count + 1 if now - self.last <= gap else 1
        if count >= needed:
            return CornerTaps(), True
        return CornerTaps(count, now), False


def corner_box(canvas: tuple[int, int], corner: str, side: int) -> tuple[int, int, int, int]:
    """(x, y, w, h) of the exit corner's square, `side` pixels, on a canvas of `canvas` size."""
    width, height = canvas
    x = 0 if corner.endswith("left") else width - side
    y = 0 if corner.startswith("top") else height - side
    return (x, y, side, side)
