"""Reading typed fields out of parsed YAML while collecting every problem at once."""

from __future__ import annotations

import math
from typing import Any, Callable, TypeVar

from .errors import Problem
from .yamlsource import line_of

T = TypeVar("T")

_MISSING = object()


def type_name(value: Any) -> str:
    """How a person would call the kind of a YAML value."""
    if value is None:
        return "nothing"
    for kind, name in ((bool, "true/false"), (int, "a number"), (float, "a number"), (str, "text"),
                       (dict, "a mapping"), (list, "a list")):
        if isinstance(value, kind):
            return name
    return type(value).__name__


class Reader:
    """Collects Problems for one file; every getter returns a usable default on error."""

    def __init__(self, file: str) -> None:
        self.file = file
        self.problems: list[Problem] = []

    def error(self, code: str, key: str, message: str, line: int | None = None, **values: object) -> None:
        """An error of kind `code` (a stable name the console translates, with `values` filled in) at `key`."""
        self.problems.append(Problem(self.file, key, message, line, "error", code, _values(values)))

    def warn(self, code: str, key: str, message: str, line: int | None = None, **values: object) -> None:
        self.problems.append(Problem(self.file, key, message, line, "warning", code, _values(values)))

    def error_at(self, code: str, container: Any, key: str | int, path: str, message: str, line: int | None = None,
                 **values: object) -> None:
        """An error in `container[key]`, named `path.key` (`path[key]` in a list) on the key's own line
        (else `line`): key and line are named once."""
        self.error(code, _join(path, key), message, line_of(container, key) or line, **values)

    def warn_at(self, code: str, container: Any, key: str | int, path: str, message: str, line: int | None = None,
                **values: object) -> None:
        """A warning about `container[key]`, named and placed as `error_at` does."""
        self.warn(code, _join(path, key), message, line_of(container, key) or line, **values)

    def section(self, parent: dict[str, Any], key: str, allowed: set[str], path: str = "") -> dict[str, Any]:
        """`parent[key]` as a mapping of `allowed` keys ({} when absent), its problems named `path.key`."""
        return self.mapping(parent.get(key), _join(path, key), allowed, line_of(parent, key))

    @property
    def failed(self) -> bool:
        return any(p.severity == "error" for p in self.problems)

    def mapping(self, value: Any, path: str, allowed: set[str], line: int | None = None) -> dict[str, Any]:
        """`value` as a mapping; unknown keys are reported with the allowed ones."""
        if value is None:
            return {}
        if not isinstance(value, dict):
            self.error("not-mapping", path, f"must be a mapping of keys, not {type_name(value)}", line)
            return {}
        for key in value:
            if key not in allowed:
                known = ", ".join(sorted(allowed))
                self.error("unknown-key", _join(path, str(key)), f"unknown key; allowed here: {known}", line_of(value, key),
                           allowed=known)
        return value

    def field(self, mapping: dict[str, Any], key: str, path: str, kinds: tuple[type, ...],
              default: Any = _MISSING, what: str = "") -> Any:
        """mapping[key] if it has one of `kinds`; a missing required key is an error."""
        if key not in mapping or mapping[key] is None:
            if default is _MISSING:
                self.error_at("required", mapping, key, path, f"is required ({what or _kinds_text(kinds)})")
                return None
            return default
        value = mapping[key]
        if bool in kinds or not isinstance(value, bool):
            if isinstance(value, kinds):
                return value
        self.error_at("wrong-type", mapping, key, path, f"must be {what or _kinds_text(kinds)}, not {type_name(value)} ({value!r})",
                      value=value)
        return None if default is _MISSING else default

    def number(self, mapping: dict[str, Any], key: str, path: str, default: Any = _MISSING,
               low: float | None = None, high: float | None = None, low_open: bool = False,
               whole: bool = False) -> Any:
        """A finite number (`whole`: an integer) within the bounds; the message says the allowed range."""
        kinds: tuple[type, ...] = (int,) if whole else (int, float)
        what = _range_text(low, high, low_open, whole)
        if key not in mapping or mapping[key] is None:
            return self.field(mapping, key, path, kinds, default, what=what)
        value = self.field(mapping, key, path, kinds, None, what=what)
        fallback = None if default is _MISSING else default
        if value is None:
            return fallback
        if not math.isfinite(value):
            self.error_at("out-of-range", mapping, key, path, f"must be {what}, not {value}", value=value)
            return fallback
        if low is not None and (value <= low if low_open else value < low):
            bound = f"more than {low:g}" if low_open else f"at least {low:g}"
            self.error_at("out-of-range", mapping, key, path, f"must be {bound}, not {value}", value=value)
            return fallback
        if high is not None and value > high:
            self.error_at("out-of-range", mapping, key, path, f"must be at most {high:g}, not {value}", value=value)
            return fallback
        return value

    def choice(self, mapping: dict[str, Any], key: str, path: str, choices: tuple[str, ...], default: Any = _MISSING) -> Any:
        if key not in mapping or mapping[key] is None:
            return self.field(mapping, key, path, (str,), default, what="one of " + ", ".join(choices))
        value = self.field(mapping, key, path, (str,), None, what="one of " + ", ".join(choices))
        fallback = None if default is _MISSING else default
        if value is not None and value not in choices:
            self.error_at("not-a-choice", mapping, key, path, f"must be one of {', '.join(choices)}, not {value!r}",
                          choices=", ".join(choices), value=value)
            return fallback
        return fallback if value is None else value

    def convert(self, mapping: dict[str, Any], key: str, path: str, parse: Callable[[Any], T], default: Any = _MISSING) -> T | Any:
        """Run `parse` on the raw value; its ValueError text becomes the problem message."""
        if key not in mapping or mapping[key] is None:
            if default is _MISSING:
                self.error_at("required", mapping, key, path, "is required")
                return None
            return default
        try:
            return parse(mapping[key])
        except ValueError as exc:
            self.error_at("invalid-value", mapping, key, path, str(exc), detail=exc)
            return None if default is _MISSING else default


def _values(values: dict[str, object]) -> tuple[tuple[str, str], ...]:
    return tuple((name, str(value)) for name, value in values.items())


def _range_text(low: float | None, high: float | None, low_open: bool, whole: bool) -> str:
    kind = "a whole number" if whole else "a number"
    if low is not None and high is not None:
        return f"{kind} from {low:g}{' (not included)' if low_open else ''} to {high:g}"
    if low is not None:
        return f"{kind} {'above' if low_open else 'of at least'} {low:g}"
    return kind


def _join(path: str, key: str | int) -> str:
    if isinstance(key, int):
        return f"{path}[{key}]"
    return f"{path}.{key}" if path else key


def _kinds_text(kinds: tuple[type, ...]) -> str:
    names = {bool: "true or false", int: "a whole number", float: "a number", str: "text",
             dict: "a mapping", list: "a list"}
    if set(kinds) == {int, float}:
        return "a number"
    return " or ".join(names.get(k, k.__name__) for k in kinds)
