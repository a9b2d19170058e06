"""server.yaml: the embedded defaults, each setting, and a clear message naming the key for each mistake."""

from __future__ import annotations

from pathlib import Path

import pytest

from sync.server.run import load_settings
from sync.server.settings import ServerSettings, SettingsError, parse_settings

BASE = Path("/srv/kiosk")


def test_no_file_means_the_embedded_defaults():
    settings = load_settings(None)
    assert (settings.host, settings.port, settings.data) == ("127.0.0.1", 8470, Path("server-data"))
    assert settings.tls_cert is None and settings.webhook is None


def test_every_setting_is_read_and_paths_are_relative_to_the_file():
    settings = parse_settings({"data": "d", "listen": {"host": "0.0.0.0", "port": 443},
                               "tls": {"cert": "server.pem", "key": "server.key"}, "limits": {"blob_mb": 100},
                               "screens": {"offline_after": 600, "heartbeat_seconds": 60},
                               "webhook": "https://hooks.example/kiosk", "long_poll_max_seconds": 30}, "server.yaml", BASE)
    assert settings.data == BASE / "d" and settings.port == 443 and settings.tls_key == BASE / "server.key"
    assert settings.limits.blob_mb == 100 and settings.limits.request_kb == ServerSettings().limits.request_kb
    assert (settings.offline_after, settings.heartbeat_seconds, settings.long_poll_max_seconds) == (600, 60, 30)


def test_the_database_section_names_postgresql_and_a_password_file_never_a_password():
    settings = parse_settings({"database": {"url": "postgresql://kiosk@db.office.lan/kiosk", "password_file": "db.pw",
                                            "pool_size": 20, "statement_timeout_ms": 2000}, "proof_days": 90},
                              "server.yaml", BASE)
    assert settings.database == "postgresql://kiosk@db.office.lan/kiosk"
    assert settings.database_password_file == BASE / "db.pw" and settings.database_pool == 20
    assert (settings.statement_timeout_ms, settings.proof_days) == (2000, 90)
    short = parse_settings({"database": "postgresql://kiosk@/kiosk"}, "server.yaml", BASE)
    assert short.database == "postgresql://kiosk@/kiosk"
    assert parse_settings({}, "server.yaml", BASE).database == BASE / "server-data" / "server.db"


@pytest.mark.parametrize("raw, message", [
    (["data"], "must be a mapping"),
    ({"port": 80}, "unknown key 'port'"),
    ({"listen": {"port": "eighty"}}, "listen: port must be a whole number from 0 to 65535"),
    ({"listen": {"prot": 1}}, "listen.prot is not a setting"),
    ({"tls": {"cert": "a.pem"}}, "tls needs both cert and key"),
    ({"limits": {"blob_mb": 0}}, "limits: blob_mb must be a whole number from 1"),
    ({"screens": {"offline_after": 5}}, "screens: offline_after must be a number from 30"),
    ({"webhook": "ftp://x"}, "webhook must be an http:// or https:// URL"),
    ({"long_poll_max_seconds": True}, "long_poll_max_seconds must be a number"),
    ({"timezone": "Mars/Olympus"}, "timezone 'Mars/Olympus' is not a time zone name"),
    ({"database": "mysql://x@y/z"}, "database.url must be a postgresql://"),
    ({"database": {"url": "postgresql://kiosk:secret@db/kiosk"}}, "holds a password; put it in the file"),
    ({"database": {"pool": 3}}, "database.pool is not a setting"),
    ({"proof_days": 0}, "proof_days must be a whole number from 1"),
    ({"screens": {"lagging_after": 1}}, "screens: lagging_after must be a number from 60"),
])
def test_mistakes_name_the_key_and_what_is_allowed(raw, message):
    with pytest.raises(SettingsError, match=message):
        parse_settings(raw, "server.yaml", BASE)


def test_a_broken_yaml_file_names_its_line(tmp_path):
    path = tmp_path / "server.yaml"
    path.write_text("listen:\n  host: [unclosed\n", encoding="utf-8")
    with pytest.raises(SettingsError, match="server.yaml.*line|server.yaml:"):
        load_settings(path)
