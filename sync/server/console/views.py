"""View-models for the editors (pure): each item, topic and daypart of a file with its fields' values and, beside
each field, the validator's problems in the console's language."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from player.errors import Problem
from player.problem_texts import problem_text

from . import forms
from .yamledit import Path, get

ITEM_FIELDS = ("id", "type", "duration", "transition", "transition.duration", "fit", "presentation", "stack_languages",
               "media", "background.color", "background.image", "when.weekdays", "when.times", "when.dates", "loop",
               "volume")
TOPIC_FIELDS = ("id", "icon", "color", "title")
DAYPART_FIELDS = ("playlist", "priority", "when.weekdays", "when.times", "when.dates")


@dataclass(frozen=True)
class Said:
    severity: str
    text: str


@dataclass
class NodeView:
    """An item, a topic or a daypart as its form shows it."""

    name: str  # forms' node name: items/2
    key: str  # the validator's: items[2]
    kind: str  # "item", "page", "topic", "daypart"
    node: Any
    said: dict[str, list[Said]] = field(default_factory=dict)  # field ("" for the node itself) -> problems
    children: list[NodeView] = field(default_factory=list)  # a topic's sub-topics or pages
    depth: int = 0

    def value(self, name: str) -> str:
        return forms.scalar(self.node, name)

    def problems(self, *names: str) -> list[Said]:
        return [s for name in names for s in self.said.get(name, [])]

    def problems_under(self, prefix: str) -> list[Said]:
        """The problems of `prefix` and of everything below it (title.vi, title.km…)."""
        return [s for name, said in self.said.items() if name == prefix or name.startswith(prefix + ".") for s in said]

    @property
    def id(self) -> str:
        return forms.scalar(self.node, "id") or forms.scalar(self.node, "playlist")

    @property
    def bad(self) -> bool:
        return any(s.severity == "error" for said in self.said.values() for s in said) or \
            any(child.bad for child in self.children)

    def texts(self, languages: tuple[str, ...]) -> list[forms.TextView]:
        return forms.texts(self.node, languages)

    def titles(self, languages: tuple[str, ...]) -> dict[str, str]:
        return forms.titles(self.node, languages)

    @property
    def when(self) -> dict[str, Any]:
        return forms.when_view(self.node)

    @property
    def transition(self) -> tuple[str, str]:
        return forms.transition_view(self.node)

    @property
    def media(self) -> dict[str, str]:
        return forms.media_view(self.node)

    @property
    def background(self) -> tuple[str, str]:
        return forms.background_view(self.node)

    @property
    def stack(self) -> list[str]:
        value = self.node.get("stack_languages") if isinstance(self.node, dict) else None
        return [str(v) for v in value] if isinstance(value, list) else []


@dataclass
class FileView:
    """A content file in the editor: its nodes, and the problems that belong to no field of theirs."""

    path: str
    kind: str  # "playlist", "schedule", "browse"
    document: Any
    nodes: list[NodeView]
    general: list[Said]

    def value(self, name: str) -> str:
        return forms.scalar(self.document, name)

    def texts(self, key: str, languages: tuple[str, ...]) -> dict[str, str]:
        return forms.titles(self.document, languages, key)

    @property
    def transition(self) -> tuple[str, str]:
        return forms.transition_view(self.document)

    @property
    def errors(self) -> int:
        return sum(1 for s in self.general if s.severity == "error") + sum(1 for n in self.nodes if n.bad)


def file_view(path: str, document: Any, problems: list[Problem], language: str) -> FileView:
    kind = "schedule" if path.endswith("schedule.yaml") else "browse" if path.endswith("browse.yaml") else "playlist"
    if kind == "playlist":
        nodes = _list(document, ("items",), "item")
    elif kind == "schedule":
        nodes = _list(document, ("dayparts",), "daypart")
    else:
        nodes = _topics(document, ("topics",), 0)
    view = FileView(path, kind, document, nodes, [])
    for problem in problems:
        said = Said(problem.severity, problem_text(problem, language))
        if not _place(view.nodes, problem.key, said):
            view.general.append(said)
    return view


def _list(document: Any, path: Path, kind: str, depth: int = 0) -> list[NodeView]:
    listed = get(document, path)
    if not isinstance(listed, list):
        return []
    return [NodeView(forms.node_name(path + (i,)), forms.problem_key(path + (i,)), kind, node, depth=depth)
            for i, node in enumerate(listed)]


def _topics(document: Any, path: Path, depth: int) -> list[NodeView]:
    out = _list(document, path, "topic", depth)
    for view in out:
        node_path = forms.node_path(view.name)
        view.children = _topics(document, node_path + ("topics",), depth + 1) + \
            _list(document, node_path + ("pages",), "page", depth + 1)
    return out


def _place(nodes: list[NodeView], key: str, said: Said) -> bool:
    """Put a problem beside the field its key names, in the deepest node it belongs to."""
    for node in sorted(_walk(nodes), key=lambda n: -len(n.key)):
        for tail in (key[len(node.key):],) if key.startswith(node.key) else ():
            if tail and tail[0] not in ".[":
                continue
            rest = tail.lstrip(".")
            fields = sorted(ITEM_FIELDS + TOPIC_FIELDS + DAYPART_FIELDS, key=len, reverse=True)
            if rest.startswith(("text.", "title.")):
                name = ".".join(rest.split(".")[:3]) if rest.startswith("text.") else ".".join(rest.split(".")[:2])
            elif rest.startswith("media"):
                name = "media"
            else:
                name = next((f for f in fields if rest == f or rest.startswith((f + ".", f + "["))), "")
            node.said.setdefault(name, []).append(said)
            return True
    return False


def _walk(nodes: list[NodeView]) -> list[NodeView]:
    out = []
    for node in nodes:
        out.append(node)
        out += _walk(node.children)
    return out
