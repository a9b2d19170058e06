"""`python -m sync serve` and `python -m sync server …` (channels, staff and screen tokens), a thin layer over the library.

Imports nothing of FastAPI until a command runs, so screens without the `server` extra can still show --help.
"""

from __future__ import annotations

import argparse
import re
import sys
from datetime import datetime, timezone
from pathlib import Path
from typing import Any


def add_parsers(sub: Any) -> None:
    serve = sub.add_parser("serve", help="run the central server (needs the `server` extra: pip install -e '.[server]')",
                           description="Serve channels (static layout with ETag, Range and long-poll), the publish API, "
                           "fleet status, proof of play and notices. Settings come from --config (server.yaml), "
                           "else the embedded defaults: data in ./server-data, 127.0.0.1:8470, plain HTTP.")
    _common(serve)
    serve.add_argument("--host", help="address to listen on (default 127.0.0.1; 0.0.0.0 for every interface)")
    serve.add_argument("--port", type=int, help="port (default 8470; 0 picks a free one)")
    serve.add_argument("--cert", type=Path, help="TLS certificate chain (PEM); with --key, the server speaks HTTPS")
    serve.add_argument("--key", type=Path, help="TLS private key (PEM)")
    serve.add_argument("--workers", type=int, default=1, metavar="N",
                       help="serve with N processes sharing the port (needs PostgreSQL: database.url in server.yaml)")

    admin = sub.add_parser("server", help="manage the server's channels, staff and screen tokens, schema and records "
                           "(on the server machine)")
    what = admin.add_subparsers(dest="server_command", required=True, metavar="WHAT")
    channel = what.add_parser("channel", help="add a channel with the root key that signs its publisher list")
    channel.add_argument("action", choices=["add"])
    channel.add_argument("name", help="channel name (lower-case letters, digits, '-', '_')")
    channel.add_argument("--root", type=Path, required=True, help="the root PUBLIC key file (ROOT.pub)")
    _common(channel)
    software = what.add_parser("software", help="add a software channel with the root key that signs its releasers list")
    software.add_argument("action", choices=["add"])
    software.add_argument("name", help="software channel name, e.g. stable or pilot")
    software.add_argument("--root", type=Path, required=True, help="the root PUBLIC key file (ROOT.pub)")
    _common(software)
    staff = what.add_parser("staff", help="add (or re-issue), revoke or list staff; a set-password link for the console",
                            description="add prints a staff member's API token and a one-time link (24 h) to set "
                            "their console password; passwd prints a new link; revoke ends their token and every "
                            "console session.")
    staff.add_argument("action", choices=["add", "passwd", "revoke", "list"])
    staff.add_argument("name", nargs="?", help="the staff member's name (for add and revoke)")
    staff.add_argument("--channel", action="append", default=[], help="a channel they may publish to (repeat; '*' for all)")
    staff.add_argument("--admin", action="store_true", help="may also add channels (implies every channel)")
    staff.add_argument("--url", help="the console's address as staff reach it, for the link (default: from the "
                       "settings' listen address, https with tls)")
    _common(staff)
    migrate = what.add_parser("migrate", help="bring the database's schema up to this release (the server also does "
                              "this when it starts)", description="Run the numbered schema migrations the database "
                              "lacks, in one transaction; a database newer than this release is refused.")
    migrate.add_argument("--dry-run", action="store_true", help="list the migrations that would run, change nothing")
    _common(migrate)
    export = what.add_parser("export", help="write every record to a file (to move to PostgreSQL or back)",
                             description="Write the database's records (channels, staff, screens, audit, proof of "
                             "play, notices, channel documents) to FILE as JSON lines, with each table's row count.")
    export.add_argument("file", type=Path, help="the file to write (JSON lines)")
    _common(export)
    load = what.add_parser("import", help="load an export into an empty database, row counts checked",
                           description="Load FILE (from server export) into the database server.yaml names, which must "
                           "be empty and at the same schema version; nothing is kept unless every table's row count "
                           "matches the export's.")
    load.add_argument("file", type=Path, help="a file server export wrote")
    _common(load)
    screen = what.add_parser("screen", help="issue or revoke a screen's token (staff can also do this over the API)")
    screen.add_argument("action", choices=["add", "revoke"])
    screen.add_argument("id", help="the screen's id (kiosk.yaml screen.id)")
    screen.add_argument("--channel", help="the channel it plays (for add)")
    screen.add_argument("--offline-after", type=float, help="seconds of silence before it is flagged (default: server's)")
    _common(screen)


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config", type=Path, help="server.yaml (default: the embedded defaults)")
    parser.add_argument("--data", type=Path, help="the data folder (overrides server.yaml's data)")


