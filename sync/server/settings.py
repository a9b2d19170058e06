"""The server's settings: embedded defaults, overridden by an optional YAML file (pure parsing, no I/O here)."""

from __future__ import annotations

import zoneinfo
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

KEYS = {"data", "listen", "tls", "limits", "screens", "webhook", "long_poll_max_seconds", "timezone", "database",
        "proof_days"}
DATABASE_KEYS = {"url", "password_file", "pool_size", "statement_timeout_ms"}


class SettingsError(ValueError):
    """server.yaml is wrong; the message names the key and what is allowed."""


@dataclass(frozen=True)
class Limits:
    blob_mb: int = 8192  # one uploaded file
    request_kb: int = 2048  # JSON bodies: heartbeats, notices, proof batches
    manifest_kb: int = 4096
    screenshot_kb: int = 2048
    screenshot_pixels: int = 3840 * 2160  # decoded size; more is refused before it is decoded
    proof_batch: int = 2000  # lines per upload


@dataclass(frozen=True)
class ServerSettings:
    data: Path = Path("server-data")  # content/ (the static layout), server.db, screenshots/
    host: str = "127.0.0.1"
    port: int = 8470
    tls_cert: Path | None = None
    tls_key: Path | None = None
    limits: Limits = Limits()
    offline_after: float = 180.0  # seconds without a heartbeat before a screen is flagged (per screen overridable)
    lagging_after: float = 900.0  # seconds a screen may play an older generation than its channel's before a flag
    heartbeat_seconds: float = 30.0  # what screens are told to use
    webhook: str | None = None  # POSTed a JSON body when a screen becomes flagged or recovers
    long_poll_max_seconds: float = 60.0
    timezone: str = "Asia/Ho_Chi_Minh"  # the zone the status page shows times in
    database_url: str | None = None  # postgresql://user@host/db; None: SQLite in data/server.db
    database_password_file: Path | None = None  # else $KIOSK_DATABASE_PASSWORD, else libpq's own (~/.pgpass)
    database_pool: int = 10  # connections (and database threads) per server process
    statement_timeout_ms: int = 5000
    proof_days: int = 400  # proof of play older than this is purged, once a day

    @property
    def database(self) -> str | Path:
        """What Database() opens: the PostgreSQL URL, or the SQLite file."""
        return self.database_url or self.data / "server.db"

    @property
    def content(self) -> Path:
        return self.data / "content"

    @property
    def screenshots(self) -> Path:
        return self.data / "screenshots"


def parse_settings(raw: Any, where: str, base: Path) -> ServerSettings:
    """Settings from the YAML mapping `raw` (read from `where`); relative paths are taken from `base`."""
    if raw is None:
        return ServerSettings(data=base / "server-data")
    if not isinstance(raw, dict):
        raise SettingsError(f"{where}: the file must be a mapping of keys ({', '.join(sorted(KEYS))})")
    unknown = sorted(set(raw) - KEYS)
    if unknown:
        raise SettingsError(f"{where}: unknown key {unknown[0]!r}; allowed: {', '.join(sorted(KEYS))}")
    settings = ServerSettings(data=base / _text(raw, "data", where, "server-data"))
    listen = _section(raw, "listen", where, {"host", "port"})
    settings = replace(settings, host=_text(listen, "host", f"{where}: listen", settings.host),
                       port=int(_number(listen, "port", f"{where}: listen", settings.port, 0, 65535, whole=True)))
    tls = _section(raw, "tls", where, {"cert", "key"})
    cert, key = tls.get("cert"), tls.get("key")
    if bool(cert) != bool(key):
        raise SettingsError(f"{where}: tls needs both cert and key (PEM files), or neither for plain HTTP")
    if cert:
        settings = replace(settings, tls_cert=base / _text(tls, "cert", f"{where}: tls", ""),
                           tls_key=base / _text(tls, "key", f"{where}: tls", ""))
    limits = _section(raw, "limits", where, set(Limits.__dataclass_fields__))
    d = Limits()
    settings = replace(settings, limits=Limits(
        *(int(_number(limits, name, f"{where}: limits", getattr(d, name), 1, 10**7, whole=True))
          for name in Limits.__dataclass_fields__)))
    screens = _section(raw, "screens", where, {"offline_after", "heartbeat_seconds", "lagging_after"})
    settings = replace(settings,
                       offline_after=_number(screens, "offline_after", f"{where}: screens", settings.offline_after, 30, 86400 * 7),
                       lagging_after=_number(screens, "lagging_after", f"{where}: screens", settings.lagging_after, 60,
                                             86400 * 7),
                       heartbeat_seconds=_number(screens, "heartbeat_seconds", f"{where}: screens",
                                                 settings.heartbeat_seconds, 5, 3600))
    webhook = raw.get("webhook")
    if webhook is not None and (not isinstance(webhook, str) or not webhook.startswith(("http://", "https://"))):
        raise SettingsError(f"{where}: webhook must be an http:// or https:// URL, or left out")
    wait = _number(raw, "long_poll_max_seconds", where, settings.long_poll_max_seconds, 1, 600)
    settings = _database(raw, where, base, settings)
    settings = replace(settings, proof_days=int(_number(raw, "proof_days", where, settings.proof_days, 1, 36500,
                                                        whole=True)))
    zone = _text(raw, "timezone", where, settings.timezone)
    try:
        zoneinfo.ZoneInfo(zone)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise SettingsError(f"{where}: timezone {zone!r} is not a time zone name, e.g. Asia/Ho_Chi_Minh") from None
    return replace(settings, webhook=webhook, long_poll_max_seconds=wait, timezone=zone)


