"""What a publish changes, item by item (pure): per playlist the items added, changed and removed, the texts changed
per language, the media added and removed, and the bytes screens will fetch."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .yamledit import load

PLAYLISTS, MEDIA = "playlists/", "media/"


@dataclass(frozen=True)
class FileState:
    sha256: str
    size: int
    data: bytes | None = None  # a playlist's text; None for media


@dataclass
class PlaylistChange:
    file: str
    added: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    texts: dict[str, list[str]] = field(default_factory=dict)  # language -> items whose text in it changed
    other: bool = False  # something outside the items changed (defaults, ticker, the schedule, the menu)

    @property
    def empty(self) -> bool:
        return not (self.added or self.changed or self.removed or self.texts or self.other)

    def as_json(self) -> dict[str, Any]:
        return {"file": self.file, "added": self.added, "changed": self.changed, "removed": self.removed,
                "texts": self.texts, "other": self.other}


@dataclass
class Summary:
    playlists: list[PlaylistChange]
    media_added: list[tuple[str, int]]
    media_removed: list[str]
    fetch_bytes: int  # what a screen holding the current generation downloads
    files: int

    @property
    def empty(self) -> bool:
        return not (self.media_added or self.media_removed or any(not p.empty for p in self.playlists))

    def as_json(self) -> dict[str, Any]:
        """For the audit log: what a publish changed, by item."""
        return {"playlists": [p.as_json() for p in self.playlists if not p.empty],
                "media_added": [name for name, _ in self.media_added], "media_removed": self.media_removed,
                "fetch_bytes": self.fetch_bytes}


def summarize(before: dict[str, FileState], after: dict[str, FileState]) -> Summary:
    """`before` is the current generation, `after` the draft; playlists carry their text."""
    changes = []
    for path in sorted(set(before) | set(after)):
        if not path.startswith(PLAYLISTS):
            continue
        old, new = before.get(path), after.get(path)
        if old and new and old.sha256 == new.sha256:
            continue
        changes.append(_playlist(path, old.data if old else None, new.data if new else None))
    media_added = [(p[len(MEDIA):], f.size) for p, f in sorted(after.items())
                   if p.startswith(MEDIA) and (p not in before or before[p].sha256 != f.sha256)]
    media_removed = [p[len(MEDIA):] for p in sorted(before) if p.startswith(MEDIA) and p not in after]
    held = {f.sha256 for f in before.values()}
    fetch = sum({f.sha256: f.size for f in after.values() if f.sha256 not in held}.values())
    return Summary(changes, media_added, media_removed, fetch, len(after))


def _playlist(path: str, old: bytes | None, new: bytes | None) -> PlaylistChange:
    change = PlaylistChange(path[len(PLAYLISTS):])
    before, after = _document(old), _document(new)
    list_key = "topics" if path.endswith("browse.yaml") else "dayparts" if path.endswith("schedule.yaml") else "items"
    old_items, new_items = _by_id(before.get(list_key)), _by_id(after.get(list_key))
    if list_key != "items":
        change.other = _plain(before) != _plain(after)
        return change
    change.added = [i for i in new_items if i not in old_items]
    change.removed = [i for i in old_items if i not in new_items]
    for item_id, node in new_items.items():
        if item_id in old_items and node != old_items[item_id]:
            change.changed.append(item_id)
            old_text, new_text = old_items[item_id].get("text") or {}, node.get("text") or {}
            for code in sorted(set(old_text) | set(new_text)):
                if old_text.get(code) != new_text.get(code):
                    change.texts.setdefault(code, []).append(item_id)
    rest = lambda d: {k: v for k, v in d.items() if k != "items"}  # noqa: E731
    change.other = rest(before) != rest(after)
    return change


def _document(data: bytes | None) -> dict[str, Any]:
    if data is None:
        return {}
    try:
        found = _plain(load(data.decode("utf-8", "replace")))
    except Exception:  # a broken file is the validator's to report; here it is "changed"
        return {"_unreadable": data.decode("utf-8", "replace")}
    return found if isinstance(found, dict) else {}


def _by_id(listed: Any) -> dict[str, dict[str, Any]]:
    if not isinstance(listed, list):
        return {}
    out = {}
    for index, node in enumerate(listed):
        if isinstance(node, dict):
            out[str(node.get("id", node.get("playlist", f"#{index + 1}")))] = node
    return out


def _plain(value: Any) -> Any:
    """ruamel's objects as plain dicts, lists and text (comments and styles left behind)."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, str):
        return str(value)
    return value
