"""`DBIterableDataPool` and `DBRecyclableIterableDataPool`: the rows of a query as datapool items."""

import logging
from collections import deque

from mite._errors import UnavailableError
from mite._extras import require
from mite.datapools import DataPoolExhausted, DataPoolItem

sqlalchemy = require("sqlalchemy", "db")

logger = logging.getLogger(__name__)

__all__ = ["DBIterableDataPool", "DBRecyclableIterableDataPool", "DataPoolExhausted", "DBDataPoolError"]


class DBDataPoolError(UnavailableError):
    """The query could not run: names the database (password hidden) and the reason."""


class DBIterableDataPool:
    """Hands out each row of `query` once, as a dict of column name to value.

    The rows are read when the pool is built, at most `max_size` of them (a guard against
    loading a huge table into memory); `preload_minimum` is kept for mite 2.11's API and
    capped at `max_size`. Item ids count from 0 in the query's order, as in mite 2.11.
    """

    def __init__(self, db_engine, query, preload_minimum=None, max_size=None):
        self.db_engine = db_engine
        self.query = query
        self.max_size = max_size
        self.preload_minimum = preload_minimum
        if max_size and preload_minimum and preload_minimum > max_size:
            self.preload_minimum = max_size
        self._data = []
        self.item_index = 0
        self.db_exhausted = False
        while not self.db_exhausted and (
            not self.preload_minimum or len(self._data) < self.preload_minimum
        ):
            self.populate()

    def _full(self):
        return self.max_size is not None and len(self._data) >= self.max_size

    def populate(self):
        """Run the query and keep its rows (up to `max_size`); the pool is then exhausted."""
        if self._full():
            # Nothing more can be held: a caller looping until preload_minimum stops here.
            self.db_exhausted = True
            return
        try:
            with self.db_engine.connect() as conn:
                result = conn.execute(sqlalchemy.text(self.query))
                # Stream the cursor so that max_size also bounds what is fetched.
                for row in result:
                    if self._full():
                        break
                    self._data.append((self.item_index, dict(row._mapping)))
                    self.item_index += 1
        except sqlalchemy.exc.SQLAlchemyError as e:
            where = self.db_engine.url.render_as_string(hide_password=True)
            reason = str(getattr(e, "orig", None) or e).strip().splitlines()[0]
            raise DBDataPoolError(f"database {where}: query {self.query!r} failed: {reason}") from None
        self.db_exhausted = True

    async def checkout(self, config):
        if not self._data:
            raise DataPoolExhausted()
        item_id, row = self._data.pop(0)
        return DataPoolItem(item_id, row)

    async def checkin(self, item_id):
        pass


class DBRecyclableIterableDataPool(DBIterableDataPool):
    """Hands out the query's rows forever, each to one journey at a time."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._available = deque(range(len(self._data)))
        self._checked_out = set()

    async def checkout(self, config):
        if not self._available:
            raise DataPoolExhausted("Recyclable iterable datapool was emptied!")
        item_id = self._available.popleft()
        self._checked_out.add(item_id)
        return DataPoolItem(item_id, self._data[item_id][1])

    async def checkin(self, item_id):
        # Only ids this pool handed out come back: a stale runner's check-in is ignored.
        if item_id in self._checked_out:
            self._checked_out.remove(item_id)
            self._available.append(item_id)
