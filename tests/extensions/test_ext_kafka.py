"""mite_kafka against a real Kafka-protocol broker (Tansu, see kafka_support.py) through aiokafka,
side by side with mite 2.11.0 from its venv: the example's message stream, the stats dumps, and
what a broker that refuses or vanishes does to a run."""

import asyncio
import re
import subprocess
import sys
import time

import pytest
from kafka_support import Broker
from kf_common import (
    OURS,
    StatsRun,
    collected,
    copy_example,
    env_for,
    free_port,
    of_type,
    read_frames,
    reference,
    run_mite,
    shapes,
    stats_entry_points,
    wait_for,
)

TAIL = ("type", "time", "test", "runner_id", "journey", "context_id", "scenario_id",
        "scenario_data_id", "transaction", "transaction_id")  # fmt: skip
QUIET = "--message-processors=mite.logoutput:HttpStatsOutput"
KINDS = {"kafka_producer_stats", "kafka_consumer_stats", "txn", "exception", "error"}


@pytest.fixture(scope="module")
def broker(tmp_path_factory):
    b = Broker(tmp_path_factory.mktemp("tansu") / "tansu.log")
    yield b
    b.stop()


def run_example(mite, folder, bootstrap):
    copy_example("kafka_example.py", folder)
    env = env_for(kafka_bootstrap_servers=bootstrap)
    proc = run_mite(mite, ["scenario", "test", "kafka_example:scenario"], folder, env)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return collected(folder)


def test_the_example_sends_what_mite_2_11_sends(tmp_path, broker):
    ours = run_example(OURS, tmp_path / "ours", broker.bootstrap)
    ref = run_example(reference(), tmp_path / "ref", broker.bootstrap)

    produced = of_type(ours, "kafka_producer_stats")
    assert {tuple(m) for m in produced} == {("topic", "key", *TAIL)}
    assert {(m["journey"], m["transaction"], m["topic"], m["key"]) for m in produced} == {
        ("kafka_example:produce", "__root__ :: produce", "mite_kafka_example", b"greeting"),
        ("kafka_example:produce_shared", "__root__ :: produce shared", "mite_kafka_example", None),
    }
    consumed = of_type(ours, "kafka_consumer_stats")
    assert consumed and {tuple(m) for m in consumed} == {("topic", "partition", "offset", *TAIL)}
    # `topic` is the tuple of subscribed topics, as 2.11 sends it (a msgpack array).
    assert {m["topic"] for m in consumed} == {("mite_kafka_example",)}
    assert all(isinstance(m["partition"], int) and m["offset"] >= 0 for m in consumed)
    assert not of_type(ours, "exception") and not of_type(ours, "error")
    # Field by field: names, order and value types of every message kind, as 2.11 sends them.
    assert shapes(ours, KINDS) == shapes(ref, KINDS)

    # The managed adapter's producer is shared, but each send is reported on the journey that
    # made it; mite 2.11 reported them all on the context that first started the producer.
    def contexts(messages, kind):
        return {m["context_id"] for m in of_type(messages, kind) if m["journey"].endswith("shared")}

    assert contexts(ours, "kafka_producer_stats") == contexts(ours, "txn")
    assert len(contexts(ours, "txn")) > 1
    assert len(contexts(ref, "kafka_producer_stats")) == 1 < len(contexts(ref, "txn"))


def test_stats_dumps_match_mite_2_11(tmp_path):
    base = {"type": "kafka_producer_stats", "time": 2.0, "test": "t", "journey": "j:k"}
    messages = [
        {**base, "topic": "orders", "key": b"k1"},
        {**base, "topic": "orders", "key": b"k1"},
        {**base, "topic": "orders", "key": None},
        {**base, "topic": "audit", "key": "text"},
        {**base, "type": "kafka_consumer_stats", "topic": ("orders",), "partition": 0, "offset": 4},
        {**base, "type": "kafka_consumer_stats", "topic": ("orders",), "partition": 0, "offset": 5},
        {**base, "type": "kafka_consumer_stats", "topic": ("orders", "audit"), "partition": 3,
         "offset": 0},
    ]  # fmt: skip
    paths = [stats_entry_points(tmp_path / "ep", {"mite_kafka": "mite_kafka.stats:_KAFKA_STATS"})]

    def counted(merged):
        return sum(
            sum(merged.get(name, {}).get("metrics", {}).values())
            for name in ("mite_kafka_producer_stats_counter", "mite_kafka_consumer_stats_counter")
        ) == len(messages)

    dumps = {}
    for name, mite in (("ours", OURS), ("ref", reference())):
        run = StatsRun(mite, "mite_kafka", env_for(paths if name == "ours" else ()), tmp_path)
        try:
            dumps[name] = run.feed_until(messages, counted)
            if name == "ours":
                # Built from mite.stats' helpers, so our `mite stats` runs them natively.
                assert "run in Python" not in run.output(), run.output()
        finally:
            run.close()
    assert dumps["ours"] == dumps["ref"]
    assert dumps["ours"]["mite_kafka_producer_stats_counter"] == {
        "type": "Counter",
        "labels": ("topic", "key"),
        "metrics": {("orders", b"k1"): 2, ("orders", None): 1, ("audit", "text"): 1},
    }
    assert dumps["ours"]["mite_kafka_consumer_stats_counter"]["metrics"] == {
        (("orders",), 0): 2,
        (("orders", "audit"), 3): 1,
    }


