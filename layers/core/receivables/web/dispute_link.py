"""The customer's dispute, through the signed link in the invoice email and the reminders.

``GET /dispute/{token}`` shows the invoice and a form: a reason, the contested lines and amount
(optional) and a comment. ``POST`` opens the dispute (the invoice goes under dispute, which
pauses its dunning, and the dispute workflow starts) and answers with a page that takes
documents: a form that uploads straight to S3 with a presigned POST (one object key per form,
at most `MAX_ATTACHMENT_BYTES`), which S3 sends back to ``GET /dispute/{token}/attached``. There
the object is checked before it is kept: its size, and its first bytes (a PDF, PNG or JPEG,
whatever the browser claimed); anything else is deleted and the customer told why.
"""

from __future__ import annotations

import secrets
from typing import TYPE_CHECKING
from urllib.parse import parse_qs

from receivables.adapters.attachments import MAX_ATTACHMENT_BYTES, SIGNATURES, Attachments
from receivables.disputes.evidence import add_attachment
from receivables.disputes.opening import open_dispute_on, parse_lines
from receivables.disputes.service import DisputeError, open_dispute_of
from receivables.kernel.errors import FieldError, InvalidRequestError
from receivables.ledger.disputes import Reason, Source
from receivables.mail.emails import format_date, format_money
from receivables.web.checkout import PayLinkSettings, invoice_for_link
from receivables.web.pages import Form, Input, Page

if TYPE_CHECKING:
    from receivables.kernel.clock import Clock
    from receivables.ledger.disputes import Dispute
    from receivables.ledger.model import Invoice

ACTION = "dispute"
MAX_FORM_BYTES = 16384
MAX_ATTACHMENTS = 10
REASONS = (
    (Reason.PRICING, "The price is not what we agreed"),
    (Reason.QUANTITY, "The quantity is wrong"),
    (Reason.QUALITY, "A quality problem"),
    (Reason.NOT_RECEIVED, "We did not receive it"),
    (Reason.ALREADY_PAID, "We have already paid it"),
    (Reason.BILLED_TWICE, "We were billed twice"),
    (Reason.PO_MISSING_OR_WRONG, "The purchase order is missing or wrong"),
    (Reason.OTHER, "Something else"),
)


def dispute_form(
    token: str, link_key: bytes, clock: Clock, settings: PayLinkSettings, files: Attachments
) -> Page:
    """What ``GET /dispute/{token}`` answers: the form, or the open dispute with its documents."""

    found = invoice_for_link(token, link_key, clock, settings, ACTION)
    if isinstance(found, Page):
        return found
    dispute = open_dispute_of(found.invoice_id)
    if dispute is not None:
        return _received(found, dispute, token, settings, files, status=200)
    return _form_page(found, token, settings, (), {}, ())


def submit_dispute(
    token: str, body: bytes, link_key: bytes, clock: Clock, settings: PayLinkSettings, files: Attachments
) -> Page:
    """What ``POST /dispute/{token}`` answers: the dispute received (201), or the form again."""

    found = invoice_for_link(token, link_key, clock, settings, ACTION)
    if isinstance(found, Page):
        return found
    if len(body) > MAX_FORM_BYTES:
        return Page(413, "The form is too large", ("Please use the form as it is shown.",))
    try:
        fields = parse_qs(body.decode("utf-8", "replace"), max_num_fields=100)
    except ValueError:  # more fields than the form has
        return Page(413, "The form is too large", ("Please use the form as it is shown.",))
    form = {k: v[0] for k, v in fields.items()}
    chosen = tuple(fields.get("line", []))
    errors: list[FieldError] = []
    try:
        reason = Reason(form.get("reason", ""))
    except ValueError:
        errors.append(FieldError("reason", "please pick one"))
        reason = Reason.OTHER
    amount, lines = parse_lines(found, form.get("amount"), [{"line_id": c} for c in chosen], errors)
    try:
        if errors:
            raise InvalidRequestError(errors)
        dispute, created = open_dispute_on(
            found.invoice_id,
            Source.CUSTOMER,
            reason,
            f"customer:{found.customer_id}",
            clock,
            amount=amount,
            lines=lines,
            comment=form.get("comment", ""),
        )
    except InvalidRequestError as exc:
        problems = tuple((e.field, e.reason) for e in exc.errors)
        return _form_page(found, token, settings, problems, form, chosen, status=400)
    except DisputeError:
        return Page(404, "Invoice not found", (f"Please contact {settings.contact}.",))
    return _received(found, dispute, token, settings, files, status=201 if created else 200)


