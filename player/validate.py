"""`python -m player validate`: every problem in a screen's config, playlists, browse menu and media, listed at once."""

from __future__ import annotations

import os
import sys
from datetime import datetime
from pathlib import Path

import pygame
import pygame.freetype

from .config import KioskConfig, load_config, parse_config
from .content import SCHEDULE_FILE, load_content, parse_playlist
from .errors import ContentError, MediaError, Problem
from .fontfiles import font_overrides, has_font_for, missing_font
from .images import check_image
from .model import Content, Playlist
from .painter import make_renderer
from .sequence import Program
from .touch.browse import BROWSE_FILE, Menu, load_menu, menu_items, parse_menu
from .touch.layout import Layout
from .touch.painter import KioskPainter
from .yamlsource import load_yaml


def check_media(content: Content, media_dir: Path) -> list[Problem]:
    """Every media file named by the content exists and decodes (videos: their header and first frame)."""
    problems: list[Problem] = []
    checked: dict[str, str | None] = {}
    for playlist in content.playlists:
        for item in playlist.items:
            names = [(f"media.{code}" if code != "default" else "media", path, item.kind) for code, path in item.media]
            if item.background.image:
                names.append(("background.image", item.background.image, "image"))
            for key, name, kind in names:
                if name not in checked:
                    checked[name] = _check_file(media_dir / name, kind)
                if checked[name]:
                    problems.append(Problem(item.file, f"{item.id}.{key}", checked[name] or "", item.line, code="bad-media-file"))
    return problems


def _check_file(path: Path, kind: str) -> str | None:
    if not path.is_file():
        return f"{path} does not exist"
    try:
        if kind == "video":
            from .videofile import probe  # here: without PyAV the rest still validates, and says so below
            probe(path)
        else:
            check_image(path)
    except MediaError as exc:
        return str(exc)
    except ImportError as exc:
        return f"{path}: video support is not installed ({exc})"
    return None


def validate_all(config_path: Path, target: Path | None, now: datetime | None = None) -> list[Problem]:
    """Problems of the screen's config and content, or of one playlist file or folder (`target`)."""
    problems: list[Problem] = []
    config: KioskConfig | None = None
    if target is not None and _is_config(target):
        config_path, target = target, None
    try:
        config = load_config(config_path)
        problems += [p for p in parse_config(load_yaml(config_path), config_path)[1] if p.severity == "warning"]
    except ContentError as exc:
        if target is None:
            return exc.problems
        problems.append(Problem(str(config_path), "", "could not be loaded, so the default languages "
                                "(vi, en, km, zh) are assumed", None, "warning", code="config-unreadable"))
    languages = config.languages if config else ("vi", "en", "km", "zh")
    has_font = has_font_for(config) if config else (lambda code: missing_font(code) is None)
    if config is not None:
        overrides = font_overrides(config)
        for code in config.languages:
            message = missing_font(code, overrides)
            if message:
                problems.append(Problem(str(config.path), "languages.order", message, code="no-font"))
        if config.fallback.image:
            message = _check_file(config.media_dir / config.fallback.image, "image")
            if message:
                problems.append(Problem(str(config.path), "fallback.image", message, code="bad-media-file"))
    now = now or datetime.now(config.tz if config else None).astimezone()
    if target is not None and target.is_file() and not _is_config(target):
        try:
            raw = load_yaml(target)
        except ContentError as exc:
            return problems + exc.problems
        if target.name == SCHEDULE_FILE:
            folder = target.parent
        elif target.name == BROWSE_FILE:
            menu, found = parse_menu(raw, str(target), languages, has_font)
            media_dir = config.media_dir if config else target.parent.parent / "media"
            return problems + found + (check_menu_media(menu, media_dir) if menu else [])
        else:
            playlist, found = parse_playlist(raw, str(target), target.stem, languages, has_font)
            problems += found
            media_dir = config.media_dir if config else target.parent.parent / "media"
            if playlist is not None:
                problems += check_media(Content((playlist,), ()), media_dir)
            return problems
    else:
        folder = target if target is not None else (config.playlists_dir if config else Path("playlists"))
    media_dir = config.media_dir if config else folder.parent / "media"
    try:
        content, found = load_content(folder, media_dir, languages, has_font, now)
    except ContentError as exc:
        return problems + exc.problems
    problems += found + check_media(content, media_dir)
    menu, found = load_menu(folder, languages, has_font)
    problems += found + (check_menu_media(menu, media_dir) if menu else [])
    if config is not None and config.touch.enabled and menu is None and not found:
        problems.append(Problem(str(config.path), "touch.enabled", f"touch mode is on but {folder / BROWSE_FILE} "
                                "does not exist: a tap would have nothing to open", code="no-browse-menu"))
    if config is not None and not any(p.severity == "error" for p in problems):
        problems += check_layout(config, content)
        if menu is not None and config.touch.enabled:
            problems += check_menu_layout(config, menu, media_dir)
    return problems


