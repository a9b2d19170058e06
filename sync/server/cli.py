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

    admin = sub.add_parser("server", help="manage the server's channels, staff tokens and screen tokens (on the server machine)")
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
    staff = what.add_parser("staff", help="add (or re-issue), revoke or list staff tokens")
    staff.add_argument("action", choices=["add", "revoke", "list"])
    staff.add_argument("name", nargs="?", help="the staff member's name (for add and revoke)")
    staff.add_argument("--channel", action="append", default=[], help="a channel they may publish to (repeat; '*' for all)")
    staff.add_argument("--admin", action="store_true", help="may also add channels (implies every channel)")
    _common(staff)
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
    from .run import serve
    serve(replace(settings, **changes))
    return 0


def server_command(args: argparse.Namespace) -> int:
    from ..keys import public_text
    from ..manifest import check_channel
    from ..publish import read_public
    from .db import Database
    from .fleet_api import SCREEN_ID
    from .tokens import make_token

    settings = _settings(args)
    db = Database(settings.database)
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
            return _staff(db, args, stamp)
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


def _staff(db: Any, args: argparse.Namespace, stamp: str) -> int:
    from ..manifest import check_channel
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
        db.audit(stamp, "server admin", "staff revoked", None, {"name": args.name})
        print(f"{args.name}: token revoked")
        return 0
    channels = [c if c == "*" else check_channel(c) for c in args.channel]
    if not channels and not args.admin:
        print("error: staff add needs at least one --channel (or --admin)", file=sys.stderr)
        return 2
    token = make_token("staff")
    db.add_staff(args.name, channels, args.admin, token, stamp)
    db.audit(stamp, "server admin", "staff token", None, {"name": args.name, "channels": channels, "admin": args.admin})
    print(f"{args.name}: token (shown once; keep it in a file only you can read, for --token-file):\n{token.text}")
    return 0


def _settings(args: argparse.Namespace) -> Any:
    from dataclasses import replace

    try:
        from .run import load_settings
    except ImportError as exc:
        raise ValueError(f"the server needs its extra packages ({exc.name} is missing): "
                         ".venv/bin/pip install -e '.[server]'") from None
    settings = load_settings(args.config)
    return replace(settings, data=args.data) if args.data else settings
