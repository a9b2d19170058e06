"""Finding and using the fonts of each language; a line is drawn as runs, each in a face that has its glyphs.

The Khmer face has no Latin letters or ASCII digits and Noto Sans has no Han
characters, so a Khmer line with "113" or a Chinese line with "Núi Cấm" is
split into runs and each run drawn with a face that covers it. Khmer runs are
shaped with set_script("Khmr") (without it subscript consonants sit beside their
base). The CJK collection's Simplified Chinese face is number 2, which only
pygame.freetype can open.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable

import pygame
import pygame.freetype

from .errors import FontError
from .languages import base_code

NOTO = "/usr/share/fonts/truetype/noto"
NOTO_CJK = "/usr/share/fonts/opentype/noto"


@dataclass(frozen=True)
class FontSpec:
    path: str
    index: int = 0
    script: str = "Latn"
    package: str = "fonts-noto-core"


_LATIN = (FontSpec(f"{NOTO}/NotoSans-Regular.ttf"), FontSpec(f"{NOTO}/NotoSans-Bold.ttf"))
_KHMER = (FontSpec(f"{NOTO}/NotoSansKhmer-Regular.ttf", 0, "Khmr"), FontSpec(f"{NOTO}/NotoSansKhmer-Bold.ttf", 0, "Khmr"))
_THAI = (FontSpec(f"{NOTO}/NotoSansThai-Regular.ttf", 0, "Thai"), FontSpec(f"{NOTO}/NotoSansThai-Bold.ttf", 0, "Thai"))
_LAO = (FontSpec(f"{NOTO}/NotoSansLao-Regular.ttf", 0, "Laoo"), FontSpec(f"{NOTO}/NotoSansLao-Bold.ttf", 0, "Laoo"))


def _cjk(index: int) -> tuple[FontSpec, FontSpec]:
    return (FontSpec(f"{NOTO_CJK}/NotoSansCJK-Regular.ttc", index, "Hani", "fonts-noto-cjk"),
            FontSpec(f"{NOTO_CJK}/NotoSansCJK-Bold.ttc", index, "Hani", "fonts-noto-cjk"))


# Noto Sans covers Latin (Vietnamese included), Greek and Cyrillic; other scripts need their own face.
BUILTIN: dict[str, tuple[FontSpec, FontSpec]] = {
    "km": _KHMER, "th": _THAI, "lo": _LAO, "zh": _cjk(2), "ja": _cjk(0), "ko": _cjk(1),
}
LATIN_SCRIPT_LANGUAGES = frozenset(
    "vi en fr de es it pt nl id ms tl ru uk pl cs sk sl hr sr bs ro hu fi sv no nb nn da is et lv lt "
    "tr az el bg mk be kk ky uz tg mn ga cy eu ca gl af sw so ha yo ig zu xh la eo mt sq".split())


def font_specs(language: str, overrides: dict[str, tuple[str, int]] | None = None) -> tuple[FontSpec, FontSpec] | None:
    """The (regular, bold) faces for `language`, or None if we know of none."""
    code = base_code(language)
    if overrides and (language in overrides or code in overrides):
        path, index = overrides.get(language) or overrides[code]
        spec = FontSpec(path, index, BUILTIN.get(code, _LATIN)[0].script, "the file named in kiosk.yaml")
        return (spec, spec)
    if code in BUILTIN:
        return BUILTIN[code]
    if code in LATIN_SCRIPT_LANGUAGES:
        return _LATIN
    return None


def missing_font(language: str, overrides: dict[str, tuple[str, int]] | None = None) -> str | None:
    """None if `language` can be drawn here, else a message saying what to install."""
    specs = font_specs(language, overrides)
    if specs is None:
        return f"no font known for {language!r}; name one under languages.fonts in kiosk.yaml"
    for spec in specs:
        if not Path(spec.path).is_file():
            return f"font {spec.path} for {language!r} is missing; install the Debian package {spec.package}"
    return None


def require_fonts(languages: Iterable[str], overrides: dict[str, tuple[str, int]] | None = None) -> None:
    problems = [m for code in languages if (m := missing_font(code, overrides))]
    problems += [m for m in (missing_font("en"),) if m]  # digits and Latin inside other scripts
    if problems:
        raise FontError("; ".join(dict.fromkeys(problems)))


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
        specs = font_specs(language, overrides)
        if specs is None:
            raise FontError(f"no font known for {language!r}")
        pick = 1 if bold else 0
        chain = [specs[pick], _LATIN[pick], _cjk(2)[pick], _KHMER[pick]]
        self.faces = [Face(s) for s in dict.fromkeys(chain) if Path(s.path).is_file()]
        if not self.faces or self.faces[0].spec != specs[pick]:
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
