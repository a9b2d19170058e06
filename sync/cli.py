"""The sync command line: keys, publishing (to a folder or the server), notices, the screen's client, the server.

A thin layer that turns library errors into messages and exit codes.
"""

from __future__ import annotations

import argparse
import re
import sys
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Callable

from player.errors import ContentError

from .errors import SyncError
from .release import Rollout
from .release_tools import (DEBIAN_NEEDS, FolderDest, ReleaseDest, ServerDest, build_release, promote_release,
                            publish_release, read_draft)
from .terminal import ProgressBar, human_bytes, setup_logging
from .wheeltags import parse_target

if TYPE_CHECKING:
    from .upload import StaffClient

DEFAULT_CONFIG = Path("kiosk.yaml")
_URL = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m sync", description=(
        "Getting content from the office to the Tịnh Biên screens. At the office: make keys, sign a channel's "
        "publisher list with the root key, and publish content (blobs plus a signed manifest) to a folder that "
        "any static web host, rsync or a USB stick can carry. On a screen: run the sync client (the player "
        "starts it) or import a published folder from a USB stick."))
    parser.add_argument("-v", "--verbose", action="store_true", help="log debug lines too")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    keygen = sub.add_parser("keygen", help="make an Ed25519 key pair (root or publisher): NAME.key and NAME.pub")
    keygen.add_argument("--name", required=True, help="file name for the pair, e.g. root or office-laptop")
    keygen.add_argument("--out", type=Path, default=Path("."), help="folder for the key files (default: .)")

    signp = sub.add_parser("sign-publishers", help="sign the list of publisher keys a channel's screens trust")
    signp.add_argument("--root", type=Path, required=True, help="the root private key (ROOT.key)")
    signp.add_argument("--channel", required=True, help="channel name (lower-case letters, digits, '-', '_')")
    signp.add_argument("--to", required=True, help="the published folder (DEST), or the central server's URL")
    signp.add_argument("--version", type=int, required=True,
                       help="list version; must be higher than the one at DEST (revoke = a new version without the key)")
    signp.add_argument("--add", action="append", default=[], metavar="LABEL=FILE.pub",
                       help="a publisher to trust; repeat for each (LABEL defaults to the file's name)")
    signp.add_argument("--force", action="store_true", help="replace the list at DEST even if its version is not lower")
    _server_options(signp)

    publish = sub.add_parser("publish", help="validate, hash and publish content: missing blobs first, signed manifest last")
    publish.add_argument("--channel", required=True, help="channel name (lower-case letters, digits, '-', '_')")
    publish.add_argument("--to", required=True, help="the published folder (DEST), or the central server's URL "
                         "(https://…: uploads only the files it lacks, then the signed manifest)")
    publish.add_argument("--key", type=Path, required=True, help="your publisher private key (NAME.key)")
    publish.add_argument("--content", type=Path,
                         help="folder holding playlists/ and media/ (default: the folder of --config)")
    publish.add_argument("--config", type=Path,
                         help="kiosk.yaml to validate against (default: ./kiosk.yaml, or CONTENT/kiosk.yaml with --content)")
    publish.add_argument("--dry-run", action="store_true", help="say what would change and write nothing")
    publish.add_argument("--force", action="store_true", help="publish to a server even if the folder is behind it "
                         "(pulled before a newer generation, say one published from the staff console): its changes "
                         "are undone")
    _server_options(publish)

    pull = sub.add_parser("pull", help="fetch a channel's current generation (playlists and media) into a folder to edit",
                          description="Download the channel's current manifest and files from the central server (or "
                          "any static host) into DIR/playlists and DIR/media, each checked against its SHA-256, and "
                          "note the generation, so publish --to URL knows the folder is up to date.")
    pull.add_argument("--channel", required=True, help="channel name")
    pull.add_argument("--from", dest="source", required=True, help="the server's (or static host's) URL")
    pull.add_argument("--to", required=True, type=Path, help="the folder to write playlists/ and media/ into")
    pull.add_argument("--ca-file", help="certificate authority for the server's HTTPS (a private CA's PEM)")

    notice = sub.add_parser("notice", help="post, list or clear urgent notices on the central server",
                            description="An urgent notice shows over everything on the screens it names within seconds, "
                            "until it expires or is cleared. It is signed with your publisher key, so screens know the "
                            "server did not make it up.")
    notice.add_argument("action", choices=["post", "list", "clear"])
    notice.add_argument("--to", required=True, help="the central server's URL")
    notice.add_argument("--key", type=Path, help="your publisher private key (post)")
    notice.add_argument("--channel", action="append", default=[], help="a channel whose screens show it (repeat)")
    notice.add_argument("--screen", action="append", default=[], help="only these screens (repeat; default: all)")
    notice.add_argument("--level", choices=["urgent", "warning", "info"], default="urgent",
                        help="urgent fills the screen; warning and info are a band at the top (default: urgent)")
    notice.add_argument("--text", action="append", default=[], metavar="LANG=TEXT",
                        help="the notice in one language, e.g. vi='Cổng tạm đóng' (repeat for en, km, zh)")
    notice.add_argument("--expires", default="2h", help="how long it shows: 30m, 2h, 1d, or an ISO time (default 2h)")
    notice.add_argument("--id", help="the notice to clear (from notice list)")
    _server_options(notice)

    run = sub.add_parser("run", help="the screen's sync client: poll the channel in kiosk.yaml's sync section, forever")
    run.add_argument("--config", type=Path, default=Path("kiosk.yaml"), help="the screen's kiosk.yaml (default: ./kiosk.yaml)")
    run.add_argument("--once", action="store_true", help="one poll, then exit (0 updated or unchanged, 1 failed)")

    imp = sub.add_parser("import", help="apply a published folder (a USB stick) to this screen, with the same checks as a sync")
    imp.add_argument("path", type=Path, help="the published folder (it holds blobs/ and channels/)")
    imp.add_argument("--config", type=Path, default=Path("kiosk.yaml"), help="the screen's kiosk.yaml (default: ./kiosk.yaml)")

    _release_parsers(sub)
    from .server.cli import add_parsers
    add_parsers(sub)
    return parser


