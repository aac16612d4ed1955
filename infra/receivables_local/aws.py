"""Helpers over the embedded AWS: S3 notifications as S3 shapes them, the table's stream as
Lambda receives it."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import quote_plus

from botocore.config import Config

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

# Account-based endpoints (123456789012.streams-ddb…) are not routed by moto.
LOCAL_CONFIG = Config(account_id_endpoint_mode="disabled")

FAKE_CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SECURITY_TOKEN": "testing",
    "AWS_SESSION_TOKEN": "testing",
}


def s3_put_notification(s3: S3Client, bucket: str, key: str, region: str) -> dict[str, Any]:
    """The ``ObjectCreated:Put`` notification S3 sends for the object now at ``key``
    (event version 2.1, key URL-encoded as S3 encodes it)."""
    head = s3.head_object(Bucket=bucket, Key=key)
    obj: dict[str, Any] = {
        "key": quote_plus(key, safe="/"),
        "size": head["ContentLength"],
        "eTag": head["ETag"].strip('"'),
        "sequencer": f"{int(datetime.now(UTC).timestamp() * 1e6):016X}",
    }
    if head.get("VersionId"):
        obj["versionId"] = head["VersionId"]
    return {
        "Records": [
            {
                "eventVersion": "2.1",
                "eventSource": "aws:s3",
                "awsRegion": region,
                "eventTime": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")[:-4] + "Z",
                "eventName": "ObjectCreated:Put",
                "userIdentity": {"principalId": "AWS:LOCAL"},
                "requestParameters": {"sourceIPAddress": "127.0.0.1"},
                "responseElements": {"x-amz-request-id": "LOCAL", "x-amz-id-2": "LOCAL"},
                "s3": {
                    "s3SchemaVersion": "1.0",
                    "configurationId": "InvoiceFileCreated",
                    "bucket": {
                        "name": bucket,
                        "ownerIdentity": {"principalId": "LOCAL"},
                        "arn": f"arn:aws:s3:::{bucket}",
                    },
                    "object": obj,
                },
            }
        ]
    }


class StreamReader:
    """Reads a table's stream from where it was last read, as Lambda's event source mapping does."""

    def __init__(self, streams_client: Any, stream_arn: str) -> None:
        self._client = streams_client
        self._arn = stream_arn
        self._iterators: dict[str, str] = {}
        self.records_read = 0  # every record read so far, matched by a filter or not

    def read(self) -> list[dict[str, Any]]:
        """Every record added since the last call, in the event shape Lambda delivers."""
        records: list[dict[str, Any]] = []
        shards = self._client.describe_stream(StreamArn=self._arn)["StreamDescription"]["Shards"]
        for shard in shards:
            shard_id = shard["ShardId"]
            iterator = (
                self._iterators.get(shard_id)
                or self._client.get_shard_iterator(
                    StreamArn=self._arn, ShardId=shard_id, ShardIteratorType="TRIM_HORIZON"
                )["ShardIterator"]
            )
            while iterator:
                page = self._client.get_records(ShardIterator=iterator, Limit=1000)
                self.records_read += len(page["Records"])
                for record in page["Records"]:
                    record["eventSourceARN"] = self._arn
                    created = record.get("dynamodb", {}).get("ApproximateCreationDateTime")
                    if isinstance(created, datetime):  # Lambda's event carries epoch seconds
                        record["dynamodb"]["ApproximateCreationDateTime"] = int(created.timestamp())
                    records.append(record)
                next_iterator = page.get("NextShardIterator")
                if not page["Records"] or not next_iterator:
                    self._iterators[shard_id] = next_iterator or iterator
                    break
                iterator = next_iterator
        return records