def check_menu_media(menu: Menu, media_dir: Path) -> list[Problem]:
    """The browse menu's pages and icon files exist and decode, as the loop's media must."""
    problems = check_media(Content((Playlist("_browse", tuple(menu_items(menu))),), ()), media_dir)
    for path, topic in menu.walk():
        if topic.icon_file:
            message = _check_file(media_dir / topic.icon_file, "image")
            if message:
                problems.append(Problem(menu.file, f"{'/'.join(path)}.icon", message, topic.line, code="bad-media-file"))
    return problems


def check_menu_layout(config: KioskConfig, menu: Menu, media_dir: Path) -> list[Problem]:
    """Render every text page of the browse menu in each language, to warn of text cut to fit."""
    painter = KioskPainter(config, Layout(config.display.canvas, config.display.px_per_mm, config.languages), menu, media_dir)
    problems = []
    for path, topic in menu.walk():
        for index, page in enumerate(topic.pages):
            if page.kind != "text":
                continue
            for code in dict.fromkeys(painter.text_language(c, page.languages) for c in config.languages):
                rendered = painter.renderer.text_slide(page, (code,))
                for warning in rendered.warnings:
                    problems.append(Problem(page.file, f"{'/'.join(path)}.pages[{index}].text", warning, page.line, "warning", code="text-cut"))
    return problems


def check_layout(config: KioskConfig, content: Content) -> list[Problem]:
    """Render every text slot as the screen would, to warn of text cut to fit or captions left out."""
    os.environ.setdefault("SDL_VIDEODRIVER", "dummy")  # read when the display starts: no window is needed
    pygame.display.init()
    pygame.font.init()
    pygame.freetype.init()
    renderer = make_renderer(config)
    program = Program.build(content, config.languages, config.resolve_language)
    problems = []
    for playlist in content.playlists:
        for slot in program.slots_of(playlist.id):
            if slot.item.kind == "video":
                continue
            try:
                rendered = renderer.render(slot)
            except MediaError:
                continue  # already reported by check_media
            for warning in rendered.warnings:
                problems.append(Problem(slot.item.file, f"{slot.item.id}.text", warning, slot.item.line, "warning", code="text-cut"))
    return problems


def _is_config(path: Path) -> bool:
    if path.is_dir() or not path.exists():
        return False
    try:
        raw = load_yaml(path)
    except ContentError:
        return path.name == "kiosk.yaml"
    return isinstance(raw, dict) and ("screen" in raw or "display" in raw)


def validate_command(target: Path | None, config_path: Path) -> int:
    problems = validate_all(config_path, target)
    errors = [p for p in problems if p.severity == "error"]
    for problem in sorted(problems, key=lambda p: (p.severity != "error", p.file, p.line or 0)):
        print(problem)
    print(f"{len(errors)} error(s), {len(problems) - len(errors)} warning(s)", file=sys.stderr)
    return 1 if errors else 0
