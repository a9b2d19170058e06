"""Screenshots for the central server: a small PNG of what is on screen, every few minutes and when staff ask."""

from __future__ import annotations

import logging
import os
from pathlib import Path

import pygame

from .proof import Background

log = logging.getLogger(__name__)

FILE = "screenshot.png"
REQUEST = "screenshot.request"  # the sync client touches it when the server asks for a fresh one
WIDTH = 640


class Screenshots:
    def __init__(self, state_dir: Path, writer: Background) -> None:
        self.state_dir, self.writer = state_dir, writer

    def take(self, canvas: pygame.Surface) -> None:
        """Scale the frame down on the render thread (about a millisecond) and save it on the writer thread."""
        width, height = canvas.get_size()
        small = pygame.transform.smoothscale(canvas, (WIDTH, max(1, round(height * WIDTH / width))))
        self.writer.submit(lambda: self._save(small))

    def on_request(self, canvas: pygame.Surface) -> None:
        request = self.state_dir / REQUEST
        if request.exists():
            request.unlink(missing_ok=True)
            self.take(canvas)

    def _save(self, picture: pygame.Surface) -> None:
        self.state_dir.mkdir(parents=True, exist_ok=True)
        tmp = self.state_dir / (FILE + ".tmp.png")  # pygame picks the format from the name
        try:
            pygame.image.save(picture, str(tmp))
            os.replace(tmp, self.state_dir / FILE)
        except (OSError, pygame.error) as exc:
            log.error("cannot save the screenshot: %s", exc)
