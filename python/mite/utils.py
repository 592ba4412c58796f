# TEMPORARY STUB (datapools/stats helper) - delete before finishing
import asyncio


async def sleep(delay, always=False, **kwargs):
    await asyncio.sleep(delay, **kwargs)
