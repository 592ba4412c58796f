"""Arrival-rate (open) scenarios: journeys started per second, whatever the system does.

`mite scenario test arrival_rate:scenario --report` from this folder runs ~12 s: 20 journeys/s
ramping to 50/s, then 50/s held. `slow_scenario` caps journeys in flight and shows the dropped
count: journeys that were due while the cap was reached.
"""

import asyncio

from mite.datapools import RecyclableIterableDataPool
from mite.volume_model import ArrivalRate, RampArrivalRate

users = RecyclableIterableDataPool([(f"user{i}",) for i in range(500)])


async def visit(ctx, user):
    async with ctx.transaction("visit"):
        ctx.send("page_view", user=user)
        await asyncio.sleep(0.05)


async def slow(ctx):
    async with ctx.transaction("slow"):
        await asyncio.sleep(1)


def scenario():
    return [["arrival_rate:visit", users, RampArrivalRate(duration=4, frm=20, to=50) + ArrivalRate(duration=8, rate=50)]]


def slow_scenario():
    # 20 journeys/s of 1 s each would need ~20 in flight; 5 are allowed, the rest are dropped.
    return [["arrival_rate:slow", None, ArrivalRate(duration=3, rate=20, max_in_flight=5)]]
