"""The central server under a fleet's load on loopback: 1,000 long-polling, heart-beating screens and one publish.

    .venv/bin/python -m bench.server_load [--screens 1000] [--seconds 60] [--heartbeat 30] [--wait 50]
                                          [--no-notices] [--quick] [--workers N] [--database URL|temp]
                                          [--console-tabs N] [--previews]

With --database the records are in PostgreSQL (an empty database at that URL, or `temp`: a throwaway
cluster started for the run, as the tests do) and --workers N runs `serve --workers N`; RSS and CPU
are then each server process's (RSS: the largest; CPU: all of them together).

`python -m sync serve` runs as its own process on 127.0.0.1 with channel "gate", an admin staff
token and one screen token per simulated screen (written to its database before it starts, as
`python -m sync server screen add` does). A second process (bench.load_generator) plays
the screens with asyncio protocols on uvloop speaking HTTP/1.1 keep-alive, as sync/screen.py does: each screen
holds one connection long-polling GET /channels/gate/manifest?wait=50 with If-None-Match, asked
again 0.2 s after every 304 or 200, one long-polling /channels/gate/notices the same way (not with
--no-notices), and one sending POST /api/heartbeat every --heartbeat seconds, the screens spread
evenly over that interval. The screens connect during --ramp seconds (5) before the measured
--seconds begin, and their first long-polls wait different lengths, as a fleet that started at
different times does; CPU and heartbeats are counted from the end of the ramp, RSS throughout.

Halfway through, this process publishes a new generation as staff do (a blob, then the signed
manifest) and notes the wall time just before the manifest's POST; the generator notes the wall
time at which each screen's long-poll brought back the new generation's ETag. The server's RSS
is sampled with psutil throughout. One line per figure, with its target; exit status 0 when
every target is met. --quick runs 200 screens for 15 s.

A long-poll answers at most once per screen per --wait, so --wait 20 makes the same minute busier.

--console-tabs N keeps N staff console tabs open meanwhile, as browsers do: each logged in, fetching the
screens table every 10 s (the page's refresh) and a page every 30 s. --previews has one of them ask for an
item's preview (drawn by the render worker) again and again. Their requests' latency is printed too.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.load_generator import CHANNEL, raise_open_files
from bench.load_office import console_tab, first_generation, prepare_database, publish

REPO = Path(__file__).resolve().parent.parent

TARGETS = {"errors": 0, "p99_ms": 200.0, "all_told_s": 2.0, "rss_mb": 300.0}
FLEET_TARGETS = {"errors": 0, "p99_ms": 300.0, "all_told_s": 5.0, "rss_mb": 400.0}  # past 1,000 screens (issue 12)
SAMPLE_SECONDS = 0.2
GENERATOR_SCREENS = 5000
LONG_POLL_SECONDS = 50.0  # sync/screen.py's LONG_POLL_SECONDS


@dataclass
class LoadReport:
    screens: int
    seconds: float
    console_ms: list[float] = field(default_factory=list)  # the console tabs' requests
    worker_rss_mb: float = 0.0  # the console's render worker, apart from the server processes
    preview_ms: list[float] = field(default_factory=list)
    heartbeat_ms: list[float] = field(default_factory=list)
    heartbeat_sent: list[float] = field(default_factory=list)  # wall time each answered heartbeat was sent
    long_polls: Counter[str] = field(default_factory=Counter)  # by document and status: "manifest 304"
    told: int = 0  # screens whose long-poll brought the published generation
    all_told_s: float | None = None  # from just before the manifest's POST to the last screen told
    publish_post_ms: float = 0.0
    published_at: float | None = None  # wall time just before the manifest's POST
    errors: Counter[str] = field(default_factory=Counter)  # by kind, generator and server together
    error_samples: list[str] = field(default_factory=list)
    reconnects: int = 0
    shutdown_tracebacks: int = 0
    server_rss_peak_mb: float = 0.0
    server_rss_idle_mb: float = 0.0
    server_cpu_s: float = 0.0
    generator_cpu_s: float = 0.0
    machine_busy_s: float = 0.0  # every core's busy time over the load, whoever used it
    generation: int = 0

    @property
    def error_count(self) -> int:
        return sum(self.errors.values())

    def percentile_ms(self, q: float) -> float:
        if not self.heartbeat_ms:
            return float("nan")
        ordered = sorted(self.heartbeat_ms)
        return ordered[max(0, math.ceil(q / 100 * len(ordered)) - 1)]  # nearest rank


# --- the bench: server, set-up, publish, measurements ------------------------------------------------------

def run_load(work: Path, screens: int = 1000, seconds: float = 60.0, heartbeat: float = 30.0,
             wait: float = LONG_POLL_SECONDS, publish_at: float | None = None, ramp: float = 5.0,
             notices: bool = True, workers: int = 1, database: str | None = None, console_tabs: int = 0,
             previews: bool = False) -> LoadReport:
    """Run the server and the generator under `work` (a fresh folder); both processes are ended on the way out."""
    import psutil
    import requests

    publish_at = seconds / 2 if publish_at is None else publish_at
    if not 0 < publish_at < seconds:
        raise ValueError(f"the publish ({publish_at:g} s) must come within the load's {seconds:g} s")
    raise_open_files(4 * screens + 256)  # the server inherits it: up to three sockets per screen
    admin, tokens, keys = prepare_database(work / "data", screens, database)
    (work / "server.yaml").write_text(json.dumps({"data": "data", **({"database": database} if database else {})}))
    port = free_port()
    log_path = work / "server.log"
    server = None
    generators: list[subprocess.Popen[bytes]] = []
    report = LoadReport(screens, seconds)
    try:
        with log_path.open("wb") as log:
            server = subprocess.Popen([sys.executable, "-m", "sync", "serve", "--config", str(work / "server.yaml"),
                                       "--host", "127.0.0.1", "--port", str(port), "--workers", str(workers)],
                                      cwd=REPO, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        url = f"http://127.0.0.1:{port}"
        wait_until_listening(url, server, log_path)
        session = requests.Session()
        session.headers["Authorization"] = f"Bearer {admin}"
        files = first_generation(session, url, keys)
        watched = Tree(psutil.Process(server.pid))
        tabs_stop = threading.Event()
        tabs = [threading.Thread(target=console_tab, args=(url, admin, n == 0 and previews, tabs_stop, report),
                                 daemon=True) for n in range(console_tabs)]
        for tab in tabs:
            tab.start()
        report.server_rss_idle_mb = watched.rss_mb()

        start = time.time() + 1.5 + ramp  # the generator's imports, then the screens' boot, come before it
        # A process holds 20,000 files at most here: one generator per 5,000 screens (three sockets each).
        slices = max(1, math.ceil(screens / GENERATOR_SCREENS))
        for k in range(slices):
            part = tokens[k * GENERATOR_SCREENS:(k + 1) * GENERATOR_SCREENS]
            config = {"url": url, "tokens": part, "offset": k * GENERATOR_SCREENS, "total": screens, "start": start,
                      "seconds": seconds, "heartbeat": heartbeat, "wait": wait, "ramp": ramp, "notices": notices,
                      "result": str(work / f"generator-{k}.json")}
            (work / f"generator-config-{k}.json").write_text(json.dumps(config))
            generators.append(subprocess.Popen([sys.executable, "-m", "bench.load_generator",
                                                str(work / f"generator-config-{k}.json")],
                                               cwd=REPO, stdin=subprocess.DEVNULL))
        for _ in range(int((start - time.time()) / SAMPLE_SECONDS) + 1):  # the screens connecting
            report.server_rss_peak_mb = max(report.server_rss_peak_mb, watched.rss_mb())
            time.sleep(max(0.0, min(SAMPLE_SECONDS, start - time.time())))
        cpu_before, machine_before, own_before = watched.cpu(), _busy(psutil.cpu_times()), _cpu(psutil.Process())
        published_at = envelope = None
        deadline = start + seconds + wait + 30  # the generator ends at start+seconds; this only bounds the loop
        while any(g.poll() is None for g in generators) and time.time() < deadline:
            report.server_rss_peak_mb = max(report.server_rss_peak_mb, watched.rss_mb())
            if envelope is None and time.time() >= start + publish_at:
                try:
                    published_at, envelope, report.publish_post_ms = publish(session, url, keys, files)
                except requests.RequestException as exc:  # counted, and the load goes on to its end
                    report.errors["staff's publish failed"] += 1
                    report.error_samples.append(f"publish: {exc}"[:200])
                    published_at, envelope = None, b""
            time.sleep(SAMPLE_SECONDS)
        tabs_stop.set()
        for tab in tabs:
            tab.join(30)
        report.worker_rss_mb = watched.worker_rss_mb()
        report.server_cpu_s = watched.cpu() - cpu_before
        report.machine_busy_s = _busy(psutil.cpu_times()) - machine_before - (_cpu(psutil.Process()) - own_before)
        if any(g.poll() is None for g in generators):
            report.errors["generator did not finish"] += 1
        elif any(g.returncode != 0 for g in generators):
            report.errors[f"generator exit status {[g.returncode for g in generators]}"] += 1
        else:
            read_generator(report, merged([json.loads((work / f"generator-{k}.json").read_text())
                                           for k in range(len(generators))]), envelope, published_at)
    finally:
        for other in generators:
            stop(other)
        load_log = log_path.stat().st_size if log_path.is_file() else 0
        stop(server)
    read_server_log(report, log_path, load_log)
    return report


class Tree:
    """The server's processes: one, or uvicorn's parent and its workers."""

    def __init__(self, process: Any) -> None:
        self.process = process

    def members(self, workers: bool = False) -> list[Any]:
        """The server's processes; with `workers`, the console's render worker instead (its own RSS and CPU)."""
        try:
            found = [self.process, *self.process.children(recursive=True)]
        except Exception:
            found = [self.process]
        return [p for p in found if _is_render_worker(p) == workers]

    def worker_rss_mb(self) -> float:
        return max((m.memory_info().rss / 2**20 for m in self.members(workers=True)), default=0.0)

    def rss_mb(self) -> float:
        """The largest process's RSS (each server process has the same limit)."""
        sizes = []
        for member in self.members():
            try:
                sizes.append(member.memory_info().rss / 2**20)
            except Exception:
                pass
        return max(sizes, default=0.0)

    def cpu(self) -> float:
        total = 0.0
        for member in self.members() + self.members(workers=True):
            try:
                total += _cpu(member)
            except Exception:
                pass
        return total


