"""End-to-end runs of `mite scenario test`, `journey test` and `journey run` on scenario files
written into a scratch folder, checked through what the collector and the recorder wrote.

The expected key orders and value types below were taken from mite 2.11.0 running the same
scenarios (except `exception`, whose fields 2.11 loses to its logging processor: see the
reference notes, section 6; here they must all be present)."""

import json
import shutil
import signal
import subprocess
import textwrap
from collections import defaultdict
from pathlib import Path

import msgpack
import pytest

from helpers import (
    MITE,
    TAIL_KEYS,
    assert_clean_failure,
    clean_env,
    collected,
    mite_lines,
    of_type,
    read_frames,
    run_mite,
    wait_for,
    write_module,
)

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
FAST = ["--max-loop-delay=0.2"]

# One journey exercising every kind of message a context sends; stops after about a second.
SCEN = """
    import asyncio
    from mite.exceptions import MiteError
    from mite.scenario import StopVolumeModel


    def vm(start, end):
        if start >= 1:
            raise StopVolumeModel
        return 1


    async def journey(ctx):
        async with ctx.transaction("outer"):
            ctx.send("user_msg", a=1, b="two", c=1.5, d=[1, 2], e={"k": "v"}, f=None, g=True)
            async with ctx.transaction("inner"):
                await asyncio.sleep(0.05)
        try:
            async with ctx.transaction("bad"):
                raise MiteError("oops", code=7, where="here")
        except MiteError:
            pass
        async with ctx.transaction("boom"):
            raise ValueError("kaboom")


    def scenario():
        return [["scen:journey", None, vm]]
"""


def line_of(source, text):
    """The 1-based line of `text` in the module write_module makes from `source`."""
    lines = textwrap.dedent(source).lstrip().splitlines()
    return next(n for n, line in enumerate(lines, 1) if text in line)


MITE_ERROR_LINE = line_of(SCEN, "raise MiteError")
EXCEPTION_LINE = line_of(SCEN, "raise ValueError")

LAYOUTS = {
    "user_msg": ("a", "b", "c", "d", "e", "f", "g", *TAIL_KEYS),
    "txn": ("start_time", "end_time", "had_error", *TAIL_KEYS),
    "error": ("message", "ex_type", "location", "code", "where", *TAIL_KEYS),
    "exception": ("message", "ex_type", "location", "stacktrace", *TAIL_KEYS),
    "controller_report": ("type", "time", "test", "required", "actual", "num_runners"),
}
PER_JOURNEY = [
    ("user_msg", "__root__ :: outer", 2),
    ("txn", "__root__ :: outer :: inner", 3),
    ("txn", "__root__ :: outer", 2),
    ("error", "__root__ :: bad", 4),
    ("txn", "__root__ :: bad", 4),
    ("exception", "__root__ :: boom", 5),
    ("txn", "__root__ :: boom", 5),
    ("txn", "__root__", 1),
]


def assert_ids(msg, test, journey, scenario_data_id=None):
    assert msg["test"] == test
    assert msg["runner_id"] == 1
    assert msg["journey"] == journey
    assert type(msg["context_id"]) is int and msg["context_id"] >= 1
    assert msg["scenario_id"] == 1
    assert msg["scenario_data_id"] == scenario_data_id
    assert type(msg["time"]) is float


