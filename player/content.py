"""Loading playlists/ (playlist files and schedule.yaml) into the content model, with every problem."""

from __future__ import annotations

import re
from datetime import datetime
from pathlib import Path
from typing import Any, Callable

from .config import media_path, parse_color
from .errors import ContentError, Problem
from .fields import Reader
from .languages import check_code
from .model import (FITS, ITEM_KINDS, PRESENTATIONS, TRANSITIONS, Background, Content, Daypart, Item,
                    Playlist, Text, Transition)
from .when import parse_when
from .yamlsource import line_of, load_yaml

SCHEDULE_FILE = "schedule.yaml"
NOT_PLAYLISTS = {SCHEDULE_FILE, "browse.yaml"}  # browse.yaml is the touch menu
_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,79}")
PLAYLIST_KEYS = {"id", "presentation", "stack_languages", "transition", "duration", "ticker", "items"}
ITEM_KEYS = {"id", "type", "duration", "transition", "fit", "presentation", "stack_languages", "text",
             "media", "background", "when", "loop", "volume"}
MAX_DURATION = 24 * 3600.0


def playlist_files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.glob("*.yaml") if p.name not in NOT_PLAYLISTS)


def load_content(folder: Path, media_dir: Path, screen_languages: tuple[str, ...],
                 has_font: Callable[[str], bool], now: datetime | None = None) -> tuple[Content, list[Problem]]:
    """Every playlist in `folder` plus its schedule. Broken items are left out and reported."""
    problems: list[Problem] = []
    if not folder.is_dir():
        raise ContentError([Problem(str(folder), "content.playlists", "the playlists folder does not exist", code="no-playlists-folder")])
    playlists: list[Playlist] = []
    for path in playlist_files(folder):
        try:
            raw = load_yaml(path)
        except ContentError as exc:
            problems += exc.problems
            continue
        playlist, found = parse_playlist(raw, str(path), path.stem, screen_languages, has_font)
        problems += found
        if playlist is not None:
            if any(p.id == playlist.id for p in playlists):
                problems.append(Problem(str(path), "id", f"playlist id {playlist.id!r} is used by another file too", line_of(raw, "id"), code="duplicate-id"))
            else:
                playlists.append(playlist)
    dayparts, found = _load_schedule(folder / SCHEDULE_FILE, playlists)
    problems += found
    content = Content(tuple(playlists), tuple(dayparts), str(media_dir))
    problems += check_playable(content, str(folder / SCHEDULE_FILE), now)
    return content, problems


def parse_playlist(raw: Any, file: str, default_id: str, screen_languages: tuple[str, ...],
                   has_font: Callable[[str], bool]) -> tuple[Playlist | None, list[Problem]]:
    r = Reader(file)
    if raw is None:
        r.error("playlist-empty", "", "the playlist is empty; it needs `items`")
        return None, r.problems
    top = r.mapping(raw, "", PLAYLIST_KEYS)
    if not top:
        return None, r.problems
    playlist_id = r.field(top, "id", "", (str,), default_id)
    if not _ID.fullmatch(playlist_id):
        r.error_at("bad-id", top, "id", "", f"{playlist_id!r} may use only letters, digits, '-', '_' and '.'")
    defaults = {
        "presentation": r.choice(top, "presentation", "", PRESENTATIONS, "rotate"),
        "stack_languages": _stack_languages(r, top, "", screen_languages, ()),
        "transition": _transition(r, top, "", Transition()),
        "duration": r.number(top, "duration", "", 10.0, low=0, high=MAX_DURATION, low_open=True),
    }
    ticker = language_texts(r, top.get("ticker"), "ticker", line_of(top, "ticker"), has_font)
    items_raw = r.field(top, "items", "", (list,), what="a list of items")
    items = parse_items(r, items_raw or [], "items", defaults, screen_languages, has_font)
    if items_raw is not None and not items_raw:
        r.error_at("no-items", top, "items", "", "the playlist has no items")
    ticker_pairs = tuple((code, text) for code, text in ticker.items() if isinstance(text, str))
    return Playlist(playlist_id, tuple(items), ticker_pairs, file), r.problems


def parse_items(r: Reader, raw: list[Any], path: str, defaults: dict[str, Any], screen_languages: tuple[str, ...],
                has_font: Callable[[str], bool], allowed: set[str] = ITEM_KEYS, kind: str = "item",
                scope: str = "playlist") -> list[Item]:
    """The good items of a list (a playlist's items, a topic's pages); broken ones are reported and left out."""
    items: list[Item] = []
    for index, entry in enumerate(raw):
        before = len(r.problems)
        item = parse_item(r, entry, f"{path}[{index}]", line_of(raw, index), defaults, screen_languages, has_font, allowed)
        if item is None or any(p.severity == "error" for p in r.problems[before:]):
            continue
        if any(existing.id == item.id for existing in items):
            r.error("duplicate-id", f"{path}[{index}].id", f"{kind} id {item.id!r} is used twice in this {scope}", item.line)
            continue
        items.append(item)
    return items