def _release_parsers(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    signr = sub.add_parser("sign-releasers", help="sign the list of release keys a software channel's screens trust",
                           description="Like sign-publishers, for software: the root key signs which keys may sign "
                           "releases. Release keys are not content keys: a publisher key cannot sign a release.")
    signr.add_argument("--root", type=Path, required=True, help="the root private key (ROOT.key)")
    signr.add_argument("--channel", default="stable", help="software channel, e.g. stable or pilot (default: stable)")
    signr.add_argument("--to", required=True, help="the published folder (DEST), or the central server's URL")
    signr.add_argument("--version", type=int, required=True,
                       help="list version; must be higher than the one at DEST (revoke = a new version without the key); "
                       "a screen that takes a newer list forgets the highest release sequence it saw")
    signr.add_argument("--add", action="append", default=[], metavar="LABEL=FILE.pub",
                       help="a release key to trust; repeat for each (LABEL defaults to the file's name)")
    signr.add_argument("--force", action="store_true", help="replace the list at DEST even if its version is not lower")
    _server_options(signr)

    release = sub.add_parser("release", help="software for the screens: build a release, publish it, widen its rollout",
                             description="A release is every wheel the player needs for one target (our own and its "
                             "dependencies') plus a document listing each by sha256, signed with a release key. Screens "
                             "following its software channel download it, and their root updater installs it beside the "
                             "running version, trials it and rolls back by itself.")
    actions = release.add_subparsers(dest="action", required=True, metavar="ACTION")
    build = actions.add_parser("build", help="build our wheel and download every dependency's wheel for a target",
                               description="Builds this project's wheel, asks pip which wheels the target needs (binary "
                               "wheels only, every manylinux tag the target's glibc accepts), downloads them into the "
                               "wheelhouse (kept as a cache: a wheel already there is not fetched again) and writes "
                               "WHEELHOUSE/release.json, the unsigned draft that `release publish` signs. Needs the "
                               "package index (or --pip-option for a mirror).")
    build.add_argument("--target", required=True, metavar="T",
                       help="the screens' Python, glibc and CPU, e.g. cp311-manylinux_2_36_x86_64 (Debian 12 on a PC) or "
                       "cp311-manylinux_2_36_aarch64 (Raspberry Pi OS 64-bit); armv7l is refused: icu4py, pygame-ce "
                       "and Pillow have no wheels for it")
    build.add_argument("--wheelhouse", type=Path, required=True, metavar="DIR",
                       help="folder for the wheels and the draft (created; reuse it between builds as a cache)")
    build.add_argument("--project", type=Path, default=Path("."),
                       help="the repository to build our wheel from; its pyproject.toml version is the release's "
                       "version (default: .)")
    build.add_argument("--debian", action="append", metavar="PACKAGE",
                       help="a Debian package the screens must have installed (repeat; default: the ones "
                       "deploy/install.sh installs: " + ", ".join(DEBIAN_NEEDS) + ")")
    build.add_argument("--python", default=sys.executable,
                       help="the Python whose pip does the work (default: this one); any Python 3.11+ with pip 23+")
    build.add_argument("--pip-option", action="append", default=[], metavar="OPTION",
                       help="passed to pip's resolve and download, e.g. --pip-option=--index-url=URL (repeat)")
    publish = actions.add_parser("publish", help="sign the built release and publish it: wheels first, document last",
                                 description="Signs WHEELHOUSE/release.json as the next sequence of the software "
                                 "channel, copies (or uploads) the wheels DEST lacks as blobs, and writes the signed "
                                 "document last. A release that changes only our own code sends one small wheel.")
    _release_dest(publish)
    publish.add_argument("--wheelhouse", type=Path, required=True, metavar="DIR", help="where `release build` left it")
    _rollout_options(publish, 100)
    promote = actions.add_parser("promote", help="sign the published release again with a wider (or narrower) rollout",
                                 description="Re-signs the release published now as the next sequence with a new "
                                 "percent and screen list; screens not chosen before take it now (a rollback of one "
                                 "screen is never retried: publish a higher version instead).")
    _release_dest(promote)
    _rollout_options(promote, None)


def _release_dest(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--channel", default="stable", help="software channel, e.g. stable or pilot (default: stable)")
    parser.add_argument("--to", required=True, help="the published folder (DEST), or the central server's URL")
    parser.add_argument("--key", type=Path, required=True, help="your release private key (in the releasers list)")
    parser.add_argument("--expires-days", type=int, default=90,
                        help="days until screens refuse this document (1 to 180; default 90): sign again before then")
    _server_options(parser)


def _rollout_options(parser: argparse.ArgumentParser, percent: int | None) -> None:
    parser.add_argument("--percent", type=int, default=percent, required=percent is None,
                        help="share of the channel's screens that take it, 0 to 100, chosen by a hash of each screen's "
                        "id (the same screens first every time)" + ("" if percent is None else f"; default {percent}"))
    parser.add_argument("--screen", action="append", default=[], metavar="ID",
                        help="a screen that takes it whatever the percent (repeat), e.g. a pilot screen in the office")


def _server_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--token-file", type=Path, help="file holding your staff token for a server URL "
                        "(default: $KIOSK_STAFF_TOKEN)")
    parser.add_argument("--ca-file", help="certificate authority for the server's HTTPS (a private CA's PEM)")


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    setup_logging(args.verbose)
    commands: dict[str, Callable[[argparse.Namespace], int]] = {
        "keygen": keygen_command,
        "sign-publishers": sign_publishers_command,
        "publish": publish_command,
        "pull": pull_command,
        "run": run_command,
        "import": import_command,
        "notice": notice_command,
        "sign-releasers": sign_releasers_command,
        "release": release_command,
        "serve": _server("serve_command"),
        "server": _server("server_command"),
    }
    from .publish import ContentRejected
    try:
        return commands[args.command](args)
    except ContentRejected as exc:
        for problem in sorted(exc.problems, key=lambda p: (p.severity != "error", p.file, p.line or 0)):
            print(problem, file=sys.stderr)
        print(f"error: {exc} (python -m player validate lists the same problems)", file=sys.stderr)
        return 1
    except ContentError as exc:  # kiosk.yaml of `run` / `import`
        for problem in exc.problems:
            print(problem, file=sys.stderr)
        return 1
    except (ValueError, SyncError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except OSError as exc:
        where = f"{exc.filename}: " if exc.filename else ""
        print(f"error: {where}{exc.strerror or exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("\ninterrupted: files already renamed into place are complete; nothing is half-written", file=sys.stderr)
        return 130


def _server(name: str) -> Callable[[argparse.Namespace], int]:
    def command(args: argparse.Namespace) -> int:
        from .server import cli
        return getattr(cli, name)(args)  # type: ignore[no-any-return]
    return command


def keygen_command(args: argparse.Namespace) -> int:
    from .publish import keygen
    made = keygen(args.name, args.out)
    print(f"wrote {made.private_path} (private: keep it secret, never put it on a screen) and {made.public_path}")
    print(f"key id:     {made.id}")
    print(f"public key: {made.public}")
    print("A root key's public key goes into each screen's kiosk.yaml; a publisher's .pub goes to whoever "
          "holds the root key, for sign-publishers --add.")
    return 0


def sign_publishers_command(args: argparse.Namespace) -> int:
    return _sign_key_list(args, "publishers", "the publisher list of channel")


def sign_releasers_command(args: argparse.Namespace) -> int:
    return _sign_key_list(args, "releasers", "the releasers list of software channel")


def _sign_key_list(args: argparse.Namespace, kind: str, what: str) -> int:
    """sign-publishers and sign-releasers: the same root-signed list, under its own envelope kind and path."""
    from .keys import read_private
    from .publish import read_public, sign_publishers
    adds = []
    for spec in args.add:
        label, _, file = spec.partition("=") if "=" in spec else ("", "", spec)
        adds.append((label or Path(file).stem, read_public(Path(file))))
    if _is_server(args.to):
        from .keys import PublisherList, make_publisher, seal_publishers
        plist = PublisherList(args.channel, args.version, tuple(make_publisher(label, key) for label, key in adds))
        envelope = seal_publishers(plist, read_private(args.root), kind)
        if kind == "publishers":
            _client(args).put_publishers(args.channel, envelope)
        else:
            _client(args).request("PUT", f"/api/software/{args.channel}/releasers", data=envelope,
                                  headers={"Content-Type": "application/octet-stream"})
        print(f"uploaded {what} {plist.channel}, version {plist.version}, to {args.to}:")
    else:
        dest = _folder(args.to)
        if dest is None:
            return 2
        plist = sign_publishers(read_private(args.root), args.channel, dest, args.version, adds, args.force, kind)
        print(f"signed {what} {plist.channel}, version {plist.version}:")
    for p in plist.publishers:
        print(f"  {p.name}: {p.id}")
    return 0


def release_command(args: argparse.Namespace) -> int:
    if args.action == "build":
        draft = build_release(parse_target(args.target), args.wheelhouse, args.project,
                              tuple(args.debian) if args.debian else DEBIAN_NEEDS, args.python, tuple(args.pip_option))
        total = sum(w.size for w in draft.wheels)
        print(f"built release {draft.version} for {draft.target}: {len(draft.wheels)} wheels, {human_bytes(total)}, "
              f"needs glibc {draft.requires.glibc}")
        print(f"draft: {args.wheelhouse / 'release.json'}; next: python -m sync release publish --wheelhouse "
              f"{args.wheelhouse} --to DEST --key RELEASE.key")
        return 0
    from .keys import read_private
    dest: ReleaseDest
    if _is_server(args.to):
        dest = ServerDest(_client(args))
    else:
        folder = _folder(args.to)
        if folder is None:
            return 2
        dest = FolderDest(folder)
    key = read_private(args.key)
    now = datetime.now().astimezone().replace(microsecond=0)
    rollout = Rollout(_percent(args.percent), tuple(args.screen))
    if args.action == "publish":
        with ProgressBar(sys.stderr) as bar:
            release, sent = publish_release(read_draft(args.wheelhouse), args.channel, dest, args.to, key, now,
                                            args.expires_days, rollout, bar)
        print(f"published {release.version} on {release.channel} as sequence {release.sequence} for "
              f"{release.target}: sent {human_bytes(sent)} of wheels, rollout {_rollout_text(rollout)}, "
              f"expires {release.expires.isoformat()}")
        return 0
    release = promote_release(args.channel, dest, args.to, key, now, args.expires_days, rollout)
    print(f"promoted {release.version} on {release.channel} as sequence {release.sequence}: rollout "
          f"{_rollout_text(rollout)}, expires {release.expires.isoformat()}")
    return 0


def _percent(value: int) -> int:
    if not 0 <= value <= 100:
        raise ValueError(f"--percent must be 0 to 100, not {value}")
    return value


def _rollout_text(rollout: Rollout) -> str:
    return f"{rollout.percent} %" + (f" plus {', '.join(rollout.screens)}" if rollout.screens else "")


def publish_command(args: argparse.Namespace) -> int:
    from .keys import read_private
    from .publish import apply_plan, prepare_publish
    from .upload import apply_server_plan, prepare_server_publish
    server = _is_server(args.to)
    dest: Path | str | None = args.to if server else _folder(args.to)
    if dest is None:
        return 2
    config = args.config or (args.content / "kiosk.yaml" if args.content else DEFAULT_CONFIG)
    content = args.content or config.parent
    key = read_private(args.key)
    now = datetime.now().astimezone()
    client = _client(args) if server else None
    if client is not None:
        from .pull import check_not_behind, write_mark
        if not args.force:
            check_not_behind(content, args.channel, client.current(args.channel)[0])
        plan = prepare_server_publish(client, args.channel, key, content, config, now)
    else:
        plan = prepare_publish(args.channel, Path(args.to), key, content, config, now)
    for problem in plan.warnings:
        print(problem, file=sys.stderr)
    for entry in plan.diff.added:
        print(f"  added    {entry.path}")
    for entry in plan.diff.changed:
        print(f"  changed  {entry.path}")
    for path in plan.diff.removed:
        print(f"  removed  {path}")
    sys.stdout.flush()
    if not args.dry_run:
        with ProgressBar(sys.stderr) as bar:
            if client is not None:
                apply_server_plan(client, plan, key, bar)
                write_mark(content, channel=args.channel, generation=plan.manifest.generation, source=str(dest))
            else:
                apply_plan(plan, key, bar)
    blobs = f"{len(plan.to_copy)} blob(s), {human_bytes(plan.copy_bytes)}"
    channel, generation = plan.manifest.channel, plan.manifest.generation
    if not plan.writes_manifest:
        done = "would copy" if args.dry_run else "copied"
        repaired = f"; {done} {blobs} missing at {dest}" if plan.to_copy else ""
        print(f"nothing changed: {channel} generation {generation} is already published{repaired}")
    elif args.dry_run:
        print(f"dry run: would copy {blobs} and publish {channel} generation {generation}; nothing was written")
    else:
        note = " (same content, re-signed with your key)" if plan.resign else ""
        print(f"published {channel} generation {generation}{note}: copied {blobs} to {dest}")
    return 0


def pull_command(args: argparse.Namespace) -> int:
    from .pull import pull
    pulled = pull(args.source, args.channel, args.to, args.ca_file)
    print(f"{args.channel} generation {pulled.generation} in {args.to}: {len(pulled.written)} file(s) written")
    for path in pulled.kept:
        print(f"  not on the server (kept): {path}")
    return 0


def run_command(args: argparse.Namespace) -> int:
    import threading

    from player.config import load_config

    from .screen import http_source, open_store, record, root_key, run, settings_of
    from .client import sync_once

    config = load_config(args.config)
    if args.once:
        settings = settings_of(config)
        store = open_store(config)
        result = sync_once(http_source(settings), store, root_key(settings),
                           settings.channel, settings.keep_generations, settings.store_limit_mb * 2**20)
        record(store, result, datetime.now(config.tz), settings.server)
        print(f"{result.status}: {result.message}")
        return 1 if result.status == "failed" else 0
    stop = threading.Event()
    try:
        run(config, stop, lambda: datetime.now(config.tz))
    except KeyboardInterrupt:
        stop.set()
    return 0


def import_command(args: argparse.Namespace) -> int:
    from player.config import load_config

    from .screen import import_folder

    config = load_config(args.config)
    result = import_folder(config, args.path, datetime.now(config.tz))
    print(f"{result.status}: {result.message}")
    return 1 if result.status == "failed" else 0


def notice_command(args: argparse.Namespace) -> int:
    from .keys import read_private
    from .notice import build_notice
    from .upload import seal_notice

    if not _is_server(args.to):
        print(f"error: {args.to}: notices go to the central server (--to https://…)", file=sys.stderr)
        return 2
    client = _client(args)
    if args.action == "list":
        for row in client.request("GET", "/api/notices").json():
            state = "expired" if row["expired"] else f"until {row['expires']}"
            said = "; ".join(f"{k}: {v}" for k, v in row["texts"].items())
            print(f"{row['id']}  {row['level']}  {', '.join(row['channels'])}  {state}  by {row['posted_by']}\n    {said}")
        return 0
    if args.action == "clear":
        if not args.id:
            print("error: notice clear needs --id (see notice list)", file=sys.stderr)
            return 2
        client.clear_notice(args.id)
        print(f"cleared notice {args.id}; screens drop it within seconds")
        return 0
    missing = [flag for flag, value in (("--key", args.key), ("--channel", args.channel), ("--text", args.text)) if not value]
    if missing:
        print(f"error: notice post needs {', '.join(missing)}", file=sys.stderr)
        return 2
    import uuid
    now = datetime.now().astimezone().replace(microsecond=0)
    texts = []
    for spec in args.text:
        language, sep, text = spec.partition("=")
        if not sep:
            print(f"error: --text {spec!r}: write LANG=TEXT, e.g. vi='Cổng tạm đóng'", file=sys.stderr)
            return 2
        texts.append((language.strip(), text))
    notice = build_notice(uuid.uuid4().hex, args.level, texts, args.channel, args.screen, now,
                          _expiry(args.expires, now))
    answer = client.post_notice(seal_notice(notice, read_private(args.key)))
    print(f"posted notice {answer['id']} to {', '.join(answer['channels'])} until {answer['expires']}")
    return 0


def _expiry(text: str, now: datetime) -> datetime:
    from datetime import timedelta
    match = re.fullmatch(r"(\d+)\s*(m|min|h|d)", text.strip())
    if match:
        unit = {"m": "minutes", "min": "minutes", "h": "hours", "d": "days"}[match.group(2)]
        return now + timedelta(**{unit: int(match.group(1))})
    try:
        when = datetime.fromisoformat(text)
    except ValueError:
        raise ValueError(f"--expires {text!r}: write 30m, 2h, 1d or an ISO time like 2026-11-26T18:00+07:00") from None
    return when if when.tzinfo else when.astimezone()


def _is_server(to: str) -> bool:
    return to.lower().startswith(("http://", "https://"))


def _client(args: argparse.Namespace) -> StaffClient:
    import os

    from .upload import StaffClient, read_token
    return StaffClient(args.to, read_token(args.token_file, os.environ), args.ca_file)


def _folder(to: str) -> Path | None:
    """DEST as a folder; a URL other than http(s) is refused with a message."""
    if _URL.match(to):
        print(f"error: {to}: --to must be a folder or an http(s):// server URL", file=sys.stderr)
        return None
    return Path(to)
