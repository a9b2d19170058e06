"""Held long-polls: one future per request, woken by a change to what it waits for or by its own timer.

20,000 held requests cost a future and a timer each, not the task asyncio.wait_for starts per wait.
"""

from __future__ import annotations

import asyncio
from typing import Hashable

WAKE_BATCH, WAKE_GAP_SECONDS = 100, 0.04  # held long-polls woken at a time after a change, and how often


class Waiters:
    def __init__(self) -> None:
        # by key, the held futures in the order they came (a dict as an ordered set): the first are woken first
        self._held: dict[Hashable, dict[asyncio.Future[None], None]] = {}

    async def wait(self, key: Hashable, seconds: float) -> bool:
        """Wait for wake(key) or `seconds`; False if the server is stopping (the request was cancelled)."""
        loop = asyncio.get_running_loop()
        waiter: asyncio.Future[None] = loop.create_future()
        waiting = self._held.setdefault(key, {})
        waiting[waiter] = None
        timer = loop.call_later(seconds, _settle, waiter)
        try:
            await waiter
        except asyncio.CancelledError:
            return False
        finally:
            timer.cancel()
            waiting.pop(waiter, None)
        return True

    def wake(self, key: Hashable) -> None:
        """Wake everyone waiting for `key` (call on the event loop), in turns: see _wake_in_turns."""
        _wake_in_turns(list(self._held.pop(key, {})))


def _wake_in_turns(waiters: list[asyncio.Future[None]], start: int = 0) -> None:
    """Wake WAKE_BATCH held long-polls now and the next ones WAKE_GAP_SECONDS later. Woken all at once,
    5,000 answers went out before the event loop read anything else, and heartbeats arriving meanwhile
    waited up to 1.7 s (bench/server_load.py at 10,000 screens, 2 processes); spread out, the loop reads
    them between batches, and the screens' downloads that follow a publish spread out too. 10,000 held
    long-polls are all woken within 2 s per process."""
    for waiter in waiters[start:start + WAKE_BATCH]:
        _settle(waiter)
    if start + WAKE_BATCH < len(waiters):
        asyncio.get_running_loop().call_later(WAKE_GAP_SECONDS, _wake_in_turns, waiters, start + WAKE_BATCH)


def _settle(waiter: asyncio.Future[None]) -> None:
    """Wake one held long-poll (a change, or its time is up); it may have gone already."""
    if not waiter.done():
        waiter.set_result(None)