def parse_item(r: Reader, entry: Any, path: str, line: int | None, defaults: dict[str, Any],
               screen_languages: tuple[str, ...], has_font: Callable[[str], bool],
               allowed: set[str] = ITEM_KEYS) -> Item | None:
    """One item of a playlist (or a page of the browse menu, with its own `allowed` keys)."""
    m = r.mapping(entry, path, allowed, line)
    if not m:
        if entry is not None and not isinstance(entry, dict):
            return None
        r.error("item-incomplete", path, "an item needs at least `id` and `type`", line)
        return None
    item_id = r.field(m, "id", path, (str, int))
    if item_id is not None:
        item_id = str(item_id)
        if not _ID.fullmatch(item_id):
            r.error_at("bad-id", m, "id", path, f"{item_id!r} may use only letters, digits, '-', '_' and '.'")
    where = f"{path} ({item_id})" if item_id else path
    kind = r.choice(m, "type", where, ITEM_KINDS)
    if kind == "video":
        duration = r.number(m, "duration", where, None, low=0, high=MAX_DURATION, low_open=True)
    else:
        duration = r.number(m, "duration", where, defaults["duration"], low=0, high=MAX_DURATION, low_open=True)
    texts = _texts(r, m.get("text"), f"{where}.text", line_of(m, "text"), has_font)
    media = _media(r, m, where)
    if kind in ("image", "video") and not media:
        r.error_at("media-required", m, "media", where, f"a {kind} item needs `media`: a file in the media folder", line)
    if kind == "text" and not any(not t.empty for t in texts.values()):
        r.error_at("text-required", m, "text", where, "a text item needs text in at least one language, e.g. text: {vi: {title: ..., body: ...}}", line)
    presentation = m.get("presentation", defaults["presentation"])
    stacked = m.get("stack_languages") or defaults["stack_languages"]
    expected = stacked if presentation == "stack" and isinstance(stacked, (list, tuple)) and stacked else screen_languages
    for code in expected:
        if texts and code not in texts and kind == "text":
            r.warn("text-missing-language", f"{where}.text.{code}", f"no {code} text; the screen falls back along languages.fallback or skips {code}", line_of(m, "text"))
    for key in ("loop", "volume"):
        if key in m and kind != "video":
            r.error_at("video-only", m, key, where, f"`{key}` applies to video items only")
    volume = r.number(m, "volume", where, None, low=0, high=1)
    if item_id is None or kind is None:
        return None
    return Item(
        id=item_id,
        kind=kind,
        duration=float(duration) if duration is not None else None,
        transition=_transition(r, m, where, defaults["transition"]),
        fit=r.choice(m, "fit", where, FITS, "fit"),
        presentation=r.choice(m, "presentation", where, PRESENTATIONS, defaults["presentation"]),
        stack_languages=_stack_languages(r, m, where, screen_languages, defaults["stack_languages"]),
        texts=tuple(texts.items()),
        media=tuple(media.items()),
        background=_background(r, m, where),
        when=parse_when(r, m.get("when"), f"{where}.when", line_of(m, "when")),
        loop=r.field(m, "loop", where, (bool,), False),
        volume=float(volume) if volume is not None else None,
        file=r.file,
        line=line,
    )


def _texts(r: Reader, raw: Any, path: str, line: int | None, has_font: Callable[[str], bool]) -> dict[str, Text]:
    out: dict[str, Text] = {}
    for code, value in language_texts(r, raw, path, line, has_font, allow_blocks=True).items():
        if isinstance(value, str):
            out[code] = Text(body=value.strip())
            continue
        block = r.mapping(value, f"{path}.{code}", {"title", "body", "caption"}, line_of(raw, code))
        out[code] = Text(**{k: str(r.field(block, k, f"{path}.{code}", (str, int, float), "")).strip()
                            for k in ("title", "body", "caption")})
    return out


def language_texts(r: Reader, raw: Any, path: str, line: int | None, has_font: Callable[[str], bool],
                    allow_blocks: bool = False) -> dict[str, Any]:
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        r.error("not-language-map", path, "must map language codes to text, e.g. {vi: \"...\", en: \"...\"}", line)
        return {}
    out: dict[str, Any] = {}
    for code, value in raw.items():
        message = check_code(code)
        if message:
            r.error_at("bad-language", raw, code, path, message)
            continue
        if not has_font(code):
            r.error_at("no-font", raw, code, path, f"this screen has no font for {code!r}; add one under languages.fonts in kiosk.yaml")
            continue
        if isinstance(value, str) or (allow_blocks and isinstance(value, dict)):
            out[code] = value
        else:
            kinds = "text or {title, body, caption}" if allow_blocks else "text"
            r.error_at("wrong-type", raw, code, path, f"must be {kinds}")
    return out


def _media(r: Reader, m: dict[str, Any], where: str) -> dict[str, str]:
    raw = m.get("media")
    if raw is None:
        return {}
    if isinstance(raw, str):
        raw_map: dict[Any, Any] = {"default": raw}
    elif isinstance(raw, dict):
        raw_map = raw
    else:
        r.error_at("bad-media", m, "media", where, "must be a file name, or {default: FILE, km: FILE, ...} for per-language variants")
        return {}
    out: dict[str, str] = {}
    for code, value in raw_map.items():
        if code != "default" and check_code(code):
            r.error_at("bad-language", raw, code, f"{where}.media", check_code(code) or "")
        else:
            try:
                out[str(code)] = media_path(value)
            except ValueError as exc:
                key = f"{where}.media" + ("" if isinstance(raw, str) else f".{code}")
                r.error("bad-file-name", key, str(exc), line_of(raw, code) or line_of(m, "media"))  # a plain file name: no .default
    return out


