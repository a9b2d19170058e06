"""The command line: run, validate, preview, status, hash-pin, bench. A thin layer that turns errors into messages and exit codes."""

from __future__ import annotations

import argparse
import getpass
import sys
from pathlib import Path

from .app import run, setup_logging
from .bench import bench_command
from .config import load_config
from .errors import ContentError, PlayerError
from .preview import preview_command
from .status import status_lines
from .touch.lockdown import check_pin_format, hash_pin
from .validate import validate_command

DEFAULT_CONFIG = Path("kiosk.yaml")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m player", description=(
        "The Tịnh Biên border-gate signage player. Every command reads the screen's kiosk.yaml "
        "(--config, default ./kiosk.yaml) and the content it names."))
    parser.add_argument("--config", type=Path, default=DEFAULT_CONFIG, help="the screen's kiosk.yaml (default: ./kiosk.yaml)")
    parser.add_argument("-v", "--verbose", action="store_true", help="log debug lines too")
    sub = parser.add_subparsers(dest="command", required=True)

    run = sub.add_parser("run", help="play the screen's content fullscreen, forever (or for --seconds)")
    run.add_argument("--seconds", type=float, help="stop after this many seconds and exit 0")
    run.add_argument("--headless", action="store_true", help="no window: SDL's dummy video driver (for checks and CI)")
    run.add_argument("--windowed", action="store_true", help="a window instead of fullscreen, whatever kiosk.yaml says")

    validate = sub.add_parser("validate", help="list every problem in kiosk.yaml, playlists and media; exit 1 on any error")
    validate.add_argument("path", nargs="?", type=Path,
                          help="kiosk.yaml, a playlist file or a folder of playlists (default: the screen's config and content)")

    preview = sub.add_parser("preview", help="render each item in each language to PNG, plus a contact sheet; no display needed")
    preview.add_argument("playlist", nargs="?", help="a playlist id or file (default: every playlist)")
    preview.add_argument("--out", type=Path, default=Path("out/preview"), help="folder for the PNGs (default: out/preview)")

    sub.add_parser("status", help="what the screen plays, its content generation, the last sync and the store's size")

    hash_pin = sub.add_parser("hash-pin", help="make the touch.exit_pin_hash line for kiosk.yaml from a staff exit PIN")
    hash_pin.add_argument("--stdin", action="store_true",
                          help="read the PIN from the first line of standard input instead of asking twice (for scripts)")

    bench = sub.add_parser("bench", help="measure CPU per second, frames per fade, start-up, memory, peers; one summary line per figure")
    bench.add_argument("--runs", type=int, default=3, help="runs of the crossfade benchmark (CPU-s/s, distinct frames); the median is printed (default 3)")
    bench.add_argument("--seconds", type=float, default=8.0, help="seconds of one crossfade run, and of the touch run (default 8)")
    bench.add_argument("--changes", type=int, default=2000, help="item changes for the memory figure (default 2000)")
    bench.add_argument("--only", choices=("frames", "startup", "video", "memory", "touch", "peers"), help="run one part only")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        if args.command == "validate":
            return validate_command(args.path, args.config)
        if args.command == "preview":
            return preview_command(args.config, args.playlist, args.out)
        if args.command == "hash-pin":
            return hash_pin_command(args.stdin)
        if args.command == "bench":
            return bench_command(args)
        config = load_config(args.config)
        if args.command == "status":
            print("\n".join(status_lines(config)))
            return 0
        setup_logging(config.state_dir, args.verbose)
        return run(config, args.seconds, args.headless, args.windowed)
    except ContentError as exc:
        for problem in exc.problems:
            print(problem, file=sys.stderr)
        print(f"{args.config}: not started; fix the errors above (python -m player validate lists them all)", file=sys.stderr)
        return 1
    except PlayerError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1


def hash_pin_command(from_stdin: bool) -> int:
    """Ask for the staff exit PIN (twice) and print the kiosk.yaml line that stores it, salted and hashed."""
    if from_stdin:
        pin = sys.stdin.readline().strip()
    else:
        pin = getpass.getpass("Staff exit PIN (digits): ")
        if getpass.getpass("The same PIN again: ") != pin:
            print("error: the two PINs differ; nothing was made", file=sys.stderr)
            return 1
    problem = check_pin_format(pin)
    if problem:
        print(f"error: {problem}", file=sys.stderr)
        return 1
    print(f"  exit_pin_hash: \"{hash_pin(pin)}\"")
    print("# put this line under `touch:` in kiosk.yaml; the PIN itself is stored nowhere", file=sys.stderr)
    return 0
