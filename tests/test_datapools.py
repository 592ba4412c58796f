"""The built-in datapools hand out and take back items as mite 2.11's do."""

import asyncio
import logging

import pytest

from mite.datapools import (
    DataPoolExhausted,
    DataPoolItem,
    IterableDataPool,
    RecyclableIterableDataPool,
    SingleRunDataPool,
    SingleRunDataPoolWrapper,
    iterable_datapool,
    recyclable_iterable_datapool,
)


def run_without_suspending(coro):
    """Drive a coroutine the way the runtime's fast path does: one send(None), no event loop."""
    try:
        coro.send(None)
    except StopIteration as done:
        return done.value
    coro.close()
    raise AssertionError("the coroutine suspended")


def checkout_all(pool, n):
    return [run_without_suspending(pool.checkout(None)) for _ in range(n)]


def failing_generator():
    raise RuntimeError("oops")
    yield None


class TestRecyclableIterableDataPool:
    def test_ids_are_positions_from_zero(self):
        pool = RecyclableIterableDataPool("abc")
        assert checkout_all(pool, 3) == [
            DataPoolItem(0, "a"),
            DataPoolItem(1, "b"),
            DataPoolItem(2, "c"),
        ]

    def test_raises_when_everything_is_checked_out(self):
        pool = RecyclableIterableDataPool("ab")
        checkout_all(pool, 2)
        with pytest.raises(Exception, match="^Recyclable iterable datapool was emptied!$"):
            run_without_suspending(pool.checkout(None))

    def test_checked_in_items_come_back_in_checkin_order(self):
        pool = RecyclableIterableDataPool("abcd")
        a, b, c, d = checkout_all(pool, 4)
        run_without_suspending(pool.checkin(c.id))
        run_without_suspending(pool.checkin(a.id))
        assert checkout_all(pool, 2) == [c, a]

    def test_recycles_forever(self):
        async def scenario():
            pool = RecyclableIterableDataPool("abcdefgh")
            seen = []
            for _ in range(8 * 20):
                item = await pool.checkout(None)
                seen.append(item.data)
                await pool.checkin(item.id)
            return seen, (await pool.checkout(None)).data

        seen, next_data = asyncio.run(scenario())
        assert "".join(seen) == "abcdefgh" * 20
        assert next_data == "a"

    def test_does_not_read_the_iterable_until_first_checkout(self):
        pool = RecyclableIterableDataPool(failing_generator())
        with pytest.raises(RuntimeError, match="oops"):
            run_without_suspending(pool.checkout(None))

    def test_checkin_before_any_checkout_is_logged_and_ignored(self, caplog):
        pool = RecyclableIterableDataPool("ab")
        with caplog.at_level(logging.ERROR, logger="mite.datapools"):
            run_without_suspending(pool.checkin(7))
        assert "before the datapool was initialized" in caplog.text
        assert checkout_all(pool, 2) == [DataPoolItem(0, "a"), DataPoolItem(1, "b")]


class TestIterableDataPool:
    def test_ids_count_from_one(self):
        pool = IterableDataPool(x * 10 for x in range(3))
        assert checkout_all(pool, 3) == [
            DataPoolItem(1, 0),
            DataPoolItem(2, 10),
            DataPoolItem(3, 20),
        ]

    def test_raises_exhausted_after_the_last_item_even_with_checkins(self):
        async def scenario():
            pool = IterableDataPool("abcdefgh")
            for _ in range(8):
                item = await pool.checkout(None)
                await pool.checkin(item.id)
            await pool.checkout(None)

        with pytest.raises(DataPoolExhausted):
            asyncio.run(scenario())

    def test_keeps_raising_once_exhausted(self):
        pool = IterableDataPool([])
        for _ in range(2):
            with pytest.raises(DataPoolExhausted):
                run_without_suspending(pool.checkout(None))

    def test_does_not_consume_a_generator_until_checkout(self):
        pool = IterableDataPool(failing_generator())
        with pytest.raises(RuntimeError, match="oops"):
            run_without_suspending(pool.checkout(None))


def test_exhausted_is_not_an_exception_subclass():
    # mite 2.11 makes it a BaseException so `except Exception` does not swallow it.
    assert issubclass(DataPoolExhausted, BaseException)
    assert not issubclass(DataPoolExhausted, Exception)


def test_decorators_build_pools_from_generator_functions():
    @iterable_datapool
    def once():
        yield from ("x", "y")

    @recyclable_iterable_datapool
    def again():
        yield ("a", 1)

    assert isinstance(once, IterableDataPool)
    assert isinstance(again, RecyclableIterableDataPool)
    assert checkout_all(once, 2) == [DataPoolItem(1, "x"), DataPoolItem(2, "y")]
    assert checkout_all(again, 1) == [DataPoolItem(0, ("a", 1))]


class TestSingleRunDataPool:
    def test_hands_out_one_wrapped_item_then_is_exhausted(self):
        pool = SingleRunDataPool({"user": "u1"})
        assert run_without_suspending(pool.checkout(None)) == DataPoolItem(1, ({"user": "u1"},))
        run_without_suspending(pool.checkin(1))
        with pytest.raises(DataPoolExhausted):
            run_without_suspending(pool.checkout(None))


class TestSingleRunDataPoolWrapper:
    def test_passes_the_first_checkout_through_only(self):
        pool = SingleRunDataPoolWrapper(IterableDataPool("xyz"))
        assert run_without_suspending(pool.checkout(None)) == DataPoolItem(1, "x")
        with pytest.raises(DataPoolExhausted):
            run_without_suspending(pool.checkout(None))

    def test_awaits_a_wrapped_pool_that_suspends(self):
        class SlowPool:
            async def checkout(self, config):
                await asyncio.sleep(0)
                return DataPoolItem(42, (config,))

        async def scenario():
            pool = SingleRunDataPoolWrapper(SlowPool())
            return await pool.checkout("cfg")

        assert asyncio.run(scenario()) == DataPoolItem(42, ("cfg",))
