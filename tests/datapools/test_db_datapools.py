"""mite_db_datapool against SQLite and a real PostgreSQL server started on loopback."""

import asyncio
import shutil
from pathlib import Path

import pytest
from servers_s3_pg import Postgres
from sqlalchemy import create_engine, text

from helpers import assert_clean_failure, clean_env, collected, of_type, run_mite
from mite.datapools import DataPoolExhausted
from mite_db_datapool import DBDataPoolError, DBIterableDataPool, DBRecyclableIterableDataPool

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
USERS = [(i, f"user{i}") for i in range(1, 26)]


@pytest.fixture(scope="module")
def postgres():
    server = Postgres()
    try:
        yield server
    finally:
        server.stop()


def fill(engine, rows=USERS):
    with engine.begin() as conn:
        conn.execute(text("DROP TABLE IF EXISTS users"))
        conn.execute(text("CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT)"))
        conn.execute(
            text("INSERT INTO users (id, name) VALUES (:id, :name)"),
            [{"id": i, "name": n} for i, n in rows],
        )
    return engine


@pytest.fixture(params=["sqlite", "postgresql"])
def engine(request, tmp_path):
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path}/users.sqlite"
    else:
        url = request.getfixturevalue("postgres").url
    engine = create_engine(url)
    yield fill(engine)
    engine.dispose()


def drain(pool):
    async def go():
        items = []
        while True:
            try:
                items.append(await pool.checkout({}))
            except DataPoolExhausted:
                return items

    return asyncio.run(go())


def test_each_row_once_as_a_dict_in_query_order(engine):
    items = drain(DBIterableDataPool(engine, "SELECT id, name FROM users ORDER BY id"))
    assert [(i.id, i.data) for i in items] == [
        (n, {"id": uid, "name": name}) for n, (uid, name) in enumerate(USERS)
    ]


def test_max_size_bounds_what_is_loaded(engine):
    pool = DBIterableDataPool(engine, "SELECT * FROM users ORDER BY id", preload_minimum=50, max_size=7)
    assert pool.preload_minimum == 7
    assert [i.data["id"] for i in drain(pool)] == [1, 2, 3, 4, 5, 6, 7]


def test_recyclable_rows_come_back_only_when_checked_in(engine):
    pool = DBRecyclableIterableDataPool(engine, "SELECT * FROM users ORDER BY id", max_size=2)

    async def go():
        a = await pool.checkout({})
        b = await pool.checkout({})
        with pytest.raises(DataPoolExhausted):
            await pool.checkout({})
        await pool.checkin(999)  # never handed out: ignored
        with pytest.raises(DataPoolExhausted):
            await pool.checkout({})
        await pool.checkin(a.id)
        return a, b, await pool.checkout({})

    a, b, again = asyncio.run(go())
    assert (a.data["name"], b.data["name"]) == ("user1", "user2")
    assert again == a


def test_a_missing_table_is_one_line_naming_database_and_query(engine):
    with pytest.raises(DBDataPoolError) as e:
        DBIterableDataPool(engine, "SELECT * FROM no_such_table")
    message = str(e.value)
    assert "no_such_table" in message and "\n" not in message
    assert engine.url.render_as_string(hide_password=True) in message


def test_a_password_in_the_url_is_not_repeated_in_the_error(postgres):
    url = postgres.url.replace("mite@", "mite:s3cret@").replace(f":{postgres.port}", ":9")
    with pytest.raises(DBDataPoolError) as e:
        DBIterableDataPool(create_engine(url), "SELECT 1")
    assert "s3cret" not in str(e.value) and "127.0.0.1:9" in str(e.value)


@pytest.mark.parametrize("db", ["sqlite", "postgresql"])
def test_the_example_hands_each_journey_a_whole_row(db, tmp_path, request):
    if db == "sqlite":
        url = f"sqlite:///{tmp_path}/users.sqlite"
    else:
        url = request.getfixturevalue("postgres").url
    fill(create_engine(url)).dispose()
    shutil.copy(EXAMPLES / "db_datapool_example.py", tmp_path)
    env = clean_env(MITE_CONF_db_url=url)
    proc = run_mite(["scenario", "test", "db_datapool_example:scenario"], tmp_path, env, 120)
    assert proc.returncode == 0, proc.stderr[-3000:]
    seen = of_type(collected(tmp_path), "user_seen")
    assert seen, proc.stderr[-2000:]
    assert {(m["user_id"], m["name"]) for m in seen} <= set(USERS)


def test_the_example_against_a_missing_table_fails_before_the_run(tmp_path):
    shutil.copy(EXAMPLES / "db_datapool_example.py", tmp_path)
    env = clean_env(MITE_CONF_db_url=f"sqlite:///{tmp_path}/empty.sqlite")
    proc = run_mite(["scenario", "test", "db_datapool_example:scenario"], tmp_path, env, 60)
    assert_clean_failure(proc, 1, "users", "empty.sqlite")
