"""The touch kiosk's browse menu (playlists/browse.yaml): topics with icons, titles and pages, parsed and validated.

A topic has a title per language, an icon (built in, or an image in the media
folder), a tile colour, and either pages (items of the same kinds as in a
playlist: text, image, video) or sub-topics, nested at most MAX_DEPTH levels.
Pure: no pygame, no clock; every problem names file, line and key.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from sync.layout import content_folders

from ..colors import MIN_CONTRAST, contrast, text_color_for
from ..config import KioskConfig, media_path, parse_color
from ..content import ITEM_KEYS, language_texts, parse_items
from ..errors import ContentError, Problem
from ..fields import Reader
from ..model import Item, Transition
from ..yamlsource import line_of, load_yaml

BROWSE_FILE = "browse.yaml"
MAX_DEPTH = 3  # home > topic > sub-topic > sub-sub-topic: deeper menus lose visitors
MAX_TOPICS = 12  # per menu screen: tiles stay at least 2 cm and readable
MAX_PAGES = 30
MENU_KEYS = {"title", "topics"}
TOPIC_KEYS = {"id", "title", "icon", "color", "pages", "topics"}
# A page is shown in the visitor's language, when they ask for it: no playing time, schedule or stacking.
PAGE_KEYS = ITEM_KEYS - {"duration", "when", "transition", "presentation", "stack_languages", "loop"}
ICON_NAMES = ("passport", "customs", "exchange", "transport", "sights", "emergency", "info", "clock", "map", "health")
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".webp")
PALETTE = ((20, 78, 122), (10, 92, 84), (96, 52, 120), (120, 62, 18), (24, 94, 40), (150, 24, 34))
_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,79}")
_PAGE_DEFAULTS: dict[str, Any] = {"presentation": "rotate", "stack_languages": (), "duration": 10.0,
                                  "transition": Transition("slide", 0.3)}

Resolve = Callable[[str, tuple[str, ...]], "str | None"]


def pick_text(texts: tuple[tuple[str, str], ...], language: str, resolve: Resolve | None = None) -> str:
    """The text for `language`, following the screen's fallback chain, else the first one there is."""
    available = tuple(code for code, text in texts if text)
    code = resolve(language, available) if resolve else (language if language in available else None)
    found = dict(texts)
    return found.get(code or "", "") or next((text for _, text in texts if text), "")


@dataclass(frozen=True)
class Topic:
    id: str
    title: tuple[tuple[str, str], ...]
    icon: str  # a name from ICON_NAMES, or an image file in the media folder
    color: tuple[int, int, int]
    pages: tuple[Item, ...] = ()
    topics: tuple["Topic", ...] = ()
    line: int | None = None

    def title_in(self, language: str, resolve: Resolve | None = None) -> str:
        return pick_text(self.title, language, resolve)

    @property
    def icon_file(self) -> str | None:
        return self.icon if self.icon.lower().endswith(IMAGE_SUFFIXES) else None


@dataclass(frozen=True)
class Menu:
    title: tuple[tuple[str, str], ...]
    topics: tuple[Topic, ...]
    file: str = ""

    def title_in(self, language: str, resolve: Resolve | None = None) -> str:
        return pick_text(self.title, language, resolve)

    def find(self, path: tuple[str, ...]) -> Topic | None:
        """The topic at `path` (topic ids from the home menu), or None."""
        topic: Topic | None = None
        children = self.topics
        for topic_id in path:
            topic = next((t for t in children if t.id == topic_id), None)
            if topic is None:
                return None
            children = topic.topics
        return topic

    def children(self, path: tuple[str, ...]) -> tuple[Topic, ...]:
        """The tiles of the menu screen at `path` (the home menu for ())."""
        if not path:
            return self.topics
        topic = self.find(path)
        return topic.topics if topic else ()

    def walk(self) -> list[tuple[tuple[str, ...], Topic]]:
        """Every topic with its path, depth first in menu order."""
        out: list[tuple[tuple[str, ...], Topic]] = []

        def visit(prefix: tuple[str, ...], topics: tuple[Topic, ...]) -> None:
            for topic in topics:
                out.append((prefix + (topic.id,), topic))
                visit(prefix + (topic.id,), topic.topics)
        visit((), self.topics)
        return out


