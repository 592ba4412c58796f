"""Thrift calls to a Finagle service over mux with `@mite_finagle`.

Every reply sends a `finagle_metrics` message (start_time, total_time, function, had_error),
counted by `mite stats` as mite_finagle_response_total and mite_finagle_response_time_seconds.
The service is `Greeter` from finagle_example.thrift beside this file; generate its client code
first (Debian: `apt-get install thrift-compiler`), then point the scenario at the service:

    thrift --gen py -out . finagle_example.thrift
    MITE_CONF_finagle_host=127.0.0.1 MITE_CONF_finagle_port=9090 \\
        mite scenario test finagle_example:scenario
"""

from greeter_service.Greeter import Client

from mite.datapools import RecyclableIterableDataPool
from mite.volume_model import Constant
from mite_finagle import mite_finagle
from mite_finagle.thrift import ThriftMessageFactory

GREET = ThriftMessageFactory("greet", Client)
# The same function under another name in the stats (e.g. to tell two services apart).
GREET_AGAIN = ThriftMessageFactory("greet", Client, stats_name="greet_again")

names = RecyclableIterableDataPool([("ada",), ("grace",), ("edsger",)])


@mite_finagle
async def greet(ctx, name):
    host = ctx.config.get("finagle_host", "127.0.0.1")
    port = int(ctx.config.get("finagle_port", "9090"))
    async with ctx.finagle.connect(host, port) as finagle:
        async with ctx.transaction("greet"):
            reply = await finagle.send_and_wait(GREET, name)
            assert reply.greeting == f"Hello, {name}", reply
        async with ctx.transaction("greet again"):
            # Two calls at least 50 ms apart: chained_wait sleeps what is left of it.
            await reply.chained_wait(0.05)
            await finagle.send_and_wait(GREET_AGAIN, name)


def scenario():
    return [["finagle_example:greet", names, Constant(tps=2, duration=3)]]
