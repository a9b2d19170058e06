"""A sped-up soak of the player: days of virtual time with dayparts, syncs and faults; one line per figure.

    .venv/bin/python -m bench.soak [--days 7] [--seconds-per-frame 1.0] [--item-seconds 120] [--quick]

The screen's objects are built as `python -m player run` builds them (player.screen.build_screen, with the
sync store's ContentSource asked inside the frame at item boundaries) on SDL's dummy driver. A virtual monotonic
clock moves on by --seconds-per-frame each frame and the wall time (Asia/Ho_Chi_Minh) with it, so
the night playlist takes over at 22:00 and gives way at 06:00 every day. On the way, signed
generations arrive through the real sync code (a published folder, sync_once), some of them
unplayable; media files are damaged and later mended; NTP moves the wall clock back and forward by
hours. When a switch needs the preparer thread, the driver waits for it in real time, as a screen
waits for it in screen time.

Measured: exceptions out of the loop, RSS from the warm-up's end (the first virtual hour) to the
end, open file descriptors, switches, skips, rollbacks, daypart changes and how late they came,
proof-of-play lines. Exit status 0 when every target is met. --quick plays one night (10 hours).
"""

from __future__ import annotations

import argparse
import logging
import os
import statistics
import sys
import threading
import time
import traceback
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Callable

from bench.soak_plan import (HOUR, SPREAD, START, Fault, content_files, expected_playlist, make_media, make_soak_screen,
                             plan_faults, publish)
from bench.sync_bench import CHANNEL

STALL_SECONDS = 30.0  # real seconds a switch may wait for the preparer before it counts as a stall
RSS_TARGET_MB = 10.0
ITEM_OF = {"photo0.jpg": "welcome", "night.jpg": "night-gate"}  # the item showing each damaged file


# -- the run -------------------------------------------------------------------------------------------

@dataclass
class SoakReport:
    hours: float
    seconds_per_frame: float
    item_seconds: float
    frames: int = 0
    real_seconds: float = 0.0
    escaped: int = 0  # exceptions out of Loop.frame
    tracebacks: list[str] = field(default_factory=list)
    thread_deaths: int = 0
    stalls: int = 0
    rss_warm_mb: float = 0.0
    rss_end_mb: float = 0.0
    rss_max_mb: float = 0.0
    rss_hourly_mb: list[float] = field(default_factory=list)  # from the warm-up's end, once a virtual hour
    fds_start: int = 0
    fds_warm: int = 0
    fds_end: int = 0
    fds_new: list[str] = field(default_factory=list)  # files open at the end that were not after the warm-up
    switches: int = 0
    fallback_shows: int = 0
    daypart_changes: list[tuple[str, str, str]] = field(default_factory=list)  # (wall time, from, to)
    worst_daypart_lag: float = 0.0  # virtual seconds the screen showed the other daypart's playlist
    midnights: int = 0
    black_frames: int = 0
    worst_frame_ms: float = 0.0
    check_ms: dict[str, float] = field(default_factory=dict)  # worst ContentSource.check: look, load, rollback
    published: list[str] = field(default_factory=list)  # good generations delivered to the store
    refused: list[str] = field(default_factory=list)  # unplayable generations delivered
    played: list[str] = field(default_factory=list)  # generations the loop put on screen, in order
    rolled_back: list[str] = field(default_factory=list)  # the store's bad list at the end
    current_at_end: str = ""
    damage: list[tuple[str, str, str]] = field(default_factory=list)  # (file, damaged at, mended at) wall times
    proof: list[dict] = field(default_factory=list)
    log_counts: Counter = field(default_factory=Counter)
    log_samples: dict[str, str] = field(default_factory=dict)


class _LogTally(logging.Handler):
    """Counts the player's warnings and errors by kind (their format string), keeping one example of each."""

    def __init__(self, report: SoakReport) -> None:
        super().__init__(logging.WARNING)
        self.report = report

    def emit(self, record: logging.LogRecord) -> None:
        key = f"{record.levelname} {record.name}: {record.msg}"
        self.report.log_counts[key] += 1
        self.report.log_samples.setdefault(key, record.getMessage()[:300] + (" [traceback]" if record.exc_info else ""))


def open_fds() -> list[str]:
    out = []
    for fd in os.listdir("/proc/self/fd"):
        try:
            out.append(os.readlink(f"/proc/self/fd/{fd}"))
        except OSError:
            pass  # the listing's own descriptor, closed by now
    return out


