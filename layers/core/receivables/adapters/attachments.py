"""Customers' dispute documents in S3: presigned POSTs for exactly one key each, and the checks
after an upload (size, first bytes), with boto3."""

from __future__ import annotations

from typing import Any

from receivables.dispute_link import MAX_ATTACHMENT_BYTES, Attachments

UPLOAD_SECONDS = 3600


def s3_attachments(bucket: str, endpoint_url: str | None = None) -> Attachments:
    """`Attachments` in ``bucket`` (the client is built on first use)."""
    clients: dict[str, Any] = {}

    def client() -> Any:
        if "s3" not in clients:
            import boto3

            clients["s3"] = boto3.client("s3", endpoint_url=endpoint_url)
        return clients["s3"]

    def presign(key: str, redirect: str) -> tuple[str, dict[str, str]]:
        post = client().generate_presigned_post(
            Bucket=bucket,
            Key=key,
            Fields={"success_action_redirect": redirect},
            Conditions=[
                {"success_action_redirect": redirect},
                ["content-length-range", 1, MAX_ATTACHMENT_BYTES],
            ],
            ExpiresIn=UPLOAD_SECONDS,
        )
        return str(post["url"]), {k: str(v) for k, v in post["fields"].items()}

    def peek(key: str) -> tuple[int, bytes] | None:
        s3 = client()
        try:
            head = s3.head_object(Bucket=bucket, Key=key)
        except s3.exceptions.ClientError:
            return None
        size = int(head["ContentLength"])
        if size == 0:
            return 0, b""
        start = s3.get_object(Bucket=bucket, Key=key, Range="bytes=0-15")["Body"].read()
        return size, bytes(start)

    def delete(key: str) -> None:
        client().delete_object(Bucket=bucket, Key=key)

    return Attachments(presign, peek, delete)
