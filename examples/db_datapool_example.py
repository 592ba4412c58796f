"""A scenario whose journeys take their data from the rows of a SQL query (SQLAlchemy).

`db_url` is any SQLAlchemy URL (SQLite file, PostgreSQL, ...); `db_query` selects the rows:

    MITE_CONF_db_url=postgresql+psycopg://mite@127.0.0.1/shop \
        mite scenario test db_datapool_example:scenario

A row reaches the journey as mite 2.11 hands datapool data over: the runner spreads the item's
data into the journey's arguments, and a row is a dict, so `users` below wraps each row in a
one-element tuple to hand the journey the whole row.
"""

import os

from mite_db_datapool import DBRecyclableIterableDataPool
from sqlalchemy import create_engine

from mite.volume_model import Constant


class RowPerJourney(DBRecyclableIterableDataPool):
    async def checkout(self, config):
        item = await super().checkout(config)
        return item._replace(data=(item.data,))


def users():
    engine = create_engine(os.environ.get("MITE_CONF_db_url", "sqlite:///users.sqlite"))
    query = os.environ.get("MITE_CONF_db_query", "SELECT id, name FROM users ORDER BY id")
    return RowPerJourney(engine, query, max_size=10_000)


async def log_in(ctx, row):
    async with ctx.transaction("log in"):
        ctx.send("user_seen", user_id=row["id"], name=row["name"])


def scenario(config):
    # The rows are recycled for as long as the volume model runs (3 seconds here).
    return [["db_datapool_example:log_in", users(), Constant(duration=3, tps=2)]]