def merged(results: list[dict[str, Any]]) -> dict[str, Any]:
    """The generator processes' results as one."""
    out: dict[str, Any] = {"cpu_s": 0.0, "heartbeat_ms": [], "heartbeat_sent": [], "long_polls": Counter(),
                           "errors": Counter(), "error_samples": [], "reconnects": 0, "etags_seen": []}
    for result in results:
        out["cpu_s"] += result["cpu_s"]
        out["reconnects"] += result["reconnects"]
        for key in ("heartbeat_ms", "heartbeat_sent", "error_samples", "etags_seen"):
            out[key] += result[key]
        out["long_polls"].update(result["long_polls"])
        out["errors"].update(result["errors"])
    return out


def read_generator(report: LoadReport, result: dict[str, Any], envelope: bytes | None, published_at: float | None) -> None:
    from sync.server.channels import etag_of

    report.heartbeat_sent, report.heartbeat_ms = result["heartbeat_sent"], result["heartbeat_ms"]
    report.long_polls = Counter(result["long_polls"])
    report.errors.update(result["errors"])
    report.error_samples += result["error_samples"]
    report.reconnects = result["reconnects"]
    report.generator_cpu_s = result["cpu_s"]
    if not envelope or published_at is None:
        report.errors["the publish did not happen"] += 1
        return
    report.generation, report.published_at = 2, published_at
    wanted = etag_of(envelope)
    times = [seen[wanted] for seen in result["etags_seen"] if wanted in seen]
    report.told = len(times)
    if times:
        report.all_told_s = max(times) - published_at