def serve_command(args: argparse.Namespace) -> int:
    from dataclasses import replace

    settings = _settings(args)
    changes: dict[str, Any] = {k: v for k, v in (("host", args.host), ("port", args.port)) if v is not None}
    if bool(args.cert) != bool(args.key):
        print("error: --cert and --key go together (both PEM files)", file=sys.stderr)
        return 2
    if args.cert:
        changes.update(tls_cert=args.cert, tls_key=args.key)
    from sqlalchemy.exc import OperationalError

    from .run import serve
    try:
        serve(replace(settings, **changes), max(1, args.workers))
    except OperationalError as exc:
        print(f"error: cannot reach the database ({str(exc).splitlines()[0]}); check server.yaml's database.url, "
              "that PostgreSQL runs, and the password", file=sys.stderr)
        return 1
    return 0


def server_command(args: argparse.Namespace) -> int:
    import os

    from ..keys import public_text
    from ..manifest import check_channel
    from ..publish import read_public
    from .db import open_database
    from .fleet_api import SCREEN_ID
    from .migrate import SchemaError
    from .tokens import make_token

    settings = _settings(args)
    if args.server_command == "migrate":
        return _migrate(settings, args.dry_run)
    try:
        db = open_database(settings, os.environ)
    except SchemaError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    stamp = datetime.now(timezone.utc).astimezone().isoformat(timespec="seconds")
    try:
        if args.server_command == "channel":
            name = check_channel(args.name)
            db.add_channel(name, public_text(read_public(args.root)), stamp)
            db.audit(stamp, "server admin", "channel", name, {"root_key_file": str(args.root)})
            print(f"channel {name} added; publishers upload its signed list with "
                  f"python -m sync sign-publishers --channel {name} --to SERVER_URL ...")
        elif args.server_command == "software":
            name = check_channel(args.name)
            db.add_software(name, public_text(read_public(args.root)), stamp)
            db.audit(stamp, "server admin", "software", name, {"root_key_file": str(args.root)})
            print(f"software channel {name} added; the root key's holder uploads its releasers list with "
                  f"python -m sync sign-releasers --channel {name} --to SERVER_URL ...")
        elif args.server_command == "staff":
            return _staff(db, args, stamp, settings)
        elif args.server_command in ("export", "import"):
            return _transfer(db, args.server_command, args.file)
        elif args.server_command == "screen":
            if args.action == "add":
                if not args.channel:
                    print("error: screen add needs --channel", file=sys.stderr)
                    return 2
                if not re.fullmatch(SCREEN_ID, args.id):  # the id names its screenshot file: no '/' or '..'
                    print(f"error: screen id {args.id!r} must be letters, digits, '.', '-' or '_' (64 at most), "
                          "as kiosk.yaml's screen.id", file=sys.stderr)
                    return 2
                token = make_token("screen")
                db.add_screen(args.id, check_channel(args.channel), token, args.offline_after, stamp)
                db.audit(stamp, "server admin", "screen token", args.channel, {"screen": args.id})
                print(f"screen {args.id} on channel {args.channel}; its token (shown once; put it in the file "
                      f"kiosk.yaml's sync.token_file names, readable by the player only):\n{token.text}")
            elif not db.revoke_screen(args.id, stamp):
                print(f"error: no screen {args.id!r}", file=sys.stderr)
                return 1
            else:
                print(f"screen {args.id}: token revoked")
    finally:
        db.close()
    return 0


