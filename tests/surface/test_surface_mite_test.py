"""mite.test: `run_single_journey` and `http_spy` with `@mite_http` journeys on the native engine,
against a loopback HTTP server; the same script under mite 2.11.0 gives the same result; the
examples' mite.test unit tests pass."""

import asyncio
import json
import os
import shutil
import subprocess
import sys

import msgpack
import pytest
from surface_testlog_support import (
    OURS_MITE,
    OURS_PYTHON,
    REPO,
    TIMEOUT,
    HttpTarget,
    free_port,
    require_reference,
    run_script,
)

import mite.test
from mite.datapools import IterableDataPool
from mite.test import http_spy, run_single_journey
from mite_http import mite_http


@pytest.fixture(scope="module")
def target():
    with HttpTarget() as t:
        yield t.url


@mite_http
async def shop(ctx, item=7):
    base = ctx.config["target"]
    async with ctx.transaction("shop"):
        await ctx.http.get(f"{base}/item/{item}")
        await ctx.http.post(f"{base}/basket", json={"item": item})
        await ctx.http.put(f"{base}/basket/1", json={"n": 2})
        await ctx.http.patch(f"{base}/basket/1", json={"n": 3})
        await ctx.http.delete(f"{base}/basket/1")
        await ctx.http.head(f"{base}/item/{item}")
    ctx.send("shopped", item=item)
    return {"from_journey": item}


def test_module_exports_2_11s_names():
    assert {"http_spy", "run_single_journey"} <= set(dir(mite.test))
    assert {"_InterceptHttp", "_NewHttp"} <= set(dir(mite.test))


def test_http_spy_records_each_method_response(target):
    result = asyncio.run(run_single_journey({"target": target}, http_spy(shop)))
    http = result["http"]
    assert sorted(http) == ["delete", "get", "patch", "post", "put"]  # head is not spied, as in 2.11
    assert [r.url for r in http["get"]] == [f"{target}/item/7"]
    assert [r.json() for r in http["post"]] == [{"item": 7}]
    assert [r.status_code for r in http["put"] + http["patch"]] == [201, 201]
    assert http["delete"][0].json() == {"deleted": "/basket/1"}
    # The spy's result replaces the journey's own; messages are (message, {}) pairs.
    assert "from_journey" not in result
    assert all(kwargs == {} for _, kwargs in result["messages"])
    types = [m["type"] for m, _ in result["messages"]]
    assert types == ["http_metrics"] * 6 + ["txn", "shopped"]


def test_run_single_journey_without_spy_keeps_the_journeys_result(target):
    result = asyncio.run(run_single_journey({"target": target}, shop))
    assert result["from_journey"] == 7
    metrics = [m for m, _ in result["messages"] if m["type"] == "http_metrics"]
    assert [m["method"] for m in metrics] == [b"GET", b"POST", b"PUT", b"PATCH", b"DELETE", b"HEAD"]
    assert {m["transaction"] for m in metrics} == {"shop"}
    assert list(metrics[0])[-4:] == ["type", "time", "transaction", "transaction_id"]


def test_a_none_result_becomes_a_dict_of_messages():
    async def quiet(ctx):
        ctx.send("hello", n=1)

    result = asyncio.run(run_single_journey({}, quiet))
    assert list(result) == ["messages"]
    (msg, kwargs), = result["messages"]
    assert (msg["type"], msg["n"], kwargs) == ("hello", 1, {})


def test_datapool_item_data_are_the_journeys_arguments(target):
    seen = []

    class ConfigAwarePool:
        async def checkout(self, config):
            seen.append(config)
            return await IterableDataPool([(11,)]).checkout(config)

    class OldStylePool:
        # A datapool written for 2.11's `checkout()` call, which passed no config.
        async def checkout(self):
            return await IterableDataPool([(12,)]).checkout(None)

    config = {"target": target}
    first = asyncio.run(run_single_journey(config, http_spy(shop), ConfigAwarePool()))
    second = asyncio.run(run_single_journey(config, http_spy(shop), OldStylePool()))
    assert seen == [config]
    assert first["http"]["get"][0].url.endswith("/item/11")
    assert second["http"]["get"][0].url.endswith("/item/12")


