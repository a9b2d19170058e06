"""JSON from outside, parsed with bounds: nesting depth, integer digits, no NaN, no duplicate keys.

`json.loads` raises more than `JSONDecodeError`: a document nested 100,000 deep
raises `RecursionError`, an integer of 5,000 digits raises a plain `ValueError`
(Python's digit limit), and a float like 1e999 comes back as infinity. Anything
a screen or the server reads from the network or a USB stick goes through
`load_json`, which turns all of that into one `ValueError` with a message.
"""

from __future__ import annotations

import json
from typing import Any

MAX_DEPTH = 32
MAX_DIGITS = 32


def load_json(data: bytes | str) -> Any:
    """The parsed document, or ValueError saying what is wrong with it (never another exception)."""
    try:
        text = data.decode("utf-8") if isinstance(data, bytes) else data
        value = json.loads(text, parse_int=_int, parse_float=_float, parse_constant=_constant,
                           object_pairs_hook=_object)
    except UnicodeDecodeError as exc:
        raise ValueError(f"not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    except RecursionError:
        raise ValueError(f"nested deeper than {MAX_DEPTH} levels") from None
    except _Refused as exc:
        raise ValueError(str(exc)) from None
    except json.JSONDecodeError as exc:
        raise ValueError(f"not JSON: {exc}") from None
    _check_depth(value)
    return value


class _Refused(ValueError):
    """Valid JSON this reader will not take (raised from json's hooks, which pass it through)."""


def _int(text: str) -> int:
    if len(text.lstrip("-")) > MAX_DIGITS:
        raise _Refused(f"a number of more than {MAX_DIGITS} digits")
    return int(text)


def _float(text: str) -> float:
    value = float(text)
    if len(text) > 64 or value in (float("inf"), float("-inf")):
        raise _Refused(f"the number {text[:20]}… is too large or too long")
    return value


def _constant(text: str) -> float:
    raise _Refused(f"{text} is not a JSON number")


def _object(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:  # a signed document must mean one thing to every reader
            raise _Refused(f"key {key!r} appears twice in one object")
        out[key] = value
    return out


def _check_depth(value: Any) -> None:
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, (dict, list)):
            if depth > MAX_DEPTH:
                raise ValueError(f"nested deeper than {MAX_DEPTH} levels")
            children = item.values() if isinstance(item, dict) else item
            stack.extend((child, depth + 1) for child in children)
