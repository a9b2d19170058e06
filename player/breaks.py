"""Where a line of text may break, per script: ICU's line breaker when it loads, else simple rules.

ICU breaks Vietnamese and English at spaces, Chinese between characters but not
before closing punctuation, and Khmer (written without spaces) at word
boundaries from its dictionary, as well as at U+200B zero-width spaces.
"""

from __future__ import annotations

import logging
import re
import unicodedata
from functools import lru_cache

log = logging.getLogger(__name__)

try:
    from icu4py.breakers import CharacterBreaker, LineBreaker
except ImportError:  # pragma: no cover - exercised only where icu4py has no wheel
    CharacterBreaker = LineBreaker = None  # type: ignore[assignment,misc]
    log.warning("icu4py is not installed: Khmer lines break only at spaces and U+200B")

ZWSP = "\u200b"
_CLOSING = set("。，、；：？！）》」』】〕〉”’.,;:?!)]}%")
_SIMPLE = re.compile(r"[^\s\u200b]*[\s\u200b]*")


def have_icu() -> bool:
    return LineBreaker is not None


@lru_cache(maxsize=4096)
def line_segments(text: str, language: str) -> tuple[str, ...]:
    """`text` cut at every allowed line break; the pieces join back to `text`."""
    if not text:
        return ()
    if LineBreaker is not None:
        return tuple(LineBreaker(text, language))
    return _simple_segments(text)


@lru_cache(maxsize=4096)
def clusters(text: str) -> tuple[str, ...]:
    """User-perceived characters (grapheme clusters): a Khmer stack or a letter with its marks."""
    if CharacterBreaker is not None:
        return tuple(CharacterBreaker(text, "en"))
    out: list[str] = []
    for ch in text:
        joins = out and (unicodedata.combining(ch) or unicodedata.category(ch) in ("Mn", "Mc")
                         or out[-1].endswith("\u17d2"))  # after a Khmer coeng the next consonant stacks
        if joins:
            out[-1] += ch
        else:
            out.append(ch)
    return tuple(out)


def _simple_segments(text: str) -> tuple[str, ...]:
    out: list[str] = []
    for word in _SIMPLE.findall(text):
        if not word:
            continue
        if any(_is_cjk(ch) for ch in word):  # between CJK characters, not before closing punctuation
            for ch in word:
                if out and (ch in _CLOSING or ch.isspace()) and out[-1]:
                    out[-1] += ch
                else:
                    out.append(ch)
        else:
            out.append(word)
    return tuple(out)


def _is_cjk(ch: str) -> bool:
    return "\u3000" <= ch <= "\u9fff" or "\uf900" <= ch <= "\ufaff" or "\uff00" <= ch <= "\uffef"
