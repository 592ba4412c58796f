"""The built-in datapools: where a scenario's journeys get their arguments from."""

import logging
from collections import deque, namedtuple

logger = logging.getLogger(__name__)

DataPoolItem = namedtuple("DataPoolItem", ["id", "data"])


# A BaseException, as in mite 2.11, so that a generic `except Exception` in a
# user's wrapping datapool cannot swallow the end-of-data signal.
class DataPoolExhausted(BaseException):
    """Raised by `checkout` when the pool will never hand out another item."""


class DataPoolEmptied(Exception):
    """A recyclable pool has no item free now (every one is checked out). An `Exception`
    with mite 2.11's message, so code that caught that still does; an arrival-rate scenario's
    journeys that find the pool empty are dropped and counted instead of failing the run."""


class RecyclableIterableDataPool:
    """Hands out the items of an iterable, each to one journey at a time, forever.

    Item ids are the items' positions, counting from 0 as mite 2.11 does.
    The iterable is only read on the first checkout, so building the pool at
    import time costs nothing and a failing generator fails inside the test.
    """

    def __init__(self, iterable):
        self._data = iterable
        self._initialized = False
        self._available = None

    def _initialize_once(self):
        if self._initialized:
            return
        self._data = tuple(self._data)
        self._available = deque(range(len(self._data)))
        self._initialized = True

    async def checkout(self, config):
        self._initialize_once()
        if not self._available:
            raise DataPoolEmptied("Recyclable iterable datapool was emptied!")
        item_id = self._available.popleft()
        return DataPoolItem(item_id, self._data[item_id])

    async def checkin(self, item_id):
        if self._available is None:
            logger.error(
                "%r: checkin called for %r before the datapool was initialized!  "
                "Maybe a stale runner is hanging around",
                self,
                item_id,
            )
            return
        self._available.append(item_id)


class IterableDataPool:
    """Hands out each item of an iterable once, with ids counting from 1."""

    def __init__(self, iterable):
        self._iter = enumerate(iterable, 1)

    async def checkout(self, config):
        try:
            item_id, data = next(self._iter)
        except StopIteration as e:
            raise DataPoolExhausted() from e
        return DataPoolItem(item_id, data)

    async def checkin(self, item_id):
        pass


def iterable_datapool(fn):
    """Decorate a generator function to make an `IterableDataPool` of what it yields."""
    return IterableDataPool(fn())


def recyclable_iterable_datapool(fn):
    """Decorate a generator function to make a `RecyclableIterableDataPool` of what it yields."""
    return RecyclableIterableDataPool(fn())


class _RunsOnce:
    """A pool whose first checkout succeeds and every later one finds it exhausted."""

    def __init__(self):
        self.has_ran = False

    async def checkin(self, item_id):
        pass

    async def checkout(self, config):
        if self.has_ran:
            raise DataPoolExhausted()
        self.has_ran = True
        return await self._first(config)


class SingleRunDataPool(_RunsOnce):
    """Hands out one item, `(data_item,)` with id 1, exactly once."""

    def __init__(self, data_item):
        super().__init__()
        self.data_item = data_item

    async def _first(self, config):
        return DataPoolItem(1, (self.data_item,))


class SingleRunDataPoolWrapper(_RunsOnce):
    """Lets only the first checkout through to the wrapped datapool."""

    def __init__(self, data_pool):
        super().__init__()
        self.data_pool = data_pool

    async def _first(self, config):
        return await self.data_pool.checkout(config)
