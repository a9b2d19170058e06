"""Safe YAML loading that remembers the line of every mapping key, for error messages."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

from .errors import ContentError, Problem


class LineDict(dict):  # type: ignore[type-arg]
    """A dict from YAML that knows the line of each of its keys (1-based)."""

    lines: dict[Any, int]
    line: int


class LineList(list):  # type: ignore[type-arg]
    """A list from YAML that knows the line of each of its items (1-based)."""

    lines: list[int]
    line: int


class _Loader(yaml.SafeLoader):
    pass


# YAML 1.1 reads on/off/yes/no as true/false, which would turn a key named `on` or the
# Norwegian language code `no` into booleans; like YAML 1.2, only true and false are.
_BOOL = "tag:yaml.org,2002:bool"
_Loader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != _BOOL]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_Loader.add_implicit_resolver(_BOOL, re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF"))


def _construct_mapping(loader: _Loader, node: yaml.MappingNode) -> LineDict:
    loader.flatten_mapping(node)
    out = LineDict()
    out.lines = {}
    out.line = node.start_mark.line + 1
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
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


_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)
_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_SEQUENCE_TAG, _construct_sequence)


def parse_yaml(text: str, filename: str) -> Any:
    """Parse YAML text safely; a syntax error becomes a ContentError naming file and line."""
    try:
        return yaml.load(text, Loader=_Loader)  # noqa: S506 - _Loader is a SafeLoader
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else None
        message = " ".join(str(part) for part in (exc.context, exc.problem) if part)
        raise ContentError([Problem(filename, "", f"not valid YAML: {message}", line)]) from None
    except yaml.YAMLError as exc:
        raise ContentError([Problem(filename, "", f"not valid YAML: {exc}")]) from None


def load_yaml(path: Path) -> Any:
    """Read and parse one YAML file; unreadable or non-UTF-8 files become a ContentError."""
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise ContentError([Problem(str(path), "", f"not UTF-8 text ({exc.reason} at byte {exc.start})")]) from None
    except OSError as exc:
        raise ContentError([Problem(str(path), "", f"cannot read: {exc.strerror}")]) from None
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