def _database(raw: dict[str, Any], where: str, base: Path, settings: ServerSettings) -> ServerSettings:
    section = raw.get("database")
    if isinstance(section, str):  # database: postgresql://… alone
        section = {"url": section}
    database = _section({"database": section}, "database", where, DATABASE_KEYS)
    url = database.get("url")
    if url is not None:
        if not isinstance(url, str) or not url.startswith(("postgresql://", "postgres://")):
            raise SettingsError(f"{where}: database.url must be a postgresql://user@host/db URL, or left out for SQLite")
        if "@" in url.split("://", 1)[1].split("/", 1)[0] and ":" in url.split("://", 1)[1].split("@", 1)[0]:
            raise SettingsError(f"{where}: database.url holds a password; put it in the file database.password_file "
                                "names (or $KIOSK_DATABASE_PASSWORD), never in server.yaml")
    password = database.get("password_file")
    if password is not None and (not isinstance(password, str) or not password):
        raise SettingsError(f"{where}: database.password_file must be a file name")
    return replace(settings, database_url=url, database_password_file=base / password if password else None,
                   database_pool=int(_number(database, "pool_size", f"{where}: database", settings.database_pool, 1, 200,
                                             whole=True)),
                   statement_timeout_ms=int(_number(database, "statement_timeout_ms", f"{where}: database",
                                                    settings.statement_timeout_ms, 100, 3_600_000, whole=True)))


def _section(raw: dict[str, Any], key: str, where: str, allowed: set[str]) -> dict[str, Any]:
    value = raw.get(key) or {}
    if not isinstance(value, dict):
        raise SettingsError(f"{where}: {key} must be a mapping with {', '.join(sorted(allowed))}")
    unknown = sorted(set(value) - allowed)
    if unknown:
        raise SettingsError(f"{where}: {key}.{unknown[0]} is not a setting; allowed: {', '.join(sorted(allowed))}")
    return value


def _text(raw: dict[str, Any], key: str, where: str, default: str) -> str:
    value = raw.get(key, default)
    if not isinstance(value, str) or not value:
        raise SettingsError(f"{where}: {key} must be text")
    return value


def _number(raw: dict[str, Any], key: str, where: str, default: float, low: float, high: float,
            whole: bool = False) -> float:
    value = raw.get(key, default)
    if isinstance(value, bool) or not isinstance(value, (int, float)) or (whole and not isinstance(value, int)) \
            or not low <= value <= high:
        kind = "a whole number" if whole else "a number"
        raise SettingsError(f"{where}: {key} must be {kind} from {low:g} to {high:g}, not {value!r}")
    return value
