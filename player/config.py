"""kiosk.yaml: one screen's configuration, loaded into a frozen KioskConfig and validated."""

from __future__ import annotations

import re
import zoneinfo
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .errors import ContentError, Problem
from .fields import Reader
from .languages import check_code
from .touch.lockdown import CORNERS, parse_pin_hash
from .power import PowerSettings
from .update_settings import UpdateSettings, parse_update
from .when import parse_when
from .yamlsource import line_of, load_yaml

ROTATIONS = (0, 90, 180, 270)
_SCREEN_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")
RENDERERS = ("auto", "gpu", "software")
_COLOR = re.compile(r"#([0-9a-fA-F]{6})")


@dataclass(frozen=True)
class Display:
    fullscreen: bool = True
    size: tuple[int, int] = (1920, 1080)  # the panel's own mode, before rotation
    rotation: int = 0
    width_mm: float = 952.0  # visible width of the panel along size[0] (43" 16:9)
    fps: int = 60
    renderer: str = "auto"  # auto | gpu | software: who composes the frames (player/compositor.py)

    @property
    def canvas(self) -> tuple[int, int]:
        """The size content is laid out at: portrait when the panel is turned."""
        w, h = self.size
        return (h, w) if self.rotation in (90, 270) else (w, h)

    @property
    def px_per_mm(self) -> float:
        return self.size[0] / self.width_mm


@dataclass(frozen=True)
class FontOverride:
    path: str
    index: int = 0


@dataclass(frozen=True)
class Overlays:
    clock: bool = True
    ticker: bool = True
    shift_every: float = 300.0  # seconds between burn-in shifts of always-on overlays
    shift_pixels: int = 4


@dataclass(frozen=True)
class Touch:
    enabled: bool = False
    idle_timeout: float = 60.0
    exit_pin_hash: str | None = None  # pbkdf2-sha256$...: the staff exit PIN, hashed (python -m player hash-pin)
    exit_corner: str = "top-left"
    exit_taps: int = 5


@dataclass(frozen=True)
class Fallback:
    background: tuple[int, int, int] = (12, 44, 74)
    image: str | None = None


@dataclass(frozen=True)
class SyncSettings:
    """Where this screen gets its content from; content then plays from the store under state_dir."""

    server: str  # base URL (http://, https://) of a published channel folder or the central server
    channel: str
    root_key: str  # base64 Ed25519 public key that signs the channel's publisher list
    ca_file: str | None = None  # private certificate authority for HTTPS
    poll_seconds: float = 60.0  # between polls of a static host; the central server is long-polled instead
    store_limit_mb: int = 4000
    keep_generations: int = 3
    token_file: str | None = None  # this screen's token for the central server: heartbeats, screenshots, proof
    heartbeat_seconds: float = 30.0
    screenshot_seconds: float = 300.0
    min_rate_kb: float = 10.0  # kB/s a download must average after its first 30 s, or it is cut and resumed later


DEFAULT_FALLBACK: tuple[tuple[str, str], ...] = (("km", "en"), ("zh", "en"), ("en", "vi"))


def follow_fallback(language: str, available: tuple[str, ...], chain: tuple[tuple[str, str], ...]) -> str | None:
    """From `language` along `chain` ((from, to) pairs) to the first language in `available`; None if none is."""
    step = dict(chain)
    seen: set[str] = set()
    code: str | None = language
    while code is not None and code not in seen:
        if code in available:
            return code
        seen.add(code)
        code = step.get(code)
    return None