def _migrate(settings: Any, dry_run: bool) -> int:
    import os

    from sqlalchemy.exc import OperationalError

    from . import migrate
    from .db import database_url, make_engine

    engine = make_engine(database_url(settings, os.environ))
    where = engine.url.render_as_string(hide_password=True)
    try:
        with engine.connect() as connection:
            have, steps = migrate.database_version(connection), migrate.pending(connection)
        if dry_run or not steps:
            print(f"{where}: schema version {have or 'none (empty)'}; this release's is {migrate.code_version()}")
            for step in steps:
                print(f"  would run {step.version}: {step.about}")
            return 0
        for step in migrate.upgrade(engine):
            print(f"ran {step.version}: {step.about}")
        print(f"{where}: schema version {migrate.code_version()}")
        return 0
    except migrate.SchemaError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except OperationalError as exc:
        print(f"error: cannot reach the database {where}: {str(exc).splitlines()[0]}", file=sys.stderr)
        return 1
    finally:
        engine.dispose()


def _transfer(db: Any, command: str, path: Path) -> int:
    from .transfer import export_records, import_records

    if command == "export":
        with path.open("w", encoding="utf-8") as out:
            counts = export_records(db, out)
        print(f"{db.url} -> {path}: " + ", ".join(f"{t} {n}" for t, n in counts.items()))
    else:
        counts = import_records(db, path)
        print(f"{path} -> {db.url}: " + ", ".join(f"{t} {n}" for t, n in counts.items()) + " (counts match)")
    return 0


def _staff(db: Any, args: argparse.Namespace, stamp: str, settings: Any) -> int:
    from ..manifest import check_channel
    from .console.records import ConsoleRecords
    from .tokens import make_token

    if args.action == "list":
        for row in db.staff():
            state = f"revoked {row['revoked']}" if row["revoked"] else "active"
            print(f"{row['name']}: {'admin, ' if row['admin'] else ''}channels {', '.join(row['channels']) or 'none'}; {state}")
        return 0
    if not args.name:
        print(f"error: staff {args.action} needs a NAME", file=sys.stderr)
        return 2
    if args.action == "revoke":
        if not db.revoke_staff(args.name, stamp):
            print(f"error: no staff member {args.name!r}", file=sys.stderr)
            return 1
        ended = ConsoleRecords(db).end_sessions_of(args.name, "revoked")
        db.audit(stamp, "server admin", "staff revoked", None, {"name": args.name, "sessions_ended": ended})
        print(f"{args.name}: token revoked, {ended} console session(s) ended")
        return 0
    if args.action == "passwd":
        if ConsoleRecords(db).staff_row(args.name) is None:
            print(f"error: no staff member {args.name!r} (or revoked; staff add makes one)", file=sys.stderr)
            return 1
        print(_password_link(db, args.name, args.url, settings, stamp))
        return 0
    channels = [c if c == "*" else check_channel(c) for c in args.channel]
    if not channels and not args.admin:
        print("error: staff add needs at least one --channel (or --admin)", file=sys.stderr)
        return 2
    token = make_token("staff")
    db.add_staff(args.name, channels, args.admin, token, stamp)
    db.audit(stamp, "server admin", "staff token", None, {"name": args.name, "channels": channels, "admin": args.admin})
    print(f"{args.name}: token (shown once; keep it in a file only you can read, for --token-file):\n{token.text}")
    print(_password_link(db, args.name, args.url, settings, stamp))
    return 0


def _password_link(db: Any, name: str, url: str | None, settings: Any, stamp: str) -> str:
    """A new one-time link for `name` to set their console password (24 h); older links stop working."""
    import time

    from .console.passwords import LINK_SECONDS, make_link
    from .console.records import ConsoleRecords

    link = make_link()
    ConsoleRecords(db).add_link(name, link, time.time() + LINK_SECONDS)
    db.audit(stamp, "server admin", "password link", None, {"name": name})
    if url is None:
        host = settings.host if settings.host not in ("0.0.0.0", "::") else "SERVER"
        url = f"{'https' if settings.tls_cert else 'http'}://{host}:{settings.port}"
    return (f"{name}: set the console password within 24 hours at (one use; shown once):\n"
            f"{url.rstrip('/')}/console/password/{link.text}")


def _settings(args: argparse.Namespace) -> Any:
    from dataclasses import replace

    try:
        from .run import load_settings
    except ImportError as exc:
        raise ValueError(f"the server needs its extra packages ({exc.name} is missing): "
                         ".venv/bin/pip install -e '.[server]'") from None
    settings = load_settings(args.config)
    return replace(settings, data=args.data) if args.data else settings
