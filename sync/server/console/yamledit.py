"""Round-trip edits of content YAML (ruamel.yaml): staff change fields in forms, the file keeps everything else.

An unedited file saves byte-identical, and an edit changes only the lines of the
fields it touched: the edited document is dumped next to the unedited one, and
only the lines that differ between those two dumps are carried into the original
text, so quoting, comments, blank lines and flow style elsewhere stay as written.
Text is saved in Unicode NFC (a Vietnamese letter typed as base plus combining
marks becomes the one code point the screen's fonts and the validator expect).
"""

from __future__ import annotations

import difflib
import io
import unicodedata
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.scalarstring import DoubleQuotedScalarString, LiteralScalarString

Path = tuple[str | int, ...]


class EditError(ValueError):
    """A path that does not lead anywhere in the document."""


def _yaml() -> YAML:
    yaml = YAML(typ="rt")
    yaml.preserve_quotes = True
    yaml.width = 4096  # never fold a long line: staff text stays on the line it was on
    yaml.indent(mapping=2, sequence=4, offset=2)
    yaml.allow_unicode = True
    return yaml


def load(text: str) -> Any:
    """The document as ruamel's round-trip objects (an empty file: an empty mapping)."""
    found = _yaml().load(text) if text.strip() else None
    return CommentedMap() if found is None else found


def dump(document: Any) -> str:
    out = io.StringIO()
    _yaml().dump(document, out)
    return out.getvalue()


def nfc(value: Any) -> Any:
    """Text in NFC, keeping ruamel's scalar style (quoted, block) where the value had one."""
    if isinstance(value, str):
        normal = unicodedata.normalize("NFC", value.replace("\r\n", "\n"))
        return type(value)(normal) if type(value) is not str else normal
    return value


def get(document: Any, path: Path, default: Any = None) -> Any:
    node = document
    for part in path:
        try:
            node = node[part]
        except (KeyError, IndexError, TypeError):
            return default
    return node


def set_value(document: Any, path: Path, value: Any) -> bool:
    """Set `path` to `value`, making mappings on the way; an empty value removes the key. Returns whether anything
    changed (setting what is there already changes nothing, so the line stays as written)."""
    *parents, last = path
    node = document
    for index, part in enumerate(parents):
        try:
            node = node[part]
        except (KeyError, IndexError):
            if value in (None, "", [], {}):
                return False
            if not isinstance(part, str):
                raise EditError(f"no {'/'.join(map(str, path[:index + 1]))} to edit") from None
            node[part] = CommentedMap()
            node = node[part]
        except TypeError:
            raise EditError(f"{'/'.join(map(str, path[:index]))} is not a group of fields") from None
    if value in (None, "", [], {}):
        if isinstance(node, dict) and last in node:
            del node[last]
            return True
        return False
    value = nfc(value)
    held = node.get(last) if isinstance(node, dict) else (node[last] if isinstance(last, int) and last < len(node) else None)
    if held is not None and held == value and isinstance(held, bool) == isinstance(value, bool):
        return False
    if isinstance(value, str) and isinstance(held, str):
        value = _styled(held, value)
    elif isinstance(value, str) and "\n" in value:
        value = LiteralScalarString(value if value.endswith("\n") else value + "\n")
    elif isinstance(value, str) and _needs_quotes(value):
        value = DoubleQuotedScalarString(value)
    node[last] = value
    return True


def _styled(held: str, value: str) -> str:
    """The new text in the old text's style: a block stays a block, quoted text stays quoted."""
    if "\n" in value or isinstance(held, LiteralScalarString):
        block: str = LiteralScalarString(value if value.endswith("\n") else value + "\n")
        return block
    if isinstance(held, DoubleQuotedScalarString) or _needs_quotes(value):
        quoted: str = DoubleQuotedScalarString(value)
        return quoted
    styled: str = type(held)(value) if type(held) is not str else value
    return styled


def _needs_quotes(value: str) -> bool:
    """Text a plain scalar would change the meaning of (a number, a time, true/false, a colon, a leading symbol)."""
    probe = _yaml().load(f"k: {value}") if value and "\n" not in value else None
    try:
        return not isinstance(probe, dict) or probe.get("k") != value
    except Exception:
        return True


def seq(items: list[Any] | None = None) -> CommentedSeq:
    return CommentedSeq(items or [])


def render(original: str, unedited: Any, edited: Any) -> str:
    """The original text with only the lines that `edited` changes against `unedited` replaced (see the module)."""
    before, after = dump(unedited), dump(edited)
    if before == after:
        return original
    if before == original:
        return after
    source, plain, changed = original.splitlines(keepends=True), before.splitlines(keepends=True), after.splitlines(keepends=True)
    # Where each line of the unedited dump sits in the original text (lines ruamel wrote differently have no place).
    place: dict[int, int] = {}
    for tag, a0, a1, b0, b1 in difflib.SequenceMatcher(None, source, plain, autojunk=False).get_opcodes():
        if tag == "equal":
            for offset in range(a1 - a0):
                place[b0 + offset] = a0 + offset
    replace: dict[int, list[str]] = {}  # original line -> what replaces it ([] deletes it)
    insert: dict[int, list[str]] = {}  # new lines to put before original line
    for tag, a0, a1, b0, b1 in difflib.SequenceMatcher(None, plain, changed, autojunk=False).get_opcodes():
        if tag == "equal":
            continue
        new = changed[b0:b1]
        targets = [place[i] for i in range(a0, a1) if i in place]
        if tag in ("replace", "delete") and targets:
            for target in targets:
                replace[target] = []
            replace[targets[0]] = new
            continue
        # an insertion: after the line before it, as the original has that line
        anchor = next((place[i] + 1 for i in range(a0 - 1, -1, -1) if i in place), 0)
        insert.setdefault(anchor, []).extend(new)
    out: list[str] = []
    for index, line in enumerate(source + [""]):
        out += insert.get(index, [])
        if index < len(source):
            out += replace.get(index, [line])
    text = "".join(out)
    if text and not text.endswith("\n"):
        text += "\n"
    return text