def _background(r: Reader, m: dict[str, Any], where: str) -> Background:
    raw = m.get("background")
    if raw is None:
        return Background()
    if isinstance(raw, str) and (raw.startswith("#") or re.fullmatch(r"[0-9A-Fa-f]{6}", raw)):
        raw = {"color": raw}  # a colour without its '#' gets the colour message, not "no such image"
    elif isinstance(raw, str):
        raw = {"image": raw}
    b = r.mapping(raw, f"{where}.background", {"color", "image"}, line_of(m, "background"))
    image = r.convert(b, "image", f"{where}.background", media_path, None)
    return Background(r.convert(b, "color", f"{where}.background", parse_color, Background.color), image)


def _transition(r: Reader, m: dict[str, Any], where: str, default: Transition) -> Transition:
    raw = m.get("transition")
    if raw is None:
        return default
    if isinstance(raw, str):
        raw = {"type": raw}
    t = r.mapping(raw, f"{where}.transition", {"type", "duration"}, line_of(m, "transition"))
    kind = r.choice(t, "type", f"{where}.transition", TRANSITIONS, default.kind)
    seconds = r.number(t, "duration", f"{where}.transition", default.seconds, low=0, high=5)
    return Transition(kind, float(seconds))


def _stack_languages(r: Reader, m: dict[str, Any], where: str, screen_languages: tuple[str, ...],
                     default: tuple[str, ...]) -> tuple[str, ...]:
    raw = m.get("stack_languages")
    if raw is None:
        return default
    key = f"{where}.stack_languages" if where else "stack_languages"
    if not isinstance(raw, list) or not raw:
        r.error_at("not-language-list", m, "stack_languages", where, "must be a list of language codes, e.g. [vi, en]")
        return default
    out = []
    for i, code in enumerate(raw):
        message = check_code(code)
        if message:
            r.error_at("bad-language", raw, i, key, message)
        elif code in out:
            r.error_at("listed-twice", raw, i, key, f"{code!r} is listed twice")
        else:
            if code not in screen_languages:
                r.warn_at("language-not-shown", raw, i, key, f"{code!r} is not in this screen's languages.order; it is shown only as a fallback")
            out.append(code)
    return tuple(out)


def _load_schedule(path: Path, playlists: list[Playlist]) -> tuple[list[Daypart], list[Problem]]:
    if not path.exists():
        if len(playlists) > 1:
            problems = [Problem(str(path), "", "several playlists but no schedule.yaml to say which plays when; "
                                "the first one plays", None, "warning", code="no-schedule")]
        else:
            problems = []
        return [Daypart(playlists[0].id)] if playlists else [], problems
    try:
        raw = load_yaml(path)
    except ContentError as exc:
        return ([Daypart(playlists[0].id)] if playlists else []), exc.problems
    r = Reader(str(path))
    top = r.mapping(raw, "", {"dayparts"})
    entries = r.field(top, "dayparts", "", (list,), what="a list of {playlist, priority, when}") or []
    dayparts = []
    for i, entry in enumerate(entries):
        where = f"dayparts[{i}]"
        d = r.mapping(entry, where, {"playlist", "priority", "when"}, line_of(entries, i))
        name = r.field(d, "playlist", where, (str,))
        priority = r.field(d, "priority", where, (int,), 0)
        errors_before = sum(p.severity == "error" for p in r.problems)
        when = parse_when(r, d.get("when"), f"{where}.when", line_of(d, "when"))
        if name is None or sum(p.severity == "error" for p in r.problems) > errors_before:
            continue  # a daypart with a broken `when` is left out, never widened to "always"
        if not any(p.id == name for p in playlists):
            known = ", ".join(p.id for p in playlists) or "none loaded"
            r.error_at("no-such-playlist", d, "playlist", where, f"no playlist with id {name!r} (playlists: {known})")
            continue
        dayparts.append(Daypart(name, priority, when, line_of(entries, i)))
    return dayparts, r.problems


def check_playable(content: Content, schedule_file: str, now: datetime | None) -> list[Problem]:
    """An error when no item of any scheduled playlist can ever play again (from `now`)."""
    for daypart in content.dayparts:
        playlist = content.playlist(daypart.playlist)
        if playlist is None:
            continue
        if now is None:
            if playlist.items:
                return []
            continue
        if daypart.when.opens_after(now) and any(item.when.opens_after(now) for item in playlist.items):
            return []
    when = f" after {now:%Y-%m-%d %H:%M}" if now else ""
    return [Problem(schedule_file, "dayparts", f"nothing in the schedule can ever play{when}: every daypart or item "
                    "is closed for good (check weekdays, times and dates); the fallback slide will show", code="never-plays")]
