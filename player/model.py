"""The content model: playlists, their items and the daypart schedule (frozen data only)."""

from __future__ import annotations

from dataclasses import dataclass, field

from .when import When

ITEM_KINDS = ("text", "image", "video")
TRANSITIONS = ("cut", "crossfade", "slide")
FITS = ("fit", "fill")
PRESENTATIONS = ("rotate", "stack")


@dataclass(frozen=True)
class Transition:
    kind: str = "crossfade"
    seconds: float = 0.8


@dataclass(frozen=True)
class Text:
    """The words of one item in one language."""

    title: str = ""
    body: str = ""
    caption: str = ""

    @property
    def empty(self) -> bool:
        return not (self.title or self.body or self.caption)


@dataclass(frozen=True)
class Background:
    color: tuple[int, int, int] = (12, 44, 74)
    image: str | None = None  # relative to the media folder


@dataclass(frozen=True)
class Item:
    id: str
    kind: str
    duration: float | None  # None: a video's own length
    transition: Transition = Transition()
    fit: str = "fit"
    presentation: str = "rotate"
    stack_languages: tuple[str, ...] = ()
    texts: tuple[tuple[str, Text], ...] = ()
    media: tuple[tuple[str, str], ...] = ()  # (language or "default", path in media/)
    background: Background = Background()
    when: When = When()
    loop: bool = False
    volume: float | None = None  # None: the screen's setting (silent by default)
    file: str = ""
    line: int | None = None

    def text(self, language: str) -> Text | None:
        for code, text in self.texts:
            if code == language:
                return text
        return None

    @property
    def languages(self) -> tuple[str, ...]:
        return tuple(code for code, text in self.texts if not text.empty)

    def media_for(self, language: str) -> str | None:
        default = None
        for code, path in self.media:
            if code == language:
                return path
            if code == "default":
                default = path
        return default


@dataclass(frozen=True)
class Playlist:
    id: str
    items: tuple[Item, ...]
    ticker: tuple[tuple[str, str], ...] = ()
    file: str = ""

    def ticker_text(self, language: str) -> str:
        return next((text for code, text in self.ticker if code == language), "")


@dataclass(frozen=True)
class Daypart:
    """One schedule entry: this playlist may play while `when` is open; higher priority wins."""

    playlist: str
    priority: int = 0
    when: When = When()
    line: int | None = None


@dataclass(frozen=True)
class Content:
    playlists: tuple[Playlist, ...]
    dayparts: tuple[Daypart, ...]
    media_dir: str = "media"
    generation: str = field(default="local", compare=False)

    def playlist(self, playlist_id: str) -> Playlist | None:
        return next((p for p in self.playlists if p.id == playlist_id), None)