def menu_folder(config: KioskConfig, media_dir: str) -> Path:
    """The playlists folder that goes with a content generation's media folder (browse.yaml lives there)."""
    if Path(media_dir) == Path(config.media_dir):
        return config.playlists_dir
    return content_folders(Path(media_dir).parent)[0]


def load_menu(folder: Path, screen_languages: tuple[str, ...],
              has_font: Callable[[str], bool]) -> tuple[Menu | None, list[Problem]]:
    """`folder`/browse.yaml as a Menu (None when there is none, or nothing in it can be shown)."""
    path = folder / BROWSE_FILE
    if not path.exists():
        return None, []
    try:
        raw = load_yaml(path)
    except ContentError as exc:
        return None, exc.problems
    return parse_menu(raw, str(path), screen_languages, has_font)


def parse_menu(raw: Any, file: str, screen_languages: tuple[str, ...],
               has_font: Callable[[str], bool]) -> tuple[Menu | None, list[Problem]]:
    r = Reader(file)
    if raw is None:
        r.error("menu-empty", "", "the browse menu is empty; it needs `topics`")
        return None, r.problems
    top = r.mapping(raw, "", MENU_KEYS)
    if not top:
        return None, r.problems
    title = _titles(r, top, "", has_font)
    topics = _topics(r, top, "", 1, screen_languages, has_font)
    if not topics:
        return None, r.problems
    return Menu(title, topics, file), r.problems


def _titles(r: Reader, m: dict[str, Any], where: str, has_font: Callable[[str], bool],
            required: bool = False) -> tuple[tuple[str, str], ...]:
    key = f"{where}.title" if where else "title"
    texts = language_texts(r, m.get("title"), key, line_of(m, "title"), has_font)
    out = tuple((code, text.strip()) for code, text in texts.items() if isinstance(text, str) and text.strip())
    if required and not out and "title" not in m:
        r.error_at("title-required", m, "title", where, "is required: the tile's words per language, e.g. {vi: Hải quan, en: Customs}")
    return out


def _topics(r: Reader, m: dict[str, Any], where: str, depth: int, screen_languages: tuple[str, ...],
            has_font: Callable[[str], bool]) -> tuple[Topic, ...]:
    key = f"{where}.topics" if where else "topics"
    raw = r.field(m, "topics", where, (list,), what="a list of topics, each {id, title, icon, pages or topics}")
    if raw is None:
        return ()
    if not raw:
        r.error_at("no-topics", m, "topics", where, "has no topics")
        return ()
    if len(raw) > MAX_TOPICS:
        r.error_at("too-many-topics", m, "topics", where, f"has {len(raw)} topics; at most {MAX_TOPICS} fit on one screen as 2 cm targets "
                   "(group some under a topic with its own `topics`)")
    out: list[Topic] = []
    for index, entry in enumerate(raw):
        topic = _topic(r, entry, f"{key}[{index}]", line_of(raw, index), depth, len(out), screen_languages, has_font)
        if topic is None:
            continue
        if any(t.id == topic.id for t in out):
            r.error("duplicate-id", f"{key}[{index}].id", f"topic id {topic.id!r} is used twice in this menu", topic.line)
            continue
        out.append(topic)
    return tuple(out)


