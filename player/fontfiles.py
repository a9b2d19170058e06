"""Which font files each language needs and whether they are installed; no pygame, so checks need no display.

The CJK collection's Simplified Chinese face is number 2 (face 0 is Japanese);
player/fonts.py opens it with pygame.freetype.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterable

from .config import KioskConfig
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


def face_chain(language: str, bold: bool, overrides: dict[str, tuple[str, int]] | None = None) -> list[FontSpec]:
    """The faces a line in `language` is drawn with: its own first, then faces for stray characters
    (Latin digits in Khmer text, Han in a Vietnamese line). FontError when no face for `language` is known."""
    specs = font_specs(language, overrides)
    if specs is None:
        raise FontError(f"no font known for {language!r}")
    pick = 1 if bold else 0
    return list(dict.fromkeys([specs[pick], _LATIN[pick], _cjk(2)[pick], _KHMER[pick]]))


def font_overrides(config: KioskConfig) -> dict[str, tuple[str, int]]:
    """kiosk.yaml's `languages.fonts`, as font_specs takes them."""
    return {code: (spec.path, spec.index) for code, spec in config.fonts}


def has_font_for(config: KioskConfig) -> Callable[[str], bool]:
    """A predicate, remembered per language: can this screen draw `code`?"""
    overrides = font_overrides(config)
    cache: dict[str, bool] = {}

    def has_font(code: str) -> bool:
        if code not in cache:
            cache[code] = missing_font(code, overrides) is None
        return cache[code]
    return has_font
