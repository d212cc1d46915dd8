"""Waking a background loop only when it would look too late (`WakeableLoop.wake_by`).

A cancel TikTok accepted for an unannounced upload is followed, first due 15 s later. The
status poller is woken for it only when its current wait would end after that: under load the
poller is already waiting for an earlier follow, and a look per cancel (four trips to the
database) is saved. A follow due before the wait ends, or one that comes during a look, still
wakes it.
"""

from __future__ import annotations

import asyncio
import time

from bot.background import PassCounter, WakeableLoop

PID = "v_pub_url~v2.9300001"
PID2 = "v_pub_url~v2.9300002"
WAIT_S = 100.0  # how long the loop below waits after each look


class Looker(WakeableLoop):
    """Looks (counted), then waits WAIT_S; `looking` holds a look open until set."""

    def __init__(self):
        super().__init__("looker")
        self.passes = PassCounter("looker.pass")
        self.looking = asyncio.Event()
        self.looking.set()

    async def _run(self) -> None:
        while True:
            self._wake.clear()
            number = self.passes.begin()
            await self.looking.wait()
            self.passes.finish(number)
            await self._sleep(WAIT_S)


async def test_a_wait_that_ends_in_time_is_not_cut_short_and_one_that_ends_late_is():
    loop = Looker()
    loop.start()
    try:
        await loop.passes.wait_for(1, 5)
        loop.wake_by(time.time() + 2 * WAIT_S)  # the wait ends before: no look for it
        assert not loop._wake.is_set()
        loop.wake_by(time.time() + WAIT_S / 2)  # due before the wait ends: look now
        assert loop._wake.is_set()
        await loop.passes.wait_for(2, 5)
    finally:
        await loop.stop()


async def test_a_row_due_during_a_look_wakes_it_again_after():
    loop = Looker()
    loop.looking.clear()  # the first look stays open
    loop.start()
    try:
        while loop.passes.begun < 1:
            await asyncio.sleep(0)
        loop.wake_by(time.time() + 2 * WAIT_S)  # during the look: it may have missed the row
        loop.looking.set()
        await loop.passes.wait_for(2, 5)
        assert loop.passes.begun == 2
    finally:
        await loop.stop()


async def test_the_poller_looks_for_the_first_follow_and_not_for_one_due_after_it(h):
    await h.link()
    poller = h.bot.parts.poller
    await poller.next_pass()  # start-up's look is done: it waits (nothing to follow)
    h.tiktok.add_upload(PID, open_id="open-1")
    h.tiktok.add_upload(PID2, open_id="open-1")
    begun = poller.passes.begun

    await h.command(PID)  # followed, due in 15 s: the poller waited longer, so it looks
    await poller.passes.wait_for(begun + 1, 5)
    await poller.passes.wait_for(poller.passes.begun, 5)  # that look is over: it waits for PID
    looked = poller.passes.begun

    await h.command(PID2)  # due after PID: the poller's wait already ends in time
    assert h.tiktok.calls_to("cancel")[-1].body == {"publish_id": PID2}
    # A wake-up would have begun a look on the loop's next turn, before the answer came back.
    assert poller.passes.begun == looked
    await poller.next_pass()  # and it still looks when asked
    assert poller.passes.begun == looked + 1
