"""`@mite_kafka` and the managed adapter: aiokafka producers and consumers that report what they
send and receive as `kafka_producer_stats` / `kafka_consumer_stats` messages."""

import asyncio
import threading
import time
from contextlib import asynccontextmanager
from functools import wraps

from . import _extra

if _extra.aiokafka is not None:
    from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
    from aiokafka.errors import KafkaConnectionError

# While a consumer waits for messages, how often it checks that a broker still answers.
_PROBE_INTERVAL = 1.0


class KafkaProducer:
    """`ctx.kafka_producer`: an AIOKafkaProducer whose sends are reported on the context."""

    def __init__(self, ctx):
        self._producer = None
        self._context = ctx

    async def create_and_start(self, *args, **kwargs):
        """Creates the AIOKafkaProducer (`args`/`kwargs` are its own) and starts it."""
        self._producer = AIOKafkaProducer(*args, **kwargs)
        await self._producer.start()

    async def send_and_wait(self, topic, key=None, value=None, **kwargs):
        await self._producer.send_and_wait(topic, key=key, value=value, **kwargs)
        self._context.send("kafka_producer_stats", topic=topic, key=key)

    @asynccontextmanager
    async def transaction(self, message):
        async with self._context.transaction(message):
            yield

    async def stop(self):
        await self._producer.stop()


class KafkaConsumer:
    """`ctx.kafka_consumer`: an AIOKafkaConsumer whose messages are reported on the context."""

    def __init__(self, ctx):
        self._consumer = None
        self._topics = None
        self._context = ctx

    async def create_and_start(self, *topics, **kwargs):
        """Creates the AIOKafkaConsumer for `topics` (`kwargs` are its own) and starts it."""
        self._consumer = AIOKafkaConsumer(*topics, **kwargs)
        self._topics = topics
        await self._consumer.start()

    async def get_messages(self):
        """Yields each message received; `topic` in the stats message is the subscribed tuple.

        Ends when the consumer is stopped. Raises KafkaConnectionError when no broker has
        answered for the consumer's `request_timeout_ms` (aiokafka retries forever, and a
        journey reading from a vanished broker would never end).
        """
        while True:
            try:
                message = await self._next_message()
            except StopAsyncIteration:
                return
            self._context.send(
                "kafka_consumer_stats",
                topic=self._topics,
                partition=message.partition,
                offset=message.offset,
            )
            yield message

    async def _next_message(self):
        fetch = asyncio.ensure_future(self._consumer.__anext__())
        unreachable_since = None
        try:
            while True:
                done, _ = await asyncio.wait((fetch,), timeout=_PROBE_INTERVAL)
                if done:
                    return fetch.result()
                if await self._broker_answers():
                    unreachable_since = None
                    continue
                now = time.monotonic()
                if unreachable_since is None:
                    unreachable_since = now
                elif now - unreachable_since >= self._give_up_after():
                    raise KafkaConnectionError(
                        f"no broker has answered for {now - unreachable_since:.0f} s "
                        f"(request_timeout_ms={self._give_up_after() * 1000:.0f})"
                    )
        finally:
            if not fetch.done():
                fetch.cancel()

    def _give_up_after(self):
        return getattr(self._consumer, "_request_timeout_ms", 40000) / 1000

    async def _broker_answers(self):
        client = getattr(self._consumer, "_client", None)
        if client is None:
            return True  # not an aiokafka client we know how to probe: wait, as 2.11 did
        brokers = client.cluster.brokers()
        if not brokers:
            return True  # no metadata yet: nothing to judge by
        for broker in brokers:
            if await client.ready(broker.nodeId):
                return True
        return False

    async def stop(self):
        await self._consumer.stop()


@asynccontextmanager
async def _kafka_context_manager(ctx):
    ctx.kafka_producer = KafkaProducer(ctx)
    ctx.kafka_consumer = KafkaConsumer(ctx)
    try:
        yield
    finally:
        del ctx.kafka_producer
        del ctx.kafka_consumer