def _topic(r: Reader, entry: Any, path: str, line: int | None, depth: int, position: int,
           screen_languages: tuple[str, ...], has_font: Callable[[str], bool]) -> Topic | None:
    m = r.mapping(entry, path, TOPIC_KEYS, line)
    if not m:
        if entry is None or isinstance(entry, dict):
            r.error("topic-incomplete", path, "a topic needs at least `id`, `title` and `pages` (or `topics`)", line)
        return None
    errors = sum(p.severity == "error" for p in r.problems)
    topic_id = r.field(m, "id", path, (str, int))
    if topic_id is not None:
        topic_id = str(topic_id)
        if not _ID.fullmatch(topic_id):
            r.error_at("bad-id", m, "id", path, f"{topic_id!r} may use only letters, digits, '-', '_' and '.'")
    where = f"{path} ({topic_id})" if topic_id else path
    title = _titles(r, m, where, has_font, required=True)
    icon = _icon(r, m, where)
    color = r.convert(m, "color", where, parse_color, PALETTE[position % len(PALETTE)])
    if "color" in m and color is not None and contrast(text_color_for(color), color) < MIN_CONTRAST:
        r.error_at("low-contrast", m, "color", where, f"{m['color']!r} gives its tile's text only {contrast(text_color_for(color), color):.1f}:1 "
                   f"contrast; at least {MIN_CONTRAST:g}:1 is needed: choose a darker or a lighter colour")
    has_pages, has_topics = m.get("pages") is not None, m.get("topics") is not None
    if has_pages == has_topics:
        r.error("pages-or-topics", where, "needs either `pages` (what the visitor swipes through) or `topics` (a menu of sub-topics), "
                "not " + ("both" if has_pages else "neither"), line)
    pages: tuple[Item, ...] = ()
    topics: tuple[Topic, ...] = ()
    if has_pages:
        pages = _pages(r, m, where, screen_languages, has_font)
    elif has_topics:
        if depth >= MAX_DEPTH:
            r.error_at("too-deep", m, "topics", where, f"menus may nest at most {MAX_DEPTH} levels below the home menu; "
                       "give this topic `pages` instead")
        else:
            topics = _topics(r, m, where, depth + 1, screen_languages, has_font)
    if topic_id is None or sum(p.severity == "error" for p in r.problems) > errors or not (pages or topics):
        return None
    return Topic(topic_id, title, icon, color, pages, topics, line)


def _icon(r: Reader, m: dict[str, Any], where: str) -> str:
    raw = m.get("icon")
    if raw is None:
        return "info"
    allowed = ", ".join(ICON_NAMES)
    if not isinstance(raw, str) or not raw.strip():
        r.error_at("bad-icon", m, "icon", where, f"must be a built-in icon ({allowed}) or an image file in the media folder")
        return "info"
    if raw.lower().endswith(IMAGE_SUFFIXES):
        try:
            return media_path(raw)
        except ValueError as exc:
            r.error_at("bad-file-name", m, "icon", where, str(exc))
            return "info"
    if raw not in ICON_NAMES:
        r.error_at("bad-icon", m, "icon", where, f"{raw!r} is not a built-in icon ({allowed}); or name an image file in the media "
                   f"folder ({', '.join(IMAGE_SUFFIXES)})")
        return "info"
    return raw


def _pages(r: Reader, m: dict[str, Any], where: str, screen_languages: tuple[str, ...],
           has_font: Callable[[str], bool]) -> tuple[Item, ...]:
    raw = r.field(m, "pages", where, (list,), what="a list of pages (items: text, image or video)")
    if raw is None:
        return ()
    if not raw:
        r.error_at("no-pages", m, "pages", where, "has no pages")
        return ()
    if len(raw) > MAX_PAGES:
        r.error_at("too-many-pages", m, "pages", where, f"has {len(raw)} pages; at most {MAX_PAGES} (split the topic into sub-topics)")
    return tuple(parse_items(r, raw, f"{where}.pages", _PAGE_DEFAULTS, screen_languages, has_font, PAGE_KEYS,
                             "page", "topic"))


def menu_items(menu: Menu) -> list[Item]:
    """Every page of the menu, for the media checks `validate` runs on playlists too."""
    return [page for _, topic in menu.walk() for page in topic.pages]
