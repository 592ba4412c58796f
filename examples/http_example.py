"""An HTTP scenario: browse products, add one to the basket; ramps to 20 users, ~15 s.

Needs a target: `python target_server.py 8765 &`, then from this folder
`MITE_CONF_target=http://127.0.0.1:8765 mite scenario test http_example:scenario --report`
(`make demo` does both).
"""

from mite.datapools import RecyclableIterableDataPool
from mite.scenario import StopVolumeModel
from mite.volume_model import Constant, Ramp
from mite_http import mite_http

products = RecyclableIterableDataPool([(n,) for n in range(1, 51)])


@mite_http
async def shop(ctx, product):
    target = ctx.config.get("target", "http://127.0.0.1:8765")
    async with ctx.transaction("browse"):
        resp = await ctx.http.get(f"{target}/products/{product}")
        assert resp.status_code == 200, resp.status_code
        name = resp.json()["name"]
    async with ctx.transaction("add to basket"):
        resp = await ctx.http.post(f"{target}/basket", json={"product": product, "name": name})
        assert resp.status_code == 201, resp.status_code


def scenario():
    volume = Ramp(duration=5, frm=1) + Constant(duration=10, tps=20)

    def model(start, end):
        if start >= 15:
            raise StopVolumeModel
        return volume(start, end)

    return [["http_example:shop", products, model]]
