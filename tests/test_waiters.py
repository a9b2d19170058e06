"""Held long-polls (sync/server/waiters.py): a change wakes them in batches, so other requests get in between."""

from __future__ import annotations

import asyncio

from sync.server.waiters import WAKE_BATCH, Waiters


def test_a_change_wakes_every_waiter_of_its_key_a_batch_at_a_time_and_no_other() -> None:
    async def scenario() -> tuple[int, int, list[bool], int]:
        waiters = Waiters()
        held = [asyncio.create_task(waiters.wait("manifest", 60)) for _ in range(2 * WAKE_BATCH + 50)]
        other = asyncio.create_task(waiters.wait("notices", 60))
        for _ in range(3):
            await asyncio.sleep(0)  # every request is waiting now
        waiters.wake("manifest")
        for _ in range(3):
            await asyncio.sleep(0)
        first_turns = sum(task.done() for task in held)
        first_come_first_woken = all(task.done() for task in held[:WAKE_BATCH])
        answered = await asyncio.wait_for(asyncio.gather(*held), 10)
        still_held = int(not other.done())
        other.cancel()
        assert first_come_first_woken, "the longest held are answered first"
        return first_turns, len(answered), answered, still_held + int(await other is False)

    first_turns, count, answered, other = asyncio.run(scenario())
    assert first_turns == WAKE_BATCH, "the first batch only, before the loop turns to other work"
    assert count == 2 * WAKE_BATCH + 50 and all(answered)
    assert other == 2, "a waiter of another document stays held, and ends quietly when the server stops"


def test_a_waiter_nobody_wakes_ends_after_its_own_time() -> None:
    async def scenario() -> tuple[bool, float]:
        loop = asyncio.get_running_loop()
        started = loop.time()
        woken = await asyncio.wait_for(Waiters().wait("manifest", 0.05), 10)
        return woken, loop.time() - started

    woken, waited = asyncio.run(scenario())
    assert woken and waited >= 0.05
