"""Scenarios the benchmarks run, identically under this mite and under mite 2.11.0.

Duration and volume come from the environment so one file serves every run:
MITE_BENCH_SECONDS (default 10), MITE_BENCH_VOLUME (default 200), MITE_BENCH_SLEEP (default 5).
"""

import asyncio
import os

from mite.scenario import StopVolumeModel

SECONDS = float(os.environ.get("MITE_BENCH_SECONDS", "10"))
VOLUME = int(os.environ.get("MITE_BENCH_VOLUME", "200"))
SLEEP = float(os.environ.get("MITE_BENCH_SLEEP", "5"))


def _volume(start, end):
    if start >= SECONDS:
        raise StopVolumeModel
    return VOLUME


async def txn_journey(ctx):
    """The smallest useful journey: one transaction, one message."""
    async with ctx.transaction("t"):
        ctx.send("bench_message", n=1)


async def sleeping_journey(ctx):
    """A journey that holds its slot: what 10 000 idle users cost."""
    async with ctx.transaction("t"):
        await asyncio.sleep(SLEEP)


def journeys():
    return [["bench_scenarios:txn_journey", None, _volume]]


def sleepers():
    return [["bench_scenarios:sleeping_journey", None, _volume]]


# -- HTTP: mite's perf journey (test/perf/mite_perftest.py upstream): one transaction, one GET.

from mite_http import mite_http  # noqa: E402

URL = os.environ.get("MITE_BENCH_URL", "http://127.0.0.1:8089/")


@mite_http
async def http_journey(ctx):
    async with ctx.transaction("get"):
        await ctx.http.get(URL)


def http():
    return [["bench_scenarios:http_journey", None, _volume]]
