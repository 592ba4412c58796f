"""mite.example is the documented scenario: same journey, datapool and volume model as mite 2.11."""

import asyncio
import contextlib
from types import SimpleNamespace

from mite import example
from mite.datapools import DataPoolItem, RecyclableIterableDataPool


class RecordingContext:
    def __init__(self, config):
        self.config = config
        self.events = []

    def send(self, type, **fields):
        self.events.append(("send", type, fields))

    @contextlib.asynccontextmanager
    async def transaction(self, name):
        self.events.append(("enter", name))
        yield
        self.events.append(("exit", name))


def test_scenario_shape():
    ((spec, datapool, volumemodel),) = example.scenario()
    assert spec == "mite.example:journey"
    assert datapool is example.datapool
    assert isinstance(datapool, RecyclableIterableDataPool)
    assert volumemodel(0, 1) == 10 and volumemodel(5000, 5001) == 10


def test_datapool_holds_5000_pairs_with_ids_from_zero():
    pool = example.datapool

    async def drain_and_return():
        items = [await pool.checkout(None) for _ in range(5000)]
        for item in items:
            await pool.checkin(item.id)
        return items

    items = asyncio.run(drain_and_return())
    assert items == [DataPoolItem(i, (i, i + 2)) for i in range(5000)]


def test_journey_sends_the_configured_message_inside_test1(monkeypatch):
    slept = []

    async def fake_sleep(delay):
        slept.append(delay)

    monkeypatch.setattr(example, "asyncio", SimpleNamespace(sleep=fake_sleep))
    ctx = RecordingContext({"test_msg": "hi"})
    asyncio.run(example.journey(ctx, 1, 3))
    assert ctx.events == [
        ("enter", "test1"),
        ("send", "test_message", {"content": "hi"}),
        ("exit", "test1"),
    ]
    assert slept == [0.5]

    ctx = RecordingContext({})
    asyncio.run(example.journey(ctx, 1, 3))
    assert ctx.events[1] == ("send", "test_message", {"content": "Not set"})
