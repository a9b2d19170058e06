"""`python -m player preview`: each slot of a playlist and each browse screen rendered to PNG, plus a contact sheet."""

from __future__ import annotations

import os
import sys
from datetime import datetime
from pathlib import Path

import pygame
import pygame.freetype

from .config import KioskConfig, load_config
from .errors import MediaError
from .fontfiles import has_font_for
from .fonts import Typesetter
from .overlays import Overlays
from .painter import make_renderer
from .sequence import Slot
from .slides import SlideRenderer
from .source import load_program
from .touch.browse import Menu, load_menu
from .touch.layout import Layout
from .touch.painter import KioskPainter, ScreenKey, draw_bars
from .video import poster_frame

THUMB_WIDTH = 480


def preview_command(config_path: Path, playlist: str | None, out: Path) -> int:
    os.environ.setdefault("SDL_VIDEODRIVER", "dummy")  # read when the display starts: no window is needed
    config = load_config(config_path)
    pygame.display.init()
    pygame.font.init()
    pygame.freetype.init()
    now = datetime.now(config.tz)
    program, problems = load_program(config, now)
    wanted = Path(playlist).stem if playlist else None
    playlists = [p for p in program.content.playlists if wanted in (None, p.id)]
    menu, _ = load_menu(config.playlists_dir, config.languages, has_font_for(config))
    browsing = menu is not None and wanted in (None, "browse")
    if not playlists and not browsing:
        print(f"no playlist {playlist!r}; playlists: {', '.join(p.id for p in program.content.playlists)}", file=sys.stderr)
        return 1
    renderer = make_renderer(config)
    overlays = Overlays(config.display.canvas, renderer.floor, renderer.setter, config.overlays.clock, config.overlays.ticker, 1.0, 0)
    out.mkdir(parents=True, exist_ok=True)
    shots: list[tuple[str, pygame.Surface]] = []
    failures = 0
    for pl in playlists:
        overlays.set_ticker(tuple((code, pl.ticker_text(code)) for code in config.languages))
        for slot in program.slots_of(pl.id):
            label = f"{pl.id}-{slot.index + 1:02d}-{slot.item.id}-{'+'.join(slot.languages)}"
            try:
                surface = render_slot(renderer, config, slot)
            except MediaError as exc:
                print(f"{label}: skipped on the screen too: {exc}", file=sys.stderr)
                failures += 1
                continue
            overlays.update(0.0, 0.0, now, slot.language)
            overlays.draw(surface)
            pygame.image.save(surface, str(out / f"{label}.png"))
            shots.append((label, surface))
    if browsing:
        assert menu is not None
        for label, surface in browse_screens(config, menu):
            pygame.image.save(surface, str(out / f"{label}.png"))
            shots.append((label, surface))
    fallback = renderer.fallback([(c, config.name_in(c)) for c in config.languages], config.fallback.background, config.fallback.image)
    pygame.image.save(fallback, str(out / "fallback.png"))
    shots.append(("fallback", fallback))
    sheet = contact_sheet(shots, renderer.setter("en"))
    pygame.image.save(sheet, str(out / "contact-sheet.png"))
    print(f"{len(shots)} pictures and contact-sheet.png in {out}" + (f"; {failures} could not be rendered" if failures else ""))
    return 1 if failures else 0


def render_slot(renderer: SlideRenderer, config: KioskConfig, slot: Slot) -> pygame.Surface:
    if slot.item.kind == "video":
        media = slot.item.media_for(slot.language)
        picture = poster_frame(config.media_dir / str(media), renderer.canvas, slot.item.fit).copy()
        caption = renderer.caption_overlay(slot.item, slot.languages)
        if caption is not None:
            picture.blit(caption.surface, caption.offset)
        return picture
    return renderer.render(slot).surface


def contact_sheet(shots: list[tuple[str, pygame.Surface]], setter: Typesetter) -> pygame.Surface:
    """Thumbnails in a grid, each labelled, on one PNG."""
    columns = 4
    w = THUMB_WIDTH
    h = round(w * shots[0][1].get_height() / shots[0][1].get_width())
    label_h = 30
    rows = (len(shots) + columns - 1) // columns
    sheet = pygame.Surface((columns * (w + 16) + 16, rows * (h + label_h + 16) + 16))
    sheet.fill((40, 40, 40))
    for index, (label, surface) in enumerate(shots):
        x = 16 + (index % columns) * (w + 16)
        y = 16 + (index // columns) * (h + label_h + 16)
        sheet.blit(pygame.transform.smoothscale(surface, (w, h)), (x, y))
        sheet.blit(setter.render(label, 18, (230, 230, 230)), (x, y + h + 4))
    return sheet


def browse_screens(config: KioskConfig, menu: Menu) -> list[tuple[str, pygame.Surface]]:
    """Every screen of the touch kiosk's browse menu in every language, with its bars, as a visitor sees it."""
    painter = KioskPainter(config, Layout(config.display.canvas, config.display.px_per_mm, config.languages), menu,
                           config.media_dir)
    keys = [ScreenKey((), None, code) for code in config.languages]
    for path, topic in menu.walk():
        pages = [None] if topic.topics else list(range(len(topic.pages)))
        keys += [ScreenKey(path, page, code) for page in pages for code in config.languages]
    chrome = {code: painter.chrome(code) for code in config.languages}
    shots = []
    for key in keys:
        painted = painter.screen(key)
        name = "-".join(("browse",) + (key.path or ("home",)) + ((f"{key.page + 1:02d}",) if key.page is not None else ())
                        + (key.language,))
        if painted.error or painted.picture is None:
            print(f"{name}: cannot be shown: {painted.error}", file=sys.stderr)
            continue
        surface = painted.picture.copy()
        pager = None
        if key.page is not None:
            paged = menu.find(key.path)
            assert paged is not None  # the key came from menu.walk()
            pager = (key.page, len(paged.pages), painted.pager)
        draw_bars(surface, painter.layout, chrome[key.language], painted.title, pager)
        painted.close()
        shots.append((name, surface))
    return shots
