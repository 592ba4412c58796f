"""mite_amqp against a real RabbitMQ broker on loopback (started once for the session), beside
mite 2.11.0 running the same scenario; a refusing and a vanishing broker fail journeys, not runs."""

import asyncio
import gc
import socket
import subprocess
import threading

import aio_pika
import pytest
from amqp_support import VanishingRelay, broker  # noqa: F401 - the session's broker fixture
from scenario_streams import (
    MITE,
    clean_env,
    errors_of,
    journey_sequences,
    run_both,
)

JOURNEYS = 12  # examples/amqp_example.py's datapool
ONE_AT_A_TIME = """
from amqp_example import orders
from mite.volume_model import Constant


def scenario():
    return [["amqp_example:order_round_trip", orders, Constant(tps=1, duration=60)]]
"""


def _kinds(sequence):
    return [(kind, txn, ex) for kind, txn, ex, _ in sequence]


def _as_mite_2_11_reports(sequence):
    """A journey's sequence as mite 2.11 sends it: its `_amqp_context_manager` reads a `message`
    attribute aio-pika's errors lack, so where we send `error` AMQPError it sends `exception`
    AttributeError (a deliberate difference, see docs/COMPATIBILITY.md)."""
    return tuple(
        (kind, txn, ex, shp) if ex != "AMQPError" else ("exception", txn, "AttributeError", None)
        for kind, txn, ex, shp in sequence
    )


def _without_failure_shapes(sequences):
    """Sequences with the shapes of root failures left out (they differ by design, above)."""
    return {
        tuple(
            (k, t, ex, None if t == "__root__" and k != "txn" else shp) for k, t, ex, shp in seq
        ): n
        for seq, n in sequences.items()
    }


def test_example_round_trips_and_its_stream_matches_mite_2_11(tmp_path, broker):  # noqa: F811
    runs = run_both(
        tmp_path, "amqp_example.py", "amqp_example:scenario", {"MITE_CONF_amqp_url": broker.url}
    )
    for name, (proc, messages) in runs.items():
        assert proc.returncode == 0, (name, proc.stderr_text[-3000:])
        assert errors_of(messages) == {}, name
    ours, ref = journey_sequences(runs["ours"][1]), journey_sequences(runs["ref"][1])
    assert sum(ours.values()) == JOURNEYS
    for sequence in ours:
        assert [(kind, txn) for kind, txn, _ in _kinds(sequence)] == [
            ("txn", "__root__ :: connect"),
            ("txn", "__root__ :: publish"),
            ("txn", "__root__ :: consume"),
            ("txn", "__root__"),
        ]
    assert ours == ref


def test_a_refusing_broker_fails_each_journey_and_the_run_goes_on(tmp_path):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        closed_port = s.getsockname()[1]  # nothing listens here once the socket is closed
    runs = run_both(
        tmp_path,
        "amqp_example.py",
        "amqp_example:scenario",
        {"MITE_CONF_amqp_url": f"amqp://guest:guest@127.0.0.1:{closed_port}/"},
    )
    assert runs["ours"][0].returncode == runs["ref"][0].returncode == 1
    ours, ref = journey_sequences(runs["ours"][1]), journey_sequences(runs["ref"][1])
    assert sum(ours.values()) == JOURNEYS
    assert {tuple(_kinds(seq)) for seq in ours} == {
        (
            ("exception", "__root__ :: connect", "AMQPConnectionError"),
            ("txn", "__root__ :: connect", None),
            ("error", "__root__", "AMQPError"),
            ("txn", "__root__", None),
        )
    }
    assert _without_failure_shapes(
        {_as_mite_2_11_reports(seq): n for seq, n in ours.items()}
    ) == _without_failure_shapes(ref)
    error = next(m for m in runs["ours"][1] if m["type"] == "error")
    assert error["message"].startswith(
        "mite_amqp.AMQPError: Received an error from AMQP:\nUnexpected connection problem: "
    ), error["message"]
    assert "111" in error["message"]  # ECONNREFUSED


def test_a_broker_vanishing_mid_run_fails_the_journeys_it_strands(tmp_path, broker):  # noqa: F811
    # Journeys run one at a time: four complete, the fifth loses the broker while publishing,
    # the remaining seven are refused.
    relays = {name: VanishingRelay(broker.port, survivors=4) for name in ("ours", "ref")}
    try:
        runs = run_both(
            tmp_path,
            "amqp_example.py",
            "bad_peer:scenario",
            {},
            scenario_source=ONE_AT_A_TIME,
            per_run_env={
                name: {"MITE_CONF_amqp_url": f"amqp://guest:guest@127.0.0.1:{relay.port}/"}
                for name, relay in relays.items()
            },
        )
    finally:
        for relay in relays.values():
            relay.close()
    assert all(relay.cut.is_set() for relay in relays.values())
    assert runs["ours"][0].returncode == runs["ref"][0].returncode == 1
    ours, ref = journey_sequences(runs["ours"][1]), journey_sequences(runs["ref"][1])
    assert sum(ours.values()) == JOURNEYS
    ok = ("txn", "__root__ :: connect", None)
    assert [_kinds(seq)[0] == ok for seq in ours.elements()].count(True) == 5
    assert _without_failure_shapes(
        {_as_mite_2_11_reports(seq): n for seq, n in ours.items()}
    ) == _without_failure_shapes(ref)