FAILURES = """
import os

from mite.scenario import StopVolumeModel
from mite_kafka import mite_kafka, mite_kafka_managed_adapter

SERVERS = os.environ["MITE_CONF_servers"]


def briefly(start, end):
    if start > float(os.environ.get("MITE_CONF_seconds", "1")):
        raise StopVolumeModel
    return 1


@mite_kafka
async def produce(ctx):
    producer = ctx.kafka_producer
    await producer.create_and_start(bootstrap_servers=SERVERS, request_timeout_ms=3000)
    try:
        async with ctx.transaction("produce"):
            for _ in range(5):
                await producer.send_and_wait("failures", key=b"k", value=b"v")
    finally:
        await producer.stop()


@mite_kafka
async def consume(ctx):
    consumer = ctx.kafka_consumer
    await consumer.create_and_start(
        "failures", bootstrap_servers=SERVERS, auto_offset_reset="earliest",
        request_timeout_ms=3000,
    )
    try:
        async with ctx.transaction("consume"):
            async for _ in consumer.get_messages():
                pass
    finally:
        await consumer.stop()


@mite_kafka_managed_adapter(bootstrap_servers=SERVERS, only_producer=True)
async def produce_shared(ctx):
    async with ctx.transaction("produce shared"):
        await ctx.kafka_producer.send_and_wait("failures", value=b"v")


def scenario(config):
    only = config.get("only", "produce,consume").split(",")
    return [[f"failures:{j}", None, briefly] for j in only]
"""


def failures(messages):
    """{(journey, transaction, ex_type, message with port numbers masked)} of the exceptions."""
    return {
        (m["journey"], m["transaction"], m["ex_type"], re.sub(r"\b\d{4,5}\b", "PORT", m["message"]))
        for m in of_type(messages, "exception")
    }


def run_failures(mite, folder, servers, **config):
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "failures.py").write_text(FAILURES)
    env = env_for(servers=servers, **config)
    return run_mite(mite, ["scenario", "test", "failures:scenario", QUIET], folder, env, timeout=90)


def test_a_broker_that_refuses_fails_journeys_as_2_11_does(tmp_path):
    closed = f"127.0.0.1:{free_port()}"
    ours = run_failures(OURS, tmp_path / "ours", closed)
    ref = run_failures(reference(), tmp_path / "ref", closed)
    assert ours.returncode == ref.returncode == 1, ours.stderr[-2000:]
    found = failures(collected(tmp_path / "ours"))
    assert found == failures(collected(tmp_path / "ref"))
    bootstrap = (
        "aiokafka.errors.KafkaConnectionError: KafkaConnectionError: Unable to bootstrap from "
        "[('127.0.0.1', PORT, <AddressFamily.AF_INET: 2>)]"
    )
    assert found == {
        ("failures:produce", "__root__", "KafkaConnectionError", bootstrap),
        ("failures:consume", "__root__", "KafkaConnectionError", bootstrap),
    }


def test_the_managed_adapter_retries_a_producer_that_failed_to_start(tmp_path):
    """mite 2.11 kept the producer that failed to start and handed it to every later journey."""
    proc = run_failures(OURS, tmp_path, f"127.0.0.1:{free_port()}", only="produce_shared")
    assert proc.returncode == 1, proc.stderr[-2000:]
    found = of_type(collected(tmp_path), "exception")
    assert len(found) > 1
    assert {m["ex_type"] for m in found} == {"KafkaConnectionError"}


