"""Datapools whose items are the objects of an S3 bucket: `(key, text)` per object."""

import logging
from collections import deque

from ._errors import UnavailableError
from ._extras import require
from .datapools import DataPoolExhausted, DataPoolItem

boto3 = require("boto3", "s3")
botocore_exceptions = require("botocore.exceptions", "s3")

logger = logging.getLogger(__name__)

__all__ = ["S3IterableDataPool", "S3RecyclableIterableDataPool", "S3DataPoolError"]


class S3DataPoolError(UnavailableError):
    """The bucket could not be listed or an object read: names the bucket, endpoint and reason."""


class S3IterableDataPool:
    """Hands out each object under `prefix` once, as `(key, content decoded as UTF-8)`.

    Keys are listed when the pool is built (all of them, or pages until `preload_minimum`
    are known) and the rest page by page as journeys check items out; an object's body is
    fetched at checkout. Item ids count from 0 in listing order, as in mite 2.11.
    `endpoint_url` (beyond 2.11) points at any S3-protocol server; boto3's own settings
    (`AWS_ENDPOINT_URL_S3`, profiles, region) apply as usual.
    """

    def __init__(
        self,
        bucket_name,
        prefix="",
        access_key_id=None,
        secret_access_key=None,
        preload_minimum=None,
        endpoint_url=None,
    ):
        self.s3_client = boto3.client(
            "s3",
            aws_access_key_id=access_key_id,
            aws_secret_access_key=secret_access_key,
            endpoint_url=endpoint_url,
        )
        self.bucket_name = bucket_name
        self.prefix = prefix
        self.list_obj_kwargs = {"Bucket": bucket_name, "Prefix": prefix}
        self._data = []
        self.item_index = 0
        self.populating = False
        self.exhausted = False
        while not self.exhausted and (
            preload_minimum is None or len(self._data) < preload_minimum
        ):
            self.populate()

    def _where(self):
        return f"S3 bucket {self.bucket_name!r} at {self.s3_client.meta.endpoint_url}"

    def _call(self, what, method, **kwargs):
        # One line naming the bucket, the endpoint and the reason, instead of botocore's
        # traceback: a missing bucket or an unreachable server is a configuration mistake.
        try:
            return method(**kwargs)
        except botocore_exceptions.ClientError as e:
            error = e.response.get("Error", {})
            reason = f"{error.get('Code', '?')}: {error.get('Message', '')}".rstrip(": ")
            raise S3DataPoolError(f"{self._where()}: {what} failed: {reason}") from None
        except botocore_exceptions.BotoCoreError as e:
            raise S3DataPoolError(f"{self._where()}: {what} failed: {e}") from None

    def populate(self):
        """List the next page of keys; mark the pool exhausted after the last page."""
        response = self._call("listing objects", self.s3_client.list_objects_v2, **self.list_obj_kwargs)
        # An empty prefix has no "Contents" at all (mite 2.11 raised KeyError here).
        for obj in response.get("Contents", ()):
            self._data.append((self.item_index, obj["Key"]))
            self.item_index += 1
        if response.get("IsTruncated"):
            self.list_obj_kwargs["ContinuationToken"] = response["NextContinuationToken"]
        else:
            self.exhausted = True

    def _populate_once(self):
        if not self.exhausted and not self.populating:
            self.populating = True
            try:
                self.populate()
            finally:
                self.populating = False

    def _read(self, key):
        obj = self._call(
            f"reading {key!r}", self.s3_client.get_object, Bucket=self.bucket_name, Key=key
        )
        return obj["Body"].read().decode("utf-8")

    async def checkout(self, config):
        self._populate_once()
        if not self._data:
            raise DataPoolExhausted()
        item_id, key = self._data.pop(0)
        return DataPoolItem(item_id, (key, self._read(key)))

    async def checkin(self, item_id):
        pass


class S3RecyclableIterableDataPool(S3IterableDataPool):
    """Hands out the objects under `prefix` forever, each to one journey at a time."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._available = deque(range(len(self._data)))

    async def checkout(self, config):
        first_new = self.item_index
        self._populate_once()
        self._available.extend(range(first_new, self.item_index))
        if not self._available:
            raise Exception("Recyclable iterable datapool was emptied!")
        item_id = self._available.popleft()
        key = self._data[item_id][1]
        return DataPoolItem(item_id, (key, self._read(key)))

    async def checkin(self, item_id):
        self._available.append(item_id)