def attached(
    token: str, key: str, link_key: bytes, clock: Clock, settings: PayLinkSettings, files: Attachments
) -> Page:
    """Where S3 sends the customer after an upload: keep the document if it is one we take."""

    found = invoice_for_link(token, link_key, clock, settings, ACTION)
    if isinstance(found, Page):
        return found
    dispute = open_dispute_of(found.invoice_id)
    if dispute is None or not key.startswith(f"disputes/{dispute.dispute_id}/") or ".." in key:
        return Page(400, "This upload is not for an open dispute", (f"Please contact {settings.contact}.",))
    peeked = files.peek(key)
    problem = _refusal(peeked)
    if problem:
        files.delete(key)
        page = _received(found, dispute, token, settings, files, status=400)
        return Page(400, "This document was not kept", (problem, *page.paragraphs), form=page.form)
    assert peeked is not None
    changed = add_attachment(dispute.dispute_id, key, peeked[0], _kind(peeked[1]) or "", clock)
    return _received(found, changed, token, settings, files, status=200)


def _kind(head: bytes) -> str | None:
    return next((kind for magic, kind in SIGNATURES.items() if head.startswith(magic)), None)


def _refusal(peeked: tuple[int, bytes] | None) -> str:
    if peeked is None:
        return "The upload did not arrive; please try again."
    size, head = peeked
    if size > MAX_ATTACHMENT_BYTES:
        return f"It is larger than {MAX_ATTACHMENT_BYTES // (1024 * 1024)} MB."
    if size == 0 or _kind(head) is None:
        return "Only PDF, PNG and JPEG documents are taken."
    return ""


def _received(
    invoice: Invoice, dispute: Dispute, token: str, settings: PayLinkSettings, files: Attachments, status: int
) -> Page:
    base = settings.public_base_url.rstrip("/")
    reason = dict(REASONS).get(dispute.reason, dispute.reason.value)
    paragraphs = [
        f"Your dispute of invoice {invoice.number} is recorded: {reason.lower()}.",
        "We will not send reminders about this invoice while we look into it, and we will write to you "
        "with the outcome.",
        f"Documents attached: {len(dispute.attachments)}.",
    ]
    if dispute.final or len(dispute.attachments) >= MAX_ATTACHMENTS:
        return Page(status, "Dispute received", tuple(paragraphs))
    key = f"disputes/{dispute.dispute_id}/{secrets.token_hex(8)}"
    url, fields = files.presign(key, f"{base}/{ACTION}/{token}/attached")
    upload = Form(
        action=url,
        inputs=(
            *(Input(name, name, "hidden", value) for name, value in fields.items()),
            Input(
                "file",
                "Add a document (PDF, PNG or JPEG, up to 10 MB)",
                "file",
                "",
                "",
                (("required", "required"),),
            ),
        ),
        submit="Upload",
        multipart=True,
    )
    return Page(status, "Dispute received", tuple(paragraphs), form=upload)


def _form_page(
    invoice: Invoice,
    token: str,
    settings: PayLinkSettings,
    errors: tuple[tuple[str, str], ...],
    given: dict[str, str],
    chosen: tuple[str, ...],
    status: int = 200,
) -> Page:
    balance = format_money(invoice.balance, "en")
    lines = tuple(
        (line.line_id, f"{line.description or 'Line ' + line.line_id}: {format_money(line.net, 'en')}")
        for line in invoice.lines
    )
    inputs = [
        Input(
            "reason",
            "What is wrong?",
            "select",
            given.get("reason", ""),
            options=(("", "Choose…"), *((r.value, t) for r, t in REASONS)),
        ),
    ]
    if lines:
        inputs.append(Input("line", "Which lines? (optional)", "checkboxes", options=lines, chosen=chosen))
    inputs += [
        Input(
            "amount",
            f"The amount you dispute, in {invoice.currency} (optional)",
            "text",
            given.get("amount", ""),
            f"Leave it empty to dispute the whole invoice ({balance}).",
            (("inputmode", "decimal"),),
        ),
        Input(
            "comment",
            "Tell us more (optional)",
            "textarea",
            given.get("comment", ""),
            "",
            (("maxlength", "2000"),),
        ),
    ]
    form = Form(
        f"{settings.public_base_url.rstrip('/')}/{ACTION}/{token}", tuple(inputs), "Send my dispute", errors
    )
    paragraphs = (
        f"Invoice {invoice.number}: {balance}, due on {format_date(invoice.due_date, 'en')}.",
        "Tell us what is wrong. You can add documents on the next page.",
    )
    return Page(status, f"Dispute invoice {invoice.number}", paragraphs, form=form)
