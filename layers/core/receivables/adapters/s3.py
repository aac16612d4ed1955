"""S3 behind a small adapter: read an object as a stream, move it, write a JSON report beside it."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from receivables.kernel.observability import logger

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

    from mypy_boto3_s3 import S3Client

CHUNK_BYTES = 1 << 20


@dataclass(frozen=True, slots=True)
class StoredObject:
    """An object as it is now in the bucket: enough to decide whether an event is stale."""

    bucket: str
    key: str
    size: int
    etag: str
    version_id: str | None


class ObjectStore:
    """The bucket operations ingestion needs; pass a client (a moto one in tests) or get the default."""

    def __init__(self, client: S3Client | None = None, *, endpoint_url: str | None = None) -> None:
        self._client = client
        self._endpoint_url = endpoint_url

    @property
    def client(self) -> S3Client:
        if self._client is None:
            import boto3

            self._client = boto3.client("s3", endpoint_url=self._endpoint_url)
        return self._client

    def head(self, bucket: str, key: str) -> StoredObject | None:
        """The current object at ``key``, or None if there is none."""
        from botocore.exceptions import ClientError

        try:
            response = self.client.head_object(Bucket=bucket, Key=key)
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in {"404", "NoSuchKey", "NotFound"}:
                return None
            raise
        return StoredObject(
            bucket,
            key,
            response["ContentLength"],
            response["ETag"].strip('"'),
            response.get("VersionId"),
        )

    def chunks(self, obj: StoredObject) -> Iterator[bytes]:
        """Stream the exact version described by ``obj``, a megabyte at a time."""
        kwargs: dict[str, Any] = {"Bucket": obj.bucket, "Key": obj.key, "IfMatch": f'"{obj.etag}"'}
        if obj.version_id:
            kwargs["VersionId"] = obj.version_id
        body = self.client.get_object(**kwargs)["Body"]
        try:
            yield from body.iter_chunks(CHUNK_BYTES)
        finally:
            body.close()

    def read(self, obj: StoredObject) -> bytes:
        """The whole object (for formats that cannot be streamed; callers check the size first)."""
        return b"".join(self.chunks(obj))

    def move(self, obj: StoredObject, destination_key: str) -> None:
        """Copy ``obj`` to ``destination_key`` in the same bucket, then delete the original."""
        source: dict[str, str] = {"Bucket": obj.bucket, "Key": obj.key}
        if obj.version_id:
            source["VersionId"] = obj.version_id
        # Encryption at rest comes from the bucket's default encryption (template.yaml).
        self.client.copy_object(Bucket=obj.bucket, Key=destination_key, CopySource=source)  # type: ignore[arg-type]
        self.client.delete_object(Bucket=obj.bucket, Key=obj.key)

    def put_json(self, bucket: str, key: str, document: dict[str, Any]) -> None:
        """Write ``document`` as pretty JSON at ``key``."""
        self.client.put_object(
            Bucket=bucket,
            Key=key,
            Body=json.dumps(document, indent=2, ensure_ascii=False).encode(),
            ContentType="application/json",
        )


def processed_reader(
    bucket: str, endpoint_url: str | None, largest: int, prefixes: tuple[str, ...] = ("processed/",)
) -> Callable[[str, str], bytes | None]:
    """Reads an ingested file back (under ``prefixes`` of ``bucket`` only, at most ``largest``
    bytes): the e-invoices as they were received, for the portal's downloads and the invoice
    email; the documents kept with invoices (``documents/``) for the email. Anything it cannot
    give (gone, too large, S3 unreachable) is None, logged."""
    clients: dict[str, Any] = {}

    def read(where: str, key: str) -> bytes | None:
        from botocore.exceptions import BotoCoreError, ClientError

        if where != bucket or not key.startswith(prefixes) or ".." in key:
            return None
        if "s3" not in clients:
            import boto3

            clients["s3"] = boto3.client("s3", endpoint_url=endpoint_url)
        try:
            body = clients["s3"].get_object(Bucket=bucket, Key=key)["Body"]
            data: bytes = body.read(largest + 1)
        except (ClientError, BotoCoreError) as exc:  # gone (403 without ListBucket), or S3 is down
            logger.warning("ingested file not read", extra={"key": key, "error": str(exc)})
            return None
        return data if len(data) <= largest else None

    return read


def print_queue_writer(bucket: str, endpoint_url: str | None) -> Callable[[str, bytes, str], None]:
    """Writes the letters of paper invoices into ``bucket`` under ``print/queue/`` only (the
    print house, or its pickup job, takes them from there); anything else is refused."""
    clients: dict[str, Any] = {}

    def put(key: str, data: bytes, content_type: str) -> None:
        if not key.startswith("print/queue/") or ".." in key:
            raise ValueError(f"{key!r} is not in the print queue")
        if "s3" not in clients:
            import boto3

            clients["s3"] = boto3.client("s3", endpoint_url=endpoint_url)
        clients["s3"].put_object(Bucket=bucket, Key=key, Body=data, ContentType=content_type)

    return put