def read_server_log(report: LoadReport, path: Path, load_end: int) -> None:
    """Server-side trouble the generator cannot see: 5xx in the access log, tracebacks, errors logged.

    Only the first `load_end` bytes count as errors; what the server logs while it is stopped (long-polls
    still waiting are cancelled, each with a traceback) is counted apart, in shutdown_tracebacks.
    """
    if not path.is_file():
        return
    text = path.read_bytes()
    report.shutdown_tracebacks = text[load_end:].count(b"Traceback (most recent call last)")
    for line in text[:load_end].decode(errors="replace").splitlines():
        status = line.rsplit('" ', 1)[-1].split(" ", 1)[0] if 'HTTP/1.1" ' in line else ""
        if status.isdigit() and int(status) >= 500:
            report.errors[f"server answered {status}"] += 1
        elif line.startswith(("ERROR", "CRITICAL", "Traceback")):
            report.errors["server logged an error"] += 1
            if len(report.error_samples) < 10:
                report.error_samples.append(f"server: {line[:200]}")


def wait_until_listening(url: str, server: subprocess.Popen[bytes], log_path: Path) -> None:
    import requests

    for _ in range(300):
        if server.poll() is not None:
            raise RuntimeError(f"the server exited ({server.returncode}):\n{log_path.read_text(errors='replace')[-2000:]}")
        try:
            requests.get(f"{url}/channels/{CHANNEL}/publishers", timeout=1)
            return
        except requests.ConnectionError:
            time.sleep(0.05)
    raise RuntimeError(f"the server did not listen within 15 s:\n{log_path.read_text(errors='replace')[-2000:]}")