def mite_kafka(func):
    """Gives the journey `ctx.kafka_producer` and `ctx.kafka_consumer` (not yet started)."""

    @wraps(func)
    async def wrapper(ctx, *args, **kwargs):
        async with _kafka_context_manager(ctx):
            return await func(ctx, *args, **kwargs)

    return wrapper


class KafkaAdapterManager:
    """Producers shared by every journey of the process, one per adapter id, started once."""

    _producers = {}
    _starting = {}  # adapter id -> the task starting its producer
    _lock = threading.Lock()

    @classmethod
    async def get_producer(cls, context, bootstrap_servers, adapter_id=None, *args, **kwargs):
        if adapter_id is None:
            adapter_id = "DEFAULT"
        with cls._lock:
            starting = cls._starting.get(adapter_id)
            if starting is None:
                producer = KafkaProducer(context)
                start = producer.create_and_start(
                    *args, bootstrap_servers=bootstrap_servers, **kwargs
                )
                starting = cls._starting[adapter_id] = asyncio.ensure_future(start)
                cls._producers[adapter_id] = producer
        try:
            # Journeys arriving while it starts wait for it rather than use it unstarted.
            await asyncio.shield(starting)
        except BaseException:
            with cls._lock:
                if cls._starting.get(adapter_id) is starting and starting.done():
                    # A producer that failed to start is dropped: the next journey tries again.
                    del cls._starting[adapter_id]
                    cls._producers.pop(adapter_id, None)
            raise
        return cls._producers[adapter_id]


def _for_context(producer, ctx):
    """The shared producer, reporting its sends on this journey's context."""
    bound = KafkaProducer(ctx)
    bound._producer = producer._producer
    return bound


@asynccontextmanager
async def _kafka_managed_adapter_context_manager(
    ctx,
    bootstrap_servers,
    only_consumer=False,
    only_producer=False,
    adapter_id=None,
    *args,
    **kwargs,
):
    ctx_producer_key = f"kafka_producer_{adapter_id}" if adapter_id else "kafka_producer"
    if only_consumer and not only_producer:
        raise Exception("only_consumer not yet implemented")
    producer = await KafkaAdapterManager.get_producer(
        ctx, bootstrap_servers, adapter_id, *args, **kwargs
    )
    setattr(ctx, ctx_producer_key, _for_context(producer, ctx))
    yield


def mite_kafka_managed_adapter(
    *args,
    bootstrap_servers,
    only_consumer=False,
    only_producer=False,
    security_protocol=None,
    ssl_context=None,
    value_serializer=None,
    adapter_id=None,
):
    """Gives the journey `ctx.kafka_producer` (or `ctx.kafka_producer_<adapter_id>`): a
    producer started once per process and shared. Use bare or with arguments."""
    if only_consumer:
        raise Exception("only_consumer not yet implemented")
    if security_protocol is None:
        security_protocol = "PLAINTEXT"

    def wrapper_factory(func):
        @wraps(func)
        async def wrapper(ctx, *args, **kwargs):
            async with _kafka_managed_adapter_context_manager(
                ctx,
                bootstrap_servers=bootstrap_servers,
                only_consumer=only_consumer,
                only_producer=only_producer,
                security_protocol=security_protocol,
                ssl_context=ssl_context,
                value_serializer=value_serializer,
                adapter_id=adapter_id,
            ):
                return await func(ctx, *args, **kwargs)

        return wrapper

    if len(args) == 0:
        return wrapper_factory  # @mite_kafka_managed_adapter(bootstrap_servers=...)
    if len(args) > 1:
        raise Exception("Anomalous invocation of mite_kafka_managed_producer decorator")
    return wrapper_factory(args[0])


if _extra.aiokafka is None:
    # Without aiokafka the package still imports (so `mite stats` can count kafka messages
    # from other hosts), but every name of the API raises the one-line error.
    _API = (
        "KafkaProducer",
        "KafkaConsumer",
        "mite_kafka",
        "KafkaAdapterManager",
        "mite_kafka_managed_adapter",
        "_kafka_context_manager",
        "_kafka_managed_adapter_context_manager",
    )
    for _name in _API:
        del globals()[_name]

    def __getattr__(name):
        if name in _API:
            raise _extra.missing()
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
