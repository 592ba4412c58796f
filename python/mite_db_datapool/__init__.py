"""Datapools fed by a SQL query through SQLAlchemy (any database SQLAlchemy has a driver for)."""

from .db_to_pool import (
    DataPoolExhausted,
    DBDataPoolError,
    DBIterableDataPool,
    DBRecyclableIterableDataPool,
)

__all__ = [
    "DBIterableDataPool",
    "DBRecyclableIterableDataPool",
    "DataPoolExhausted",
    "DBDataPoolError",
]