def stop(process: subprocess.Popen[bytes] | None) -> None:
    if process is None or process.poll() is not None:
        return
    process.send_signal(signal.SIGINT)  # uvicorn's graceful stop; the generator stops as on Ctrl-C
    try:
        process.wait(10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(5)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _cpu(process: Any) -> float:
    times = process.cpu_times()
    return float(times.user + times.system)


def _busy(times: Any) -> float:
    return float(sum(times) - times.idle - getattr(times, "iowait", 0.0) - getattr(times, "guest", 0.0)
                 - getattr(times, "guest_nice", 0.0))  # guest time is already counted in user and nice


# --- the command line ----------------------------------------------------------------------------------------

def targets(report: LoadReport) -> dict[str, float]:
    return TARGETS if report.screens <= 1000 else FLEET_TARGETS


def summary(report: LoadReport, wait: float) -> list[str]:
    """One line per figure, its target after it."""
    t = targets(report)
    told = "n/a" if report.all_told_s is None else f"{report.all_told_s:.2f}"
    polls = ", ".join(f"{n} {kind}" for kind, n in sorted(report.long_polls.items()))
    slow = [sent for sent, ms in zip(report.heartbeat_sent, report.heartbeat_ms) if ms > 100]
    near = sum(abs(sent - (report.published_at or 0.0)) <= 1 for sent in slow)
    other = report.machine_busy_s - report.server_cpu_s - report.generator_cpu_s
    kinds = "; ".join(f"{n} {kind}" for kind, n in report.errors.most_common()) or "none"
    return [
        f"heartbeat_latency_p50_ms {report.percentile_ms(50):.1f}",
        f"heartbeat_latency_p99_ms {report.percentile_ms(99):.1f} (target <= {t['p99_ms']:g}; "
        f"max {max(report.heartbeat_ms, default=float('nan')):.1f}; {len(slow)} over 100 ms, {near} of them sent "
        f"within 1 s of the publish)",
        f"all_told_s {told} (target <= {t['all_told_s']:g}; {report.told} of {report.screens} screens got generation "
        f"{report.generation}; the manifest's POST took {report.publish_post_ms:.0f} ms)",
        f"errors {report.error_count} (target {t['errors']}; {kinds}; {report.reconnects} idle keep-alive reconnects; "
        f"{report.shutdown_tracebacks} tracebacks while the server stopped, not counted)",
        f"server_rss_mb {report.server_rss_peak_mb:.0f} (target <= {t['rss_mb']:g}; peak, sampled every "
        f"{SAMPLE_SECONDS:g} s; {report.server_rss_idle_mb:.0f} before the load)",
        f"server_cpu_s {report.server_cpu_s:.1f} ({100 * report.server_cpu_s / report.seconds:.0f}% of one core "
        f"over {report.seconds:g} s)",
        f"generator_cpu_s {report.generator_cpu_s:.1f} ({100 * report.generator_cpu_s / report.seconds:.0f}% of one "
        f"core; it shares the machine's {os.cpu_count()} cores with the server)",
        f"other_cpu_s {max(0.0, other):.1f} (other processes on the machine meanwhile, this bench's own "
        f"publish and sampling left out; the figures above are only clean when it is near 0)",
        f"heartbeats {len(report.heartbeat_ms)} answered",
        *([f"console_tab_requests {len(report.console_ms)}, p50 {_pct(report.console_ms, 50):.1f} ms, p99 "
           f"{_pct(report.console_ms, 99):.1f} ms"] if report.console_ms else []),
        *([f"previews {len(report.preview_ms)} drawn while the load ran, p50 {_pct(report.preview_ms, 50):.0f} ms, "
           f"p99 {_pct(report.preview_ms, 99):.0f} ms; the render worker's RSS {report.worker_rss_mb:.0f} MB, its "
           "CPU counted in server_cpu_s"] if report.preview_ms else []),
        f"long_polls {sum(report.long_polls.values())} answered ({polls}; wait={wait:g} s)",
    ]


def _is_render_worker(process: Any) -> bool:
    try:
        return "sync.server.console.worker" in " ".join(process.cmdline())
    except Exception:
        return False


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * q / 100))] if ordered else float("nan")


