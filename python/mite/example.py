"""The documented example scenario (`mite scenario test mite.example:scenario`)."""

import asyncio

from .datapools import RecyclableIterableDataPool


async def journey(ctx, arg1, arg2):
    async with ctx.transaction("test1"):
        ctx.send("test_message", content=ctx.config.get("test_msg", "Not set"))
        await asyncio.sleep(0.5)


datapool = RecyclableIterableDataPool([(i, i + 2) for i in range(5000)])


def volumemodel(start, end):
    return 10


def scenario():
    return [
        ["mite.example:journey", datapool, volumemodel],
    ]
