"""Editor forms (pure): what each form field shows from a content file, and the edits a posted form makes to it.

A field is named `<node>|<field>`: the node is the YAML path of an item, a topic or a
daypart (`items/2`, `topics/0/pages/1`, `dayparts/0`), the field one of FIELDS
(`text.km.body`, `when.weekdays`, `duration`). Structural buttons post
`action=add:<list>`, `copy:<node>`, `up:<node>`, `down:<node>` or `delete:<node>`.
A field posted with what the file already holds changes nothing, so its line stays.
"""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass
from typing import Any, Callable

from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.scalarstring import DoubleQuotedScalarString

from .planning import insert_mark
from .yamledit import Path, get, set_value

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
ICONS = ("passport", "customs", "exchange", "transport", "sights", "emergency", "info", "clock", "map", "health")
TEXT_PARTS = ("title", "body", "caption")
_NODE = re.compile(r"[A-Za-z_]+(/[A-Za-z0-9_]+)*")
MAX_ITEMS = 500


class FormError(ValueError):
    """A field or action that does not fit the file (a stale form, a hand-made request)."""


def node_path(text: str) -> Path:
    if not _NODE.fullmatch(text):
        raise FormError(f"not a place in the file: {text!r}")
    return tuple(int(part) if part.isdigit() else part for part in text.split("/"))


def node_name(path: Path) -> str:
    return "/".join(str(part) for part in path)


def problem_key(path: Path, field: str = "") -> str:
    """The validator's key for a node's field: ("items", 2) + "text.km" -> "items[2].text.km"."""
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else part)
    return f"{out}.{field}" if field else out


# --- showing ----------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class TextView:
    language: str
    title: str
    body: str
    caption: str
    plain: bool  # held as one text (the body) rather than {title, body, caption}


def texts(node: Any, languages: tuple[str, ...], key: str = "text") -> list[TextView]:
    held = node.get(key) if isinstance(node, dict) else None
    out = []
    for code in languages:
        value = held.get(code) if isinstance(held, dict) else None
        if isinstance(value, dict):
            title, body, caption = (str(value.get(part) or "") for part in TEXT_PARTS)
            out.append(TextView(code, title, body, caption, plain=False))
        else:
            out.append(TextView(code, "", str(value or ""), "", plain=True))
    return out


def titles(node: Any, languages: tuple[str, ...], key: str = "title") -> dict[str, str]:
    held = node.get(key) if isinstance(node, dict) else None
    if isinstance(held, str):
        return {languages[0]: held}
    return {code: str(held.get(code) or "") for code in languages} if isinstance(held, dict) else {}


def when_view(node: Any) -> dict[str, Any]:
    held = node.get("when") if isinstance(node, dict) else None
    held = held if isinstance(held, dict) else {}

    def listed(key: str) -> list[str]:
        value = held.get(key)
        values = value if isinstance(value, list) else ([] if value is None else [value])
        return [_date_text(v) for v in values]

    return {"weekdays": listed("weekdays"), "times": "\n".join(listed("times")), "dates": "\n".join(listed("dates"))}


def _date_text(value: Any) -> str:
    if isinstance(value, dict):
        return f"{value.get('from', '')}..{value.get('to', '')}"
    return str(value)


def transition_view(node: Any) -> tuple[str, str]:
    held = node.get("transition") if isinstance(node, dict) else None
    if isinstance(held, str):
        return held, ""
    if isinstance(held, dict):
        return str(held.get("type") or ""), "" if held.get("duration") is None else str(held.get("duration"))
    return "", ""


def media_view(node: Any, key: str = "media") -> dict[str, str]:
    held = node.get(key) if isinstance(node, dict) else None
    if isinstance(held, str):
        return {"default": held}
    return {str(k): str(v) for k, v in held.items()} if isinstance(held, dict) else {}


def background_view(node: Any) -> tuple[str, str]:
    held = node.get("background") if isinstance(node, dict) else None
    if isinstance(held, str):
        return (held, "") if held.startswith("#") else ("", held)
    if isinstance(held, dict):
        return str(held.get("color") or ""), str(held.get("image") or "")
    return "", ""


def scalar(node: Any, key: str) -> str:
    value = node.get(key) if isinstance(node, dict) else None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return " ".join(str(v) for v in value)
    return "" if value is None else str(value)


# --- editing ----------------------------------------------------------------------------------------------------

def apply_fields(document: Any, form: dict[str, list[str]], languages: tuple[str, ...]) -> list[str]:
    """Apply every `<node>|<field>` of a posted form; returns the fields that changed the document."""
    changed = []
    grouped: dict[str, dict[str, list[str]]] = {}
    for name, values in form.items():
        if "|" in name:
            node, _, field = name.partition("|")
            grouped.setdefault(node, {})[field] = values
    for node_text, fields in grouped.items():
        path = node_path(node_text) if node_text else ()
        node = get(document, path)
        if not isinstance(node, dict):
            raise FormError(f"{node_text} is not in the file any more (reload the page)")
        for field, values in fields.items():
            if _apply(node, field, values, languages):
                changed.append(f"{node_text}|{field}")
    return changed