@dataclass(frozen=True)
class KioskConfig:
    screen_id: str
    path: Path
    name: tuple[tuple[str, str], ...] = ()  # the gate's name per language
    display: Display = Display()
    languages: tuple[str, ...] = ("vi", "en", "km", "zh")
    fallback_chain: tuple[tuple[str, str], ...] = DEFAULT_FALLBACK
    fonts: tuple[tuple[str, FontOverride], ...] = ()
    timezone: str = "Asia/Ho_Chi_Minh"
    playlists_dir: Path = Path("playlists")
    media_dir: Path = Path("media")
    state_dir: Path = Path("state")
    overlays: Overlays = Overlays()
    touch: Touch = Touch()
    fallback: Fallback = Fallback()
    volume: float = 0.0
    sync: SyncSettings | None = None
    power: PowerSettings = PowerSettings()
    update: UpdateSettings | None = None  # software updates (player/update_settings.py)

    @property
    def tz(self) -> zoneinfo.ZoneInfo:
        return zoneinfo.ZoneInfo(self.timezone)

    def name_in(self, language: str) -> str:
        names = dict(self.name)
        return names.get(language) or names.get("vi") or next(iter(names.values()), "")

    def resolve_language(self, language: str, available: tuple[str, ...]) -> str | None:
        """Follow the fallback chain from `language` to the first one in `available`."""
        return follow_fallback(language, available, self.fallback_chain)


TOP_KEYS = {"screen", "display", "languages", "timezone", "content", "state_dir", "overlays",
            "touch", "fallback", "audio", "sync", "power", "update"}
_CHANNEL = re.compile(r"[a-z0-9][a-z0-9_-]{0,63}")
_ROOT_KEY = re.compile(r"[A-Za-z0-9+/]{43}=")


def parse_color(value: Any) -> tuple[int, int, int]:
    if isinstance(value, str) and _COLOR.fullmatch(value):
        hexa = value[1:]
        return (int(hexa[0:2], 16), int(hexa[2:4], 16), int(hexa[4:6], 16))
    raise ValueError(f"{value!r} is not a colour like \"#0c2c4a\"")


def _pin_hash(value: Any) -> str:
    parse_pin_hash(value)
    return str(value).strip()


def media_path(value: Any) -> str:
    """A file name inside the media folder (no absolute path, no '..')."""
    if not isinstance(value, str) or not value.strip():
        raise ValueError("must be a file name in the media folder")
    if value.startswith("/") or ".." in Path(value).parts:
        raise ValueError(f"{value!r} must be a path inside the media folder (no leading / or ..)")
    return value


def load_config(path: Path) -> KioskConfig:
    """Load kiosk.yaml; every problem in it is reported at once as a ContentError."""
    raw = load_yaml(path)
    config, problems = parse_config(raw, path)
    if any(p.severity == "error" for p in problems) or config is None:
        raise ContentError(problems)
    return config


def parse_config(raw: Any, path: Path) -> tuple[KioskConfig | None, list[Problem]]:
    """kiosk.yaml's parsed YAML as a KioskConfig (None on any error) and every problem in it; one helper a section."""
    r = Reader(str(path))
    top = r.mapping(raw, "", TOP_KEYS)
    if raw is None:
        r.error("config-empty", "", "the file is empty; see the README for a complete kiosk.yaml")
    base = path.parent
    screen_id, names = _screen(r, top)
    display = _display(r, top)
    codes, chain, fonts = _languages(r, top, base)
    timezone = _timezone(r, top)
    content = r.section(top, "content", {"playlists", "media"})
    overlays = _overlays(r, top)
    touch = _touch(r, top)
    fallback = _fallback(r, top)
    audio = r.section(top, "audio", {"volume"})
    sync = _sync_settings(r, top, base)
    power = _power_settings(r, top)
    update = parse_update(r, top, sync is not None)
    playlists_dir = base / r.field(content, "playlists", "content", (str,), "playlists")
    media_dir = base / r.field(content, "media", "content", (str,), "media")
    state_dir = base / r.field(top, "state_dir", "", (str,), "state")
    volume = r.number(audio, "volume", "audio", 0.0, low=0, high=1)
    if r.failed or screen_id is None:
        return None, r.problems
    if touch.enabled and touch.exit_pin_hash is None:
        r.warn("no-exit-pin", "touch.exit_pin_hash", "touch mode is on but no staff exit PIN is set, so only `systemctl stop` "
               "ends the player; make one with `python -m player hash-pin`", line_of(top, "touch"))
    return KioskConfig(screen_id=screen_id, path=path, name=tuple(names.items()), display=display, languages=codes,
                       fallback_chain=chain, fonts=fonts, timezone=timezone, playlists_dir=playlists_dir,
                       media_dir=media_dir, state_dir=state_dir, overlays=overlays, touch=touch, fallback=fallback,
                       volume=volume, sync=sync, power=power, update=update), r.problems


