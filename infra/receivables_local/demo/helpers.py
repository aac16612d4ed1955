"""What the demo's chapters share: free loopback ports, one HTTP request as a browser makes it, the
links in the emails, paying on the local Stripe's checkout page, a presigned upload, the finance
API, an invoice's state in the ledger and the ingest reports of a dropped file.

The chapters import these; nothing here imports a chapter.
"""

from __future__ import annotations

import html
import json
import random
import re
import socket
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path
from typing import TYPE_CHECKING, Any

from receivables.ledger.model import DocumentType
from receivables.ledger.rules import document_id
from receivables.storage import store

if TYPE_CHECKING:
    from receivables_local.runtime import LocalRuntime


# --- ports -------------------------------------------------------------------------------------
def free_port_base(count: int = 4) -> int:
    """A port N with N … N+count-1 free on loopback, below the kernel's ephemeral range: a port
    the kernel hands out to outgoing connections (as binding to port 0 does) can be taken by
    one of them between this check and the server's bind, which made parallel tests collide."""
    low, _ = _ephemeral_range()
    rng = random.SystemRandom()
    for _ in range(200):
        base = rng.randrange(10000, max(low - count, 10001))
        if all(port_is_free(base + i) for i in range(count)):
            return base
    raise RuntimeError("no free loopback ports")


def _ephemeral_range() -> tuple[int, int]:
    """The kernel's range of ports for outgoing connections (Linux; IANA's elsewhere)."""
    try:
        low, high = Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()
        return int(low), int(high)
    except (OSError, ValueError):
        return 49152, 65535


def port_is_free(port: int) -> bool:
    """Whether ``port`` can be bound on loopback now."""
    with socket.socket() as probe:
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


# --- HTTP, as a browser or the ERP would ---------------------------------------------------------
class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


def http(
    url: str, data: bytes | None = None, headers: dict[str, str] | None = None, method: str | None = None
) -> tuple[int, dict[str, str], str]:
    """One loopback request, redirects not followed: (status, headers, body)."""
    opener = urllib.request.build_opener(_NoRedirect)
    request = urllib.request.Request(url, data=data, headers=headers or {}, method=method)  # noqa: S310 - loopback
    try:
        with opener.open(request, timeout=30) as response:
            return response.status, dict(response.headers), response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read().decode()


def pay_by_card(runtime: LocalRuntime, url: str, card: str) -> str:
    """Open a pay link and pay on the local Stripe's checkout page, as a customer would."""
    status, headers, _ = http(url)
    if status != 303:
        return f"the link answered {status}"
    form = urllib.parse.urlencode({"cardnumber": card, "exp": "12/34", "cvc": "123", "name": "Demo"})
    status, _, page = http(
        headers["Location"], form.encode(), {"Content-Type": "application/x-www-form-urlencoded"}
    )
    runtime.settle()
    if status == 402:
        message = re.search(r'id="error"[^>]*>([^<]+)<', page)
        return f"declined ({message.group(1).strip() if message else 'card declined'})"
    return "paid on the checkout page" if status == 303 else f"checkout answered {status}"


def emailed_link(runtime: LocalRuntime, number: str, path: str) -> str:
    """The ``path`` link (``pay``, ``dispute``, ``portal/link``) in the email of invoice ``number``."""
    for message in runtime.mailbox():
        if f"Invoice {number} " in message["Subject"]:
            found = re.search(rf"(http://\S+/{path}/[\w.-]+)", message["Body"]["text_part"] or "")
            if found:
                return found.group(1)
    raise RuntimeError(f"no email with a {path} link for invoice {number}")


def upload(page: str, content: bytes) -> tuple[int, dict[str, str]]:
    """Post ``content`` with a page's presigned upload form (multipart), as a browser would;
    S3's answer is not followed: (status, headers)."""
    action = re.search(r'<form method="post" action="([^"]+)" enctype', page)
    if action is None:
        return 0, {}
    fields = re.findall(r'type="hidden" name="([^"]+)" value="([^"]*)"', page)
    boundary = "----receivables-upload"
    disposition = '--{}\r\nContent-Disposition: form-data; name="{}"\r\n\r\n{}\r\n'
    parts = [disposition.format(boundary, html.unescape(k), html.unescape(v)).encode() for k, v in fields]
    parts.append(
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="document"\r\n'
        "Content-Type: application/octet-stream\r\n\r\n".encode()
        + content
        + b"\r\n"
    )
    body = b"".join(parts) + f"--{boundary}--\r\n".encode()
    status, headers, _ = http(
        html.unescape(action.group(1)), body, {"Content-Type": f"multipart/form-data; boundary={boundary}"}
    )
    return status, headers


def finance_api(runtime: LocalRuntime) -> Any:
    """``call(method, path, body=None) -> (status, JSON answer)`` on the finance API, with the
    runtime's token."""
    headers = {
        "Authorization": f"Bearer {runtime.connection['api_token']}",
        "Content-Type": "application/json",
    }

    def call(method: str, path: str, body: Any = None) -> tuple[int, Any]:
        data = json.dumps(body).encode() if body is not None else None
        status, _, text = http(f"{runtime.api_endpoint}{path}", data, headers, method)
        return status, json.loads(text) if text else None

    return call


# --- the ledger and the inbox, read back -----------------------------------------------------------
def invoice_id(number: str) -> str:
    """The ledger id of one of our own invoices."""
    return document_id("self", DocumentType.INVOICE, number)


def invoice_state(number: str) -> str:
    """``paid, 0.00 EUR still owed``: the status and balance of our invoice ``number``."""
    invoice = store.get_invoice(invoice_id(number))
    if invoice is None:
        return "not in the ledger"
    return f"{invoice.status.value}, {invoice.balance} still owed"


def report_of(s3: Any, bucket: str, key: str) -> dict[str, Any] | None:
    """The ingest report of the file dropped at ``key`` (processed or rejected), if there is one."""
    relative = key.removeprefix("inbox/")
    for prefix, suffix in (("processed/", ".report.json"), ("rejected/", ".error.json")):
        try:
            body = s3.get_object(Bucket=bucket, Key=f"{prefix}{relative}{suffix}")["Body"].read()
        except s3.exceptions.NoSuchKey:
            continue
        result: dict[str, Any] = json.loads(body)
        return result
    return None


def file_line(key: str, report: dict[str, Any] | None) -> str:
    """One line per dropped file: its outcome and the report's counts."""
    if report is None:
        return f"{key:<48} not handled"
    s = report["summary"]
    return (
        f"{key:<48} {report['outcome']:<9} created {s['created']}, duplicates {s['duplicates']}, "
        f"problems {s['problems']} (conflicts {s['conflicts']}), "
        f"credit notes applied {s['credit_notes_applied']}"
    )
