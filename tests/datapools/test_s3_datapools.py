"""mite.s3datapools against a real S3-protocol server (moto's server mode) on loopback."""

import asyncio
import json
import os
import shutil
from pathlib import Path

import boto3
import pytest
from servers_s3_pg import MotoS3

from helpers import assert_clean_failure, clean_env, collected, of_type, run_mite
from mite.datapools import DataPoolExhausted
from mite.s3datapools import S3DataPoolError, S3IterableDataPool, S3RecyclableIterableDataPool

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


@pytest.fixture(scope="module")
def s3():
    server = MotoS3()
    saved = {k: os.environ.get(k) for k in server.env()}
    os.environ.update(server.env())
    try:
        yield server
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
        server.stop()


def make_bucket(name, objects):
    client = boto3.client("s3")
    client.create_bucket(Bucket=name)
    for key, body in objects.items():
        client.put_object(Bucket=name, Key=key, Body=body.encode())


def drain(pool):
    async def go():
        items = []
        while True:
            try:
                items.append(await pool.checkout({}))
            except DataPoolExhausted:
                return items

    return asyncio.run(go())


def test_iterable_pool_hands_out_every_object_once_with_its_text(s3):
    make_bucket("orders", {"a/1.json": "one", "a/2.json": "two", "b/3.json": "three"})
    items = drain(S3IterableDataPool("orders", prefix="a/"))
    assert [(i.id, i.data) for i in items] == [(0, ("a/1.json", "one")), (1, ("a/2.json", "two"))]


def test_keys_beyond_one_listing_page_are_fetched_as_journeys_check_out(s3):
    # The server pages at 10 keys here instead of S3's 1000 (a real request parameter, added
    # by a botocore hook on the session the pool's client comes from): the same paging with 25
    # objects instead of 1001, each of which costs an upload and a read.
    keys = {f"k/{i:02d}": str(i) for i in range(25)}
    make_bucket("paged", keys)

    def ten_a_page(params, **_):
        params.setdefault("MaxKeys", 10)

    boto3.setup_default_session()
    boto3.DEFAULT_SESSION.events.register("before-parameter-build.s3.ListObjectsV2", ten_a_page)
    try:
        pool = S3IterableDataPool("paged", preload_minimum=5)
        assert len(pool._data) == 10 and not pool.exhausted
        items = drain(pool)
    finally:
        boto3.DEFAULT_SESSION.events.unregister(
            "before-parameter-build.s3.ListObjectsV2", ten_a_page
        )
    assert [i.data for i in items] == sorted(keys.items())
    assert [i.id for i in items] == list(range(25))
    assert pool.exhausted


def test_recyclable_pool_reuses_objects_checked_back_in(s3):
    make_bucket("recycled", {"x": "1", "y": "2"})
    pool = S3RecyclableIterableDataPool("recycled")

    async def go():
        first = await pool.checkout({})
        second = await pool.checkout({})
        with pytest.raises(Exception, match="emptied"):
            await pool.checkout({})
        await pool.checkin(first.id)
        again = await pool.checkout({})
        return first, second, again

    first, second, again = asyncio.run(go())
    assert (first.data, second.data) == (("x", "1"), ("y", "2"))
    assert again == first


def test_an_empty_prefix_is_an_empty_pool_not_a_crash(s3):
    make_bucket("sparse", {"only/this": "1"})
    assert drain(S3IterableDataPool("sparse", prefix="nothing/")) == []


def test_a_missing_bucket_is_one_line_naming_it_and_the_endpoint(s3):
    with pytest.raises(S3DataPoolError) as e:
        S3IterableDataPool("no-such-bucket")
    assert "'no-such-bucket'" in str(e.value) and s3.url in str(e.value)
    assert "NoSuchBucket" in str(e.value) and "\n" not in str(e.value)


def test_the_example_runs_every_object_through_a_journey(s3, tmp_path):
    orders = {f"orders/{i}.json": json.dumps({"id": i, "total": i * 1.5}) for i in range(20)}
    make_bucket("shop", orders)
    shutil.copy(EXAMPLES / "s3_datapool_example.py", tmp_path)
    env = clean_env(**s3.env(), MITE_CONF_s3_bucket="shop", MITE_CONF_s3_prefix="orders/")
    proc = run_mite(["scenario", "test", "s3_datapool_example:scenario"], tmp_path, env, 120)
    assert proc.returncode == 0, proc.stderr[-3000:]
    seen = of_type(collected(tmp_path), "order_processed")
    assert sorted((m["key"], m["order_id"], m["total"]) for m in seen) == sorted(
        (k, json.loads(v)["id"], json.loads(v)["total"]) for k, v in orders.items()
    )


def test_the_example_against_a_missing_bucket_fails_before_the_run(s3, tmp_path):
    shutil.copy(EXAMPLES / "s3_datapool_example.py", tmp_path)
    env = clean_env(**s3.env(), MITE_CONF_s3_bucket="absent")
    proc = run_mite(["scenario", "test", "s3_datapool_example:scenario"], tmp_path, env, 60)
    assert_clean_failure(proc, 1, "'absent'", s3.url, "NoSuchBucket")
    assert not (tmp_path / "collector_data" / "current").exists() or not collected(tmp_path)


def test_an_unreachable_endpoint_fails_with_one_line(tmp_path):
    shutil.copy(EXAMPLES / "s3_datapool_example.py", tmp_path)
    dead = "http://127.0.0.1:9"  # discard port: nothing listens
    env = clean_env(
        AWS_ACCESS_KEY_ID="t", AWS_SECRET_ACCESS_KEY="t", AWS_DEFAULT_REGION="us-east-1",
        AWS_MAX_ATTEMPTS="1", MITE_CONF_s3_endpoint=dead,
    )  # fmt: skip
    proc = run_mite(["scenario", "test", "s3_datapool_example:scenario"], tmp_path, env, 60)
    assert_clean_failure(proc, 1, dead)
