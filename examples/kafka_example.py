"""Kafka journeys with `mite_kafka`: produce, consume, and produce through the managed adapter.

Each message sent sends a `kafka_producer_stats` message (topic, key) and each message received
a `kafka_consumer_stats` message (topic: the subscribed topics, partition, offset), counted by
`mite stats` as mite_kafka_producer_stats_counter and mite_kafka_consumer_stats_counter.
Point it at a broker (default localhost:9092):

    MITE_CONF_kafka_bootstrap_servers=127.0.0.1:9092 mite scenario test kafka_example:scenario
"""

import os

from mite import ensure_fixed_separation
from mite.volume_model import Constant
from mite_kafka import mite_kafka, mite_kafka_managed_adapter

TOPIC = "mite_kafka_example"
# The managed adapter takes its broker when the module is imported, so from the environment.
BOOTSTRAP_SERVERS = os.environ.get("MITE_CONF_kafka_bootstrap_servers", "localhost:9092")


def _servers(ctx):
    return ctx.config.get("kafka_bootstrap_servers", "localhost:9092")


@mite_kafka
async def produce(ctx):
    """Starts a producer for this journey, sends one keyed message, stops it."""
    producer = ctx.kafka_producer
    await producer.create_and_start(bootstrap_servers=_servers(ctx))
    try:
        async with ensure_fixed_separation(0.1), producer.transaction("produce"):
            await producer.send_and_wait(TOPIC, key=b"greeting", value=b"Hello Kafka!")
    finally:
        await producer.stop()


@mite_kafka_managed_adapter(bootstrap_servers=BOOTSTRAP_SERVERS, only_producer=True)
async def produce_shared(ctx):
    """Sends through one producer that every journey of the runner shares (no key)."""
    async with ensure_fixed_separation(0.1), ctx.transaction("produce shared"):
        await ctx.kafka_producer.send_and_wait(TOPIC, value=b"Hello again")


@mite_kafka
async def consume(ctx):
    """Reads the topic from the start and stops after three messages."""
    consumer = ctx.kafka_consumer
    await consumer.create_and_start(
        TOPIC, bootstrap_servers=_servers(ctx), auto_offset_reset="earliest"
    )
    try:
        async with ensure_fixed_separation(0.2), ctx.transaction("consume"):
            received = 0
            async for _ in consumer.get_messages():
                received += 1
                if received == 3:
                    break
    finally:
        await consumer.stop()


def scenario():
    return [
        ["kafka_example:produce", None, Constant(tps=1, duration=3)],
        ["kafka_example:produce_shared", None, Constant(tps=1, duration=3)],
        ["kafka_example:consume", None, Constant(tps=1, duration=3)],
    ]
