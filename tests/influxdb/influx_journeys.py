"""Scenario source written into each test's folder: HTTP journeys for a few seconds, every 4th
iteration failing with a MiteError, so counters, gauges and the histogram all get data."""

SOURCE = '''
import time
from mite import MiteError
from mite.scenario import StopVolumeModel
from mite_http import mite_http

_n = [0]
_start = []


@mite_http
async def journey(ctx):
    async with ctx.transaction("get page"):
        await ctx.http.get(ctx.config.get("target"))
        _n[0] += 1
        if _n[0] % 4 == 0:
            raise MiteError("every fourth")


def volume(start, end):
    if not _start:
        _start.append(start)
    if start - _start[0] >= DURATION:
        raise StopVolumeModel
    return 2


def scenario():
    return [["influx_scenario:journey", None, volume]]
'''


def write_scenario(folder, duration=3):
    (folder / "influx_scenario.py").write_text(SOURCE.replace("DURATION", str(duration)))
    return "influx_scenario:scenario"