def test_a_broker_that_vanishes_mid_run_fails_journeys_and_the_run_ends(tmp_path):
    broker = Broker(tmp_path / "tansu.log")
    folder = tmp_path / "run"
    folder.mkdir()
    (folder / "failures.py").write_text(FAILURES)
    env = env_for(servers=broker.bootstrap, seconds=4)
    args = [str(OURS), "scenario", "test", "failures:scenario", QUIET]
    proc = subprocess.Popen(args, cwd=folder, env=env, stdin=subprocess.DEVNULL,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)  # fmt: skip
    current = folder / "collector_data" / "current"

    def consumed_some():
        return current.exists() and len(of_type(read_frames(current), "kafka_consumer_stats")) > 5

    try:
        assert wait_for(consumed_some, 60), "the journeys never produced and consumed"
        broker.stop()
        stopped = time.monotonic()
        out, err = proc.communicate(timeout=90)
    finally:
        broker.stop()
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 1, err[-3000:]
    ended_after = time.monotonic() - stopped
    messages = collected(folder)
    kinds = {(m["journey"], m["ex_type"]) for m in of_type(messages, "exception")}
    assert {j for j, _ in kinds} == {"failures:produce", "failures:consume"}, kinds
    assert ("failures:consume", "KafkaConnectionError") in kinds
    print(f"the run ended {ended_after:.1f} s after the broker vanished; failures: {kinds}")


def test_without_aiokafka_one_line_names_the_extra(tmp_path, broker):
    # An `aiokafka` that cannot be imported, first on the path, stands in for a missing library.
    blocked = tmp_path / "blocked" / "aiokafka"
    blocked.mkdir(parents=True)
    (blocked / "__init__.py").write_text(
        "raise ModuleNotFoundError(\"No module named 'aiokafka'\", name='aiokafka')\n"
    )
    env = env_for([blocked.parent], kafka_bootstrap_servers=broker.bootstrap)
    folder = copy_example("kafka_example.py", tmp_path / "run")
    proc = run_mite(OURS, ["scenario", "test", "kafka_example:scenario"], folder, env)
    assert proc.returncode == 1
    assert "Traceback" not in proc.stderr, proc.stderr[-3000:]
    assert proc.stderr.strip().splitlines()[-1] == (
        'mite: error: mite_kafka needs aiokafka, which is not installed: pip install "mite[kafka]"'
    )
    # The stats (for a stats host that never talks to a broker) need no aiokafka.
    check = "import mite_kafka.stats as s; print([x.name for x in s._KAFKA_STATS])"
    out = subprocess.run([sys.executable, "-c", check], env=env, capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert "mite_kafka_consumer_stats_counter" in out.stdout


class _Context:
    def __init__(self):
        self.messages = []

    def send(self, msg_type, **fields):
        self.messages.append((msg_type, fields))


def test_a_consumer_waits_on_an_idle_topic_past_its_request_timeout(broker):
    """The broker check that ends a consumer whose broker vanished leaves a quiet topic alone."""
    from mite_kafka import KafkaConsumer, KafkaProducer

    async def scenario():
        ctx = _Context()
        producer, consumer = KafkaProducer(ctx), KafkaConsumer(ctx)
        await producer.create_and_start(bootstrap_servers=broker.bootstrap)
        await producer.send_and_wait("idle", value=b"first")  # creates the topic
        await consumer.create_and_start(
            "idle", bootstrap_servers=broker.bootstrap, auto_offset_reset="latest",
            request_timeout_ms=1500,
        )  # fmt: skip
        try:
            messages = consumer.get_messages()
            waiting = asyncio.ensure_future(messages.__anext__())
            # Idle for twice the request timeout, then a message arrives.
            done, _ = await asyncio.wait((waiting,), timeout=3.5)
            assert not done, waiting.result()
            await producer.send_and_wait("idle", value=b"late")
            message = await asyncio.wait_for(waiting, 30)
            await messages.aclose()
        finally:
            await consumer.stop()
            await producer.stop()
        assert message.value == b"late"
        assert [m[0] for m in ctx.messages] == ["kafka_producer_stats"] * 2 + [
            "kafka_consumer_stats"
        ]
        assert ctx.messages[-1][1] == {"topic": ("idle",), "partition": message.partition,
                                       "offset": message.offset}  # fmt: skip

    asyncio.run(scenario())


def test_the_example_module_2_11_ships_is_there():
    from mite.utils import spec_import
    from mite_kafka import mite_kafka_example

    specs = [s for s, _, _ in mite_kafka_example.scenario()]
    specs += [s for s, _, _ in mite_kafka_example.kafka_managed_adapter_scenario()]
    assert [spec_import(s).__name__ for s in specs] == [
        "produce_to_kafka", "consume_from_kafka", "produce_to_kafka_using_managed_adapter",
    ]  # fmt: skip
    assert mite_kafka_example.KAFKA_BOOTSTRAP_SERVERS == "localhost:9092"
