"""Moving a server's records between databases (SQLite to PostgreSQL and back): export to a JSON-lines file, import
into an empty database at the same schema version, with every table's row count checked before the commit.

    {"format": 1, "schema_version": "0002", "tables": {"channels": 2, …}}     the first line
    {"table": "channels", "row": {"name": "gate", …}}                          then one line per row

Binary columns (signed envelopes, documents) are base64 text. The content folder
(blobs and the documents' mirrors) is copied beside it, e.g. with rsync.
"""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import IO, Any

from sqlalchemy import LargeBinary, func, select, text

from . import migrate
from .db import Database
from .schema import TABLES

FORMAT = 1
BATCH = 2000


class TransferError(ValueError):
    """The file or the target database will not do; the message says which and what to do."""


def export_records(db: Database, out: IO[str]) -> dict[str, int]:
    """Write every table's rows to `out`; returns {table: rows}."""
    with db.engine.connect() as c:
        counts = {t.name: int(c.execute(select(func.count()).select_from(t)).scalar() or 0) for t in TABLES}
        out.write(json.dumps({"format": FORMAT, "schema_version": migrate.database_version(c), "tables": counts}) + "\n")
        for table in TABLES:
            binary = [col.name for col in table.columns if isinstance(col.type, LargeBinary)]
            for row in c.execute(select(table).order_by(*table.primary_key.columns)).mappings():
                values = {k: (base64.b64encode(v).decode("ascii") if k in binary and v is not None else v)
                          for k, v in row.items()}
                out.write(json.dumps({"table": table.name, "row": values}, ensure_ascii=False) + "\n")
    return counts


def import_records(db: Database, path: Path) -> dict[str, int]:
    """Load an export into `db`, which must hold no records yet; nothing is kept unless every count matches."""
    with path.open(encoding="utf-8") as lines:
        header = _header(lines.readline(), path)
        if header["schema_version"] != migrate.code_version():
            raise TransferError(f"{path}: exported at schema version {header['schema_version']}, this server's is "
                                f"{migrate.code_version()}: export again with the same release (server migrate first)")
        by_name = {t.name: t for t in TABLES}
        with db.transaction() as c:
            for table in TABLES:
                if c.execute(select(func.count()).select_from(table)).scalar():
                    raise TransferError(f"the target database already has {table.name}; import into an empty one "
                                        f"({db.url})")
            batch: dict[str, list[dict[str, Any]]] = {}
            for number, line in enumerate(lines, start=2):
                try:
                    record = json.loads(line)
                    table = by_name[record["table"]]
                    row = {k: (base64.b64decode(v) if isinstance(table.c[k].type, LargeBinary) and v is not None else v)
                           for k, v in record["row"].items()}
                except (ValueError, KeyError, TypeError) as exc:
                    raise TransferError(f"{path}, line {number}: not a row of this export ({exc})") from None
                batch.setdefault(table.name, []).append(row)
                if len(batch[table.name]) >= BATCH:
                    c.execute(table.insert(), batch.pop(table.name))
            for name, rows in batch.items():
                c.execute(by_name[name].insert(), rows)
            got = {t.name: int(c.execute(select(func.count()).select_from(t)).scalar() or 0) for t in TABLES}
            if got != header["tables"]:
                wrong = {t: (header["tables"].get(t), got[t]) for t in got if header["tables"].get(t) != got[t]}
                raise TransferError(f"{path}: row counts differ (table: expected, imported): {wrong}; nothing was kept")
            if db.engine_name == "postgresql":  # numbered rows came with their numbers: continue after the last one
                for numbered in ("audit", "screen_errors"):
                    c.execute(text(f"SELECT setval(pg_get_serial_sequence('{numbered}', 'seq'), "
                                   f"GREATEST((SELECT max(seq) FROM {numbered}), 1))"))
    return got


def _header(line: str, path: Path) -> dict[str, Any]:
    try:
        header = json.loads(line)
        if header.get("format") != FORMAT or not isinstance(header.get("tables"), dict):
            raise ValueError("not format 1")
    except (ValueError, AttributeError):
        raise TransferError(f"{path}: not an export of this server (python -m sync server export writes one)") from None
    return header  # type: ignore[no-any-return]



