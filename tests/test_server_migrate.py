"""Numbered schema migrations: a database made by the first release is upgraded in place, a newer one refused."""

from __future__ import annotations

import json
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
import requests

from sync.server.db import Database
from sync.server.migrate import SchemaError, code_version
from sync.server.run import start_in_thread
from sync.server.settings import ServerSettings
from tests.conftest import DATA, REPO, database_for

V0 = DATA / "server-v0" / "server.db"  # made by the code of commit 2b650f1: see its make.py
LAN = "staff.lanlanlanlan." + "L" * 43
MINH = "staff.minhminhminh." + "M" * 43


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "sync", "server", *args], cwd=REPO, capture_output=True, text=True,
                          timeout=120)


@pytest.fixture
def v0(tmp_path: Path) -> Path:
    data = tmp_path / "data"
    data.mkdir()
    shutil.copy(V0, data / "server.db")
    return data


@pytest.mark.slow
def test_a_first_release_database_is_upgraded_in_place_keeping_every_row(v0: Path) -> None:
    before = {t: n for t, n in counts(v0 / "server.db").items()}
    dry = cli("migrate", "--dry-run", "--data", str(v0))
    assert dry.returncode == 0 and "schema version 0001" in dry.stdout and f"would run {code_version()}" in dry.stdout
    assert counts(v0 / "server.db") == before, "a dry run changes nothing"
    running = start_in_thread(ServerSettings(data=v0, port=0))
    try:
        lan = {"Authorization": f"Bearer {LAN}"}
        screens = {s["id"]: s for s in requests.get(f"{running.url}/api/screens", headers=lan).json()}
        assert set(screens) == {"gate-1", "gate-2", "hall-1"} and screens["gate-1"]["heartbeat"]["generation"] == 3
        assert screens["hall-1"]["revoked"] is True
        notices = requests.get(f"{running.url}/api/notices", headers=lan).json()
        assert [n["id"] for n in notices] == ["notice-0001"] and notices[0]["texts"]["vi"] == "Cổng tạm đóng"
        proof = requests.get(f"{running.url}/api/proof.csv", headers=lan).text.splitlines()
        assert len(proof) == 1 + 50
        minh = requests.get(f"{running.url}/api/audit", headers={"Authorization": f"Bearer {MINH}"}).json()
        assert [row["detail"]["generation"] for row in minh if row["action"] == "publish"] == [3, 2, 1]
        assert {row["channel"] for row in minh} == {"gate"}
        health = requests.get(f"{running.url}/api/health").json()
        assert health["schema_version"] == code_version() and health["database"] == "up"
    finally:
        running.stop()
    after = counts(v0 / "server.db")
    assert {t: after[t] for t in before} == {**before, "audit": after["audit"]}, "every row kept"
    again = cli("migrate", "--data", str(v0))
    assert again.returncode == 0 and "would run" not in again.stdout and "ran " not in again.stdout


@pytest.mark.slow
def test_a_database_newer_than_the_code_is_refused_naming_both_versions(v0: Path) -> None:
    Database(v0 / "server.db").close()
    with sqlite3.connect(v0 / "server.db") as db:
        db.execute("UPDATE alembic_version SET version_num = '0999'")
    with pytest.raises(SchemaError, match=f"0999.*{code_version()}"):
        Database(v0 / "server.db")
    for command in (["migrate"], ["staff", "list"]):
        answer = cli(*command, "--data", str(v0))
        assert answer.returncode == 1 and "0999" in answer.stderr and code_version() in answer.stderr, answer.stderr
    served = subprocess.run([sys.executable, "-m", "sync", "serve", "--data", str(v0), "--port", "0"], cwd=REPO,
                            capture_output=True, text=True, timeout=120)
    assert served.returncode != 0 and "0999" in served.stderr and "Traceback" not in served.stderr, served.stderr[-2000:]


def counts(path: Path) -> dict[str, int]:
    with sqlite3.connect(path) as db:
        tables = [r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE "
                                           "'sqlite_%' AND name != 'alembic_version'")]
        return {t: db.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in tables}


@pytest.mark.slow
def test_records_move_from_sqlite_to_postgresql_and_back_with_every_row(v0: Path, tmp_path: Path,
                                                                        request: pytest.FixtureRequest) -> None:
    pg = database_for("postgresql", request)
    config = tmp_path / "server.yaml"
    config.write_text(json.dumps({"data": "pgdata", "database": pg}), encoding="utf-8")
    first, second, third = tmp_path / "1.jsonl", tmp_path / "2.jsonl", tmp_path / "3.jsonl"
    out = cli("export", str(first), "--data", str(v0))
    assert out.returncode == 0 and "proof 50" in out.stdout, out.stderr
    moved = cli("import", str(first), "--config", str(config))
    assert moved.returncode == 0 and "counts match" in moved.stdout, moved.stderr
    assert cli("export", str(second), "--config", str(config)).returncode == 0
    assert second.read_text() == first.read_text(), "the same rows, byte for byte"
    back = cli("import", str(second), "--data", str(tmp_path / "sqlite-again"))
    assert back.returncode == 0, back.stderr
    assert cli("export", str(third), "--data", str(tmp_path / "sqlite-again")).returncode == 0
    assert third.read_text() == first.read_text()

    again = cli("import", str(first), "--config", str(config))
    assert again.returncode == 1 and "already has" in again.stderr
    lines = first.read_text().splitlines()
    cut = tmp_path / "cut.jsonl"
    cut.write_text("\n".join(line for line in lines if '"line-000007"' not in line) + "\n")
    refused = cli("import", str(cut), "--data", str(tmp_path / "sqlite-cut"))
    assert refused.returncode == 1 and "row counts differ" in refused.stderr and "proof" in refused.stderr
    assert counts(tmp_path / "sqlite-cut" / "server.db")["proof"] == 0, "nothing was kept"

    running = start_in_thread(ServerSettings(data=tmp_path / "pgdata", port=0, database_url=pg))
    try:
        lan = {"Authorization": f"Bearer {LAN}"}
        assert {s["id"] for s in requests.get(f"{running.url}/api/screens", headers=lan).json()} == {
            "gate-1", "gate-2", "hall-1"}
        requests.post(f"{running.url}/api/channels/gate/manifest", headers=lan, data=b"x")  # an audit row after the import
        staff = requests.post(f"{running.url}/api/screens", headers=lan, json={"id": "gate-3", "channel": "gate"})
        assert staff.status_code == 201, "audit numbering continues after the imported rows"
    finally:
        running.stop()


def test_the_daily_purge_deletes_proof_older_than_proof_days_in_batches_and_keeps_the_rest(
        tmp_path: Path, database: str | None) -> None:
    db = Database(database or tmp_path / "server.db")
    try:
        lines = [{"id": f"line-{n:06d}", "start": f"2025-{1 + n % 12:02d}-15T09:00:00+07:00", "item": "hours",
                  "playlist": "day", "language": "vi", "planned": 10.0, "actual": 10.0, "status": "played",
                  "reason": ""} for n in range(1200)]
        assert db.add_proof("gate-1", lines, "2026-11-30T00:00:00+07:00") == 1200
        assert db.purge_proof("2025-07-01", batch=250) == 600  # January to June: several batches
        kept = list(db.proof(None, None, None, None))
        assert len(kept) == 600 and min(row[2] for row in kept) >= "2025-07"
    finally:
        db.close()
