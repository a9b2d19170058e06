"""The updater's command line (root, from kiosk-update.service and kiosk-update-boot.service): a thin layer over apply.py."""

from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path

from player.config import load_config
from player.errors import ContentError
from sync.errors import SyncError
from sync.release_tools import read_draft
from sync.update_area import read_small_json

from .apply import Options, Updater
from .errors import UpdateError
from .layout import INSTALL, VAR, Layout
from .seed import seed
from .services import ServiceManager, Supervised, Systemd
from .state import load_state


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m updater", description=(
        "The screen's software updater, run as root by systemd: takes the release the sync client left ready in "
        "STATE/update/, checks all of it again, installs it beside the running version, switches to it in the "
        "update window, trials it and keeps it, or rolls back by itself."))
    parser.add_argument("--root", type=Path, default=Path("/"),
                        help="put every path below under this folder (tests, building an SD card image); default /")
    parser.add_argument("--install", type=Path, default=INSTALL, help=f"the install folder (default {INSTALL})")
    parser.add_argument("--var", type=Path, default=VAR, help=f"the updater's own state folder (default {VAR})")
    parser.add_argument("--config", type=Path, help="kiosk.yaml, owned by root (default: INSTALL/kiosk.yaml)")
    parser.add_argument("--services", choices=["systemd", "supervisor"], default="systemd",
                        help="what runs the player: systemd (kiosk-player.service), or the stand-in supervisor "
                        "(python -m updater.supervisor) whose folder --run names")
    parser.add_argument("--run", type=Path, help="the stand-in supervisor's folder (with --services supervisor)")
    parser.add_argument("--python", default="/usr/bin/python3", help="the Python new venvs are made from "
                        "(default /usr/bin/python3, Debian's)")
    parser.add_argument("--user", default="kiosk", help="the player's user: a new version is checked as it "
                        "(default kiosk)")
    parser.add_argument("-v", "--verbose", action="store_true", help="log each step")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    sub.add_parser("apply", help="take the ready release as far as it may go now: install, switch in the window, "
                   "trial, commit or roll back (kiosk-update.service)")
    sub.add_parser("boot", help="at boot, before the player: point current at a complete version, count the boot of "
                   "a version on trial and roll it back at the second (kiosk-update-boot.service)")
    sub.add_parser("status", help="the versions here, current, committed, the trial, and the last outcome")
    seed = sub.add_parser("seed", help="install the version built in a wheelhouse as the first (or a hand-installed) "
                          "version and point current and committed at it (deploy/install.sh)")
    seed.add_argument("--wheelhouse", type=Path, required=True,
                      help="where `python -m sync release build` left the wheels and release.json")
    rollback = sub.add_parser("rollback", help="end the trial now and go back to the committed version")
    rollback.add_argument("--reason", default="rolled back by hand", help="recorded and reported in the heartbeat")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.INFO, stream=sys.stderr,
                        format="%(levelname)s %(name)s: %(message)s")
    layout = Layout.under(args.root, args.install, args.var)
    config_path = args.config or layout.install / "kiosk.yaml"
    try:
        if args.command == "status":
            print(json.dumps(status(layout), indent=1))
            return 0
        if args.command == "seed":
            print(seed(layout, read_draft(args.wheelhouse), args.python))
            return 0
        config = load_config(config_path)
        services: ServiceManager
        if args.services == "supervisor":
            if args.run is None:
                print("error: --services supervisor needs --run DIR", file=sys.stderr)
                return 2
            services = Supervised(args.run)
        else:
            services = Systemd()
        updater = Updater(Options(layout, config, services, args.python, args.user))
        if args.command == "apply":
            print(updater.apply())
        elif args.command == "boot":
            print(updater.boot())
        else:
            print(updater.rollback(args.reason))
        return 0
    except ContentError as exc:
        for problem in exc.problems:
            print(problem, file=sys.stderr)
        return 1
    except (UpdateError, SyncError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1


def status(layout: Layout) -> dict[str, object]:
    state = load_state(layout.state)
    return {"current": layout.version_of(layout.current), "committed": layout.version_of(layout.committed),
            "versions": {v: layout.is_complete(v) for v in layout.versions()},
            "trial": state.trial.__dict__ if state.trial else None, "ratchet": state.sequence,
            "failed": list(state.failed), "last": read_small_json(layout.status)}