def settled_fds(writer) -> list[str]:  # noqa: ANN001 - the player's Background writer
    """Open files once the writer thread has caught up; the fewest of a few looks, so a file the preparer
    has open for a moment (a picture being read) is not taken for a leak. The writer may be many fsyncs
    behind on a loaded machine (CI caught it mid-write after 5 s), so it gets two minutes; if it is still
    behind then, that is named among the files so the figure says why."""
    done = threading.Event()
    writer.submit(done.set)
    caught_up = done.wait(120.0)
    looks = []
    for _ in range(5):
        looks.append(open_fds())
        time.sleep(0.02)
    fewest = min(looks, key=len)
    return fewest if caught_up else [*fewest, "(the state writer was still behind after 120 s)"]


class Soak:
    """One synced screen under test: its objects (as `player run` wires them), the virtual clocks, the faults."""

    def __init__(self, root: Path, report: SoakReport, size: tuple[int, int]) -> None:
        import pygame

        from player.config import load_config
        from player.screen import build_screen
        from sync.keys import public_text
        from sync.layout import StateFolder
        from sync.store import Store
        from bench.sync_bench import Publisher  # a channel folder signed with real keys, as `sync publish` lays it out

        self.report = report
        self.mono, self.offset = 0.0, timedelta(0)  # virtual monotonic seconds; how far NTP moved the wall clock
        self.media = make_media()
        self.publisher = Publisher(root / "published")
        config_path = make_soak_screen(root / "screen", size, public_text(self.publisher.root_key.public_key()),
                                       content_files(0, report.item_seconds, self.media))
        self.config = load_config(config_path)
        self.store = Store(StateFolder(self.config.state_dir).store.root).open()
        self.screen = build_screen(self.config, self.wall(), new_content=self._check, on_switch=self._switched)
        self.source = self.screen.source
        self.loop = self.screen.loop
        canvas = self.config.display.canvas
        display = pygame.display.get_surface()
        self.target = display if display is not None and display.get_size() == canvas else pygame.Surface(canvas)
        self.shown: str | None = None  # the playlist on screen
        self.wrong_since: float | None = None  # since when it has not been the one the wall time asks for
        self.damaged: dict[str, tuple[bytes, str]] = {}

    def wall(self) -> datetime:
        return START + timedelta(seconds=self.mono) + self.offset

    # -- what `player run` would do at a boundary, observed -------------------------------------------

    def _check(self, now: datetime):  # noqa: ANN202 - a Program or None, as source.check
        """source.check, timed: it runs inside a frame at each boundary."""
        link = self.store.current_link
        before, t0 = os.readlink(link) if link.is_symlink() else "", time.perf_counter()
        program = self.source.check(now)
        ms = (time.perf_counter() - t0) * 1000
        after = os.readlink(link) if link.is_symlink() else ""
        doing = "load" if program is not None else "rollback" if after != before else "look"
        self.report.check_ms[doing] = max(self.report.check_ms.get(doing, 0.0), ms)
        return program

    def _switched(self, decision, when: datetime) -> None:  # noqa: ANN001 - a Decision
        """Tallies each slot put on screen (the screen itself writes the status file, as in `player run`)."""
        report, slot = self.report, decision.slot
        report.fallback_shows += slot is None
        playlist = slot.playlist if slot else "_fallback"
        if self.shown is not None and playlist != self.shown:
            report.daypart_changes.append((when.isoformat(timespec="seconds"), self.shown, playlist))
        self.shown = playlist
        if self.source.generation and (not report.played or report.played[-1] != self.source.generation):
            report.played.append(self.source.generation)

    # -- faults ------------------------------------------------------------------------------------------

    def inject(self, fault: Fault) -> None:
        from sync.client import FolderSource, sync_once

        stamp = self.wall().isoformat(timespec="seconds")
        if fault.kind == "jump":
            self.offset += timedelta(hours=fault.hours)
        elif fault.kind in ("publish", "publish-bad"):
            version = self.publisher.generation + 1
            files = content_files(version, self.report.item_seconds, self.media) if fault.kind == "publish" else \
                {"playlists/daytime.yaml": b"items: [unclosed\n", "playlists/night.yaml": b"id: night\nitems: 7\n"}
            publish(self.publisher, files)
            keep = self.config.sync.keep_generations if self.config.sync else 3
            result = sync_once(FolderSource(self.publisher.root, CHANNEL), self.store,
                               self.publisher.root_key.public_key(), CHANNEL, keep=keep)
            if result.status != "updated":
                raise RuntimeError(f"the soak's sync of generation {version} did not apply: {result.message}")
            (self.report.published if fault.kind == "publish" else self.report.refused).append(f"{CHANNEL}-{version:010d}")
        else:
            current = self.store.current()
            assert current is not None, "nothing synced yet to damage"
            path = current.path / "media" / fault.file
            if fault.kind == "damage":
                original = path.read_bytes()
                with path.open("r+b") as out:  # a bad sector: same size, other bytes (the blob shares the inode)
                    out.write(bytes(len(original) // 2))
                self.damaged[fault.file] = (original, stamp)
            else:
                original, since = self.damaged.pop(fault.file)
                path.write_bytes(original)
                self.report.damage.append((fault.file, since, stamp))

    # -- frames ------------------------------------------------------------------------------------------

    def _frame(self, now: datetime, dt: float) -> None:
        try:
            self.screen.frame(self.target, self.mono, now, dt)
        except Exception:
            self.report.escaped += 1
            if len(self.report.tracebacks) < 5:
                self.report.tracebacks.append(traceback.format_exc())

    def step(self, faults: list[Fault]) -> None:
        """One virtual frame; a switch that waits for the preparer waits in real time, the screen's clock stands."""
        import pygame

        report, loop = self.report, self.loop
        self.mono += report.seconds_per_frame
        while faults and faults[0].at <= self.mono:
            self.inject(faults.pop(0))
        now = self.wall()
        before, t0 = loop.switches, time.perf_counter()
        self._frame(now, report.seconds_per_frame)
        report.worst_frame_ms = max(report.worst_frame_ms, (time.perf_counter() - t0) * 1000)
        deadline = time.monotonic() + STALL_SECONDS
        while loop.switches == before and loop.pending is not None and loop.current is not None \
                and loop.current.due(self.mono):
            if time.monotonic() > deadline or report.escaped > 1000:
                report.stalls += 1
                break
            time.sleep(0.0005)
            self._frame(now, 0.0)
        report.frames += 1
        slot = loop.current.prepared.decision.slot if loop.current is not None else None
        if (slot.playlist if slot else None) != expected_playlist(now):
            self.wrong_since = self.mono if self.wrong_since is None else self.wrong_since
            report.worst_daypart_lag = max(report.worst_daypart_lag, self.mono - self.wrong_since)
        else:
            self.wrong_since = None
        if report.frames % 997 == 0 and pygame.transform.average_color(self.target)[:3] == (0, 0, 0):
            report.black_frames += 1


def run_soak(root: Path, hours: float, seconds_per_frame: float = 1.0, item_seconds: float = 120.0,
             size: tuple[int, int] = (960, 540), warmup_hours: float = 1.0,
             progress: Callable[[str], None] | None = None) -> SoakReport:
    """Play `hours` of virtual time on a synced screen under `root`, injecting plan_faults(hours)."""
    import psutil
    import pygame

    from player.proof import read_proof
    from sync.layout import PROOF_KEEP_OLD, rotated

    if not pygame.display.get_init():
        pygame.display.init()
        pygame.font.init()
        import pygame.freetype
        pygame.freetype.init()
    if pygame.display.get_surface() is None:
        pygame.display.set_mode(size)
    process = psutil.Process()
    hook, report = threading.excepthook, SoakReport(hours, seconds_per_frame, item_seconds)
    tally = _LogTally(report)
    logging.getLogger().addHandler(tally)

    def died(args: threading.ExceptHookArgs) -> None:
        report.thread_deaths += 1
        report.tracebacks.append("".join(traceback.format_exception(args.exc_type, args.exc_value, args.exc_traceback)))
    threading.excepthook = died
    soak: Soak | None = None
    begin = time.monotonic()
    try:
        soak = Soak(root, report, size)
        faults, warm_fds = plan_faults(hours), []
        soak.screen.start(soak.mono)
        report.fds_start = len(settled_fds(soak.screen.writer))
        last_date, next_sample, next_day = soak.wall().date(), warmup_hours * HOUR, 24 * HOUR
        while soak.mono < hours * HOUR and report.escaped <= 1000:
            soak.step(faults)
            if soak.wall().date() > last_date:
                report.midnights += (soak.wall().date() - last_date).days
                last_date = soak.wall().date()
            if soak.mono >= next_sample:  # the warm-up's end, then once a virtual hour
                rss = process.memory_info().rss / 2**20
                if not report.rss_warm_mb:
                    report.rss_warm_mb, warm_fds = rss, settled_fds(soak.screen.writer)
                    report.fds_warm = len(warm_fds)
                report.rss_max_mb = max(report.rss_max_mb, rss)
                report.rss_hourly_mb.append(rss)
                next_sample += HOUR
            if progress is not None and soak.mono >= next_day:
                progress(f"day {soak.mono / (24 * HOUR):.0f} done after {time.monotonic() - begin:.0f} s: "
                         f"{soak.loop.switches} switches, rss {process.memory_info().rss / 2**20:.1f} MB")
                next_day += 24 * HOUR
        report.rss_end_mb = process.memory_info().rss / 2**20
        end_fds = settled_fds(soak.screen.writer)
        report.fds_end, report.fds_new = len(end_fds), sorted((Counter(end_fds) - Counter(warm_fds)).elements())
        report.switches = soak.loop.switches
    finally:
        report.real_seconds = time.monotonic() - begin
        if soak is not None:
            soak.screen.close(soak.mono)
        threading.excepthook = hook
        logging.getLogger().removeHandler(tally)
    report.rolled_back = sorted(soak.store.bad_generations())
    current = soak.store.current()
    report.current_at_end = current.name if current else ""
    proof = soak.loop.proof
    if proof is not None:
        for older in range(PROOF_KEEP_OLD, 0, -1):  # rotated files first, oldest first
            report.proof += read_proof(rotated(proof.path, older))
        report.proof += read_proof(proof.path)
    return report


# -- the figures ---------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Figure:
    name: str
    value: str
    target: str
    ok: bool = True

    def line(self) -> str:
        return f"{self.name} {self.value} ({self.target})" + ("" if self.ok else "  <-- MISSED")


def proof_of(report: SoakReport, item: str, status: str, after: str = "", before: str = "~") -> list[dict]:
    return [p for p in report.proof if p["item"] == item and p["status"] == status and after <= str(p["start"]) < before]


def figures(report: SoakReport) -> list[Figure]:
    growth = report.rss_end_mb - report.rss_warm_mb
    hourly = report.rss_hourly_mb
    day = max(1, min(24, len(hourly) // 2))  # a frame's surface more or less makes single samples noisy at 1080p
    trend = statistics.median(hourly[-day:]) - statistics.median(hourly[:day]) if hourly else 0.0
    skipped = [p for p in report.proof if p["status"] == "skipped"]
    shown = [p for p in report.proof if p["status"] != "skipped"]
    lag_limit = report.item_seconds * max(SPREAD.values()) + 2 * report.seconds_per_frame + 1.0
    days = report.hours / 24
    midnights = ((START + timedelta(hours=report.hours)).date() - START.date()).days
    expected_changes = 2 * int(days) if days >= 1 else 2
    broken_shown = len(proof_of(report, "broken-poster", "completed")) + len(proof_of(report, "broken-poster", "cut"))
    damage_ok = all(proof_of(report, ITEM_OF[f], "skipped", hit, mend) and proof_of(report, ITEM_OF[f], "completed", mend)
                    for f, hit, mend in report.damage)
    played_all = all(name in report.played for name in report.published)
    none_bad = not any(name in report.played for name in report.refused)
    rolled = [name for name in report.refused if name in report.rolled_back]
    rate = report.frames / report.real_seconds if report.real_seconds else 0.0
    return [
        Figure("virtual_hours", f"{report.hours:g}", f"{report.frames} frames of {report.seconds_per_frame:g} s, "
               f"items of {report.item_seconds:g} s, {report.real_seconds:.0f} s real, {rate:.0f} frames/s"),
        Figure("exceptions_escaped", str(report.escaped), "target 0", report.escaped == 0),
        Figure("thread_deaths", str(report.thread_deaths), "target 0", report.thread_deaths == 0),
        Figure("switch_stalls", str(report.stalls), f"target 0 waits over {STALL_SECONDS:g} s for the preparer",
               report.stalls == 0),
        Figure("rss_growth_mb", f"{growth:.2f}", f"target <= {RSS_TARGET_MB:g}; {report.rss_warm_mb:.1f} MB after the "
               f"warm-up -> {report.rss_end_mb:.1f} MB, peak {report.rss_max_mb:.1f} MB", growth <= RSS_TARGET_MB),
        Figure("rss_trend_mb", f"{trend:.2f}", f"median of the last {day} hourly samples minus the first {day}; "
               "information only"),
        Figure("open_fds", f"{report.fds_start} -> {report.fds_warm} -> {report.fds_end}",
               "start -> after the warm-up -> end; target: no growth after the warm-up"
               + (f"; new: {', '.join(report.fds_new[:5])}" if report.fds_new else ""),
               report.fds_end <= report.fds_warm),
        Figure("item_switches", str(report.switches), "target > 0", report.switches > 0),
        Figure("fallback_shows", str(report.fallback_shows), "target 0: there is always content to play",
               report.fallback_shows == 0),
        Figure("black_frames_sampled", str(report.black_frames), "target 0", report.black_frames == 0),
        Figure("skips", str(len(skipped)), f"broken image {len(proof_of(report, 'broken-poster', 'skipped'))} times, "
               f"shown {broken_shown} times (target 0); damaged files skipped then shown again: "
               f"{'yes' if damage_ok else 'NO'}", broken_shown == 0 and len(skipped) > 0 and damage_ok),
        Figure("rollbacks", str(len(report.rolled_back)), f"target {len(report.refused)}: every unplayable generation, "
               f"none of them shown; ends on {report.current_at_end}",
               len(rolled) == len(report.refused) and none_bad and report.current_at_end == (report.published or [""])[-1]),
        Figure("generations_played", f"{sum(n in report.played for n in report.published)} of {len(report.published)}",
               "target: every good generation published", played_all),
        Figure("daypart_changes", str(len(report.daypart_changes)), f"target >= {expected_changes}: 22:00 and 06:00 "
               "each day, plus clock jumps", len(report.daypart_changes) >= expected_changes),
        Figure("daypart_lag_worst_s", f"{report.worst_daypart_lag:.0f}", f"target <= {lag_limit:.0f}: the other "
               "daypart's playlist stays up one item at most", report.worst_daypart_lag <= lag_limit),
        Figure("midnights", str(report.midnights), f"target {midnights}", report.midnights == midnights),
        Figure("proof_of_play_lines", str(len(report.proof)), f"target {report.switches + len(skipped)}: one per "
               f"slot shown ({len(shown)}) and per skip", len(shown) == report.switches and len(report.proof) > 0),
        Figure("worst_frame_ms", f"{report.worst_frame_ms:.1f}", "real time of one Loop.frame call, information only"),
        Figure("content_check_worst_ms", " ".join(f"{k} {v:.1f}" for k, v in sorted(report.check_ms.items())),
               "ContentSource.check inside a frame at a boundary: a look, a new generation, a rollback; information only"),
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--days", type=float, default=7.0, help="virtual days to play (default 7)")
    parser.add_argument("--seconds-per-frame", type=float, default=1.0, help="virtual seconds per frame (default 1)")
    parser.add_argument("--item-seconds", type=float, default=120.0, help="each item's duration (default 120)")
    parser.add_argument("--size", type=int, nargs=2, default=(960, 540), metavar=("W", "H"))
    parser.add_argument("--quick", action="store_true", help="10 virtual hours: one night with every fault")
    parser.add_argument("--keep", type=Path, help="play under this folder and keep it (default: a temporary one)")
    parser.add_argument("-v", "--verbose", action="store_true", help="also print the player's warnings and errors")
    args = parser.parse_args(argv)
    os.environ["SDL_VIDEODRIVER"] = "dummy"
    os.environ.setdefault("SDL_AUDIODRIVER", "dummy")
    os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")
    logging.basicConfig(level=logging.WARNING)  # the soak counts warnings and errors; -v prints them too
    if not args.verbose:
        for handler in logging.getLogger().handlers:
            handler.setLevel(logging.CRITICAL)
    hours = 10.0 if args.quick else args.days * 24
    import tempfile

    def progress(text: str) -> None:
        print(text, file=sys.stderr, flush=True)

    with tempfile.TemporaryDirectory(prefix="kiosk-soak-") as tmp:
        root = args.keep or Path(tmp)
        root.mkdir(parents=True, exist_ok=True)
        report = run_soak(root, hours, args.seconds_per_frame, args.item_seconds, tuple(args.size), progress=progress)
    results = figures(report)
    for figure in results:
        print(figure.line())
    for key, count in report.log_counts.most_common():
        print(f"log {count}x {key.split(':')[0]}: {report.log_samples[key]}")
    for text in report.tracebacks:
        print(text, file=sys.stderr)
    return 0 if all(f.ok for f in results) else 1


if __name__ == "__main__":
    sys.exit(main())
