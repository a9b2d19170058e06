"""Drawing text in each language's fonts; a line is drawn as runs, each in a face that has its glyphs.

The Khmer face has no Latin letters or ASCII digits and Noto Sans has no Han
characters, so a Khmer line with "113" or a Chinese line with "Núi Cấm" is
split into runs and each run drawn with a face that covers it. Khmer runs are
shaped with set_script("Khmr") (without it subscript consonants sit beside their
base). The CJK collection's Simplified Chinese face is number 2, which only
pygame.freetype can open. Which files those are: player/fontfiles.py.
"""

from __future__ import annotations

import unicodedata
from pathlib import Path

import pygame
import pygame.freetype

from .errors import FontError
from .fontfiles import FontSpec, face_chain, missing_font


class Face:
    """One font file at any size: SDL_ttf (shaping with HarfBuzz) or FreeType for a .ttc face > 0."""

    def __init__(self, spec: FontSpec) -> None:
        self.spec = spec
        self._ft = pygame.freetype.Font(spec.path, 32, font_index=spec.index)
        self._ft.pad = True
        self._sdl: pygame.font.Font | None = None
        if spec.index == 0:
            self._sdl = pygame.font.Font(spec.path, 32)
            self._sdl.set_script(spec.script)
        self._covered: dict[str, bool] = {}

    def covers(self, ch: str) -> bool:
        hit = self._covered.get(ch)
        if hit is None:
            hit = self._covered[ch] = self._ft.get_metrics(ch, 32)[0] is not None
        return hit

    def _sized(self, size: int) -> pygame.font.Font:
        assert self._sdl is not None
        if self._sdl.point_size != size:
            self._sdl.point_size = size
        return self._sdl

    def width(self, text: str, size: int) -> int:
        if self._sdl is not None:
            return self._sized(size).size(text)[0]
        return int(sum(m[4] for m in self._ft.get_metrics(text, size) if m))

    def ascent(self, size: int) -> int:
        if self._sdl is not None:
            return self._sized(size).get_ascent()
        return int(self._ft.get_sized_ascender(size))

    def line_height(self, size: int) -> int:
        if self._sdl is not None:
            return self._sized(size).get_linesize()
        return int(self._ft.get_sized_height(size))

    def render(self, text: str, size: int, color: tuple[int, int, int]) -> pygame.Surface:
        if self._sdl is not None:
            return self._sized(size).render(text, True, color)
        surface, _ = self._ft.render(text, color, size=size)
        # FreeType's surface is as tall as the ink; pad it to the face's ascent so runs share a baseline.
        out = pygame.Surface((surface.get_width(), self.line_height(size)), pygame.SRCALPHA)
        out.blit(surface, (0, self.ascent(size) - self._ft.get_rect(text, size=size).y))
        return out


def _joins_previous(ch: str) -> bool:
    return ch.isspace() or unicodedata.category(ch) in ("Mn", "Mc", "Me", "Cf")


class Typesetter:
    """Measures and draws lines for one language: its own face first, then faces for stray characters.

    Not thread-safe (faces carry their current size): each thread builds its own.
    """

    def __init__(self, language: str, bold: bool = False, overrides: dict[str, tuple[str, int]] | None = None) -> None:
        chain = face_chain(language, bold, overrides)
        self.faces = [Face(s) for s in chain if Path(s.path).is_file()]
        if not self.faces or self.faces[0].spec != chain[0]:
            raise FontError(missing_font(language, overrides) or f"cannot open the font for {language!r}")
        self._widths: dict[tuple[str, int], int] = {}

    def runs(self, text: str) -> list[tuple[Face, str]]:
        text = unicodedata.normalize("NFC", text)
        out: list[tuple[Face, str]] = []
        for ch in text:
            if out and _joins_previous(ch):
                out[-1] = (out[-1][0], out[-1][1] + ch)
                continue
            face = next((f for f in self.faces if f.covers(ch)), self.faces[0])
            if out and out[-1][0] is face:
                out[-1] = (face, out[-1][1] + ch)
            else:
                out.append((face, ch))
        return out

    def width(self, text: str, size: int) -> int:
        key = (text, size)
        if key not in self._widths:
            if len(self._widths) > 20000:
                self._widths.clear()
            self._widths[key] = sum(face.width(run, size) for face, run in self.runs(text))
        return self._widths[key]

    def line_height(self, size: int) -> int:
        return self.faces[0].line_height(size)

    def render(self, text: str, size: int, color: tuple[int, int, int]) -> pygame.Surface:
        """One line as a transparent surface, every run on the primary face's baseline."""
        runs = [(face, run, face.render(run, size, color)) for face, run in self.runs(text) if run]
        baseline = max([self.faces[0].ascent(size)] + [face.ascent(size) for face, _, _ in runs])
        height = max([self.line_height(size)] + [baseline - face.ascent(size) + s.get_height() for face, _, s in runs])
        line = pygame.Surface((max(1, sum(s.get_width() for _, _, s in runs)), height), pygame.SRCALPHA)
        x = 0
        for face, _, surface in runs:
            line.blit(surface, (x, baseline - face.ascent(size)))
            x += surface.get_width()
        return line
