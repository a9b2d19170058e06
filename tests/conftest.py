"""Shared fixtures: a real pygame on SDL's dummy drivers, fixed times in the gate's zone, small content trees."""

from __future__ import annotations

import os

os.environ.setdefault("SDL_VIDEODRIVER", "dummy")
os.environ.setdefault("SDL_AUDIODRIVER", "dummy")
os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")

from datetime import datetime  # noqa: E402
from pathlib import Path  # noqa: E402
from zoneinfo import ZoneInfo  # noqa: E402

import pygame  # noqa: E402
import pygame.freetype  # noqa: E402
import pytest  # noqa: E402

VN = ZoneInfo("Asia/Ho_Chi_Minh")
DATA = Path(__file__).parent / "data"
REPO = Path(__file__).parent.parent


def at(text: str) -> datetime:
    """A fixed wall time in Vietnam: at("2026-11-27 09:30") (a Friday)."""
    return datetime.fromisoformat(text).replace(tzinfo=VN)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """./test runs the suite in two phases: the `realtime` tests (sound and pictures measured against the wall
    clock) alone in one process after the rest has run in parallel, where a starved worker would fail them for
    the machine's sake, not the player's. KIOSK_TEST_PHASE names the phase; unset, everything runs."""
    phase = os.environ.get("KIOSK_TEST_PHASE")
    if phase not in ("parallel", "realtime"):
        return
    keep, drop = [], []
    for item in items:
        (keep if (item.get_closest_marker("realtime") is not None) == (phase == "realtime") else drop).append(item)
    if drop:
        config.hook.pytest_deselected(items=drop)
        items[:] = keep


@pytest.fixture(scope="session", autouse=True)
def pygame_ready():
    pygame.display.init()
    pygame.font.init()
    pygame.freetype.init()
    pygame.display.set_mode((320, 180))
    yield
    pygame.quit()


KIOSK = """\
screen:
  id: test-01
  name: {vi: "Cửa khẩu Tịnh Biên", en: "Tinh Bien Border Gate"}
display: {fullscreen: false, size: [%(w)d, %(h)d], width_mm: %(mm)s}
languages: {order: [vi, en, km, zh]}
state_dir: state
"""


def make_screen(root: Path, playlists: dict[str, str], size: tuple[int, int] = (960, 540), width_mm: float = 476.0,
                images: dict[str, tuple[int, int]] | None = None) -> Path:
    """A screen folder on disk: kiosk.yaml, playlists/ and media/ with generated JPEGs; returns kiosk.yaml."""
    from PIL import Image

    (root / "playlists").mkdir(parents=True, exist_ok=True)
    (root / "media").mkdir(exist_ok=True)
    config = root / "kiosk.yaml"
    config.write_text(KIOSK % {"w": size[0], "h": size[1], "mm": width_mm}, encoding="utf-8")
    for name, text in playlists.items():
        (root / "playlists" / name).write_text(text, encoding="utf-8")
    for name, (w, h) in (images or {}).items():
        Image.new("RGB", (w, h), (30, 140, 70)).save(root / "media" / name)
    return config


# --- the server's two engines --------------------------------------------------------------------------------

ENGINES = ["sqlite", "postgresql"]


@pytest.fixture(scope="session")
def pg_cluster():
    """One PostgreSQL cluster for the whole run (see tests/pgcluster.py); its tests are skipped, with the reason in
    one line, where this machine cannot start one."""
    from tests.pgcluster import Unavailable, start_cluster

    try:
        cluster = start_cluster(state_file_for_this_worker())
    except Unavailable as exc:
        pytest.skip(f"PostgreSQL tests skipped: {exc}")
    yield cluster
    cluster.remove()


def state_file_for_this_worker() -> str | None:
    """Where ./test finds this process's cluster to stop it: $KIOSK_PGTEST_STATE, and under pytest-xdist one file
    per worker beside it (each worker starts a cluster of its own)."""
    base = os.environ.get("KIOSK_PGTEST_STATE")
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    return f"{base}.{worker}" if base and worker else base


def database_for(engine: str, request: pytest.FixtureRequest) -> str | None:
    """None for SQLite (the server's own file), or the URL of a new, empty PostgreSQL database."""
    if engine == "sqlite":
        return None
    import uuid

    return request.getfixturevalue("pg_cluster").create_database(f"t_{uuid.uuid4().hex[:12]}")


@pytest.fixture(params=ENGINES)
def database(request: pytest.FixtureRequest) -> str | None:
    """Each server test runs on both engines: the server's records in SQLite, then in PostgreSQL."""
    return database_for(request.param, request)
