"""Painting slots off the render loop: a Decision becomes a ready picture, or an opened video with its caption.

SlotPainter runs in the preparer's thread (and, with a smaller text floor, in
the touch kiosk's painter for its pages). Each thread owns its SlideRenderer:
fonts carry their current size and are not thread-safe.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import pygame

from .compositor import has_gpu
from .config import KioskConfig
from .errors import ContentError, MediaError, PlayerError
from .fontfiles import font_overrides
from .overlays import ticker_key, ticker_px, ticker_strip
from .prepare import Clip, OpenVideo, Prepared
from .sequence import Decision
from .slides import SlideRenderer

log = logging.getLogger(__name__)


@dataclass
class SlotPainter:
    """Runs in the preparer's thread: turns a Decision into a ready picture (or video)."""

    config: KioskConfig
    renderer: SlideRenderer
    open_video: OpenVideo | None = None  # None where PyAV cannot be imported: video items are then skipped
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
                video = self.open_video(folder / str(media), self.renderer.canvas, slot.item.fit, slot.item.loop,
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


def video_opener(volume: float) -> OpenVideo | None:
    """A function opening a video item for the loop, or None where PyAV cannot be imported."""
    try:  # here, not at the top: a screen whose PyAV cannot load (an FFmpeg library missing) still plays slides
        from av.codec.hwaccel import hwdevices_available

        from .audio import open_audio
        from .video import VideoClip
        from .videofile import hw_devices
    except ImportError as exc:
        log.error("video items will be skipped: %s", exc)
        return None
    gpu = has_gpu()
    hwaccel = hw_devices(tuple(hwdevices_available()), gpu)
    if not hwaccel:  # with devices to try, player/video.py says once whether they took the clip
        log.info("video is decoded in software: %s", "no GPU here" if not gpu else "this FFmpeg has no VA-API or DRM decoder")

    def open_video(path: Path, size: tuple[int, int], fit: str, loop: bool, item_volume: float | None = None) -> Clip:
        """The clip, its first frame decoded; with sound on (screen or item volume), timed by the sound device."""
        clip = VideoClip(path, size, fit, loop=loop, hwaccel=hwaccel)
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
