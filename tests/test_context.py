"""`mite.context.Context`: message layout, nested and concurrent transactions, error reports."""

import asyncio
import inspect
import traceback

import pytest

from mite.context import Context
from mite.exceptions import MiteError

ID_DATA = {
    "test": "pkg.mod:scenario",
    "runner_id": 3,
    "journey": "pkg.mod:journey",
    "context_id": 11,
    "scenario_id": 2,
    "scenario_data_id": 40,
}
TAIL = ("type", "time", *ID_DATA, "transaction", "transaction_id")


class Recorder:
    """A send_fn that keeps what it is given."""

    def __init__(self):
        self.messages = []

    def __call__(self, msg):
        self.messages.append(msg)

    def types(self):
        return [m["type"] for m in self.messages]


def make(id_data=None, **kwargs):
    sent = Recorder()
    return Context(sent, {"k": "v"}, id_data=id_data, **kwargs), sent


def run(coro):
    return asyncio.run(coro)


class Boom(Exception):
    pass


def raise_here(exc_type=Boom):
    """Raises with the line number of the raise as the exception's argument."""
    line = inspect.currentframe().f_lineno + 1
    raise exc_type(line)


# --- send -------------------------------------------------------------------------------------


def test_send_puts_fields_first_then_type_time_ids_and_transaction():
    ctx, sent = make(dict(ID_DATA))
    ctx.send("hello", b=2, a="x", c=None)
    (msg,) = sent.messages
    assert tuple(msg) == ("b", "a", "c", *TAIL)
    assert msg["b"] == 2 and msg["a"] == "x" and msg["c"] is None
    assert msg["type"] == "hello"
    assert isinstance(msg["time"], float)
    for key, value in ID_DATA.items():
        assert msg[key] == value
    assert msg["transaction"] is None and msg["transaction_id"] is None


def test_send_without_id_data_has_only_type_time_and_transaction():
    ctx, sent = make()
    ctx.send("bare")
    (msg,) = sent.messages
    assert tuple(msg) == ("type", "time", "transaction", "transaction_id")


def test_send_inside_a_transaction_names_it_and_ignores_a_transaction_field():
    ctx, sent = make({"id": "hello"})

    async def journey():
        async with ctx.transaction("xyz"):
            ctx.send("foo", bar="quux", transaction="not this")

    run(journey())
    msg = sent.messages[0]
    assert msg == {
        "bar": "quux",
        "transaction": "xyz",
        "type": "foo",
        "time": msg["time"],
        "id": "hello",
        "transaction_id": 1,
    }
    # The user's `transaction` key keeps its place; its value is the active transaction's.
    assert tuple(msg) == ("bar", "transaction", "type", "time", "id", "transaction_id")


def test_id_data_wins_over_a_field_of_the_same_name():
    ctx, sent = make({"runner_id": 9})
    ctx.send("m", runner_id="mine", other=1)
    (msg,) = sent.messages
    assert msg["runner_id"] == 9
    assert tuple(msg) == ("runner_id", "other", "type", "time", "transaction", "transaction_id")


def test_send_passes_values_through_as_given():
    ctx, sent = make()
    payload = {"nested": [1, 2.5, "three"], "n": None}
    ctx.send("m", payload=payload, flag=True)
    msg = sent.messages[0]
    assert msg["payload"] == payload
    assert msg["flag"] is True


# --- transactions -----------------------------------------------------------------------------


def test_nested_transactions_join_names_and_close_inner_first():
    ctx, sent = make()
    seen = []

    async def journey():
        assert ctx._active_transaction == (None, None)
        async with ctx.transaction("a"):
            seen.append(ctx._active_transaction)
            async with ctx.transaction("b"):
                seen.append(ctx._active_transaction)
                async with ctx.transaction("c"):
                    seen.append(ctx._active_transaction)
            seen.append(ctx._active_transaction)
        seen.append(ctx._active_transaction)

    run(journey())
    assert [tuple(s) for s in seen] == [
        ("a", 1),
        ("a :: b", 2),
        ("a :: b :: c", 3),
        ("a", 1),
        (None, None),
    ]
    assert [(m["type"], m["transaction"], m["transaction_id"]) for m in sent.messages] == [
        ("txn", "a :: b :: c", 3),
        ("txn", "a :: b", 2),
        ("txn", "a", 1),
    ]


