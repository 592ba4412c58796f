"""An AMQP scenario: each journey connects to a broker, publishes an order to its own queue and
consumes it back; 12 journeys, 3 at a time, then the test ends (a few seconds).

Needs a RabbitMQ broker (Debian: `apt-get install rabbitmq-server`). From this folder:
`MITE_CONF_amqp_url=amqp://guest:guest@127.0.0.1:5672/ mite scenario test amqp_example:scenario`
"""

from mite.datapools import IterableDataPool
from mite.exceptions import MiteError
from mite.volume_model import Constant
from mite_amqp import mite_amqp

orders = IterableDataPool([(n,) for n in range(1, 13)])


@mite_amqp
async def order_round_trip(ctx, order):
    url = ctx.config.get("amqp_url", "amqp://guest:guest@127.0.0.1:5672/")
    async with ctx.transaction("connect"):
        connection = await ctx.amqp.connect(url)
    async with connection:
        channel = await connection.channel()
        queue = await channel.declare_queue(exclusive=True)
        body = f"order {order}"
        async with ctx.transaction("publish"):
            # Publisher confirms (aio-pika's default) make this wait until the broker has it.
            await channel.default_exchange.publish(
                ctx.amqp.message(body, content_type="text/plain"), routing_key=queue.name
            )
        async with ctx.transaction("consume"):
            incoming = await queue.get(timeout=10)
            await incoming.ack()
            if incoming.body.decode() != body:
                raise MiteError("unexpected message", expected=body, got=incoming.body.decode())


def scenario():
    return [["amqp_example:order_round_trip", orders, Constant(tps=3, duration=60)]]
