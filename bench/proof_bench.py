"""Proof of play at fleet scale: a million lines uploaded as screens send them, then a month's CSV for one screen.

    .venv/bin/python -m bench.proof_bench [--lines 1000000] [--screens 4] [--database URL|temp]

`python -m sync serve` runs as its own process on 127.0.0.1 (SQLite, or PostgreSQL with --database:
an empty database, or `temp` for a throwaway cluster). The screens' lines, one every 10 s of a month
per screen (so 4 screens make a month of 250,000 lines each), are posted to /api/proof in batches of
limits.proof_batch (2,000) as a screen's reporter sends them; then one screen's month is exported
with GET /api/proof.csv. One line per figure with its target (1,000,000 lines in under 60 s; the
month's CSV in under 2 s); exit status 0 when both are met.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import requests

from bench.server_load import free_port, prepare_database, stop, wait_until_listening
from tests.pgcluster import database_for_bench

REPO = Path(__file__).resolve().parent.parent

TARGETS = {"insert_s": 60.0, "csv_s": 2.0}
BATCH = 2000
MONTH = datetime(2026, 11, 1, tzinfo=timezone(timedelta(hours=7)))


def batches(screen: str, lines: int) -> list[bytes]:
    """The screen's lines as the JSON bodies its reporter would post, one every 10 s from MONTH on."""
    out, chunk = [], []
    for n in range(lines):
        start = MONTH + timedelta(seconds=10 * n)
        chunk.append({"id": f"{screen}-{n:08d}", "item": f"slide-{n % 40:02d}", "playlist": "daytime",
                      "language": "vi", "start": start.isoformat(), "planned": 10.0, "actual": 10.0,
                      "status": "completed", "reason": ""})
        if len(chunk) == BATCH:
            out.append(json.dumps({"lines": chunk}).encode())
            chunk = []
    if chunk:
        out.append(json.dumps({"lines": chunk}).encode())
    return out


def run(work: Path, lines: int, screens: int, database: str | None) -> tuple[float, float, int]:
    admin, tokens, _ = prepare_database(work / "data", screens, database)
    (work / "server.yaml").write_text(json.dumps({"data": "data", **({"database": database} if database else {})}))
    port, log = free_port(), work / "server.log"
    server = subprocess.Popen([sys.executable, "-m", "sync", "serve", "--config", str(work / "server.yaml"),
                               "--port", str(port)], cwd=REPO, stdout=log.open("wb"), stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until_listening(url, server, log)
        bodies = [(token, body) for n, token in enumerate(tokens)
                  for body in batches(f"gate-{n:05d}", lines // screens)]
        session = requests.Session()
        started = time.monotonic()
        for token, body in bodies:
            answer = session.post(f"{url}/api/proof", data=body, timeout=120,
                                  headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"})
            answer.raise_for_status()
        inserted = time.monotonic() - started
        started = time.monotonic()
        csv = session.get(f"{url}/api/proof.csv", params={"from": "2026-11-01", "to": "2026-11-30",
                                                          "screen": "gate-00000"},
                          headers={"Authorization": f"Bearer {admin}"}, timeout=120)
        csv.raise_for_status()
        exported = time.monotonic() - started
        return inserted, exported, csv.text.count("\n") - 1
    finally:
        stop(server)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=1_000_000, help="lines in all (default 1,000,000)")
    parser.add_argument("--screens", type=int, default=4, help="screens sending them (default 4)")
    parser.add_argument("--database", help="postgresql://… (an empty database), or `temp`; default: SQLite")
    args = parser.parse_args()
    with database_for_bench(args.database, "proof_bench") as database, \
            tempfile.TemporaryDirectory(prefix="proof-bench-") as tmp:
        inserted, exported, rows = run(Path(tmp), args.lines, args.screens, database)
    engine = "PostgreSQL" if args.database else "SQLite"
    print(f"proof_insert_s {inserted:.1f} (target < {TARGETS['insert_s']:g}; {args.lines:,} lines from {args.screens} "
          f"screens in batches of {BATCH}, {args.lines / inserted:,.0f} lines/s, {engine})")
    print(f"proof_csv_month_s {exported:.2f} (target < {TARGETS['csv_s']:g}; {rows:,} rows: one screen's month)")
    return 0 if inserted < TARGETS["insert_s"] and exported < TARGETS["csv_s"] else 1


if __name__ == "__main__":
    raise SystemExit(main())