def test_the_wrapper_connects_on_the_journeys_loop_and_builds_messages(broker):  # noqa: F811
    from mite_amqp import _AMQPWrapper, mite_amqp

    class Ctx:
        pass

    @mite_amqp
    async def journey(ctx):
        connection = await ctx.amqp.connect(broker.url)
        async with connection:
            assert connection.loop is asyncio.get_running_loop()
            channel = await connection.channel()
            queue = await channel.declare_queue(exclusive=True)
            await channel.default_exchange.publish(ctx.amqp.message("héllo"), queue.name)
            incoming = await queue.get(timeout=10)
            await incoming.ack()
            return incoming.body

    ctx = Ctx()
    assert asyncio.run(journey(ctx)) == "héllo".encode()
    assert not hasattr(ctx, "amqp")
    message = _AMQPWrapper().message("x", content_type="text/plain")
    assert isinstance(message, aio_pika.Message) and message.content_type == "text/plain"


def test_a_broker_error_becomes_an_amqp_error_with_the_brokers_reason(broker):  # noqa: F811
    from mite_amqp import AMQPError, mite_amqp

    class Ctx:
        pass

    @mite_amqp
    async def journey(ctx):
        connection = await ctx.amqp.connect_robust(broker.url)
        async with connection:
            channel = await connection.channel()
            await channel.declare_queue("mite-test-no-such-queue", passive=True)

    with pytest.raises(AMQPError) as caught:
        asyncio.run(journey(Ctx()))
    assert isinstance(caught.value.__cause__, aio_pika.exceptions.ChannelNotFoundEntity)
    assert str(caught.value).startswith("Received an error from AMQP:\n")
    assert "NOT_FOUND - no queue 'mite-test-no-such-queue'" in str(caught.value)


def test_a_journey_waiting_on_the_handshake_survives_the_cyclic_gc():
    # A broker that accepts and never answers: aio-pika's handshake waits on a stream reader
    # that asyncio reaches only through a weakref. Like mite's runner, nothing here holds the
    # journey's task; mite 2.11's journey is destroyed by gc.collect() and never finishes.
    from mite_amqp import AMQPError, mite_amqp

    listener = socket.create_server(("127.0.0.1", 0))
    accepted, header = [], threading.Event()

    def accept():
        conn, _ = listener.accept()
        accepted.append(conn)
        conn.recv(8)
        header.set()

    threading.Thread(target=accept, daemon=True).start()

    class Ctx:
        pass

    @mite_amqp
    async def journey(ctx):
        await ctx.amqp.connect(f"amqp://guest:guest@127.0.0.1:{listener.getsockname()[1]}/")

    async def main():
        finished = asyncio.get_running_loop().create_future()
        asyncio.ensure_future(journey(Ctx())).add_done_callback(
            lambda task: finished.set_result(task.exception())
        )
        while not header.is_set():
            await asyncio.sleep(0.01)
        for _ in range(10):
            await asyncio.sleep(0)  # the client moves on to reading the broker's answer
        gc.collect()
        accepted[0].close()  # the broker goes away: the journey must end with an AMQPError
        return await asyncio.wait_for(finished, 15)

    try:
        assert isinstance(asyncio.run(main()), AMQPError)
    finally:
        listener.close()


def test_without_the_library_mite_says_which_extra_to_install(tmp_path):
    # An `aio_pika` package that is not there: importing it fails as a missing one does.
    blocker = tmp_path / "blocked" / "aio_pika"
    blocker.mkdir(parents=True)
    (blocker / "__init__.py").write_text(
        "raise ModuleNotFoundError(\"No module named 'aio_pika'\", name='aio_pika')\n"
    )
    work = tmp_path / "work"
    work.mkdir()
    (work / "amqp_scenario.py").write_text(
        "from mite_amqp import mite_amqp\n\ndef scenario():\n    return []\n"
    )
    proc = subprocess.run(
        [str(MITE), "scenario", "test", "amqp_scenario:scenario"],
        cwd=work,
        env=clean_env(PYTHONPATH=str(tmp_path / "blocked")),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 1  # an unusable optional library
    assert "Traceback" not in proc.stderr, proc.stderr[-3000:]
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert lines == ['mite: error: mite_amqp needs the aio-pika library: '
                     'pip install "mite[amqp]"'], proc.stderr[-3000:]  # fmt: skip