def met(report: LoadReport) -> bool:
    t = targets(report)
    return (report.error_count == t["errors"] and report.told == report.screens
            and report.percentile_ms(99) <= t["p99_ms"]
            and report.all_told_s is not None and report.all_told_s <= t["all_told_s"]
            and report.server_rss_peak_mb <= t["rss_mb"])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--screens", type=int, default=1000, help="simulated screens (default 1000)")
    parser.add_argument("--seconds", type=float, default=60.0, help="length of the load (default 60)")
    parser.add_argument("--heartbeat", type=float, default=30.0, help="seconds between a screen's heartbeats (default 30)")
    parser.add_argument("--wait", type=float, default=LONG_POLL_SECONDS,
                        help=f"the long-poll's ?wait= in seconds (default {LONG_POLL_SECONDS:g}, as screens ask)")
    parser.add_argument("--ramp", type=float, default=5.0, help="seconds over which screens connect before the "
                        "measured time (default 5)")
    parser.add_argument("--no-notices", action="store_true", help="screens long-poll the manifest only, not notices")
    parser.add_argument("--publish-at", type=float, help="seconds into the load to publish (default: halfway)")
    parser.add_argument("--quick", action="store_true", help="200 screens for 15 s, heartbeats every 6 s, wait=5 s")
    parser.add_argument("--workers", type=int, default=1, help="server processes (more than 1 needs --database)")
    parser.add_argument("--database", help="postgresql://… (an empty database), or `temp` for a throwaway cluster; "
                        "default: SQLite")
    parser.add_argument("--console-tabs", type=int, default=0, help="staff console tabs held open meanwhile (default 0)")
    parser.add_argument("--previews", action="store_true", help="one console tab asks for previews all along")
    args = parser.parse_args()
    if args.quick:
        args.screens, args.seconds, args.heartbeat, args.wait = 200, 15.0, 6.0, 5.0
    ramp = min(args.ramp, args.seconds / 3) if args.quick else args.ramp
    from tests.pgcluster import database_for_bench

    try:
        with database_for_bench(args.database, "server_load") as database, \
                tempfile.TemporaryDirectory(prefix="server-load-") as tmp:
            report = run_load(Path(tmp), args.screens, args.seconds, args.heartbeat, args.wait, args.publish_at, ramp,
                              not args.no_notices, args.workers, database, args.console_tabs, args.previews)
    except KeyboardInterrupt:
        print("interrupted; the server and the generator were stopped", file=sys.stderr)
        return 130
    print(f"setup {args.screens} screens, {args.workers} server process(es), "
          f"{'PostgreSQL' if args.database else 'SQLite'}, {args.seconds:g} s, {args.console_tabs} console tab(s)"
          f"{', previews' if args.previews else ''}")
    for line in summary(report, args.wait):
        print(line)
    for sample in report.error_samples:
        print(f"  error: {sample}")
    return 0 if met(report) else 1


if __name__ == "__main__":
    raise SystemExit(main())
