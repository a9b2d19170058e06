"""Compositing two full-screen pictures during a transition: cut, crossfade or slide."""

from __future__ import annotations

import pygame


def to_panel(canvas: pygame.Surface, rotation: int) -> pygame.Surface:
    """The picture as the panel's framebuffer needs it, for a panel mounted `rotation` degrees clockwise.

    Turning the panel clockwise carries its framebuffer's left edge to the top, so the picture
    is turned the other way (pygame's positive angles are counter-clockwise).
    """
    return pygame.transform.rotate(canvas, rotation) if rotation else canvas


LINEAR_SHARE = 0.2  # of the easing that is linear: see `ease`


def ease(progress: float) -> float:
    """Smoothstep with a fifth of it linear. Pure smoothstep is flat at both ends: the first and last 2-3 frames
    of a 1 s fade at 60 fps round to the same 8-bit alpha, so the fade held its first and last pictures for up
    to 4 frame periods; with the linear share every frame moves by at least one step of alpha."""
    p = min(1.0, max(0.0, progress))
    return (1 - LINEAR_SHARE) * p * p * (3 - 2 * p) + LINEAR_SHARE * p


def compose(target: pygame.Surface, old: pygame.Surface | None, new: pygame.Surface, kind: str, progress: float) -> None:
    """Draw the moment `progress` (0..1) of the transition from `old` to `new` onto `target`."""
    if old is None or kind == "cut" or progress >= 1.0:
        target.blit(new, (0, 0))
        return
    p = ease(progress)
    if kind == "slide":
        width = target.get_width()
        shift = round(width * p)
        target.blit(old, (-shift, 0))
        target.blit(new, (width - shift, 0))
        return
    target.blit(old, (0, 0))
    new.set_alpha(round(255 * p))
    target.blit(new, (0, 0))
    new.set_alpha(None)
