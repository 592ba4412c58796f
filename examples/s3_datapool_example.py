"""A scenario whose journeys take their data from the objects of an S3 bucket.

Each journey receives one object's key and text. The bucket, the prefix and the endpoint come
from config, so the same file runs against AWS or any S3-protocol server:

    MITE_CONF_s3_bucket=orders MITE_CONF_s3_endpoint=http://127.0.0.1:9000 \
        mite scenario test s3_datapool_example:scenario

The pool is built when the scenario is, so a missing bucket or an unreachable endpoint stops
the test before it starts, with one line naming them.
"""

import json
import os

from mite.s3datapools import S3IterableDataPool


def datapool():
    return S3IterableDataPool(
        os.environ.get("MITE_CONF_s3_bucket", "mite-example"),
        prefix=os.environ.get("MITE_CONF_s3_prefix", ""),
        endpoint_url=os.environ.get("MITE_CONF_s3_endpoint") or None,
    )


async def process_order(ctx, key, text):
    async with ctx.transaction("process order"):
        order = json.loads(text)
        ctx.send("order_processed", key=key, order_id=order["id"], total=order["total"])


def scenario(config):
    # Every object once: the test ends when the pool is exhausted.
    return [["s3_datapool_example:process_order", datapool(), lambda start, end: 2]]
