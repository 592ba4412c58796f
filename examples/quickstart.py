"""A scenario that needs nothing else: ramps to 20 concurrent journeys, holds, and stops (~15 s).

Run it with `mite scenario test quickstart:scenario --report` from this folder.
"""

import asyncio

from mite.datapools import RecyclableIterableDataPool
from mite.exceptions import MiteError
from mite.volume_model import Constant, Nothing, Ramp

datapool = RecyclableIterableDataPool([(f"user{i}", i) for i in range(100)])


async def browse(ctx, user, number):
    async with ctx.transaction("login"):
        ctx.send("login_attempt", user=user)
        await asyncio.sleep(0.05)
    async with ctx.transaction("browse"):
        for page in range(3):
            ctx.send("page_view", user=user, page=page)
            await asyncio.sleep(0.1)
    if number % 50 == 49:
        # A handled, reported failure: shows how errors appear in the stats.
        raise MiteError("basket was empty", user=user)


def scenario():
    volume = Ramp(duration=5, frm=1) + Constant(duration=8, tps=20) + Nothing(duration=1)
    return [["quickstart:browse", datapool, _stop_after(volume, 14)]]


def _stop_after(volume_model, seconds):
    from mite.scenario import StopVolumeModel

    def model(start, end):
        if start >= seconds:
            raise StopVolumeModel
        return volume_model(start, end)

    return model
