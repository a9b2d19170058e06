"""Language codes: which are real, how each names itself, and which script it is written in."""

from __future__ import annotations

# ISO 639-1, so that a typo such as "kh" (for Khmer, "km") is caught rather than shown as nothing.
ISO_639_1 = frozenset("""
aa ab ae af ak am an ar as av ay az ba be bg bi bm bn bo br bs ca ce ch co cr cs cu cv cy da de dv
dz ee el en eo es et eu fa ff fi fj fo fr fy ga gd gl gn gu gv ha he hi ho hr ht hu hy hz ia id ie
ig ii ik io is it iu ja jv ka kg ki kj kk kl km kn ko kr ks ku kv kw ky la lb lg li ln lo lt lu lv
mg mh mi mk ml mn mr ms mt my na nb nd ne ng nl nn no nr nv ny oc oj om or os pa pi pl ps pt qu rm
rn ro ru rw sa sc sd se sg si sk sl sm sn so sq sr ss st su sv sw ta te tg th ti tk tl tn to tr ts
tt tw ty ug uk ur uz ve vi vo wa wo xh yi yo za zh zu
""".split())

# Each language named in its own script, for the language bar and messages.
NATIVE_NAMES = {
    "vi": "Tiếng Việt", "en": "English", "km": "ភាសាខ្មែរ", "zh": "中文", "fr": "Français",
    "ja": "日本語", "ko": "한국어", "th": "ไทย", "lo": "ລາວ", "ru": "Русский", "de": "Deutsch",
}
ENGLISH_NAMES = {
    "vi": "Vietnamese", "en": "English", "km": "Khmer", "zh": "Chinese", "fr": "French",
    "ja": "Japanese", "ko": "Korean", "th": "Thai", "lo": "Lao", "ru": "Russian", "de": "German",
}

# Likely typos of the codes a border gate uses, with what was meant.
_NEAR_MISSES = {"kh": "km", "khm": "km", "cn": "zh", "vn": "vi", "vie": "vi", "eng": "en", "chi": "zh", "zho": "zh", "jp": "ja", "kr": "ko"}


def base_code(code: str) -> str:
    return code.split("-", 1)[0].lower()


def check_code(code: object) -> str | None:
    """None if `code` is a usable language code, else what is wrong with it."""
    if not isinstance(code, str) or not code:
        return f"{code!r} is not a language code (two letters, e.g. vi, en, km, zh)"
    if base_code(code) in ISO_639_1 and code == code.strip():
        return None
    hint = _NEAR_MISSES.get(code.lower())
    if hint:
        return f"{code!r} is not a language code; did you mean {hint!r} ({ENGLISH_NAMES[hint]})?"
    return f"{code!r} is not an ISO 639-1 language code (e.g. vi, en, km, zh)"
