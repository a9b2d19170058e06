"""glibc's malloc, tuned where it keeps memory threads have freed: handing it back (the player), and fewer
arenas (the server). Both are no-ops on another C library."""

from __future__ import annotations

import ctypes
import logging
import os
from functools import cache
from typing import Callable

log = logging.getLogger(__name__)


M_ARENA_MAX = -8  # glibc's malloc.h


@cache
def _glibc(name: str) -> Callable[..., int] | None:
    try:
        return getattr(ctypes.CDLL(None), name)  # type: ignore[no-any-return]
    except (OSError, AttributeError):  # not glibc (musl, macOS): nothing to do
        return None


def give_back() -> None:
    """Return the free pages of every malloc arena to the system (glibc's malloc_trim; a no-op elsewhere).

    A playing clip frees an 8 MB picture per frame at 1080p, allocated on its decode thread and let go on the
    render loop's, and FFmpeg's threads free pictures of their own; glibc keeps freed pages in each thread's arena
    for reuse, so the player's PSS grew 20-30 MB above what it held, differently on each run. Trimming costs about
    2 ms; the pages a later picture reuses fault in again.
    """
    trim = _glibc("malloc_trim")
    if trim is not None:
        trim(0)


def few_arenas(count: int = 2) -> None:
    """At most `count` malloc arenas (call before threads start). glibc gives threads that allocate at once
    arenas of their own, up to 8 per core, and memory freed in one is not reused by another: with 10,000
    screens the server's database threads and event loop grew each process's RSS by 100 MB a minute, never
    given back (bench/server_load.py: 395 MB after 74 s and rising; 332 MB and flat with two).
    MALLOC_ARENA_MAX in the environment, read by glibc itself, wins."""
    mallopt = _glibc("mallopt")
    if mallopt is not None and "MALLOC_ARENA_MAX" not in os.environ:
        mallopt(M_ARENA_MAX, count)
