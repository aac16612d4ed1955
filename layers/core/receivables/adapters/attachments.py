"""Customers' documents in S3 (dispute evidence, the documents a held invoice lacks): presigned
POSTs for exactly one key each, the checks after an upload (size, first bytes), and short-lived
download links that make the browser save the file, with boto3."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Callable

# What a customer may upload: one file's limit, and the kinds taken by their first bytes.
MAX_ATTACHMENT_BYTES = 10 * 1024 * 1024
SIGNATURES = {b"%PDF-": "application/pdf", b"\x89PNG\r\n\x1a\n": "image/png", b"\xff\xd8\xff": "image/jpeg"}
UPLOAD_SECONDS = 3600
LINK_SECONDS = 300


@dataclass(frozen=True, slots=True)
class Attachments:
    """Where customers' documents go: ``presign(key, redirect)`` gives the (url, fields) of a
    presigned POST for exactly ``key``; ``peek(key)`` the object's size and first bytes (None if
    absent); ``delete(key)`` removes a refused one; ``link`` gives a download link (finance's)."""

    presign: Callable[[str, str], tuple[str, dict[str, str]]]
    peek: Callable[[str], tuple[int, bytes] | None]
    delete: Callable[[str], None]
    # A short-lived download link for (key, content type, file name), served as an attachment.
    link: Callable[[str, str, str], str] | None = None


def s3_attachments(bucket: str, endpoint_url: str | None = None) -> Attachments:
    """`Attachments` in ``bucket`` (the client is built on first use)."""
    clients: dict[str, Any] = {}

    def client() -> Any:
        if "s3" not in clients:
            import boto3

            clients["s3"] = boto3.client("s3", endpoint_url=endpoint_url)
        return clients["s3"]

    def presign(key: str, redirect: str) -> tuple[str, dict[str, str]]:
        # A browser is sent back to ``redirect``; a program (no redirect) gets S3's 204.
        fields = {"success_action_redirect": redirect} if redirect else {}
        conditions: list[Any] = [{"success_action_redirect": redirect}] if redirect else []
        post = client().generate_presigned_post(
            Bucket=bucket,
            Key=key,
            Fields=fields,
            Conditions=[*conditions, ["content-length-range", 1, MAX_ATTACHMENT_BYTES]],
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

    def link(key: str, content_type: str, name: str) -> str:
        url: str = client().generate_presigned_url(
            "get_object",
            Params={
                "Bucket": bucket,
                "Key": key,
                "ResponseContentType": content_type,
                "ResponseContentDisposition": f'attachment; filename="{name}"',
            },
            ExpiresIn=LINK_SECONDS,
        )
        return url

    return Attachments(presign, peek, delete, link)
