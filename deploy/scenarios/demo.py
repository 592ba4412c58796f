"""The demo scenario of the compose and Kubernetes deployments: shoppers browsing the demo target.

The controller reads `DEMO_JOURNEYS` (concurrent journeys, default 10) and `DEMO_DURATION` (seconds,
default 3600) from its environment; runners get the target's URL as the config value `demo_target`
(`MITE_CONF_demo_target` on the controller).
"""

import asyncio
import os
import random

from mite.scenario import StopVolumeModel
from mite_http import mite_http

JOURNEYS = int(os.environ.get("DEMO_JOURNEYS", "10"))
DURATION = float(os.environ.get("DEMO_DURATION", "3600"))


class CheckoutFailed(Exception):
    pass


@mite_http
async def shopper(ctx):
    target = ctx.config.get("demo_target", "http://target:8000")
    async with ctx.transaction("home"):
        await ctx.http.get(f"{target}/")
    async with ctx.transaction("product"):
        await ctx.http.get(f"{target}/products/{random.randrange(1000)}")
    async with ctx.transaction("checkout"):
        resp = await ctx.http.get(f"{target}/checkout")
        if resp.status_code >= 500:
            raise CheckoutFailed(f"checkout answered {resp.status_code}")
    # A shopper thinks before the next visit: about one journey per second per slot.
    await asyncio.sleep(1)


def volume_model(start, end):
    if start > DURATION:
        raise StopVolumeModel
    return JOURNEYS


def scenario():
    return [["demo:shopper", None, volume_model]]
