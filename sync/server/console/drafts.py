"""Drafts: one per channel and staff member, started from the channel's current generation (whose files the server
holds as blobs), checked by the player's own parser against the channel profile at every save, refused when the
file changed elsewhere since the editor opened it, and laid out as a folder for previews and publishing.

Blocking (database reads, blob files): call from the database threads.
"""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path
from typing import Any, Callable

from player.config import KioskConfig, parse_config
from player.content import load_content
from player.errors import ContentError, Problem
from player.fontfiles import has_font_for, missing_font
from player.touch.browse import Menu, load_menu
from player.yamlsource import load_yaml

from ...manifest import Manifest
from ..channels import Channels
from .records import ConsoleRecords, DraftFile, DraftRow

PLAYLISTS = "playlists/"
MEDIA = "media/"
_ITEM_NAME = re.compile(r" \([^)]*\)")
_FILE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,79}\.yaml")


@dataclass(frozen=True)
class Conflict:
    """A save refused: the file changed elsewhere since it was opened. Both versions, for the staff member to pick."""

    path: str
    theirs: str  # the text there now (another tab's save, or the channel's newer generation)
    yours: str
    source: str  # "draft" (another tab or window) or "published" (a publish since the draft began)
    theirs_sha256: str | None


@dataclass(frozen=True)
class Checked:
    """What the player's parser says of a draft: every problem, each named by draft path and field key."""

    problems: tuple[tuple[str, Problem], ...]  # (path in the draft, problem)

    def of(self, path: str) -> list[Problem]:
        return [p for where, p in self.problems if where == path]

    @property
    def errors(self) -> int:
        return sum(1 for _, p in self.problems if p.severity == "error")


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def field_key(key: str) -> str:
    """A problem's key as the editor names fields: `items[2] (hours).text.km` -> `items[2].text.km`."""
    return _ITEM_NAME.sub("", key)


def check_file_name(name: str) -> str:
    if not _FILE_NAME.fullmatch(name):
        raise ValueError(f"{name!r}: a playlist file name uses letters, digits, '-', '_', '.' and ends in .yaml")
    return name


def profile_config(data: bytes | None, where: Path) -> KioskConfig | None:
    """The channel profile (a kiosk.yaml an admin uploaded) as the player reads it; None without one."""
    if data is None:
        return None
    path = where / "kiosk.yaml"
    path.write_bytes(data)
    try:
        config, problems = parse_config(load_yaml(path), path)
    except ContentError:
        return None
    return config if not any(p.severity == "error" for p in problems) else None


