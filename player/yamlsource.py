"""Safe YAML loading that remembers the line of every mapping key, for error messages."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

from .errors import ContentError, Problem

MAX_DIGITS = 30  # no setting needs more; Python refuses to read an integer of over 4300 digits at all
MAX_DEPTH = 40


class LineDict(dict[Any, Any]):
    """A dict from YAML that knows the line of each of its keys (1-based)."""

    lines: dict[Any, int]
    line: int


class LineList(list[Any]):
    """A list from YAML that knows the line of each of its items (1-based)."""

    lines: list[int]
    line: int


class YamlShapeError(yaml.MarkedYAMLError):
    """Valid YAML in a shape these files never use (a list as a key, an alias), with its line."""


class _Loader(yaml.SafeLoader):
    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self.depth = 0

    def compose_node(self, parent: yaml.Node | None, index: int) -> yaml.Node | None:
        # Aliases are refused where they appear: a few lines of them expand to millions of
        # items (the "billion laughs"), and none of these files needs one.
        if self.check_event(yaml.AliasEvent):
            event = self.peek_event()
            raise YamlShapeError(None, None, f"*{event.anchor} is an alias: anchors and aliases (&name, *name) are "
                                 "not used in these files; write the value out in full", event.start_mark)
        if self.depth >= MAX_DEPTH:
            raise YamlShapeError(None, None, f"nested more than {MAX_DEPTH} levels deep", self.peek_event().start_mark)
        self.depth += 1
        try:
            return super().compose_node(parent, index)
        finally:
            self.depth -= 1


# YAML 1.1 reads on/off/yes/no as true/false, which would turn a key named `on` or the
# Norwegian language code `no` into booleans; like YAML 1.2, only true and false are.
# It also reads 07:30 as the number 450 (base 60) and 017 as 15 (octal): like YAML 1.2,
# those stay text, so a time written without quotes is still a time.
_BOOL, _INT, _FLOAT = "tag:yaml.org,2002:bool", "tag:yaml.org,2002:int", "tag:yaml.org,2002:float"
_Loader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag not in (_BOOL, _INT, _FLOAT)]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_Loader.add_implicit_resolver(_BOOL, re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF"))
_Loader.add_implicit_resolver(_INT, re.compile(r"^(?:[-+]?(?:0|[1-9][0-9_]*)|0x[0-9a-fA-F_]+)$"), list("-+0123456789"))
_Loader.add_implicit_resolver(_FLOAT, re.compile(
    r"^(?:[-+]?(?:[0-9][0-9_]*)\.[0-9_]*(?:[eE][-+]?[0-9]+)?|[-+]?\.[0-9][0-9_]*(?:[eE][-+]?[0-9]+)?"
    r"|[-+]?[0-9][0-9_]*[eE][-+]?[0-9]+|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$"), list("-+0123456789."))

def _construct_key(key_node: yaml.Node) -> str:
    """A mapping key as the text it was written as: `1:`, `true:` and `2026-01-01:` are names here, not values."""
    if isinstance(key_node, yaml.MappingNode) or isinstance(key_node, yaml.SequenceNode):
        shape = "a mapping {…}" if isinstance(key_node, yaml.MappingNode) else "a list […]"
        raise YamlShapeError(None, None, f"a key must be a plain name, not {shape} (check the braces and the "
                             "indentation around it)", key_node.start_mark)
    if key_node.tag == "tag:yaml.org,2002:null" or not str(key_node.value).strip():
        raise YamlShapeError(None, None, "a key is missing before ':' (an empty or ~ key)", key_node.start_mark)
    return str(key_node.value)


def _construct_int(loader: _Loader, node: yaml.ScalarNode) -> int:
    if sum(c.isdigit() for c in str(node.value)) > MAX_DIGITS:
        raise YamlShapeError(None, None, f"a number of more than {MAX_DIGITS} digits", node.start_mark)
    return yaml.constructor.SafeConstructor.construct_yaml_int(loader, node)


def _construct_mapping(loader: _Loader, node: yaml.MappingNode) -> LineDict:
    loader.flatten_mapping(node)
    out = LineDict()
    out.lines = {}
    out.line = node.start_mark.line + 1
    for key_node, value_node in node.value:
        key = _construct_key(key_node)
        if key in out:
            raise yaml.MarkedYAMLError(
                "while reading a mapping", node.start_mark,
                f"key {key!r} appears twice", key_node.start_mark,
            )
        out[key] = loader.construct_object(value_node, deep=True)
        out.lines[key] = key_node.start_mark.line + 1
    return out


def _construct_sequence(loader: _Loader, node: yaml.SequenceNode) -> LineList:
    out = LineList(loader.construct_object(child, deep=True) for child in node.value)
    out.lines = [child.start_mark.line + 1 for child in node.value]
    out.line = node.start_mark.line + 1
    return out


def _refuse(loader: _Loader, node: yaml.Node) -> Any:
    return loader.construct_undefined(node)  # YAML's own message, with the file and line


_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)
_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_SEQUENCE_TAG, _construct_sequence)
_Loader.add_constructor(_INT, _construct_int)
# Only the plain kinds: a set, binary bytes or an ordered-pairs list where text is expected
# would reach code that checks for str, list and dict.
for _tag in ("set", "binary", "omap", "pairs"):
    _Loader.add_constructor(f"tag:yaml.org,2002:{_tag}", _refuse)


def parse_yaml(text: str, filename: str) -> Any:
    """Parse YAML text safely; a syntax error becomes a ContentError naming file and line."""
    try:
        loader = _Loader(text)
        try:
            return loader.get_single_data()
        finally:
            loader.dispose()
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else None
        message = " ".join(str(part) for part in (exc.context, exc.problem) if part)
        if not isinstance(exc, YamlShapeError):
            message = f"not valid YAML: {message}"
        raise ContentError([Problem(filename, "", message, line, code="yaml-refused")]) from None
    except yaml.YAMLError as exc:
        raise ContentError([Problem(filename, "", f"not valid YAML: {exc}", code="yaml-syntax")]) from None


def load_yaml(path: Path) -> Any:
    """Read and parse one YAML file; unreadable or non-UTF-8 files become a ContentError."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ContentError([Problem(str(path), "", f"cannot read: {exc.strerror}", code="unreadable")]) from None
    try:
        text = data.decode("utf-8-sig")  # a byte-order mark (Windows Notepad) is not content
    except UnicodeDecodeError as exc:
        line = data[:exc.start].count(b"\n") + 1
        raise ContentError([Problem(str(path), "", f"not UTF-8 text ({exc.reason} at byte {exc.start}); save it as UTF-8",
                                    line, code="not-utf8")]) from None
    return parse_yaml(text, str(path))


def line_of(container: Any, key: Any) -> int | None:
    """The line of `key` in a LineDict / index in a LineList, else the container's own line."""
    if isinstance(container, LineDict):
        return container.lines.get(key, container.line)
    if isinstance(container, LineList):
        if isinstance(key, int) and 0 <= key < len(container.lines):
            return container.lines[key]
        return container.line
    return None
