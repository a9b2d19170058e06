"""Starting the server: settings from server.yaml, then uvicorn in the foreground, or in a thread for tests and benches."""

from __future__ import annotations

import asyncio
import dataclasses
import gc
import json
import logging
import os
import re
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import uvicorn

from player.errors import ContentError
from player.memory import few_arenas
from player.yamlsource import load_yaml

from .app import create_app
from .fastpath import ScreenFastPath
from .settings import Limits, ServerSettings, SettingsError, parse_settings

log = logging.getLogger(__name__)


def load_settings(path: Path | None) -> ServerSettings:
    """server.yaml's settings (paths relative to its folder); the embedded defaults when `path` is None."""
    if path is None:
        return ServerSettings(data=Path("server-data"))
    try:
        raw = load_yaml(path)
    except ContentError as exc:
        raise SettingsError("; ".join(str(p) for p in exc.problems)) from None
    return parse_settings(raw, str(path), path.parent)


def uvicorn_config(settings: ServerSettings, log_level: str = "info") -> uvicorn.Config:
    tls = {}
    if settings.tls_cert and settings.tls_key:
        for path in (settings.tls_cert, settings.tls_key):
            if not path.is_file():
                raise SettingsError(f"tls: {path} does not exist (a PEM file)")
        tls = {"ssl_certfile": str(settings.tls_cert), "ssl_keyfile": str(settings.tls_key)}
    config = uvicorn.Config(ScreenFastPath(create_app(settings)), host=settings.host, port=settings.port,
                            log_level=log_level, timeout_keep_alive=75, backlog=4096, timeout_graceful_shutdown=2,
                            **tls)  # type: ignore[arg-type]
    quiet_screens()  # after Config, which sets uvicorn's logging up
    return config


SCREEN_PATHS = re.compile(r"/(channels|blobs|software)/.*|/api/(heartbeat|proof|screenshot)")


class _QuietScreens(logging.Filter):
    """uvicorn's access log without the lines every screen adds all day: a long-poll, a heartbeat, a blob or a
    proof batch answered as asked. 10,000 screens would write 700 a second and hide the rest. Staff requests
    and every refusal (4xx, 5xx) are still logged."""

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        if isinstance(args, tuple) and len(args) == 5 and args[4] in (200, 201, 204, 206, 304):
            return not SCREEN_PATHS.fullmatch(str(args[2]).partition("?")[0])
        return True


def quiet_screens() -> None:
    access = logging.getLogger("uvicorn.access")
    if not any(isinstance(f, _QuietScreens) for f in access.filters):
        access.addFilter(_QuietScreens())


def serve(settings: ServerSettings, workers: int = 1) -> None:
    """Serve in the foreground: this process, or `workers` processes sharing the port (PostgreSQL only)."""
    if workers > 1:
        if settings.database_url is None:
            raise SettingsError(f"--workers {workers} needs PostgreSQL (database.url in server.yaml): on SQLite a "
                                "publish through one process would not wake the long-polls held by the others")
        os.environ[SETTINGS_VARIABLE] = settings_text(settings)
        tls = {"ssl_certfile": str(settings.tls_cert), "ssl_keyfile": str(settings.tls_key)} if settings.tls_cert else {}
        uvicorn.run("sync.server.run:worker_app", factory=True, workers=workers, host=settings.host, port=settings.port,
                    timeout_keep_alive=75, backlog=4096, timeout_graceful_shutdown=2, **tls)  # type: ignore[arg-type]
        return
    few_arenas()
    config = uvicorn_config(settings)
    _tune_gc()
    uvicorn.Server(config).run()


def _tune_gc() -> None:
    # A thousand held long-polls keep ~400,000 objects alive; with the default thresholds full
    # collections paused the server for 100-330 ms while a fleet connected (bench/server_load.py).
    gc.freeze()  # what start-up made is never garbage: leave it out of every collection
    gc.set_threshold(20000, 20, 10)


SETTINGS_VARIABLE = "KIOSK_SERVER_SETTINGS"


def settings_text(settings: ServerSettings) -> str:
    """The settings as JSON, for worker processes (uvicorn starts each from an import string)."""
    return json.dumps(dataclasses.asdict(settings), default=str)


def settings_from_text(text: str) -> ServerSettings:
    raw = json.loads(text)
    paths = {f.name for f in dataclasses.fields(ServerSettings) if "Path" in str(f.type)}
    values: dict[str, Any] = {k: (Path(v) if k in paths and v is not None else v) for k, v in raw.items()}
    return ServerSettings(**{**values, "limits": Limits(**raw["limits"])})


def worker_app() -> ScreenFastPath:
    """One of `serve --workers N`'s processes: the app from the settings the parent left in the environment."""
    few_arenas()
    app = ScreenFastPath(create_app(settings_from_text(os.environ[SETTINGS_VARIABLE])))
    quiet_screens()
    _tune_gc()
    return app


@dataclass
class Running:
    """A server started by start_in_thread: its base URL, and stop()."""

    url: str
    server: uvicorn.Server
    thread: threading.Thread

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(10)


def start_in_thread(settings: ServerSettings, log_level: str = "warning") -> Running:
    """Run the server on settings.host (port 0: any free port) in a daemon thread; returns once it listens."""
    server = uvicorn.Server(uvicorn_config(settings, log_level))
    server.install_signal_handlers = lambda: None  # type: ignore[attr-defined]  # not the main thread
    thread = threading.Thread(target=lambda: asyncio.run(server.serve()), name="kiosk-server", daemon=True)
    thread.start()
    for _ in range(500):
        if server.started:
            break
        if not thread.is_alive():
            raise RuntimeError("the server stopped while starting (see the log)")
        threading.Event().wait(0.02)
    else:
        raise RuntimeError("the server did not start within 10 s")
    host, port = server.servers[0].sockets[0].getsockname()[:2]
    scheme = "https" if settings.tls_cert else "http"
    return Running(f"{scheme}://{host}:{port}", server, thread)