class Drafts:
    def __init__(self, channels: Channels, rows: ConsoleRecords, work: Path) -> None:
        self.channels, self.rows, self.work = channels, rows, work
        work.mkdir(parents=True, exist_ok=True)

    # --- the channel's current generation ------------------------------------------------------------------------

    def current(self, channel: str) -> Manifest | None:
        return self.channels.current(channel)

    def published_files(self, channel: str) -> dict[str, tuple[str, int]]:
        """{path: (sha256, size)} of the current generation."""
        current = self.current(channel)
        return {f.path: (f.sha256, f.size) for f in current.files} if current else {}

    def blob(self, digest: str) -> bytes:
        return self.channels.blob_path(digest).read_bytes()

    # --- drafts --------------------------------------------------------------------------------------------------

    def start(self, channel: str, staff: str, now: datetime) -> DraftRow:
        """A new draft from the current generation: its playlists' text, its media by hash."""
        current = self.current(channel)
        files = []
        for f in current.files if current else ():
            data = self.blob(f.sha256) if f.path.startswith(PLAYLISTS) else None
            files.append(DraftFile(f.path, data, f.sha256, f.size, f.sha256))
        self.rows.start_draft(channel, staff, current.generation if current else 0, files,
                              now.isoformat(timespec="seconds"))
        draft = self.rows.draft(channel, staff)
        assert draft is not None
        return draft

    def open(self, channel: str, staff: str, now: datetime) -> tuple[DraftRow, dict[str, DraftFile]]:
        draft = self.rows.draft(channel, staff) or self.start(channel, staff, now)
        return draft, self.rows.draft_files(channel, staff)

    def save(self, channel: str, staff: str, path: str, text: str, opened_sha256: str | None,
             keep_mine: bool = False) -> Conflict | None:
        """Save a playlist file's new text, unless it changed since the editor opened it (`opened_sha256`): in
        another tab or window, or by a publish of a newer version than the draft began from. `keep_mine` saves over
        the published change (the staff member saw both and chose theirs as the new base)."""
        data = text.encode("utf-8")
        files = self.rows.draft_files(channel, staff)
        held = files.get(path)
        if (held.sha256 if held else None) != opened_sha256:
            return Conflict(path, (held.data or b"").decode("utf-8") if held else "", text, "draft",
                            held.sha256 if held else None)
        published = self.published_files(channel).get(path)
        base = held.base_sha256 if held else None
        if published and published[0] != base and published[0] != sha256(data):
            if not keep_mine:
                return Conflict(path, self.blob(published[0]).decode("utf-8", "replace"), text, "published", published[0])
            base = published[0]
        saved = self.rows.save_file(channel, staff, DraftFile(path, data, sha256(data), len(data), base), opened_sha256)
        if not saved:  # a save between the check and the write
            again = self.rows.draft_files(channel, staff).get(path)
            return Conflict(path, (again.data or b"").decode("utf-8") if again else "", text, "draft",
                            again.sha256 if again else None)
        return None

    def take_published(self, channel: str, staff: str, path: str) -> None:
        """Replace the draft's file with the published one (after a conflict, the staff member chose that)."""
        published = self.published_files(channel).get(path)
        files = self.rows.draft_files(channel, staff)
        held = files.get(path)
        if published is None:
            self.rows.remove_file(channel, staff, path)
            return
        data = self.blob(published[0])
        self.rows.save_file(channel, staff, DraftFile(path, data, published[0], len(data), published[0]),
                            held.sha256 if held else None)

    def remove(self, channel: str, staff: str, path: str) -> None:
        """Take a file out of the draft. The draft remembers what it removed (and which published version), so
        moving onto a newer generation does not bring the file back unless that generation changed it."""
        draft, held = self.rows.draft(channel, staff), self.rows.draft_files(channel, staff).get(path)
        if draft is None or held is None:
            return
        self.rows.remove_file(channel, staff, path)
        if held.base_sha256 is not None:
            removed = {**draft.marks.get("removed", {}), path: held.base_sha256}
            self.rows.set_marks(channel, staff, {**draft.marks, "removed": removed})

    def add_media(self, channel: str, staff: str, name: str, digest: str, size: int) -> None:
        files = self.rows.draft_files(channel, staff)
        path = MEDIA + name
        held = files.get(path)
        base = held.base_sha256 if held else self.published_files(channel).get(path, (None, 0))[0]
        self.rows.save_file(channel, staff, DraftFile(path, None, digest, size, base), held.sha256 if held else None)

    # --- checks and folders --------------------------------------------------------------------------------------

    def config(self, channel: str, folder: Path) -> KioskConfig | None:
        return profile_config(self.rows.profile(channel), folder)

    def materialize(self, files: dict[str, DraftFile], folder: Path, media: bool = True) -> None:
        """The draft as a content folder: playlists written, media hard-linked from the blobs (copied across
        file systems), so a preview reads exactly what would be published."""
        (folder / "playlists").mkdir(parents=True, exist_ok=True)
        (folder / "media").mkdir(parents=True, exist_ok=True)
        for path, f in files.items():
            target = folder / path
            target.parent.mkdir(parents=True, exist_ok=True)
            if f.data is not None:
                target.write_bytes(f.data)
            elif media:
                source = self.channels.blob_path(f.sha256)
                try:
                    os.link(source, target)
                except OSError:
                    target.write_bytes(source.read_bytes())

    def check(self, channel: str, files: dict[str, DraftFile], now: datetime) -> Checked:
        """The player's parser over the draft, against the channel profile's languages and fonts; media names are
        checked against the draft's media (decoding them is the preview worker's)."""
        with tempfile.TemporaryDirectory(dir=self.work) as tmp:
            folder = Path(tmp)
            self.materialize(files, folder, media=False)
            config = self.config(channel, folder)
            languages = config.languages if config else ("vi", "en", "km", "zh")
            has_font: Callable[[str], bool] = has_font_for(config) if config else (lambda c: missing_font(c) is None)
            problems: list[Problem] = []
            try:
                content, found = load_content(folder / "playlists", folder / "media", languages, has_font, now)
                problems += found
            except ContentError as exc:
                problems += exc.problems
                content = None
            menu, found = load_menu(folder / "playlists", languages, has_font)
            problems += found
            media = {p[len(MEDIA):] for p in files if p.startswith(MEDIA)}
            if content is not None:
                problems += _missing_media(content.playlists, media)
            if menu is not None:
                problems += _missing_menu_media(menu, media)
            named = []
            for problem in problems:
                where = _draft_path(problem.file, folder)
                named.append((where, _renamed(problem, field_key(problem.key))))
            return Checked(tuple(named))


def _draft_path(file: str, folder: Path) -> str:
    try:
        return Path(file).resolve().relative_to(folder.resolve()).as_posix()
    except ValueError:
        return file


def _renamed(problem: Problem, key: str) -> Problem:
    return replace(problem, key=key)


def _missing_media(playlists: Any, media: set[str]) -> list[Problem]:
    """Media the draft's items name that its library lacks, keyed by the item's place in its file."""
    out = []
    for playlist in playlists:
        places = _item_places(playlist.file)
        for item in playlist.items:
            where = f"items[{places.get(item.id, '?')}]"
            for code, name in item.media:
                if name not in media:
                    key = f"{where}.media" + ("" if code == "default" else f".{code}")
                    out.append(Problem(item.file, key, f"{name} is not in the media library", item.line,
                                       code="bad-media-file"))
            if item.background.image and item.background.image not in media:
                out.append(Problem(item.file, f"{where}.background.image", f"{item.background.image} is not in "
                                   "the media library", item.line, code="bad-media-file"))
    return out


def _item_places(file: str) -> dict[str, int]:
    """{item id: its index in the file's items}."""
    try:
        raw = load_yaml(Path(file))
    except ContentError:
        return {}
    items = raw.get("items") if isinstance(raw, dict) else None
    return {str(item.get("id")): index for index, item in enumerate(items or []) if isinstance(item, dict)}


def _missing_menu_media(menu: Menu, media: set[str]) -> list[Problem]:
    out = []
    for path, topic in menu.walk():
        if topic.icon_file and topic.icon_file not in media:
            out.append(Problem(menu.file, f"{'/'.join(path)}.icon", f"{topic.icon_file} is not in the media library",
                               topic.line, code="bad-media-file"))
    return out