def _screen(r: Reader, top: dict[str, Any]) -> tuple[str | None, dict[str, str]]:
    screen = r.section(top, "screen", {"id", "name"})
    if "screen" not in top:
        r.error("screen-required", "screen", "is required, with at least `id` (this screen's name in the fleet)")
        return None, {}
    screen_id = r.field(screen, "id", "screen", (str,), what="text such as tb-hall-01")
    if screen_id is not None and not _SCREEN_ID.fullmatch(screen_id):
        r.error_at("bad-id", screen, "id", "screen", f"{screen_id!r} may use only letters, digits, '-', '_' and '.' (64 at most)")
    return screen_id, _language_map(r, screen.get("name"), "screen.name", line_of(screen, "name"))


def _display(r: Reader, top: dict[str, Any]) -> Display:
    disp = r.section(top, "display", {"fullscreen", "size", "rotation", "width_mm", "fps", "renderer"})
    size = r.convert(disp, "size", "display", _parse_size, Display.size)
    rotation = r.field(disp, "rotation", "display", (int,), 0)
    if rotation not in ROTATIONS:
        r.error_at("bad-rotation", disp, "rotation", "display", f"must be one of 0, 90, 180, 270 (degrees clockwise), not {rotation}")
        rotation = 0
    return Display(
        fullscreen=r.field(disp, "fullscreen", "display", (bool,), True),
        size=size,
        rotation=rotation,
        width_mm=r.number(disp, "width_mm", "display", 952.0, low=50, high=20000),
        fps=r.number(disp, "fps", "display", 60, low=10, high=240, whole=True),
        renderer=r.choice(disp, "renderer", "display", RENDERERS, "auto"),
    )


def _languages(r: Reader, top: dict[str, Any], base: Path) -> tuple[tuple[str, ...], tuple[tuple[str, str], ...],
                                                                    tuple[tuple[str, FontOverride], ...]]:
    langs = r.section(top, "languages", {"order", "fallback", "fonts"})
    order = r.field(langs, "order", "languages", (list,), ["vi", "en", "km", "zh"])
    codes: list[str] = []
    for i, code in enumerate(order):
        message = check_code(code)
        if message:
            r.error_at("bad-language", order, i, "languages.order", message)
        elif code in codes:
            r.error_at("listed-twice", order, i, "languages.order", f"{code!r} is listed twice")
        else:
            codes.append(code)
    if not codes:
        r.error_at("no-languages", langs, "order", "languages", "must list at least one language, e.g. [vi, en, km, zh]")
    return tuple(codes), _fallback_chain(r, langs, codes), _font_overrides(r, langs, base)


def _timezone(r: Reader, top: dict[str, Any]) -> str:
    timezone: str = r.field(top, "timezone", "", (str,), "Asia/Ho_Chi_Minh")
    try:
        zoneinfo.ZoneInfo(timezone)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError, OSError):  # "Asia" is a folder, not a zone
        r.error_at("bad-timezone", top, "timezone", "", f"{timezone!r} is not a time zone name such as Asia/Ho_Chi_Minh")
        return "Asia/Ho_Chi_Minh"
    return timezone


def _overlays(r: Reader, top: dict[str, Any]) -> Overlays:
    over = r.section(top, "overlays", {"clock", "ticker", "shift_every", "shift_pixels"})
    return Overlays(
        clock=r.field(over, "clock", "overlays", (bool,), True),
        ticker=r.field(over, "ticker", "overlays", (bool,), True),
        shift_every=r.number(over, "shift_every", "overlays", 300.0, low=1),
        shift_pixels=r.number(over, "shift_pixels", "overlays", 4, low=0, high=40, whole=True),
    )


