"""Which mail a ledger event asks for, and sending it once: the mailer function's one decision,
apart from its wiring (SES, the secrets, the idempotency table).

- ``InvoiceIngested`` (and ``InvoiceReleased``, once a held invoice is complete): the invoice
  email with its pay link, once per invoice (the idempotency record, then the marker stored with
  ``InvoiceEmailed``).
- ``PaymentFailed``: finance is told (at ``CONTACT_EMAIL``).
- ``InvoiceHeld``, ``DocumentsReminded``: the customer's AP is asked for what the invoice lacks.
- ``CreditNoteIngested``: the credit note, as an e-invoice, to a customer who takes them.
- ``CreditThresholdCrossed``, ``CreditInsuranceExceeded``: the account owner is told.
- ``DeductionRouted``: the deduction's owner is told what waits for them; ``DeductionTaken``: the
  customer is told what the deduction's checks refused.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol

from receivables.kernel.observability import logger, metrics
from receivables.mail.mailer import (
    MailOutcome,
    MailSettings,
    send_credit_note,
    send_credit_notice,
    send_deduction_notice,
    send_deduction_refusal,
    send_documentation_request,
    send_invoice_email,
    send_payment_failed_notice,
)

if TYPE_CHECKING:
    from collections.abc import Callable

    from receivables.kernel.clock import Clock


class Mailing(Protocol):
    """What sending needs: the settings, the link keys, SES, the clock, the once-guard and the
    reader of received e-invoices."""

    @property
    def mail(self) -> MailSettings: ...
    @property
    def link_key(self) -> Callable[[], bytes]: ...
    @property
    def send_raw(self) -> Callable[[str, bytes], str]: ...
    @property
    def clock(self) -> Clock: ...
    @property
    def once(self) -> Callable[[Callable[[str], MailOutcome], str], MailOutcome]: ...
    @property
    def read_object(self) -> Callable[[str, str], bytes | None] | None: ...
    @property
    def put_print(self) -> Callable[[str, bytes, str], None] | None: ...


def _told(kind: str, key: str, outcome: MailOutcome) -> dict[str, Any]:
    logger.info(kind, extra={key: outcome.invoice_id, "action": outcome.action})
    return {key: outcome.invoice_id, "action": outcome.action, "detail": outcome.detail}


def mail_for(event: dict[str, Any], deps: Mailing) -> dict[str, Any]:
    """Send the mail ``event`` (an EventBridge event of the ledger) asks for; what was done."""
    kind = event.get("detail-type")
    detail = event.get("detail", {})
    if kind == "PaymentFailed":
        notice = send_payment_failed_notice(detail, deps.mail, deps.send_raw, deps.clock)
        return _told("payment failed notice", "invoice_id", notice)
    if kind in ("CreditThresholdCrossed", "CreditInsuranceExceeded"):
        told = send_credit_notice(detail, deps.mail, deps.send_raw, deps.clock)
        return _told("credit notice", "customer_id", told)
    if kind == "DeductionTaken":
        refused = send_deduction_refusal(detail, deps.mail, deps.link_key(), deps.send_raw, deps.clock)
        return _told("deduction refusal", "deduction_id", refused)
    if kind == "DeductionRouted":
        routed = send_deduction_notice(detail, deps.mail, deps.send_raw, deps.clock)
        return _told("deduction notice", "deduction_id", routed)
    if kind == "CreditNoteIngested":
        sent = send_credit_note(detail, deps.mail, deps.send_raw, deps.clock, deps.read_object)
        return _told("credit note email", "credit_note_id", sent)
    if kind in ("InvoiceHeld", "DocumentsReminded"):
        asked = send_documentation_request(detail, deps.mail, deps.link_key(), deps.send_raw, deps.clock)
        return _told("documentation request", "invoice_id", asked)
    invoice_id = str(detail.get("invoice_id") or "")
    if not invoice_id:
        logger.warning("event without an invoice id", extra={"detail_type": kind})
        return {"action": "skipped", "detail": "no invoice id"}

    def send(key: str) -> MailOutcome:
        return send_invoice_email(
            key.partition("@")[0],
            deps.mail,
            deps.link_key(),
            deps.send_raw,
            deps.clock,
            deps.read_object,
            deps.put_print,
        )

    # A held invoice is mailed when it is released: that is another attempt than the first one,
    # whose answer ("held") the idempotency record keeps; the marker still sends it once only.
    outcome = deps.once(send, f"{invoice_id}@released" if kind == "InvoiceReleased" else invoice_id)
    logger.info("invoice email", extra={"invoice_id": invoice_id, "action": outcome.action})
    metrics.add_metric(name=f"InvoiceEmail{outcome.action.title().replace('_', '')}", unit="Count", value=1)
    return {"invoice_id": invoice_id, "action": outcome.action, "detail": outcome.detail}
