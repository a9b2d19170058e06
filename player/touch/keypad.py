"""The staff exit keypad: digits on screen, the PIN checked on a thread, wrong PINs locked out for longer each time.

Frame contract: `tap(x, y, now)`, `update(now)`, `draw(surface, now)`. The
keypad's panel is drawn once (by the kiosk's painter); each frame adds only
the entered digits as dots and a short status line.
"""

from __future__ import annotations

import logging
import math
import threading
from typing import Callable

import pygame

from ..fonts import Typesetter
from .icons import icon
from .layout import Layout
from .lockdown import PIN_DIGITS, Attempts, check_pin

log = logging.getLogger(__name__)

PANEL = (8, 24, 42)
KEY = (30, 66, 108)
ACCENT = (233, 182, 64)
WHITE = (255, 255, 255)
LABELS = {"ok": "OK", "cancel": "Hủy / Cancel"}
TITLE = "Nhân viên: nhập mã PIN · Staff: enter PIN"


def keypad_panel(layout: Layout, setter: Callable[[str, bool], Typesetter], px: int) -> pygame.Surface:
    """The keypad's panel with its keys and title (drawn once, in the painter thread)."""
    panel, display, keys = layout.keypad()
    surface = pygame.Surface(layout.canvas)
    surface.fill((0, 0, 0))
    pygame.draw.rect(surface, PANEL, pygame.Rect(panel.rect), border_radius=panel.w // 30)
    pygame.draw.rect(surface, ACCENT, pygame.Rect(panel.rect), 3, border_radius=panel.w // 30)
    title = setter("vi", True).render(TITLE, px, WHITE)
    if title.get_width() > panel.w:
        title = pygame.transform.smoothscale(title, (panel.w, round(title.get_height() * panel.w / title.get_width())))
    surface.blit(title, (panel.x + (panel.w - title.get_width()) // 2, max(0, panel.y - title.get_height() - 8)))
    pygame.draw.rect(surface, (0, 0, 0), pygame.Rect(display.rect), border_radius=8)
    for label, box in keys:
        pygame.draw.rect(surface, KEY if label != "ok" else ACCENT, pygame.Rect(box.rect), border_radius=box.h // 6)
        if label == "del":
            image = icon("arrow", box.h // 2, WHITE)
        else:
            text = LABELS.get(label, label)
            image = setter("en", True).render(text, round(box.h * (0.45 if len(text) <= 2 else 0.3)),
                                              (16, 16, 16) if label == "ok" else WHITE)
        surface.blit(image, (box.x + (box.w - image.get_width()) // 2, box.y + (box.h - image.get_height()) // 2))
    return surface.convert() if pygame.display.get_surface() else surface


class Keypad:
    """One opening of the keypad. `result` becomes "exit" (right PIN) or "cancel" (Cancel or idle)."""

    def __init__(self, layout: Layout, stored: str | None, attempts: Attempts, setter: Callable[[str, bool], Typesetter],
                 now: float) -> None:
        self.layout = layout
        self.stored = stored
        self.attempts = attempts
        self.setter = setter
        self.digits = ""
        self.result: str | None = None
        self.last_touch = now
        self._checking: threading.Thread | None = None
        self._verdict: bool | None = None
        self._message = "" if stored else "Chưa đặt mã PIN · No exit PIN set (kiosk.yaml touch.exit_pin_hash)"
        self._message_image: tuple[str, pygame.Surface] | None = None

    @property
    def checking(self) -> bool:
        return self._checking is not None

    def tap(self, x: float, y: float, now: float) -> None:
        self.last_touch = now
        if self._checking is not None:
            return
        for label, box in self.layout.keypad()[2]:
            if box.contains(x, y):
                self._press(label, now)
                return

    def _press(self, label: str, now: float) -> None:
        if label == "cancel":
            self.result = "cancel"
        elif label == "del":
            self.digits = self.digits[:-1]
        elif label == "ok":
            self._submit(now)
        elif len(self.digits) < PIN_DIGITS[1]:
            self.digits += label

    def _submit(self, now: float) -> None:
        wait = self.attempts.wait(now)
        if not self.stored or len(self.digits) < PIN_DIGITS[0]:
            self._message = f"Mã PIN có ít nhất {PIN_DIGITS[0]} số · A PIN has at least {PIN_DIGITS[0]} digits" \
                if self.stored else self._message
            return
        if wait > 0:
            self.digits = ""
            return
        pin, stored = self.digits, self.stored

        def check() -> None:
            self._verdict = check_pin(pin, stored)
        self._checking = threading.Thread(target=check, name="pin-check", daemon=True)
        self._checking.start()
        self._message = "…"

    def update(self, now: float, timeout: float) -> None:
        """Collect the PIN check's verdict; close after `timeout` seconds untouched."""
        if self._checking is not None and not self._checking.is_alive():
            self._checking = None
            if self._verdict:
                log.warning("staff exit: the right PIN was entered")
                self.result = "exit"
            else:
                self.attempts = self.attempts.failed(now)
                log.warning("staff exit: a wrong PIN (%d in a row)", self.attempts.failures)
                self._message = "Sai mã PIN · Wrong PIN"
            self.digits = ""
        if self.result is None and self._checking is None and now - self.last_touch >= timeout:
            self.result = "cancel"

    def status(self, now: float) -> str:
        wait = self.attempts.wait(now)
        if wait > 0:
            return f"Khóa {math.ceil(wait)} giây · Locked for {math.ceil(wait)} s"
        return self._message

    def draw(self, surface: pygame.Surface, panel: pygame.Surface | None, now: float) -> None:
        if panel is not None:
            surface.blit(panel, (0, 0))
        else:
            surface.fill(PANEL)
        _, display, _ = self.layout.keypad()
        r = max(6, display.h // 9)
        step = 3 * r
        x0 = display.x + display.w // 2 - (len(self.digits) - 1) * step // 2
        pygame.draw.rect(surface, (0, 0, 0), pygame.Rect(display.x, display.y, display.w, display.h * 2 // 3), border_radius=8)
        for index in range(len(self.digits)):
            pygame.draw.circle(surface, WHITE, (x0 + index * step, display.y + display.h // 3), r)
        message = self.status(now)
        if message:
            if self._message_image is None or self._message_image[0] != message:
                px = max(12, display.h // 4)
                image = self.setter("vi", False).render(message, px, ACCENT)
                if image.get_width() > display.w:
                    image = pygame.transform.smoothscale(image, (display.w, round(image.get_height() * display.w / image.get_width())))
                self._message_image = (message, image)
            image = self._message_image[1]
            surface.blit(image, (display.x + (display.w - image.get_width()) // 2, display.y + display.h * 2 // 3))
