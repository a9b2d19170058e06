"""Screenshots for the central server: a small PNG of what is on screen, every few minutes and when staff ask."""

from __future__ import annotations

import io
import logging

import pygame

from sync.layout import StateFolder, write_atomic

from .proof import Background

log = logging.getLogger(__name__)

WIDTH = 640


class Screenshots:
    def __init__(self, state: StateFolder, writer: Background) -> None:
        self.state, self.writer = state, writer

    def take(self, canvas: pygame.Surface) -> None:
        """Scale the frame down on the render thread (about a millisecond) and save it on the writer thread."""
        width, height = canvas.get_size()
        small = pygame.transform.smoothscale(canvas, (WIDTH, max(1, round(height * WIDTH / width))))
        self.writer.submit(lambda: self._save(small))

    def on_request(self, canvas: pygame.Surface) -> None:
        request = self.state.screenshot_request  # the sync client touches it when staff ask for a fresh one
        if request.exists():
            request.unlink(missing_ok=True)
            self.take(canvas)

    def _save(self, picture: pygame.Surface) -> None:
        png = io.BytesIO()
        try:
            pygame.image.save(picture, png, ".png")  # the name hint picks the format
            write_atomic(self.state.screenshot, png.getvalue())
        except (OSError, pygame.error) as exc:
            log.error("cannot save the screenshot: %s", exc)
