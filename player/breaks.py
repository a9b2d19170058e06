"""Where a line of text may break, per script: ICU's line breaker (the icu4py wheel bundles ICU).

ICU breaks Vietnamese and English at spaces, Chinese between characters but not
before closing punctuation, and Khmer (written without spaces) at word
boundaries from its dictionary, as well as at U+200B zero-width spaces.
"""

from __future__ import annotations

from functools import lru_cache

from icu4py.breakers import CharacterBreaker, LineBreaker

ZWSP = "\u200b"


@lru_cache(maxsize=4096)
def line_segments(text: str, language: str) -> tuple[str, ...]:
    """`text` cut at every allowed line break; the pieces join back to `text`."""
    if not text:
        return ()
    return tuple(LineBreaker(text, language))


@lru_cache(maxsize=4096)
def clusters(text: str) -> tuple[str, ...]:
    """User-perceived characters (grapheme clusters): a Khmer stack or a letter with its marks."""
    return tuple(CharacterBreaker(text, "en"))
