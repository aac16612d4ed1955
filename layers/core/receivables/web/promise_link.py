"""The customer's promise to pay, through the signed link in every overdue reminder.

``GET /promise/{token}`` shows the invoice and a form (a date, an amount that defaults to the
whole balance, and the promise already on file if there is one); ``POST`` records the promise
with `receivables.collections.dunning.service.record_promise`, so dunning pauses until that date and resumes
at the right step if the promise is broken. The token is a ``promise`` link for one invoice of
one customer: a pay link, or another customer's link, opens nothing here.
"""

from __future__ import annotations

from datetime import UTC, timedelta
from typing import TYPE_CHECKING
from urllib.parse import parse_qs

from receivables.collections.dunning.service import (
    MAX_PROMISE_DAYS,
    DunningError,
    parse_promise,
    record_promise,
)
from receivables.kernel.errors import InvalidRequestError
from receivables.mail.emails import format_date, format_money
from receivables.web.checkout import PayLinkSettings, invoice_for_link, nothing_to_pay_page
from receivables.web.pages import Form, Input, Page

if TYPE_CHECKING:
    from receivables.kernel.clock import Clock
    from receivables.ledger.model import Invoice

ACTION = "promise"
MAX_FORM_BYTES = 4096


def promise_form(token: str, link_key: bytes, clock: Clock, settings: PayLinkSettings) -> Page:
    """What ``GET /promise/{token}`` answers: the form, or why there is nothing to promise."""
    found = invoice_for_link(token, link_key, clock, settings, ACTION)
    if isinstance(found, Page):
        return found
    return nothing_to_pay_page(found, settings) or _form_page(found, token, clock, settings, (), {})


def submit_promise(token: str, body: bytes, link_key: bytes, clock: Clock, settings: PayLinkSettings) -> Page:
    """What ``POST /promise/{token}`` answers: the promise recorded (200), the form again with
    what is wrong (400), or the page of a link or invoice that takes no promise."""

    found = invoice_for_link(token, link_key, clock, settings, ACTION)
    if isinstance(found, Page):
        return found
    closed = nothing_to_pay_page(found, settings)
    if closed is not None:
        return closed
    if len(body) > MAX_FORM_BYTES:
        return Page(413, "The form is too large", ("Please use the form as it is shown.",))
    try:
        form = {k: v[0] for k, v in parse_qs(body.decode("utf-8", "replace"), max_num_fields=10).items()}
    except ValueError:  # more fields than the form has
        return Page(413, "The form is too large", ("Please use the form as it is shown.",))
    try:
        day, amount = parse_promise(found, form.get("date"), form.get("amount"))
        changed = record_promise(found.invoice_id, day, amount, f"customer:{found.customer_id}", clock)
    except InvalidRequestError as exc:
        errors = tuple((e.field, e.reason) for e in exc.errors)
        return _form_page(found, token, clock, settings, errors, form, status=400)
    except DunningError:
        return Page(404, "Invoice not found", (f"Please contact {settings.contact}.",))
    promise = changed.dunning.promise
    assert promise is not None
    return Page(
        200,
        "Thank you: your promise is noted",
        (
            f"You will pay {format_money(promise.amount, 'en')} of invoice {changed.number} "
            f"by {format_date(day, 'en')}.",
            "We will not send reminders about this invoice until then.",
            f"Questions? Write to {settings.contact}.",
        ),
    )


def _form_page(
    invoice: Invoice,
    token: str,
    clock: Clock,
    settings: PayLinkSettings,
    errors: tuple[tuple[str, str], ...],
    given: dict[str, str],
    status: int = 200,
) -> Page:

    today = clock.now().astimezone(UTC).date()
    balance = format_money(invoice.balance, "en")
    paragraphs = [f"Invoice {invoice.number}: {balance} was due on {format_date(invoice.due_date, 'en')}."]
    promise = invoice.dunning.promise
    if promise is not None:
        paragraphs.append(
            f"On file: your promise to pay {format_money(promise.amount, 'en')} by "
            f"{promise.date}. A new promise replaces it."
        )
    paragraphs.append("Tell us when you will pay, and how much; we will not remind you before then.")
    form = Form(
        action=f"{settings.public_base_url.rstrip('/')}/{ACTION}/{token}",
        inputs=(
            Input(
                "date",
                "I will pay by",
                "date",
                given.get("date", promise.date if promise else ""),
                f"At most {MAX_PROMISE_DAYS} days ahead.",
                (
                    ("min", today.isoformat()),
                    ("max", (today + timedelta(days=MAX_PROMISE_DAYS)).isoformat()),
                    ("required", "required"),
                ),
            ),
            Input(
                "amount",
                f"Amount ({invoice.currency})",
                "text",
                given.get("amount", invoice.balance.to_decimal_string()),
                f"The whole balance is {balance}.",
                (("inputmode", "decimal"), ("required", "required")),
            ),
        ),
        submit="Promise to pay",
        errors=errors,
    )
    return Page(status, f"Promise to pay invoice {invoice.number}", tuple(paragraphs), form=form)