@pytest.fixture(scope="module")
def scen_run(tmp_path_factory):
    """One run of SCEN with the default message processors, shared by the layout tests."""
    folder = tmp_path_factory.mktemp("scen")
    write_module(folder, "scen", SCEN)
    proc = run_mite(
        ["scenario", "test", "scen:scenario", "--max-errors-threshold=100000", *FAST], cwd=folder
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    return folder, proc, collected(folder)


def test_every_journey_sends_its_messages_in_order(scen_run):
    _, _, messages = scen_run
    by_context = defaultdict(list)
    for msg in messages:
        if msg["type"] != "controller_report":
            by_context[msg["context_id"]].append(
                (msg["type"], msg["transaction"], msg["transaction_id"])
            )
    assert by_context, "no journey ran"
    assert sorted(by_context) == list(range(1, len(by_context) + 1))
    for context_id, sequence in by_context.items():
        assert sequence == PER_JOURNEY, context_id


def test_user_message_layout(scen_run):
    _, _, messages = scen_run
    for msg in of_type(messages, "user_msg"):
        assert tuple(msg) == LAYOUTS["user_msg"]
        assert (msg["a"], msg["b"], msg["c"], msg["d"], msg["e"], msg["f"], msg["g"]) == (
            1,
            "two",
            1.5,
            (1, 2),
            {"k": "v"},
            None,
            True,
        )
        assert type(msg["a"]) is int and type(msg["c"]) is float and msg["g"] is True
        assert_ids(msg, "scen:scenario", "scen:journey")


def test_txn_layout(scen_run):
    _, _, messages = scen_run
    txns = of_type(messages, "txn")
    assert txns
    for msg in txns:
        assert tuple(msg) == LAYOUTS["txn"]
        assert type(msg["start_time"]) is float and type(msg["end_time"]) is float
        assert msg["start_time"] <= msg["end_time"]
        assert type(msg["had_error"]) is bool
        expected_error = msg["transaction"] in ("__root__", "__root__ :: bad", "__root__ :: boom")
        assert msg["had_error"] is expected_error, msg["transaction"]
        assert type(msg["transaction_id"]) is int
        assert_ids(msg, "scen:scenario", "scen:journey")


def test_error_layout(scen_run):
    folder, _, messages = scen_run
    errors = of_type(messages, "error")
    assert errors
    for msg in errors:
        assert tuple(msg) == LAYOUTS["error"]
        assert msg["message"] == "mite.exceptions.MiteError: oops"
        assert msg["ex_type"] == "MiteError"
        assert msg["location"] == f"{folder / 'scen.py'}:{MITE_ERROR_LINE}:journey"
        assert (msg["code"], msg["where"]) == (7, "here")
        assert_ids(msg, "scen:scenario", "scen:journey")


def test_exception_layout_keeps_every_field(scen_run):
    folder, _, messages = scen_run
    exceptions = of_type(messages, "exception")
    assert exceptions
    for msg in exceptions:
        assert tuple(msg) == LAYOUTS["exception"]
        assert msg["message"] == "ValueError: kaboom"
        assert msg["ex_type"] == "ValueError"
        assert msg["location"] == f"{folder / 'scen.py'}:{EXCEPTION_LINE}:journey"
        assert type(msg["stacktrace"]) is str
        assert f"line {EXCEPTION_LINE}, in journey" in msg["stacktrace"]
        assert 'raise ValueError("kaboom")' in msg["stacktrace"]
        assert_ids(msg, "scen:scenario", "scen:journey")


def test_controller_report_layout(scen_run):
    _, _, messages = scen_run
    reports = of_type(messages, "controller_report")
    assert reports
    for msg in reports:
        assert tuple(msg) == LAYOUTS["controller_report"]
        assert type(msg["time"]) is float and msg["test"] == "scen:scenario"
        assert type(msg["required"]) is dict and type(msg["actual"]) is dict
        assert all(type(k) is int and type(v) is int for k, v in msg["required"].items())
        assert all(type(k) is int and type(v) is int for k, v in msg["actual"].items())
        assert type(msg["num_runners"]) is int
        assert set(msg["required"]) <= {1} and set(msg["actual"]) <= {1}
    # The last report comes after the runner said bye and the scenario was removed.
    assert reports[-1]["num_runners"] == 0 and reports[-1]["required"] == {}
    assert messages[-1] is reports[-1]


def test_collector_files(scen_run):
    folder, _, _ = scen_run
    names = sorted(p.name for p in (folder / "collector_data").iterdir())
    assert names == ["current", "current_start_time"]
    assert (folder / "collector_data" / "current_start_time").read_text().isdigit()


def test_the_default_processors_log_exceptions(scen_run):
    _, proc, _ = scen_run
    assert "[MSG]" in proc.stderr and "[exception]" in proc.stderr
    assert 'raise ValueError("kaboom")' in proc.stderr
    assert "Traceback" not in proc.stderr
    assert mite_lines(proc.stderr) == []
    assert proc.stdout == ""


# --- the wire encoding ----------------------------------------------------------------------------

ENCODING = """
    import collections
    import enum


    class Colour(enum.IntEnum):
        RED = 3


    class Text(str):
        pass


    VALUES = [
        0, 127, 128, 255, 256, 65535, 65536, 2**32 - 1, 2**32, 2**63 - 1, 2**64 - 1,
        -1, -32, -33, -128, -129, -32768, -32769, -(2**31), -(2**31) - 1, -(2**63),
        *("x" * n for n in (0, 31, 32, 255, 256, 65535, 65536)), "\u00e9\u2603\U0001f600",
        b"", b"y" * 255, b"y" * 256, bytearray(b"ab"),
        0.0, -0.0, 1.5, 1e300, float("inf"),
        tuple(range(15)), tuple(range(16)), [1, [2, 3]],
        {i: i for i in range(15)}, {i: i for i in range(16)},
        collections.OrderedDict([("b", 1), ("a", 2)]), {(1, 2): "tuple key", None: 1, 1.5: 2},
        True, False, None, Colour.RED, Text("subclass"),
    ]


    async def journey(ctx):
        for n, value in enumerate(VALUES):
            ctx.send("value", n=n, value=value)
        async with ctx.transaction("t"):
            ctx.send("value", n=-1, value=object())
"""


def test_frames_are_byte_for_byte_what_msgpack_packb_writes(tmp_path):
    write_module(tmp_path, "encoding", ENCODING)
    proc = run_mite(
        ["journey", "run", "encoding:journey", "--max-errors-threshold=1", *FAST], cwd=tmp_path
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    namespace = {}
    exec(textwrap.dedent(ENCODING), namespace)
    values = namespace["VALUES"]
    data = (tmp_path / "collector_data" / "current").read_bytes()
    unpacker = msgpack.Unpacker(raw=False, strict_map_key=False, use_list=False)
    unpacker.feed(data)
    start, checked = 0, 0
    for msg in unpacker:
        raw, start = data[start : unpacker.tell()], unpacker.tell()
        if msg["type"] != "value":
            continue
        # The same message built in Python from the original value, packed as mite 2.11 packs it.
        expected = {"n": msg["n"], "value": values[msg["n"]], **{k: msg[k] for k in TAIL_KEYS}}
        assert raw == msgpack.packb(expected, use_bin_type=True), repr(values[msg["n"]])[:80]
        checked += 1
    assert checked == len(values)
    (exception,) = of_type(collected(tmp_path), "exception")
    assert exception["message"] == "TypeError: can not serialize 'object' object"


COLLIDING = """
    async def journey(ctx):
        ctx.send("x", time=5, test="mine", transaction_id=9, z=1)
"""


def test_fields_named_like_the_contexts_own_keep_their_place_but_not_their_value(tmp_path):
    write_module(tmp_path, "colliding", COLLIDING)
    proc = run_mite(["journey", "run", "colliding:journey", *FAST], cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr[-3000:]
    (msg,) = of_type(collected(tmp_path), "x")
    assert tuple(msg) == (
        "time", "test", "transaction_id", "z", "type", "runner_id", "journey", "context_id",
        "scenario_id", "scenario_data_id", "transaction",
    )  # fmt: skip
    assert type(msg["time"]) is float
    assert (msg["test"], msg["transaction_id"], msg["transaction"]) == (
        "colliding:journey", 1, "__root__",
    )  # fmt: skip


# --- journey run / journey test ---------------------------------------------------------------

COUNTING = """
    import asyncio
    from mite.datapools import IterableDataPool

    pool = IterableDataPool([(n, f"item{n}") for n in range(1, 10)])
    three = IterableDataPool([("x",), ("y",), ("z",)])
    running = 0
    # The journeys hold on until PEAK of them have run at once (or 30 s, for a failing test to
    # show its `running` values): the concurrency is reached however slowly they are started.
    PEAK = __PEAK__
    peaked = asyncio.Event()


    async def journey(ctx, *args):
        global running
        running += 1
        ctx.send("seen", args=args, running=running)
        if running >= PEAK:
            peaked.set()
        try:
            await asyncio.wait_for(peaked.wait(), 30)
        except asyncio.TimeoutError:
            pass
        await asyncio.sleep(0)
        running -= 1
"""


def counting(peak=1):
    return COUNTING.replace("__PEAK__", str(peak))


def test_journey_run_runs_the_first_item_once(tmp_path):
    # As in mite 2.11: one journey, with the first item of the datapool, then the test ends.
    write_module(tmp_path, "counting", counting())
    proc = run_mite(["journey", "run", "counting:journey", "counting:three", *FAST], cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr[-3000:]
    messages = collected(tmp_path)
    (seen,) = of_type(messages, "seen")
    assert seen["args"] == ("x",)
    assert_ids(seen, "counting:journey", "counting:journey", scenario_data_id=1)
    assert [m["transaction"] for m in of_type(messages, "txn")] == ["__root__"]


def test_journey_run_without_a_datapool(tmp_path):
    write_module(tmp_path, "counting", counting())
    proc = run_mite(["journey", "run", "counting:journey", *FAST], cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr[-3000:]
    (seen,) = of_type(collected(tmp_path), "seen")
    assert seen["args"] == ()
    assert seen["scenario_data_id"] is None


def test_journey_test_keeps_volume_journeys_running_until_the_datapool_is_exhausted(tmp_path):
    write_module(tmp_path, "counting", counting(peak=3))
    proc = run_mite(
        ["journey", "test", "counting:journey", "counting:pool", "--volume", "3", *FAST],
        cwd=tmp_path,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    seen = of_type(collected(tmp_path), "seen")
    assert sorted(m["args"] for m in seen) == [(n, f"item{n}") for n in range(1, 10)]
    assert sorted(m["scenario_data_id"] for m in seen) == list(range(1, 10))
    assert max(m["running"] for m in seen) == 3


def test_runner_max_journeys_caps_concurrency(tmp_path):
    # Deliberately unlike mite 2.11, where the option compared with the wrong variable.
    write_module(tmp_path, "counting", counting(peak=2))
    argv = "journey test counting:journey counting:pool --volume=5 --runner-max-journeys=2".split()
    proc = run_mite([*argv, *FAST], cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr[-3000:]
    seen = of_type(collected(tmp_path), "seen")
    assert len(seen) == 9
    assert max(m["running"] for m in seen) == 2


# --- config -----------------------------------------------------------------------------------

CONFIGURED = """
    async def journey(ctx):
        ctx.send("config", **{k: ctx.config.get(k) for k in ("a", "b", "c", "d", "e", "x")})


    def loader():
        return {"x": "from the loader", "e": "loader"}
"""


def test_environment_and_add_to_config_reach_the_journey(tmp_path):
    write_module(tmp_path, "configured", CONFIGURED)
    env = clean_env(
        MITE_CONF_a="plain",
        MITE_EVAL_CONF_b="[1, 2]",
        MITE_EVAL_CONF_c="{'k': 3}",
        MITE_CONF_e="env",
    )
    argv = "journey run configured:journey --add-to-config=d:v:w --add-to-config e:cli".split()
    proc = run_mite([*argv, *FAST], cwd=tmp_path, env=env)
    assert proc.returncode == 0, proc.stderr[-3000:]
    (msg,) = of_type(collected(tmp_path), "config")
    assert msg["a"] == "plain"
    assert msg["b"] == (1, 2)
    assert msg["c"] == {"k": 3}
    assert msg["d"] == "v:w"
    assert msg["e"] == "cli"
    assert msg["x"] is None


def test_a_config_loader_replaces_the_environment(tmp_path):
    write_module(tmp_path, "configured", CONFIGURED)
    env = clean_env(MITE_CONF_a="ignored")
    argv = ["journey", "run", "configured:journey", "--config=configured:loader", *FAST]
    proc = run_mite(argv, cwd=tmp_path, env=env)
    assert proc.returncode == 0, proc.stderr[-3000:]
    (msg,) = of_type(collected(tmp_path), "config")
    assert (msg["x"], msg["e"], msg["a"]) == ("from the loader", "loader", None)


SCENARIO_WITH_ARGS = """
    from mite.volume_model import oneshot_vm


    async def journey(ctx):
        ctx.send("planted", value=ctx.config.get("planted"))


    def scenario(sender, config):
        config.set("planted", "by the scenario")
        sender.send({"type": "scenario_says", "saw": config.get("given")})
        return [["withargs:journey", None, oneshot_vm(stop_scenario=True)]]
"""


def test_a_scenario_function_can_take_config_and_sender(tmp_path):
    write_module(tmp_path, "withargs", SCENARIO_WITH_ARGS)
    argv = ["scenario", "test", "withargs:scenario", "--add-to-config=given:yes", *FAST]
    proc = run_mite(argv, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr[-3000:]
    messages = collected(tmp_path)
    (planted,) = of_type(messages, "planted")
    assert planted["value"] == "by the scenario"
    # mite 2.11's sender was a socket nothing listened to locally; here the message is kept.
    assert of_type(messages, "scenario_says") == [{"type": "scenario_says", "saw": "yes"}]


PHASES = """
    import asyncio
    from mite.scenario import StopVolumeModel


    # Local runs share this module between the controller and the runner: the volume model ends
    # the test once a journey has seen the second phase (on the first call: phase p0; on every
    # later one: p1), however slowly the periods go by on a loaded machine.
    SEEN = set()


    def scenario(config):
        calls = []

        def vm(start, end):
            if "p1" in SEEN or len(calls) > 60:  # a minute of periods: the config never came
                raise StopVolumeModel
            calls.append(start)
            config.set("phase", "p0" if len(calls) == 1 else "p1")
            return 1

        return [["phases:journey", None, vm]]


    async def journey(ctx):
        phase = ctx.config.get("phase")
        ctx.send("phase", phase=phase)
        SEEN.add(phase)
        await asyncio.sleep(0.1)
"""


def test_config_set_during_the_run_reaches_the_runner(tmp_path):
    write_module(tmp_path, "phases", PHASES)
    proc = run_mite(["scenario", "test", "phases:scenario", *FAST], cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr[-3000:]
    phases = [m["phase"] for m in of_type(collected(tmp_path), "phase")]
    assert phases[0] == "p0" and phases[-1] == "p1"
    assert phases == sorted(phases)


# --- fixtures and the recorder ----------------------------------------------------------------

FIXTURE = """
    from mite.datapools import IterableDataPool

    pool = IterableDataPool([(n,) for n in range(3)])


    async def make_db(ctx):
        ctx.send("fixture_made")
        return {"db": "handle"}


    async def journey(ctx, n):
        ctx.send("used", n=n, db=ctx.db)


    journey._fixture = True
    journey._fixture_label = "db-fixture"
    journey._fixture_func = make_db
    journey._fixture_variable = "db"
"""


def test_a_fixture_runs_once_per_runner_and_is_set_on_every_context(tmp_path):
    write_module(tmp_path, "fixtured", FIXTURE)
    proc = run_mite(["journey", "test", "fixtured:journey", "fixtured:pool", *FAST], cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr[-3000:]
    messages = collected(tmp_path)
    assert len(of_type(messages, "fixture_made")) == 1
    used = of_type(messages, "used")
    assert sorted(m["n"] for m in used) == [0, 1, 2]
    assert all(m["db"] == {"db": "handle"} for m in used)


RECORDING = """
    async def journey(ctx):
        ctx.send("data_created", name="keep", data=1)
        ctx.send("data_created", name="keep", data={"x": [2, 3]})
        ctx.send("data_created", name="gone", data="temporary")
        ctx.send("purge_data", name="gone")
        ctx.send("data_created", name="../escaped", data="outside")
"""


def test_the_recorder_keeps_created_data_and_drops_purged(tmp_path):
    write_module(tmp_path, "recording", RECORDING)
    argv = ["journey", "run", "recording:journey", "--recorder-dir=rec", *FAST]
    proc = run_mite(argv, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert sorted(p.name for p in (tmp_path / "rec").iterdir()) == ["keep.msgpack"]
    assert read_frames(tmp_path / "rec" / "keep.msgpack") == [1, {"x": (2, 3)}]
    assert not (tmp_path / "escaped.msgpack").exists()
    assert not (tmp_path / "recorder_data").exists()


# --- message processors -----------------------------------------------------------------------

PROCESSORS = """
    import asyncio
    import json
    from mite.scenario import StopVolumeModel


    def vm(start, end):
        if start >= 3:
            raise StopVolumeModel
        return 2


    async def journey(ctx):
        async with ctx.transaction("t"):
            ctx.send("hello", n=1)
            await asyncio.sleep(0.1)
        raise ValueError("processed")


    def scenario():
        return [["procs:journey", None, vm]]


    class Proc:
        def __init__(self, opts):
            assert opts["SCENARIO_SPEC"] == "procs:scenario"
            self.out = open("messages.jsonl", "w")

        def process_message(self, msg):
            self.out.write(json.dumps([msg["type"], msg.get("transaction")]) + "\\n")
            # mite 2.11's own logging processor did this, which cost the collector its fields.
            msg.pop("message", None)
            msg.pop("stacktrace", None)

        def close(self):
            self.out.write(json.dumps(["closed", None]) + "\\n")
            self.out.close()


    class RawProc:
        def __init__(self, opts):
            self.out = open("raw.bin", "wb")

        def process_raw_message(self, raw):
            self.out.write(raw)
            self.out.flush()
"""


def test_user_processors_see_every_message_and_the_defaults_still_work(tmp_path):
    write_module(tmp_path, "procs", PROCESSORS)
    processors = "mite.logoutput:HttpStatsOutput,mite.logoutput:MsgOutput,procs:Proc,procs:RawProc"
    argv = ["scenario", "test", "procs:scenario", f"--message-processors={processors}"]
    proc = run_mite([*argv, "--max-errors-threshold=100000", *FAST], cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr[-3000:]
    messages = collected(tmp_path)
    lines = [json.loads(line) for line in (tmp_path / "messages.jsonl").read_text().splitlines()]
    assert lines[-1] == ["closed", None]
    assert lines[:-1] == [[m["type"], m.get("transaction")] for m in messages]
    assert (tmp_path / "raw.bin").read_bytes() == (
        tmp_path / "collector_data" / "current"
    ).read_bytes()
    # Fields popped by a processor are still in the collected messages.
    exceptions = of_type(messages, "exception")
    assert exceptions and all(tuple(m) == LAYOUTS["exception"] for m in exceptions)
    # HttpStatsOutput: its periodic line; MsgOutput: the exceptions with their stack traces.
    assert "Total> #Reqs:0 #Errs:" in proc.stderr
    assert "[exception]" in proc.stderr and 'raise ValueError("processed")' in proc.stderr


# --- thresholds and the report ----------------------------------------------------------------

FAILING = """
    from mite.exceptions import MiteError


    async def journey(ctx):
        try:
            async with ctx.transaction("first"):
                raise MiteError("counted")
        except MiteError:
            pass
        async with ctx.transaction("second"):
            raise RuntimeError("counted too")
"""


@pytest.mark.parametrize("threshold, code", [(None, 1), ("1", 1), ("2", 0)])
def test_max_errors_threshold_sets_the_exit_status(tmp_path, threshold, code):
    write_module(tmp_path, "failing", FAILING)
    argv = ["journey", "run", "failing:journey", *FAST]
    if threshold is not None:
        argv.append(f"--max-errors-threshold={threshold}")
    proc = run_mite(argv, cwd=tmp_path)
    assert proc.returncode == code, proc.stderr[-3000:]
    assert "Traceback" not in proc.stderr
    lines = mite_lines(proc.stderr)
    if code:
        assert len(lines) == 1 and "Error count exceeded: 2" in lines[0], lines
    else:
        assert lines == []
    assert "MITE Benchmark Report" not in proc.stdout


def test_report_prints_the_table_to_stdout(tmp_path):
    write_module(tmp_path, "failing", FAILING)
    argv = ["journey", "run", "failing:journey", "--report", "--max-errors-threshold=5", *FAST]
    proc = run_mite(argv, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr[-3000:]
    out = proc.stdout
    assert "MITE Benchmark Report" in out
    for needle in ("Latency", "Req/Sec", "Std Dev", "Summary", "0 requests in"):
        assert needle in out, needle
    assert "MITE Benchmark Report" not in proc.stderr


# --- the runner ---------------------------------------------------------------------------------

LOOPING = """
    import asyncio
    from mite.scenario import StopVolumeModel


    def vm(start, end):
        if start >= 1:
            raise StopVolumeModel
        return 2


    async def journey(ctx):
        loops = 0
        while not ctx.should_stop:
            loops += 1
            await asyncio.sleep(0.05)
        ctx.send("stopped", loops=loops)


    def scenario():
        return [["looping:journey", None, vm]]
"""


def test_should_stop_tells_long_journeys_that_the_test_is_over(tmp_path):
    write_module(tmp_path, "looping", LOOPING)
    proc = run_mite(["scenario", "test", "looping:scenario", *FAST], cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr[-3000:]
    stopped = of_type(collected(tmp_path), "stopped")
    assert len(stopped) == 2
    assert all(m["loops"] >= 1 for m in stopped)


ROOT_ERRORS = """
    from mite.exceptions import MiteError


    async def inner():
        raise KeyError("k")


    async def plain(ctx):
        await inner()


    async def mite_error(ctx):
        raise MiteError("at the root", user="u1")


    async def make_fixture(ctx):
        return "fixture value"


    for journey in (plain, mite_error):
        journey._fixture = True
        journey._fixture_label = "f"
        journey._fixture_func = make_fixture
        journey._fixture_variable = "thing"


    async def plain_unfixtured(ctx):
        await inner()


    async def mite_error_unfixtured(ctx):
        raise MiteError("at the root", user="u1")
"""


@pytest.mark.parametrize("suffix", ["_unfixtured", ""], ids=["plain-journey", "fixture-journey"])
def test_errors_raised_at_the_root_of_a_journey(tmp_path, suffix):
    folder = tmp_path
    write_module(folder, "rooterr", ROOT_ERRORS)
    for journey in ("plain", "mite_error"):
        spec = f"rooterr:{journey}{suffix}"
        proc = run_mite(["journey", "run", spec, "--max-errors-threshold=1", *FAST], cwd=folder)
        assert proc.returncode == 0, proc.stderr[-3000:]
        messages = [m for m in collected(folder) if m["type"] != "controller_report"]
        report, root = messages
        assert (report["transaction"], report["transaction_id"]) == ("__root__", 1)
        assert (root["type"], root["transaction"], root["had_error"]) == ("txn", "__root__", True)
        assert tuple(root) == LAYOUTS["txn"]
        assert_ids(report, spec, spec)
        if journey == "plain":
            assert tuple(report) == LAYOUTS["exception"]
            assert (report["message"], report["ex_type"]) == ("KeyError: 'k'", "KeyError")
            assert (
                report["location"]
                == f"{folder / 'rooterr.py'}:{line_of(ROOT_ERRORS, 'raise KeyError')}:inner"
            )
            assert "in plain" in report["stacktrace"] and "in inner" in report["stacktrace"]
        else:
            assert tuple(report) == ("message", "ex_type", "location", "user", *TAIL_KEYS)
            assert report["message"] == "mite.exceptions.MiteError: at the root"
            assert report["user"] == "u1"
        shutil.rmtree(folder / "collector_data")


SYNC_WRAPPER = """
    async def real(ctx):
        ctx.send("wrapped")


    def journey(ctx):
        # A plain function returning the coroutine, as some decorators do; mite 2.11 awaits it.
        return real(ctx)
"""


def test_a_plain_function_returning_a_coroutine_is_a_journey(tmp_path):
    write_module(tmp_path, "syncwrap", SYNC_WRAPPER)
    proc = run_mite(["journey", "run", "syncwrap:journey", *FAST], cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert len(of_type(collected(tmp_path), "wrapped")) == 1


BROKEN_PROCESSOR = """
    async def journey(ctx):
        ctx.send("hello")


    class Broken:
        def __init__(self, opts):
            pass

        def process_message(self, msg):
            raise ValueError("processor broke")
"""


def test_a_failing_message_processor_gets_one_line(tmp_path):
    write_module(tmp_path, "brokenproc", BROKEN_PROCESSOR)
    argv = ["journey", "run", "brokenproc:journey", "--message-processors=brokenproc:Broken"]
    proc = run_mite([*argv, *FAST], cwd=tmp_path)
    assert_clean_failure(proc, 1, "brokenproc:Broken", "processor broke")
    assert of_type(collected(tmp_path), "hello")


DEBUGGING = """
    import sys


    def hook():
        with open("post_mortem.txt", "w") as f:
            f.write(repr(sys.exc_info()[1]))


    async def journey(ctx):
        async with ctx.transaction("t"):
            raise ValueError("debug me")
"""


def run_debugging(folder):
    write_module(folder, "debugged", DEBUGGING)
    env = clean_env(PYTHONPOSTMORTEM="debugged.hook")
    return run_mite(
        ["journey", "run", "debugged:journey", "--debugging", *FAST], cwd=folder, env=env
    )


def test_debugging_calls_the_post_mortem_hook_and_exits(tmp_path):
    proc = run_debugging(tmp_path)
    assert proc.returncode == 1, proc.stderr[-3000:]
    assert (tmp_path / "post_mortem.txt").read_text() == "ValueError('debug me')"


def test_debugging_exits_without_a_traceback(tmp_path):
    proc = run_debugging(tmp_path)
    assert proc.returncode == 1
    assert "Traceback" not in proc.stderr, proc.stderr[-3000:]


# --- bad input ----------------------------------------------------------------------------------

BAD = """
    from mite.scenario import StopVolumeModel


    def vm(start, end):
        if start >= 1:
            raise StopVolumeModel
        return 1


    def vm_raises(start, end):
        raise RuntimeError("vm broke")


    async def journey(ctx):
        pass


    def sync_journey(ctx):
        pass


    class BrokenPool:
        async def checkout(self, config):
            raise RuntimeError("pool broke")

        async def checkin(self, item_id):
            pass


    def missing_module():
        return [["no_such_module:journey", None, vm]]


    def missing_attribute():
        return [["bad:no_such_journey", None, vm]]


    def wrong_shape():
        return [["bad:journey", None]]


    def not_a_list():
        return 42


    def not_async():
        return [["bad:sync_journey", None, vm]]


    def volume_model_raises():
        return [["bad:journey", None, vm_raises]]


    def datapool_raises():
        return [["bad:journey", BrokenPool(), vm]]


    def unknown_parameter(config, colour):
        return [["bad:journey", None, vm]]


    def scenario_raises():
        raise RuntimeError("scenario broke")


    def generate():
        yield ["bad:journey", None, vm]
        raise RuntimeError("generator broke")


    def generator_raises():
        return generate()


    def volume_not_a_number():
        return [["bad:journey", None, lambda start, end: "many"]]


    async def needs_two(ctx, first, second):
        pass


    def wrong_arguments():
        return [["bad:needs_two", None, vm]]
"""

BAD_CASES = [
    (["scenario", "test", "no_such_module:scenario"], 2, ["no_such_module"]),
    (["scenario", "test", "bad:no_such_scenario"], 2, ["no_such_scenario"]),
    (["scenario", "test", "bad:missing_module"], 2, ["no_such_module"]),
    (["scenario", "test", "bad:missing_attribute"], 2, ["no_such_journey"]),
    (["scenario", "test", "bad:wrong_shape"], 2, ["bad:wrong_shape"]),
    (["scenario", "test", "bad:not_a_list"], 2, ["bad:not_a_list"]),
    # A plain function may return a coroutine (sync decorators do): known only once it is called.
    (["scenario", "test", "bad:not_async"], 1, ["bad:sync_journey", "async"]),
    (["scenario", "test", "bad:unknown_parameter"], 2, ["colour"]),
    (["journey", "run", "bad:no_such_journey"], 2, ["no_such_journey"]),
    (["journey", "run", "bad:journey", "bad:no_such_pool"], 2, ["no_such_pool"]),
    (["journey", "test", "bad:sync_journey"], 1, ["bad:sync_journey"]),
    (["scenario", "test", "bad:volume_model_raises"], 1, ["volume model", "vm broke"]),
    (["scenario", "test", "bad:datapool_raises"], 1, ["datapool", "pool broke"]),
    (["scenario", "test", "bad:scenario_raises"], 2, ["bad:scenario_raises", "scenario broke"]),
    (["scenario", "test", "bad:generator_raises"], 2, ["bad:generator_raises", "generator broke"]),
    (["scenario", "test", "bad:volume_not_a_number"], 1, ["volume model", "many"]),
]


@pytest.mark.parametrize(
    "argv, code, needles", BAD_CASES, ids=[" ".join(c[0][-1:]) for c in BAD_CASES]
)
def test_bad_input_gets_one_line_and_no_traceback(tmp_path, argv, code, needles):
    write_module(tmp_path, "bad", BAD)
    proc = run_mite([*argv, *FAST], cwd=tmp_path)
    assert_clean_failure(proc, code, *needles)
    if code == 2:
        # Found before the test started: nothing was collected.
        assert not (tmp_path / "collector_data").exists()


def test_a_journey_called_with_the_wrong_arguments_is_reported_and_the_run_goes_on(tmp_path):
    # As in mite 2.11: the TypeError of the call is the journey's `exception`, inside __root__.
    write_module(tmp_path, "bad", BAD)
    proc = run_mite(["scenario", "test", "bad:wrong_arguments", *FAST], cwd=tmp_path)
    assert proc.returncode == 1, proc.stderr[-3000:]
    assert "Traceback" not in proc.stderr
    exceptions = of_type(collected(tmp_path), "exception")
    assert exceptions
    assert all(e["ex_type"] == "TypeError" and "second" in e["message"] for e in exceptions)
    assert all(e["transaction"] == "__root__" for e in exceptions)


# --- interruption ---------------------------------------------------------------------------------

ENDLESS = """
    import asyncio


    def vm(start, end):
        return 4


    async def journey(ctx):
        async with ctx.transaction("t"):
            ctx.send("tick")
            await asyncio.sleep(0.05)


    def scenario():
        return [["endless:journey", None, vm]]
"""


def interrupt(folder, scenario_spec, signum=signal.SIGINT):
    """Runs `scenario test`, sends `signum` once something was collected; returns (code, stderr)."""
    current = folder / "collector_data" / "current"
    with open(folder / "stderr.txt", "w") as err:
        child = subprocess.Popen(
            [str(MITE), "scenario", "test", scenario_spec, *FAST],
            cwd=folder,
            env=clean_env(),
            stdout=subprocess.DEVNULL,
            stderr=err,
        )
        try:
            collecting = wait_for(lambda: current.exists() and current.stat().st_size > 0)
            assert collecting, "nothing was collected"
            child.send_signal(signum)
            child.wait(timeout=30)
        finally:
            if child.poll() is None:
                child.kill()
                child.wait()
    return child.returncode, (folder / "stderr.txt").read_text()


def test_sigint_stops_the_run_with_130_and_a_complete_collector_file(tmp_path):
    write_module(tmp_path, "endless", ENDLESS)
    code, stderr = interrupt(tmp_path, "endless:scenario")
    assert code == 130, stderr[-3000:]
    assert "Traceback" not in stderr
    messages = collected(tmp_path)  # fails on a torn last frame
    ticks = {m["context_id"] for m in of_type(messages, "tick")}
    roots = {m["context_id"] for m in of_type(messages, "txn") if m["transaction"] == "__root__"}
    assert ticks and ticks == roots, "a journey started but its end was not collected"
    assert of_type(messages, "controller_report")[-1]["num_runners"] == 0


def test_sigterm_stops_the_run_like_ctrl_c_with_143(tmp_path):
    write_module(tmp_path, "endless", ENDLESS)
    code, stderr = interrupt(tmp_path, "endless:scenario", signal.SIGTERM)
    assert code == 143, stderr[-3000:]
    assert "Traceback" not in stderr
    messages = collected(tmp_path)  # fails on a torn last frame
    ticks = {m["context_id"] for m in of_type(messages, "tick")}
    roots = {m["context_id"] for m in of_type(messages, "txn") if m["transaction"] == "__root__"}
    assert ticks and ticks == roots


SLEEPY = """
    import asyncio


    def vm(start, end):
        return 2


    async def journey(ctx):
        async with ctx.transaction("t"):
            ctx.send("sleeping")
            await asyncio.sleep(600)


    def scenario():
        return [["sleepy:journey", None, vm]]
"""


def test_journeys_still_running_after_the_grace_period_are_cancelled_and_recorded(tmp_path):
    # Takes the 5 s grace period: the journeys ignore should_stop.
    write_module(tmp_path, "sleepy", SLEEPY)
    code, stderr = interrupt(tmp_path, "sleepy:scenario")
    assert code == 130, stderr[-3000:]
    assert "Traceback" not in stderr
    messages = collected(tmp_path)
    started = {m["context_id"] for m in of_type(messages, "sleeping")}
    assert started
    for name in ("__root__ :: t", "__root__"):
        ended = [m for m in of_type(messages, "txn") if m["transaction"] == name]
        assert {m["context_id"] for m in ended} == started, name
        # A cancellation is not an error, as in mite 2.11 (CancelledError is no Exception).
        assert all(m["had_error"] is False for m in ended)
    assert of_type(messages, "exception") == []
    assert of_type(messages, "controller_report")[-1]["num_runners"] == 0


# --- the example from the README ----------------------------------------------------------------


def test_the_quickstart_example_runs_as_the_readme_says(tmp_path):
    shutil.copy(EXAMPLES / "quickstart.py", tmp_path / "quickstart.py")
    argv = ["scenario", "test", "quickstart:scenario", "--report", "--max-errors-threshold=1000"]
    proc = run_mite(argv, cwd=tmp_path, timeout=120)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "MITE Benchmark Report" in proc.stdout
    messages = collected(tmp_path)
    assert of_type(messages, "login_attempt") and of_type(messages, "page_view")
    errors = of_type(messages, "error")
    assert errors, "the example raises MiteError for every 50th user"
    assert all(
        m["message"] == "mite.exceptions.MiteError: basket was empty" and "user" in m
        for m in errors
    )


# --- a second Ctrl-C, the event loop, the working directory ------------------------------------

STUBBORN = """
    import asyncio

    import mite.cli.graceful

    # An hour's grace: only a second Ctrl-C can end this run within the test's time limit.
    mite.cli.graceful.GRACE_SECONDS = 3600


    def vm(start, end):
        return 2


    async def journey(ctx):
        async with ctx.transaction("t"):
            ctx.send("sleeping")
            await asyncio.sleep(600)


    def scenario():
        return [["stubborn:journey", None, vm]]
"""


def test_a_second_ctrl_c_cancels_the_running_journeys_at_once(tmp_path):
    write_module(tmp_path, "stubborn", STUBBORN)
    current = tmp_path / "collector_data" / "current"
    with open(tmp_path / "stderr.txt", "w") as err:
        child = subprocess.Popen(
            [str(MITE), "scenario", "test", "stubborn:scenario", *FAST], cwd=tmp_path,
            env=clean_env(), stdout=subprocess.DEVNULL, stderr=err,
        )
        try:
            assert wait_for(lambda: current.exists() and current.stat().st_size > 0), "no journey"
            child.send_signal(signal.SIGINT)
            assert wait_for(lambda: "Interrupted:" in (tmp_path / "stderr.txt").read_text()), (
                "the first Ctrl-C was not taken"
            )
            child.send_signal(signal.SIGINT)
            code = child.wait(timeout=60)
        finally:
            if child.poll() is None:
                child.kill()
                child.wait()
    stderr = (tmp_path / "stderr.txt").read_text()
    assert code == 130, stderr[-3000:]
    assert "Traceback" not in stderr
    messages = collected(tmp_path)
    started = {m["context_id"] for m in of_type(messages, "sleeping")}
    ended = {m["context_id"] for m in of_type(messages, "txn") if m["transaction"] == "__root__"}
    assert started and ended == started


LOOP_KIND = """
    import asyncio


    async def journey(ctx):
        ctx.send("loop", module=type(asyncio.get_running_loop()).__module__)
"""


@pytest.mark.parametrize("profile, module", [(None, "uvloop"), ("1", "asyncio")])
def test_journeys_run_on_uvloop_unless_mite_profile_is_1(tmp_path, profile, module):
    write_module(tmp_path, "loopkind", LOOP_KIND)
    env = clean_env()
    env.pop("MITE_PROFILE", None)
    if profile is not None:
        env["MITE_PROFILE"] = profile
    proc = run_mite(["journey", "run", "loopkind:journey", *FAST], cwd=tmp_path, env=env)
    assert proc.returncode == 0, proc.stderr[-3000:]
    (msg,) = of_type(collected(tmp_path), "loop")
    assert msg["module"].split(".")[0] == module, msg


def test_exclude_working_directory_leaves_the_folder_off_sys_path(tmp_path):
    write_module(tmp_path, "loopkind", LOOP_KIND)
    proc = run_mite(["journey", "run", "loopkind:journey", *FAST], cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr[-3000:]
    argv = ["journey", "run", "loopkind:journey", "--exclude-working-directory", *FAST]
    assert_clean_failure(run_mite(argv, cwd=tmp_path), 2, "loopkind")


# --- every threshold option, end to end ---------------------------------------------------------

TIMED = """
    async def journey(ctx):
        # Four responses of 100, 200, 300 and 400 ms, as @mite_http reports them.
        for t in (0.1, 0.2, 0.3, 0.4):
            ctx.send("http_metrics", total_time=t, response_code=200, download_size=10.0)
"""


@pytest.mark.parametrize(
    "option, broken",
    [
        ("--max-response-time-threshold=300", "Max response time exceeded: 400.0ms"),
        ("--max-response-time-threshold=500", None),
        ("--mean-response-time-threshold=200", "Mean response time exceeded: 250.0ms"),
        ("--mean-response-time-threshold=300", None),
        ("--standard-deviation-response-time-threshold=100",
         "Response time standard deviation exceeded: "),
        ("--standard-deviation-response-time-threshold=200", None),
        # One burst of requests: the per-second rates do not vary more than this.
        ("--standard-deviation-req-sec-threshold=1000000", None),
    ],
)
def test_each_threshold_sets_the_exit_status(tmp_path, option, broken):
    write_module(tmp_path, "timed", TIMED)
    proc = run_mite(["journey", "run", "timed:journey", option, *FAST], cwd=tmp_path)
    assert "Traceback" not in proc.stderr
    lines = mite_lines(proc.stderr)
    if broken is None:
        assert proc.returncode == 0, proc.stderr[-3000:]
        assert lines == []
    else:
        assert proc.returncode == 1, proc.stderr[-3000:]
        assert len(lines) == 1 and lines[0].startswith("mite: test failed: "), lines
        assert broken in lines[0], lines


TWO_RATES = """
    import asyncio
    from pathlib import Path


    async def journey(ctx):
        # 200 requests in the first period; one more only after that period was reported (the
        # test touches `next` once the console printed it): two periods, two rates far apart.
        for _ in range(200):
            ctx.send("http_metrics", total_time=0.1, response_code=200, download_size=10.0)
        for _ in range(2400):
            if Path("next").exists():
                break
            await asyncio.sleep(0.05)
        ctx.send("http_metrics", total_time=0.1, response_code=200, download_size=10.0)
"""


def run_past_a_report(folder, spec, argv, reported):
    """`mite journey run SPEC ARGV` whose journey waits for a file `next`: touched once stderr
    holds `reported` (a period's console output). Returns (exit status, stderr)."""
    err_path = folder / "stderr.txt"
    with open(err_path, "w") as err:
        child = subprocess.Popen([str(MITE), "journey", "run", spec, *argv, *FAST], cwd=folder,
                                 env=clean_env(), stdout=subprocess.DEVNULL, stderr=err)  # fmt: skip
        try:
            seen = wait_for(lambda: reported in err_path.read_text(), timeout=120)
            assert seen, err_path.read_text()[-3000:]
            (folder / "next").touch()
            child.wait(timeout=120)
        finally:
            if child.poll() is None:
                child.kill()
                child.wait()
    return child.returncode, err_path.read_text()


def test_the_req_sec_threshold_breaks_on_rates_that_vary(tmp_path):
    # statistics.stdev([200 / t1, 1 / t2]) with t1, t2 >= the 2 s period is at least ~70,
    # however slow the machine; a threshold of 1 request per second breaks.
    write_module(tmp_path, "tworates", TWO_RATES)
    code, stderr = run_past_a_report(tmp_path, "tworates:journey",
                                     ["--standard-deviation-req-sec-threshold=1"],
                                     "Total> #Reqs:200 ")  # fmt: skip
    assert code == 1, stderr[-3000:]
    lines = mite_lines(stderr)
    assert len(lines) == 1 and "Request per second exceeded: " in lines[0], lines
    assert float(lines[0].rsplit(": ", 1)[1]) > 1


ONE_ERROR = """
    import asyncio
    from pathlib import Path


    async def journey(ctx):
        ctx.send("error", message="on purpose")
        for _ in range(2400):
            if Path("next").exists():
                break
            await asyncio.sleep(0.05)
"""


def test_hide_constant_logs_leaves_only_the_journey_error_lines(tmp_path):
    write_module(tmp_path, "oneerror", ONE_ERROR)
    argv = ["--journey-logging", "--hide-constant-logs", "--max-errors-threshold=1"]
    code, stderr = run_past_a_report(tmp_path, "oneerror:journey", argv, "Total errors for ")
    assert code == 0, stderr[-3000:]
    assert "Total errors for oneerror:journey :1" in stderr
    assert "Total>" not in stderr and "Secs>" not in stderr, stderr[-3000:]


@pytest.mark.parametrize("report, code", [(True, 1), (False, 0)])
def test_benchmark_percentiles_break_the_test_only_with_the_report(tmp_path, report, code):
    # As in mite 2.11: percentile thresholds are checked when the report is printed.
    write_module(tmp_path, "timed", TIMED)
    argv = ["journey", "run", "timed:journey", "--benchmark-percentiles=50:100,99:1000", *FAST]
    proc = run_mite([*argv, "--report"] if report else argv, cwd=tmp_path)
    assert proc.returncode == code, proc.stderr[-3000:]
    lines = mite_lines(proc.stderr)
    if report:
        assert "MITE Benchmark Report" in proc.stdout
        assert len(lines) == 1 and "Response time at 50th percentile exceeded 100ms" in lines[0]
        assert "99th" not in lines[0], lines
    else:
        assert lines == []
