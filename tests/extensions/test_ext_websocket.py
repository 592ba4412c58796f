"""mite_websocket against real `websockets` servers on loopback (an echo server, and one that
closes mid-stream), beside mite 2.11.0 running the same scenario."""

import asyncio
import socket
import subprocess
import threading

import pytest
from scenario_streams import (
    MITE,
    clean_env,
    errors_of,
    journey_sequences,
    run_both,
)
from websockets.sync.server import serve

JOURNEYS = 12  # examples/websocket_example.py's datapool
CLOSE_REASON = "server going away"


def _handler(conn):
    if conn.request.path == "/close":
        # Answers the first frame, then closes with an error code: the peer closes mid-stream.
        conn.send(conn.recv())
        conn.close(1011, CLOSE_REASON)
        return
    for frame in conn:
        conn.send(frame)


@pytest.fixture(scope="module")
def ws_server():
    server = serve(_handler, "127.0.0.1", 0)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"ws://127.0.0.1:{server.socket.getsockname()[1]}"
    server.shutdown()
    thread.join(timeout=10)


def test_example_round_trips_and_its_stream_matches_mite_2_11(tmp_path, ws_server):
    runs = run_both(
        tmp_path,
        "websocket_example.py",
        "websocket_example:scenario",
        {"MITE_CONF_websocket_url": f"{ws_server}/echo"},
    )
    for name, (proc, messages) in runs.items():
        assert proc.returncode == 0, (name, proc.stderr_text[-3000:])
        assert errors_of(messages) == {}, name
    ours, ref = runs["ours"][1], runs["ref"][1]
    expected = [("txn", "__root__ :: connect"), ("txn", "__root__ :: chat"), ("txn", "__root__")]
    for sequence in journey_sequences(ours).elements():
        assert [(kind, txn) for kind, txn, _, _ in sequence] == expected
    assert sum(journey_sequences(ours).values()) == JOURNEYS
    assert journey_sequences(ours) == journey_sequences(ref)


def test_a_peer_closing_mid_stream_fails_each_journey_as_mite_2_11_does(tmp_path, ws_server):
    runs = run_both(
        tmp_path,
        "websocket_example.py",
        "websocket_example:scenario",
        {"MITE_CONF_websocket_url": f"{ws_server}/close"},
    )
    ours, ref = runs["ours"][1], runs["ref"][1]
    # Errors break the default threshold (0) in both; every journey still ran to its end.
    assert runs["ours"][0].returncode == runs["ref"][0].returncode == 1
    sequences = journey_sequences(ours)
    assert sum(sequences.values()) == JOURNEYS
    kinds = [(kind, txn, ex) for kind, txn, ex, _ in next(iter(sequences))]
    assert kinds == [
        ("txn", "__root__ :: connect", None),
        ("exception", "__root__ :: chat", "ConnectionClosedError"),
        ("txn", "__root__ :: chat", None),
        ("error", "__root__", "WebsocketError"),
        ("txn", "__root__", None),
    ]
    assert sequences == journey_sequences(ref)
    assert errors_of(ours) == errors_of(ref)
    error = next(m for m in ours if m["type"] == "error")
    assert error["message"].startswith("mite_websocket.WebsocketError: received 1011")
    assert CLOSE_REASON in error["message"]


def test_a_refused_connection_fails_each_journey_as_mite_2_11_does(tmp_path):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        closed_port = s.getsockname()[1]  # nothing listens here once the socket is closed
    runs = run_both(
        tmp_path,
        "websocket_example.py",
        "websocket_example:scenario",
        {"MITE_CONF_websocket_url": f"ws://127.0.0.1:{closed_port}/"},
    )
    ours, ref = runs["ours"][1], runs["ref"][1]
    assert runs["ours"][0].returncode == runs["ref"][0].returncode == 1
    assert sum(journey_sequences(ours).values()) == JOURNEYS
    assert journey_sequences(ours) == journey_sequences(ref)
    assert errors_of(ours) == errors_of(ref)
    assert {ex for _, ex, _ in errors_of(ours)} == {"ConnectionRefusedError"}


class _Ctx:
    """The attributes the decorator touches on a context."""


def test_every_connection_is_closed_when_the_journey_ends(ws_server):
    from mite_websocket import mite_websocket

    opened = []

    @mite_websocket
    async def journey(ctx):
        for _ in range(3):
            opened.append(await ctx.websocket.connect(f"{ws_server}/echo"))
        assert ctx.websocket.get_connections() == opened

    ctx = _Ctx()
    asyncio.run(journey(ctx))
    # mite 2.11 closes only the first and third of three (it removes while iterating).
    assert [conn.state.name for conn in opened] == ["CLOSED"] * 3
    assert not hasattr(ctx, "websocket")


def test_a_protocol_error_becomes_a_websocket_error(ws_server):
    from websockets.exceptions import ConnectionClosedError

    from mite_websocket import WebsocketError, mite_websocket

    @mite_websocket
    async def journey(ctx):
        conn = await ctx.websocket.connect(f"{ws_server}/close")
        await conn.send("one")
        await conn.recv()
        await conn.recv()

    with pytest.raises(WebsocketError) as caught:
        asyncio.run(journey(_Ctx()))
    assert isinstance(caught.value.__cause__, ConnectionClosedError)
    assert caught.value.fields == {}


def test_without_the_library_mite_says_which_extra_to_install(tmp_path):
    # A `websockets` package that is not there: importing it fails as a missing one does.
    blocker = tmp_path / "blocked" / "websockets"
    blocker.mkdir(parents=True)
    (blocker / "__init__.py").write_text(
        "raise ModuleNotFoundError(\"No module named 'websockets'\", name='websockets')\n"
    )
    work = tmp_path / "work"
    work.mkdir()
    (work / "ws_scenario.py").write_text(
        "from mite_websocket import mite_websocket\n\ndef scenario():\n    return []\n"
    )
    proc = subprocess.run(
        [str(MITE), "scenario", "test", "ws_scenario:scenario"],
        cwd=work,
        env=clean_env(PYTHONPATH=str(tmp_path / "blocked")),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 1  # an unusable optional library
    assert "Traceback" not in proc.stderr, proc.stderr[-3000:]
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert lines == ['mite: error: mite_websocket needs the websockets library: '
                     'pip install "mite[websocket]"'], proc.stderr[-3000:]  # fmt: skip