def test_the_spy_passes_other_attributes_through_to_the_context(target):
    @mite_http
    async def tagging(ctx):
        ctx.tag = "set by the journey"
        assert ctx.config["target"] == target
        ctx.http.additional_metrics = {"extra": 1}
        await ctx.http.get(f"{target}/item/1")

    class Ctx:
        def __init__(self):
            self.config = {"target": target}
            self.sent = []

        def send(self, msg_type, **fields):
            self.sent.append((msg_type, fields))

    ctx = Ctx()
    result = asyncio.run(http_spy(tagging)(ctx))
    assert ctx.tag == "set by the journey"
    assert len(result["http"]["get"]) == 1
    assert [t for t, _ in ctx.sent] == ["http_metrics"]
    assert ctx.sent[0][1]["extra"] == 1
    assert not hasattr(ctx, "http")


def test_a_failing_journey_raises_through_the_spy(target):
    @mite_http
    async def failing(ctx):
        await ctx.http.get(f"{target}/item/1")
        raise ValueError("journey failed")

    with pytest.raises(ValueError, match="journey failed"):
        asyncio.run(run_single_journey({"target": target}, http_spy(failing)))


COMPARE = """
    import asyncio, json, sys
    from mite_http import mite_http
    from mite.test import http_spy, run_single_journey

    @mite_http
    async def journey(ctx):
        base = ctx.config["target"]
        async with ctx.transaction("t"):
            await ctx.http.get(base + "/item/3")
            await ctx.http.post(base + "/basket", json={"a": 1})
            ctx.send("mine", v=1)
        return {"extra": 5}

    config = {"target": sys.argv[1]}
    spied = asyncio.run(run_single_journey(config, http_spy(journey)))
    plain = asyncio.run(run_single_journey(config, journey))
    print(json.dumps({
        "spied_keys": sorted(spied),
        "http": {k: [[r.status_code, r.json()] for r in v] for k, v in spied["http"].items()},
        "http_type": type(spied["http"]).__name__,
        "messages": [[sorted(m), kw] for m, kw in spied["messages"]],
        "plain_keys": sorted(plain),
        "plain_extra": plain["extra"],
    }))
"""


def test_same_result_as_mite_2_11(target, tmp_path):
    ref = require_reference()
    outs = []
    for python in (OURS_PYTHON, ref):
        proc = run_script(python, COMPARE, tmp_path, [target])
        assert proc.returncode == 0, proc.stderr[-2000:]
        outs.append(json.loads(proc.stdout))
    assert outs[0] == outs[1]
    assert outs[0]["http"]["post"] == [[201, {"a": 1}]]


def test_the_mite_test_example_unit_tests_pass(tmp_path):
    examples = REPO / "examples"
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-o", "addopts=",
         "--rootdir", str(examples), "-c", "/dev/null", "mite_test_example_test.py"],
        cwd=examples,
        capture_output=True,
        text=True,
        timeout=TIMEOUT * 3,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-2000:]
    assert "3 passed" in proc.stdout


def test_the_example_journey_runs_under_mite(tmp_path):
    examples = REPO / "examples"
    shutil.copy(examples / "mite_test_example.py", tmp_path)
    port = free_port()
    target = subprocess.Popen(
        [sys.executable, str(examples / "target_server.py"), str(port)], stdout=subprocess.PIPE
    )
    try:
        assert target.stdout.readline().startswith(b"target listening")
        proc = subprocess.run(
            [OURS_MITE, "journey", "run", "mite_test_example:buy", "mite_test_example:products"],
            cwd=tmp_path, capture_output=True, text=True, timeout=TIMEOUT * 2,
            stdin=subprocess.DEVNULL,
            env={**os.environ, "MITE_CONF_target": f"http://127.0.0.1:{port}"},
        )  # fmt: skip
    finally:
        target.terminate()
        target.wait(TIMEOUT)
    assert proc.returncode == 0, proc.stderr[-3000:]
    unpacker = msgpack.Unpacker(raw=False, use_list=False, strict_map_key=False)
    unpacker.feed((tmp_path / "collector_data" / "current").read_bytes())
    messages = list(unpacker)
    added = [m for m in messages if m["type"] == "basket_added"]
    assert [(m["product"], m["status"]) for m in added] == [(1, 201)]
    assert [m["method"] for m in messages if m["type"] == "http_metrics"] == [b"GET", b"POST"]