def test_transaction_ids_count_from_one_per_context():
    first, sent_first = make()
    second, sent_second = make()

    async def journey(ctx):
        for name in ("x", "y", "z"):
            async with ctx.transaction(name):
                ctx.send("inside")

    run(journey(first))
    run(journey(second))
    run(journey(first))
    ids = [m["transaction_id"] for m in sent_first.messages if m["type"] == "inside"]
    assert ids == [1, 2, 3, 4, 5, 6]
    assert [m["transaction_id"] for m in sent_second.messages if m["type"] == "inside"] == [1, 2, 3]


def test_concurrent_tasks_in_one_journey_keep_their_own_transaction():
    ctx, sent = make()
    observed = {}

    async def worker(label, mine, other):
        async with ctx.transaction(label):
            mine.set()
            # Both transactions are now open at once; each task must still see its own.
            await other.wait()
            observed[label] = ctx._active_transaction
            ctx.send("step", label=label)

    async def journey():
        async with ctx.transaction("root"):
            a, b = asyncio.Event(), asyncio.Event()
            await asyncio.gather(worker("A", a, b), worker("B", b, a))
            ctx.send("after")

    run(journey())
    assert tuple(observed["A"])[0] == "root :: A"
    assert tuple(observed["B"])[0] == "root :: B"
    assert observed["A"][1] != observed["B"][1]
    steps = {m["label"]: m["transaction"] for m in sent.messages if m["type"] == "step"}
    assert steps == {"A": "root :: A", "B": "root :: B"}
    (after,) = [m for m in sent.messages if m["type"] == "after"]
    assert (after["transaction"], after["transaction_id"]) == ("root", 1)
    assert sorted(m["transaction_id"] for m in sent.messages if m["type"] == "txn") == [1, 2, 3]


def test_txn_message_fields_and_types():
    ctx, sent = make(dict(ID_DATA))

    async def journey():
        async with ctx.transaction("t"):
            pass

    run(journey())
    (msg,) = sent.messages
    assert tuple(msg) == ("start_time", "end_time", "had_error", *TAIL)
    assert msg["type"] == "txn"
    assert isinstance(msg["start_time"], float) and isinstance(msg["end_time"], float)
    assert msg["start_time"] <= msg["end_time"] <= msg["time"]
    assert msg["had_error"] is False
    assert (msg["transaction"], msg["transaction_id"]) == ("t", 1)


# --- errors -----------------------------------------------------------------------------------


def test_mite_error_sends_error_with_its_fields_then_txn():
    ctx, sent = make(dict(ID_DATA))
    raised = []

    async def journey():
        async with ctx.transaction("t"):
            line = inspect.currentframe().f_lineno + 1
            raised.append(line)
            raise MiteError("oops", code=7, where="here")

    with pytest.raises(MiteError) as info:
        run(journey())
    error, txn = sent.messages
    assert tuple(error) == ("message", "ex_type", "location", "code", "where", *TAIL)
    assert error["type"] == "error"
    assert error["message"] == "mite.exceptions.MiteError: oops"
    assert error["ex_type"] == "MiteError"
    assert error["location"] == f"{__file__}:{raised[0] + 1}:journey"
    assert (error["code"], error["where"]) == (7, "here")
    assert "stacktrace" not in error
    assert (error["transaction"], error["transaction_id"]) == ("t", 1)
    assert txn["type"] == "txn" and txn["had_error"] is True
    assert info.value.handled is True


