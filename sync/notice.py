"""Urgent notices (pure): text per language, a level, an expiry and who it is for, signed like a manifest.

The payload is canonical JSON inside a "notice" envelope (sync/envelope.py), signed by
a publisher key of every channel it names, so neither the server nor the network can
forge one. Staff clear a notice early by deleting it on the server; a screen that
missed the deletion still drops it at expiry.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from .errors import ManifestError
from .jsondoc import load_json
from .manifest import check_channel

FORMAT = 1
LEVELS = ("urgent", "warning", "info")
MAX_TEXT = 600
MAX_LIFETIME = timedelta(days=14)
MAX_NOTICE_BYTES = 32 * 1024
_ID = re.compile(r"[A-Za-z0-9_-]{8,64}")
_LANGUAGE = re.compile(r"[a-z]{2,3}")
_SCREEN = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")


@dataclass(frozen=True)
class Notice:
    id: str
    level: str  # "urgent" fills the screen, "warning" and "info" are a band over the content
    texts: tuple[tuple[str, str], ...]  # (language, text), in the order staff gave them
    channels: tuple[str, ...]
    screens: tuple[str, ...]  # empty: every screen of those channels
    created: datetime
    expires: datetime

    def for_screen(self, channel: str, screen: str) -> bool:
        return channel in self.channels and (not self.screens or screen in self.screens)

    def live(self, now: datetime) -> bool:
        return self.created - timedelta(minutes=10) <= now < self.expires  # a screen clock a little slow still shows it

    def text(self, language: str) -> str | None:
        return dict(self.texts).get(language)


def notice_payload(notice: Notice) -> bytes:
    data = {"format": FORMAT, "id": notice.id, "level": notice.level, "texts": dict(notice.texts),
            "channels": list(notice.channels), "screens": list(notice.screens),
            "created": notice.created.isoformat(timespec="seconds"), "expires": notice.expires.isoformat(timespec="seconds")}
    return json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def build_notice(id: str, level: str, texts: list[tuple[str, str]], channels: list[str], screens: list[str],
                 created: datetime, expires: datetime) -> Notice:
    """A notice screens will accept: it goes through the same parser they use."""
    draft = Notice(id, level, tuple(texts), tuple(channels), tuple(screens), created, expires)
    return parse_notice(notice_payload(draft))


def parse_notice(payload: bytes) -> Notice:
    """A verified payload as a Notice; anything malformed is a ManifestError that says which key and why."""
    if len(payload) > MAX_NOTICE_BYTES:
        raise ManifestError(f"notice is {len(payload)} bytes; at most {MAX_NOTICE_BYTES}")
    try:
        data = load_json(payload)
    except ValueError as exc:
        raise ManifestError(f"notice is unusable: {exc}") from None
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise ManifestError(f"notice format must be {FORMAT}")
    notice_id = data.get("id")
    if not isinstance(notice_id, str) or not _ID.fullmatch(notice_id):
        raise ManifestError("notice id must be 8 to 64 letters, digits, '-' or '_'")
    level = data.get("level")
    if level not in LEVELS:
        raise ManifestError(f"notice level must be one of {', '.join(LEVELS)}, not {level!r}")
    texts = data.get("texts")
    if not isinstance(texts, dict) or not texts:
        raise ManifestError("notice texts must map a language code to its text, e.g. {\"vi\": \"…\", \"en\": \"…\"}")
    for language, text in texts.items():
        if not _LANGUAGE.fullmatch(language):
            raise ManifestError(f"notice texts: {language!r} is not a language code (vi, en, km, zh)")
        if not isinstance(text, str) or not text.strip() or len(text) > MAX_TEXT:
            raise ManifestError(f"notice texts.{language} must be text of 1 to {MAX_TEXT} characters")
    channels = data.get("channels")
    if not isinstance(channels, list) or not channels:
        raise ManifestError("notice channels must list at least one channel")
    screens = data.get("screens", [])
    if not isinstance(screens, list) or not all(isinstance(s, str) and _SCREEN.fullmatch(s) for s in screens):
        raise ManifestError("notice screens must be a list of screen ids (empty: every screen of the channels)")
    created, expires = _time(data, "created"), _time(data, "expires")
    if expires <= created:
        raise ManifestError("notice expires must be after created")
    if expires - created > MAX_LIFETIME:
        raise ManifestError(f"a notice may last at most {MAX_LIFETIME.days} days; post a new one after that")
    return Notice(notice_id, level, tuple((k, v.strip()) for k, v in texts.items()),
                  tuple(check_channel(c) for c in channels), tuple(screens), created, expires)


def _time(data: dict[str, Any], key: str) -> datetime:
    value = data.get(key)
    try:
        when = datetime.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        when = None
    if when is None or when.tzinfo is None:
        raise ManifestError(f"notice {key} must be an ISO 8601 time with its offset, e.g. 2026-11-26T14:00:00+07:00")
    return when


def notices_document(envelopes: list[bytes]) -> bytes:
    """What a channel serves at channels/<channel>/notices: the signed envelopes as a JSON list of text."""
    return json.dumps({"format": FORMAT, "notices": [e.decode("utf-8") for e in envelopes]},
                      ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def read_notices_document(data: bytes) -> list[bytes]:
    """The envelopes in a notices document (each still to be verified)."""
    try:
        raw = load_json(data)
        envelopes = raw["notices"]
        if raw.get("format") != FORMAT or not isinstance(envelopes, list) or not all(isinstance(e, str) for e in envelopes):
            raise ValueError("notices must be a list of signed notices")
    except (KeyError, TypeError, ValueError) as exc:
        raise ManifestError(f"notices document is malformed: {exc}") from None
    return [e.encode("utf-8") for e in envelopes]