def _touch(r: Reader, top: dict[str, Any]) -> Touch:
    touch = r.section(top, "touch", {"enabled", "idle_timeout", "exit_pin_hash", "exit_corner", "exit_taps"})
    return Touch(
        enabled=r.field(touch, "enabled", "touch", (bool,), False),
        idle_timeout=r.number(touch, "idle_timeout", "touch", 60.0, low=10, high=3600),
        exit_pin_hash=r.convert(touch, "exit_pin_hash", "touch", _pin_hash, None),
        exit_corner=r.choice(touch, "exit_corner", "touch", CORNERS, "top-left"),
        exit_taps=r.number(touch, "exit_taps", "touch", 5, low=3, high=10, whole=True),
    )


def _fallback(r: Reader, top: dict[str, Any]) -> Fallback:
    fall = r.section(top, "fallback", {"background", "image"})
    return Fallback(
        background=r.convert(fall, "background", "fallback", parse_color, Fallback.background),
        image=r.convert(fall, "image", "fallback", media_path, None),
    )


def _power_settings(r: Reader, top: dict[str, Any]) -> PowerSettings:
    if top.get("power") is None:
        return PowerSettings()
    m = r.section(top, "power", {"on", "method", "on_command", "off_command", "check_seconds"})
    rules = []
    raw_on = m.get("on")
    if raw_on is not None:
        if not isinstance(raw_on, list) or not raw_on:
            r.error_at("bad-power-rules", m, "on", "power", "must be a list of rules like {weekdays: [mon, tue], times: [\"06:00-22:00\"]}")
        else:
            for i, rule in enumerate(raw_on):
                errors = sum(p.severity == "error" for p in r.problems)
                when = parse_when(r, rule, f"power.on[{i}]", line_of(raw_on, i))
                if sum(p.severity == "error" for p in r.problems) == errors:
                    rules.append(when)
    methods = ("none", "cec", "vcgencmd", "xset", "command")
    method = r.choice(m, "method", "power", methods, "none")
    commands = {}
    for key in ("on_command", "off_command"):
        value = r.field(m, key, "power", (list,), [], what="a list of words, e.g. [vcgencmd, display_power, \"1\"]")
        if not all(isinstance(word, (str, int)) for word in value):
            r.error_at("not-word-list", m, key, "power", "must be a list of words (text)")
            value = []
        commands[key] = tuple(str(word) for word in value)
    if method == "command" and not (commands["on_command"] and commands["off_command"]):
        r.error_at("power-command-missing", m, "method", "power", "`command` needs both on_command and off_command")
    return PowerSettings(tuple(rules), method or "none", commands["on_command"], commands["off_command"],
                         r.number(m, "check_seconds", "power", 30.0, low=1, high=3600))


def _sync_settings(r: Reader, top: dict[str, Any], base: Path) -> SyncSettings | None:
    if top.get("sync") is None:
        return None
    keys = {"server", "channel", "root_key", "ca_file", "poll_seconds", "store_limit_mb", "keep_generations",
            "token_file", "heartbeat_seconds", "screenshot_seconds", "min_rate_kb"}
    m = r.section(top, "sync", keys)
    server = r.field(m, "server", "sync", (str,), what="the channel's base URL, e.g. https://office.example/kiosk/")
    if server and not server.startswith(("http://", "https://")):
        r.error_at("bad-url", m, "server", "sync", f"{server!r} must be an http:// or https:// URL (for a USB stick use `python -m sync import`)")
    channel = r.field(m, "channel", "sync", (str,), what="the channel name, e.g. tinh-bien")
    if channel and not _CHANNEL.fullmatch(channel):
        r.error_at("bad-channel", m, "channel", "sync", f"{channel!r} must be lower-case letters, digits, '-' or '_'")
    root_key = r.field(m, "root_key", "sync", (str,), what="the root public key: the line in root.pub from `python -m sync keygen`")
    if root_key and not _ROOT_KEY.fullmatch(root_key.strip()):
        r.error_at("bad-key", m, "root_key", "sync", "must be an Ed25519 public key: 44 characters of base64, as in root.pub")
    ca_file = r.field(m, "ca_file", "sync", (str,), None)
    if ca_file and not (base / ca_file).is_file():
        r.error_at("file-missing", m, "ca_file", "sync", f"{base / ca_file} does not exist")
    token_file = r.field(m, "token_file", "sync", (str,), None)
    settings = SyncSettings(
        server=server or "", channel=channel or "", root_key=(root_key or "").strip(),
        ca_file=str(base / ca_file) if ca_file else None,
        poll_seconds=r.number(m, "poll_seconds", "sync", 60.0, low=1, high=86400),
        store_limit_mb=r.number(m, "store_limit_mb", "sync", 4000, low=50, whole=True),
        keep_generations=r.number(m, "keep_generations", "sync", 3, low=1, high=50, whole=True),
        token_file=str(base / token_file) if token_file else None,
        heartbeat_seconds=r.number(m, "heartbeat_seconds", "sync", 30.0, low=5, high=3600),
        screenshot_seconds=r.number(m, "screenshot_seconds", "sync", 300.0, low=30, high=86400),
        min_rate_kb=r.number(m, "min_rate_kb", "sync", 10.0, low=0.5, high=100_000),
    )
    return settings


