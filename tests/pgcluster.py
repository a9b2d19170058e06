"""A throwaway PostgreSQL for the tests: Debian's binaries, a cluster in a temporary folder, run as an ordinary user.

initdb refuses to run as root, so when the tests run as root (CI, containers) the
cluster belongs to the `postgres` user that Debian's package creates, and every
PostgreSQL program is started through `runuser -u postgres`. As any other user
the cluster is simply that user's. It listens on 127.0.0.1 only, with trust
authentication, and its folder is removed when it stops. ./test stops a cluster
the run left behind (the file named by $KIOSK_PGTEST_STATE, or one per pytest-xdist worker beside it, holds
its folder).
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import psycopg

SERVICE_USER = "postgres"  # made by Debian's postgresql-common


class Unavailable(Exception):
    """PostgreSQL cannot be started here; the message says why in one line."""


@dataclass
class Cluster:
    folder: Path
    bindir: Path
    port: int
    as_user: str | None  # run PostgreSQL's programs as this user (we are root), or None: as ourselves

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{database}"

    def _run(self, *args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
        command = [str(self.bindir / args[0]), *args[1:]]
        if self.as_user:
            command = ["runuser", "-u", self.as_user, "--", *command]
        return subprocess.run(command, capture_output=True, text=True, timeout=timeout, cwd=self.folder)

    def start(self) -> None:
        options = f"-p {self.port} -k {self.folder} -c listen_addresses=127.0.0.1"
        done = self._run("pg_ctl", "start", "-w", "-t", "60", "-D", str(self.folder / "data"),
                         "-l", str(self.folder / "log"), "-o", options)
        if done.returncode != 0:
            raise Unavailable(f"pg_ctl start failed: {(done.stderr or done.stdout).strip()[-300:]}")

    def stop(self) -> None:
        self._run("pg_ctl", "stop", "-m", "fast", "-w", "-D", str(self.folder / "data"))

    def running(self) -> bool:
        return self._run("pg_ctl", "status", "-D", str(self.folder / "data")).returncode == 0

    def create_database(self, name: str) -> str:
        with psycopg.connect(self.url(), autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def remove(self) -> None:
        if self.running():
            self.stop()
        shutil.rmtree(self.folder, ignore_errors=True)


def bindir() -> Path | None:
    """The newest installed PostgreSQL's programs (Debian keeps them off PATH, in /usr/lib/postgresql/N/bin)."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(Path(p).parts[-3]))
    if found:
        return Path(found[-1]).parent
    initdb = shutil.which("initdb")
    return Path(initdb).parent if initdb else None


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def start_cluster(state_file: str | None = None) -> Cluster:
    """A new cluster, started; Unavailable (with the reason) when this machine cannot have one."""
    programs = bindir()
    if programs is None:
        raise Unavailable("PostgreSQL is not installed (Debian: apt-get install postgresql; ./test does it when it may)")
    as_user = None
    if os.geteuid() == 0:
        try:
            service = pwd.getpwnam(SERVICE_USER)
        except KeyError:
            raise Unavailable(f"running as root and there is no {SERVICE_USER!r} user to run PostgreSQL as "
                              "(initdb refuses root)") from None
        as_user = SERVICE_USER
    folder = Path(tempfile.mkdtemp(prefix="kiosk-pgtest-"))
    if as_user:
        os.chown(folder, service.pw_uid, service.pw_gid)
    cluster = Cluster(folder, programs, free_port(), as_user)
    if state_file:
        Path(state_file).write_text(f"{programs}\n{folder}\n{as_user or ''}\n", encoding="utf-8")
    made = cluster._run("initdb", "-D", str(folder / "data"), "-U", "postgres", "--auth=trust", "-E", "UTF8",
                        "--no-sync", "--locale=C.UTF-8", timeout=120)
    if made.returncode != 0:
        shutil.rmtree(folder, ignore_errors=True)
        raise Unavailable(f"initdb failed: {(made.stderr or made.stdout).strip()[-300:]}")
    with (folder / "data" / "postgresql.conf").open("a", encoding="utf-8") as conf:
        # A test cluster: durability off (it is thrown away), room for several server processes' pools.
        conf.write("fsync = off\nsynchronous_commit = off\nfull_page_writes = off\nmax_connections = 300\n"
                   "shared_buffers = 64MB\n")
    cluster.start()
    for _ in range(100):
        try:
            psycopg.connect(cluster.url(), connect_timeout=2).close()
            return cluster
        except psycopg.OperationalError:
            time.sleep(0.1)
    raise Unavailable("PostgreSQL started but does not answer on 127.0.0.1")


@contextmanager
def database_for_bench(requested: str | None, name: str) -> Iterator[str | None]:
    """A bench's --database: as given (a URL, or None for SQLite), or for "temp" a database in a throwaway cluster
    that is removed when the block ends."""
    if requested != "temp":
        yield requested
        return
    cluster = start_cluster()
    try:
        yield cluster.create_database(name)
    finally:
        cluster.remove()