def _apply(node: Any, field: str, values: list[str], languages: tuple[str, ...]) -> bool:
    value = values[0].strip() if values else ""
    parts = field.split(".")
    if parts[0] in ("text", "ticker", "title") and len(parts) >= 2:
        return _apply_text(node, parts, values[0] if values else "")
    if field == "when.weekdays" or field == "stack_languages":
        chosen = [v for v in values if v and v != "-"]
        key: Path = ("when", "weekdays") if field.startswith("when") else ("stack_languages",)
        order = WEEKDAYS if field.startswith("when") else languages
        return set_value(node, key, _flow(sorted(set(chosen), key=lambda v: order.index(v) if v in order else 99)))
    if field in ("when.times", "when.dates"):
        lines = [line.strip() for line in (values[0] if values else "").splitlines() if line.strip()]
        held = get(node, tuple(field.split(".")))
        if isinstance(held, list) and [_date_text(v) for v in held] == lines:
            return False
        changed = set_value(node, tuple(field.split(".")), _flow([DoubleQuotedScalarString(line) for line in lines]))
        if changed and not node.get("when"):
            del node["when"]
        return changed
    if field == "transition":
        kind, _ = transition_view(node)
        if value == kind:
            return False
        held = node.get("transition")
        if isinstance(held, dict):
            return set_value(node, ("transition", "type"), value) if value else set_value(node, ("transition",), None)
        return set_value(node, ("transition",), value or None)
    if field == "transition.duration":
        _, seconds = transition_view(node)
        if value == seconds or not value and not seconds:
            return False
        kind = transition_view(node)[0] or "crossfade"
        if not isinstance(node.get("transition"), dict):
            node["transition"] = _flow_map({"type": kind})
        return set_value(node, ("transition", "duration"), _number(value))
    if parts[0] == "media":
        return _apply_media(node, parts[1] if len(parts) > 1 else "default", value)
    if field in ("background.color", "background.image"):
        color, image = background_view(node)
        if value == (color if field.endswith("color") else image):
            return False
        held = node.get("background")
        if not isinstance(held, dict):
            node["background"] = _flow_map({k: v for k, v in (("color", DoubleQuotedScalarString(color) if color else ""),
                                                              ("image", image)) if v})
        result = set_value(node, ("background", parts[1]), DoubleQuotedScalarString(value) if
                           value.startswith("#") else value)
        if not node.get("background"):
            del node["background"]
        return result
    if field in ("duration", "volume", "priority"):
        return set_value(node, (field,), _number(value) if value else None)
    if field == "loop":
        return set_value(node, ("loop",), True if value == "true" else None)
    if field == "color":
        return set_value(node, ("color",), DoubleQuotedScalarString(value) if value else None)
    if field in ("id", "type", "fit", "presentation", "icon", "playlist"):
        return set_value(node, (field,), value or None)
    raise FormError(f"no field {field!r} here")


def _apply_text(node: Any, parts: list[str], raw: str) -> bool:
    """text.<lang>.<title|body|caption>, ticker.<lang>, title.<lang>: plain text stays plain while it has only a
    body; a language emptied of every part leaves the file."""
    value = raw.strip("\n") if "\n" in raw.strip("\n") else raw.strip()
    key, code = parts[0], parts[1]
    if len(parts) == 2:  # a ticker or a title: one text per language
        changed = set_value(node, (key, code), value or None)
        if changed and isinstance(node.get(key), dict) and not node[key]:
            del node[key]
        return changed
    part = parts[2]
    held = get(node, (key, code))
    now = get(node, (key, code, part)) if isinstance(held, dict) else (held if part == "body" else None)
    if (str(now).rstrip("\n") if now is not None else "") == value:
        return False
    if isinstance(held, dict):
        set_value(node, (key, code, part), value or None)
        if not held:
            del node[key][code]
    elif part == "body":
        set_value(node, (key, code), value or None)
    else:  # a title or caption beside a plain text: the language becomes {title, body, caption}
        node.setdefault(key, CommentedMap())
        node[key][code] = _flow_map({"body": DoubleQuotedScalarString(held)} if held else {})
        set_value(node, (key, code, part), value)
    if isinstance(node.get(key), dict) and not node[key]:
        del node[key]
    return True


