"""A journey with unit tests: `mite_test_example_test.py` runs it once per test with mite.test
(`run_single_journey`, `http_spy`) against a local target, no load test needed:
`pytest mite_test_example_test.py` from this folder.

The same journey as load: `python target_server.py 8765 &`, then
`MITE_CONF_target=http://127.0.0.1:8765 mite scenario test mite_test_example:scenario`.
"""

from mite.datapools import RecyclableIterableDataPool
from mite.exceptions import MiteError
from mite.volume_model import Constant
from mite_http import mite_http

products = RecyclableIterableDataPool([(n,) for n in range(1, 11)])


@mite_http
async def buy(ctx, product):
    target = ctx.config.get("target", "http://127.0.0.1:8765")
    async with ctx.transaction("browse"):
        resp = await ctx.http.get(f"{target}/products/{product}")
        if resp.status_code != 200:
            raise MiteError("product page failed", status=resp.status_code)
        name = resp.json()["name"]
    async with ctx.transaction("add to basket"):
        resp = await ctx.http.post(f"{target}/basket", json={"product": product, "name": name})
    ctx.send("basket_added", product=product, status=resp.status_code)


def scenario():
    return [["mite_test_example:buy", products, Constant(duration=10, tps=5)]]
