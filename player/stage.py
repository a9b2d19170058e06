"""Building what a screen needs from its config: content, program, renderer, the slot-preparing function."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import pygame

from sync.layout import content_folders

from .config import KioskConfig
from .content import load_content
from .errors import ContentError, MediaError, PlayerError, Problem
from .fonts import missing_font
from .prepare import Prepared
from .sequence import Decision, Program
from .overlays import ticker_key, ticker_px, ticker_strip
from .slides import SlideRenderer

log = logging.getLogger(__name__)


def font_overrides(config: KioskConfig) -> dict[str, tuple[str, int]]:
    return {code: (spec.path, spec.index) for code, spec in config.fonts}


def has_font_for(config: KioskConfig):  # noqa: ANN201 - a predicate
    overrides = font_overrides(config)
    cache: dict[str, bool] = {}

    def has_font(code: str) -> bool:
        if code not in cache:
            cache[code] = missing_font(code, overrides) is None
        return cache[code]
    return has_font


def load_program(config: KioskConfig, now: datetime, folders: tuple[Path, Path] | None = None) -> tuple[Program, list[Problem]]:
    """The screen's content as a Program; errors in single items leave them out, not the whole loop.

    `folders` (playlists, media) default to kiosk.yaml's content folders; a synced screen passes
    the folders of its store's current generation.
    """
    playlists_dir, media_dir = folders or (config.playlists_dir, config.media_dir)
    content, problems = load_content(playlists_dir, media_dir, config.languages, has_font_for(config), now)
    for problem in problems:
        (log.error if problem.severity == "error" else log.warning)("%s", problem)
    return Program.build(content, config.languages, config.resolve_language), problems


@dataclass
class SlotPainter:
    """Runs in the preparer's thread: turns a Decision into a ready picture (or video)."""

    config: KioskConfig
    renderer: SlideRenderer
    open_video: object | None = None  # callable(path, size, fit, loop) -> video source; set when video is available
    _strip: tuple[tuple[tuple[str, str], ...], pygame.Surface | None] | None = None  # the last ticker built

    def __call__(self, decision: Decision) -> Prepared:
        prepared = self._paint(decision)
        if decision.ticker is not None and prepared.error is None:
            key = ticker_key(decision.ticker)
            if self._strip is None or self._strip[0] != key:
                self._strip = (key, ticker_strip(key, ticker_px(self.renderer.canvas, self.renderer.floor),
                                                 self.renderer.setter, self.renderer.canvas[0]))
            prepared.ticker = self._strip
        return prepared

    def _paint(self, decision: Decision) -> Prepared:
        slot = decision.slot
        try:
            if slot is None:
                return Prepared(decision, surface=self.fallback())
            if slot.item.kind == "video":
                if self.open_video is None:
                    raise MediaError(f"{slot.item.media_for(slot.language)}: video playback is not available")
                media = slot.item.media_for(slot.language)
                caption = self.renderer.caption_overlay(slot.item, slot.languages)
                folder = Path(decision.media_dir) if decision.media_dir else self.config.media_dir
                video = self.open_video(folder / str(media), self.renderer.canvas, slot.item.fit, slot.item.loop,  # type: ignore[operator]
                                        slot.item.volume)
                if caption is None:
                    return Prepared(decision, video=video)
                return Prepared(decision, video=video, overlay=caption.surface, overlay_at=caption.offset,
                                warnings=caption.warnings)
            rendered = self.renderer.render(slot, Path(decision.media_dir) if decision.media_dir else None)
            return Prepared(decision, surface=rendered.surface.convert() if pygame.display.get_init() and pygame.display.get_surface() else rendered.surface,
                            warnings=rendered.warnings)
        except (PlayerError, ContentError, OSError, pygame.error) as exc:
            return Prepared(decision, error=str(exc))

    def fallback(self) -> pygame.Surface:
        names = [(code, self.config.name_in(code)) for code in self.config.languages]
        return self.renderer.fallback(names, self.config.fallback.background, self.config.fallback.image)


def make_renderer(config: KioskConfig) -> SlideRenderer:
    return SlideRenderer(config.display.canvas, config.display.px_per_mm, Path(config.media_dir), font_overrides(config))


def video_opener(volume: float):  # noqa: ANN201 - returns the opener the painter calls
    """A function opening a video item for the loop, or None where PyAV cannot be imported."""
    try:
        from .audio import open_audio
        from .video import VideoClip
    except ImportError as exc:
        log.error("video items will be skipped: %s", exc)
        return None

    def open_video(path: Path, size: tuple[int, int], fit: str, loop: bool, item_volume: float | None = None) -> object:
        """The clip, its first frame decoded; with sound on (screen or item volume), timed by the sound device."""
        clip = VideoClip(path, size, fit, loop=loop)
        try:
            clip.start()
            clip.first_frame(10.0)
            track = open_audio(path, volume if item_volume is None else item_volume, origin=clip.start_time,
                               loop=loop, loop_period=clip.duration if loop else None)
        except BaseException:
            clip.close()
            raise
        if track is not None:
            clip.use_clock(track)  # frame_at then follows the samples the device has played
        return clip
    return open_video


def menu_folder(config: KioskConfig, media_dir: str) -> Path:
    """The playlists folder that goes with a content generation's media folder (browse.yaml lives there)."""
    if Path(media_dir) == Path(config.media_dir):
        return config.playlists_dir
    return content_folders(Path(media_dir).parent)[0]


def make_kiosk(config: KioskConfig, loop, proof):  # noqa: ANN001, ANN201 - Loop, ProofLog -> Kiosk
    """The touch kiosk around `loop`: its browse menu (from the generation playing), painter thread and fonts."""
    from .touch.browse import load_menu
    from .touch.kiosk import Kiosk
    from .touch.layout import Layout
    from .touch.painter import KioskPainter, Painted
    from .prepare import Preparer

    media_dir = loop.program.content.media_dir
    menu, problems = load_menu(menu_folder(config, media_dir), config.languages, has_font_for(config))
    for problem in problems:
        (log.error if problem.severity == "error" else log.warning)("%s", problem)
    if menu is None:
        log.error("touch mode is on but there is no browse menu to show (playlists/browse.yaml): taps do nothing")
    if config.touch.exit_pin_hash is None:
        log.warning("touch mode is on but touch.exit_pin_hash is not set: staff cannot leave from the screen "
                    "(make one with `python -m player hash-pin`); systemctl stop still stops the player")
    layout = Layout(config.display.canvas, config.display.px_per_mm, config.languages)
    painter = Preparer(KioskPainter(config, layout, menu, Path(media_dir)) if menu else _chrome_only(config, layout),
                       lambda key, message: Painted(key, error=message), name="kiosk-painter")
    return Kiosk(config, loop, menu, painter, proof, make_renderer(config).setter, layout)


def _chrome_only(config: KioskConfig, layout):  # noqa: ANN001, ANN202
    from .touch.browse import Menu
    from .touch.painter import KioskPainter
    return KioskPainter(config, layout, Menu((), ()), config.media_dir)