def _apply_media(node: Any, code: str, value: str) -> bool:
    held = media_view(node)
    if held.get(code, "") == value:
        return False
    held = {k: v for k, v in held.items() if k != code}
    if value:
        held[code] = value
    if not held:
        return set_value(node, ("media",), None)
    if set(held) == {"default"}:
        return set_value(node, ("media",), held["default"])
    if isinstance(node.get("media"), dict):
        return set_value(node, ("media", code), value or None)
    node["media"] = _flow_map(held)
    return True


def _number(text: str) -> int | float:
    try:
        number = float(text.replace(",", "."))
    except ValueError:
        raise FormError(f"{text!r} is not a number") from None
    return int(number) if number.is_integer() and "." not in text and "," not in text else number


def _flow(values: list[Any]) -> CommentedSeq | None:
    if not values:
        return None
    out = CommentedSeq(values)
    out.fa.set_flow_style()
    return out


def _flow_map(values: dict[str, Any]) -> CommentedMap:
    out = CommentedMap(values)
    out.fa.set_flow_style()
    return out


def _insert_mark(document: Any, where: str) -> str:
    """insert:<node>|text.<lang>.<part>:<offset>:<200b or 2060>: a Khmer break mark put into the text."""
    target, _, rest = where.partition("|")
    field_name, _, place = rest.partition(":")
    offset_text, _, code = place.partition(":")
    parts = field_name.split(".")
    node = get(document, node_path(target))
    if len(parts) != 3 or parts[0] != "text" or parts[2] not in TEXT_PARTS or not offset_text.isdigit() or \
            code not in ("200b", "2060") or not isinstance(node, dict):
        raise FormError(f"not a break mark: {where!r}")
    shown = next((t for t in texts(node, (parts[1],))), None)
    current = getattr(shown, parts[2]) if shown else ""
    try:
        _apply_text(node, parts, insert_mark(current, int(offset_text), chr(int(code, 16))))
    except ValueError as exc:
        raise FormError(str(exc)) from None
    return target


# --- structure --------------------------------------------------------------------------------------------------

NEW_NODES: dict[str, Callable[[int], CommentedMap]] = {
    "items": lambda n: CommentedMap([("id", f"item-{n}"), ("type", "text"),
                                     ("text", CommentedMap([("vi", _flow_map({"title": DoubleQuotedScalarString("…")}))]))]),
    "pages": lambda n: CommentedMap([("id", f"page-{n}"), ("type", "text"),
                                     ("text", CommentedMap([("vi", _flow_map({"title": DoubleQuotedScalarString("…")}))]))]),
    "topics": lambda n: CommentedMap([("id", f"topic-{n}"), ("icon", "info"),
                                      ("title", _flow_map({"vi": DoubleQuotedScalarString("…")})),
                                      ("pages", CommentedSeq([NEW_NODES["pages"](1)]))]),
    "dayparts": lambda n: CommentedMap([("playlist", ""), ("priority", n)]),
}


def apply_action(document: Any, action: str) -> str | None:
    """A structural button: add to a list, copy, move up or down, delete. Returns the node to show open after."""
    verb, _, where = action.partition(":")
    if verb == "save" or not verb:
        return None
    if verb == "insert":
        return _insert_mark(document, where)
    path = node_path(where)
    if verb == "add":
        listed = get(document, path)
        if listed is None:
            set_value(document, path, CommentedSeq())
            listed = get(document, path)
        if not isinstance(listed, list) or str(path[-1]) not in NEW_NODES or len(listed) >= MAX_ITEMS:
            raise FormError(f"cannot add to {where}")
        node = NEW_NODES[str(path[-1])](len(listed) + 1)
        ids = {str(n.get("id")) for n in listed if isinstance(n, dict)}
        while "id" in node and node["id"] in ids:
            node["id"] = str(node["id"]) + "-new"
        listed.append(node)
        return node_name(path + (len(listed) - 1,))
    *parent, index = path
    listed = get(document, tuple(parent))
    if not isinstance(listed, list) or not isinstance(index, int) or not 0 <= index < len(listed):
        raise FormError(f"{where} is not in the file any more (reload the page)")
    if verb == "copy":
        twin = copy.deepcopy(listed[index])
        if isinstance(twin, dict) and "id" in twin:
            ids = {str(n.get("id")) for n in listed if isinstance(n, dict)}
            stem, number = str(twin["id"]), 2
            while f"{stem}-{number}" in ids:
                number += 1
            twin["id"] = f"{stem}-{number}"
        listed.insert(index + 1, twin)
        return node_name(tuple(parent) + (index + 1,))
    if verb in ("up", "down"):
        other = index - 1 if verb == "up" else index + 1
        if 0 <= other < len(listed):
            listed[index], listed[other] = listed[other], listed[index]
        return node_name(tuple(parent) + (max(0, min(other, len(listed) - 1)),))
    if verb == "delete":
        del listed[index]
        return None
    raise FormError(f"no action {verb!r}")