def test_other_exception_sends_exception_with_stacktrace_of_the_innermost_frame():
    ctx, sent = make(dict(ID_DATA))

    async def journey():
        async with ctx.transaction("t"):
            raise_here()

    with pytest.raises(Boom) as info:
        run(journey())
    exc = info.value
    line = exc.args[0]
    report, txn = sent.messages
    assert tuple(report) == ("message", "ex_type", "location", "stacktrace", *TAIL)
    assert report["type"] == "exception"
    assert report["message"] == f"{__name__}.Boom: {line}"
    assert report["ex_type"] == "Boom"
    assert report["location"] == f"{__file__}:{line}:raise_here"
    stacktrace = report["stacktrace"]
    assert isinstance(stacktrace, str)
    assert stacktrace.endswith(traceback.format_tb(exc.__traceback__)[-1])
    assert "in journey" in stacktrace and "raise exc_type(line)" in stacktrace
    assert txn["type"] == "txn" and txn["had_error"] is True
    assert exc.handled is True


def test_builtin_exception_message_is_not_qualified():
    ctx, sent = make()

    async def journey():
        async with ctx.transaction("t"):
            raise ValueError("kaboom")

    with pytest.raises(ValueError):
        run(journey())
    assert sent.messages[0]["message"] == "ValueError: kaboom"
    assert sent.messages[0]["ex_type"] == "ValueError"


def test_a_handled_exception_is_reported_once_and_reraised_untouched():
    ctx, sent = make()
    inner_exc = []

    async def journey():
        async with ctx.transaction("outer"):
            try:
                async with ctx.transaction("inner"):
                    raise_here()
            except Boom as e:
                inner_exc.append((e, dict(vars(e))))
                raise

    with pytest.raises(Boom) as info:
        run(journey())
    assert info.value is inner_exc[0][0]
    assert vars(info.value) == inner_exc[0][1] == {"handled": True}
    assert sent.types() == ["exception", "txn", "txn"]
    assert sent.messages[0]["transaction"] == "outer :: inner"
    assert [m["had_error"] for m in sent.messages[1:]] == [True, True]


def test_an_exception_that_already_has_handled_is_not_reported_even_if_false():
    ctx, sent = make()
    exc = Boom("pre-marked")
    exc.handled = False

    async def journey():
        async with ctx.transaction("t"):
            raise exc

    with pytest.raises(Boom) as info:
        run(journey())
    assert info.value is exc and exc.handled is False
    assert sent.types() == ["txn"]
    assert sent.messages[0]["had_error"] is True


def test_cancellation_is_not_an_error():
    ctx, sent = make()

    async def journey():
        async with ctx.transaction("t"):
            raise asyncio.CancelledError()

    with pytest.raises(asyncio.CancelledError):
        run(journey())
    assert sent.types() == ["txn"]
    assert sent.messages[0]["had_error"] is False


def test_exception_outside_any_transaction_is_not_reported():
    ctx, sent = make()

    async def journey():
        async with ctx.transaction("t"):
            pass
        raise Boom("after")

    with pytest.raises(Boom) as info:
        run(journey())
    assert sent.types() == ["txn"]
    assert not hasattr(info.value, "handled")


# --- attributes, should_stop, config ----------------------------------------------------------


def test_arbitrary_attributes_can_be_set_read_and_deleted():
    ctx, _ = make()
    session = object()
    ctx.http = session
    assert ctx.http is session
    ctx.browser = "b"
    assert ctx.browser == "b"
    del ctx.http
    assert not hasattr(ctx, "http")
    with pytest.raises(AttributeError):
        ctx.http  # noqa: B018
    assert ctx.browser == "b"


def test_should_stop_follows_the_callable():
    flag = []
    ctx, _ = make(should_stop_func=lambda: bool(flag))
    assert ctx.should_stop is False
    flag.append(1)
    assert ctx.should_stop is True


def test_should_stop_is_false_without_a_callable():
    ctx, _ = make()
    assert ctx.should_stop is False


def test_config_is_the_object_given():
    config = {"a": 1}
    ctx = Context(Recorder(), config)
    assert ctx.config is config
    config["b"] = 2
    assert ctx.config.get("b") == 2


def test_positional_arguments_follow_mite_211():
    sent = Recorder()
    ctx = Context(sent, {}, {"id": 1}, lambda: True, False)
    assert ctx.should_stop is True
    ctx.send("m")
    assert sent.messages[0]["id"] == 1