def _parse_size(value: Any) -> tuple[int, int]:
    if (isinstance(value, list) and len(value) == 2 and all(isinstance(v, int) and not isinstance(v, bool) for v in value)
            and 160 <= value[0] <= 8192 and 160 <= value[1] <= 8192):
        return (value[0], value[1])
    raise ValueError(f"must be [width, height] in pixels, each 160 to 8192, not {value!r}")


def _language_map(r: Reader, value: Any, path: str, line: int | None) -> dict[str, str]:
    if value is None:
        return {}
    if isinstance(value, str):
        return {"vi": value}
    if not isinstance(value, dict):
        r.error("not-language-map", path, "must be text, or a mapping of language code to text", line)
        return {}
    out: dict[str, str] = {}
    for code, text in value.items():
        message = check_code(code)
        if message:
            r.error_at("bad-language", value, code, path, message)
        elif not isinstance(text, str):
            r.error_at("wrong-type", value, code, path, "must be text")
        else:
            out[code] = text
    return out


def _fallback_chain(r: Reader, langs: dict[str, Any], codes: list[str]) -> tuple[tuple[str, str], ...]:
    raw = langs.get("fallback")
    if raw is None:
        default = {"km": "en", "zh": "en", "en": "vi"}
        return tuple((a, b) for a, b in default.items())
    if not isinstance(raw, dict):
        r.error_at("bad-fallback", langs, "fallback", "languages", "must map a language to the one shown when it has no text, e.g. {km: en}")
        return ()
    chain: dict[str, str] = {}
    for code, target in raw.items():
        for value in (code, target):
            message = check_code(value)
            if message:
                r.error_at("bad-language", raw, code, "languages.fallback", message)
                break
        else:
            chain[code] = target
    for start in chain:  # a loop would make a missing text fall back forever
        seen, code = {start}, chain[start]
        while code in chain:
            if code in seen:
                r.error_at("fallback-circle", raw, start, "languages.fallback", f"the chain from {start!r} comes back to {code!r}")
                break
            seen.add(code)
            code = chain[code]
    return tuple(chain.items())


def _font_overrides(r: Reader, langs: dict[str, Any], base: Path) -> tuple[tuple[str, FontOverride], ...]:
    raw = langs.get("fonts")
    if raw is None:
        return ()
    if not isinstance(raw, dict):
        r.error_at("bad-fonts", langs, "fonts", "languages", "must map a language to a font file, e.g. {th: /usr/share/fonts/.../NotoSansThai-Regular.ttf}")
        return ()
    out = []
    for code, spec in raw.items():
        message = check_code(code)
        if message:
            r.error_at("bad-font", raw, code, "languages.fonts", message)
            continue
        if isinstance(spec, str):
            out.append((code, FontOverride(str(base / spec))))
        elif isinstance(spec, dict) and isinstance(spec.get("path"), str) and isinstance(spec.get("index", 0), int):
            out.append((code, FontOverride(str(base / spec["path"]), spec.get("index", 0))))
        else:
            r.error_at("bad-font", raw, code, "languages.fonts", "must be a font file path, or {path: FILE, index: N} for a .ttc collection")
    return tuple(out)
