"""Dunning against the ledger: what the state machine's task does at each turn of the loop.

`next_plan` plans from the fresh invoice; `take_step` re-checks, acts when the plan says it is
time (a reminder or final notice by email, a late fee, a credit hold with a hand-off to the
collector) and plans again; `record_failure` puts a task's error on the invoice. Each change is
one transaction of the invoice (and the customer, for a hold) with its audit event, conditional
on the version read; a concurrent change (a payment landing meanwhile) makes it read again.

Each level happens once: it is in the invoice's ``levels_done`` from the transaction that
records it, and the sending itself runs under an idempotency key of the invoice and level, so a
retried task neither mails twice nor charges a fee twice.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from datetime import UTC, date, timedelta
from typing import TYPE_CHECKING, Any

from receivables.collections.dunning.planner import MAILS, Plan, plan
from receivables.collections.dunning.policy import DEFAULT_POLICY, Policy, policy_from_json, policy_to_json
from receivables.collections.dunning.templates import render_reminder
from receivables.kernel.clock import iso_timestamp
from receivables.kernel.errors import ConflictError, FieldError, InvalidRequestError, NotFoundError
from receivables.kernel.money import Money
from receivables.ledger.model import AuditEvent, DunningState, Promise
from receivables.ledger.rules import COLLECTIBLE, LedgerError, charge_fee
from receivables.mail.mailer import MailSettings, account_url, link_url, mime_message, pay_url
from receivables.storage import store

if TYPE_CHECKING:
    from collections.abc import Callable

    from receivables.collections.dunning.policy import Step
    from receivables.kernel.clock import Clock
    from receivables.ledger.model import Customer, Invoice

ACTOR = "dunning"
MAX_ATTEMPTS = 5
MAX_PROMISE_DAYS = 90


class DunningError(ConflictError):
    """A dunning task that cannot go on (a late fee the ledger refuses, say)."""


class DunningInvoiceGoneError(NotFoundError, DunningError):
    """The invoice a dunning task or a promise is about does not exist."""


@dataclass(frozen=True, slots=True)
class Mailer:
    """How reminders go out: the sender, its settings and the link key."""

    settings: MailSettings
    link_key: bytes
    send_raw: Callable[[str, bytes], str]
    # Runs a send once per key (Powertools Idempotency in the function); tests run it directly.
    once: Callable[[str, Callable[[], str]], str] = lambda key, send: send()


def load_policy() -> Policy:
    """The policy finance set, else the default."""
    found = store.get_document(store.DUNNING_POLICY_PK)
    if found is None:
        return DEFAULT_POLICY
    body, version = found
    return policy_from_json(body, version)


def save_policy(policy: Policy, expected_version: int, actor: str, clock: Clock) -> Policy:
    """Replace the policy (optimistic: ``expected_version`` is the version the editor read)."""
    now = iso_timestamp(clock.now())
    version = expected_version + 1
    body = policy_to_json(policy)
    event = AuditEvent("dunning-policy", version, "DunningPolicyChanged", now, actor, {"policy": body})
    store.put_document(store.DUNNING_POLICY_PK, body, version, now, event)
    return replace(policy, version=version)


def _fresh(invoice_id: str) -> tuple[Invoice, Customer | None]:
    invoice = store.get_invoice(invoice_id)
    if invoice is None:
        raise DunningInvoiceGoneError(f"no invoice {invoice_id}")
    return invoice, store.get_customer(invoice.customer_id)


def _save(
    invoice: Invoice,
    state: DunningState,
    kind: str,
    data: dict[str, Any],
    now: str,
    actor: str = ACTOR,
    **extra: Any,
) -> None:
    changed = replace(invoice, dunning=state, version=invoice.version + 1, updated_at=now, **extra)
    event = AuditEvent(
        invoice.invoice_id,
        changed.version,
        kind,
        now,
        actor,
        {
            "invoice_id": invoice.invoice_id,
            "number": invoice.number,
            "customer_id": invoice.customer_id,
            **data,
        },
    )
    store.apply_changes([(changed, event)])


def _result(invoice_id: str, run: int, next_plan: Plan) -> dict[str, Any]:
    return {"invoice_id": invoice_id, "run": run, "plan": next_plan.to_json()}


def _end(invoice: Invoice, run: int, next_plan: Plan, now: str) -> None:
    """Record that this run of dunning is over (unless a newer run owns the invoice)."""
    state = invoice.dunning
    if state.run != run or state.status in ("completed", "stopped"):
        return
    status = "completed" if next_plan.reason.startswith("every step") else "stopped"
    _save(
        invoice, replace(state, status=status), "DunningEnded", {"run": run, "reason": next_plan.reason}, now
    )


def next_plan(invoice_id: str, run: int, clock: Clock) -> dict[str, Any]:
    """The first turn of the loop: plan only (and end at once if nothing is owed)."""
    for _ in range(MAX_ATTEMPTS):
        invoice, customer = _fresh(invoice_id)
        planned = plan(invoice, customer, load_policy(), clock.now())
        try:
            if planned.action == "stop":
                _end(invoice, run, planned, iso_timestamp(clock.now()))
            return _result(invoice_id, run, planned)
        except store.ConcurrentChangeError:
            continue
    raise store.StoreError(f"dunning of {invoice_id}: too much contention, try again")


def take_step(invoice_id: str, run: int, clock: Clock, mailer: Mailer) -> dict[str, Any]:
    """Re-check the invoice; if the plan says it is time, take that one step; then plan the next
    turn (which may be due at once: the Wait state then passes straight through)."""
    for _ in range(MAX_ATTEMPTS):
        invoice, customer = _fresh(invoice_id)
        if invoice.dunning.run > run:
            return _result(invoice_id, run, Plan("stop", None, "a newer dunning run owns this invoice"))
        policy = load_policy()
        now = clock.now()
        planned = plan(invoice, customer, policy, now)
        try:
            if _close_promise(invoice, planned, iso_timestamp(now)):
                continue  # read the invoice again
            if planned.action == "stop":
                _end(invoice, run, planned, iso_timestamp(now))
                return _result(invoice_id, run, planned)
            if planned.action != "act" or planned.at is None or planned.at > now:
                return _result(invoice_id, run, planned)
            _act(invoice, customer, policy, planned, clock, mailer)
        except store.ConcurrentChangeError:
            continue
        return _after_act(invoice_id, run, policy, clock)
    raise store.StoreError(f"dunning of {invoice_id}: too much contention, try again")


def _after_act(invoice_id: str, run: int, policy: Policy, clock: Clock) -> dict[str, Any]:
    """The plan after a step; a run that has nothing left ends here, recorded on the invoice."""
    for _ in range(MAX_ATTEMPTS):
        invoice, customer = _fresh(invoice_id)
        planned = plan(invoice, customer, policy, clock.now())
        if planned.action != "stop":
            return _result(invoice_id, run, planned)
        try:
            _end(invoice, run, planned, iso_timestamp(clock.now()))
        except store.ConcurrentChangeError:
            continue
        return _result(invoice_id, run, planned)
    raise store.StoreError(f"dunning of {invoice_id}: too much contention, try again")


def _close_promise(invoice: Invoice, planned: Plan, now: str) -> bool:
    """Close a promise the plan found kept or broken, with its audit event; True if it did."""
    promise = invoice.dunning.promise
    if planned.promise is None or promise is None:
        return False
    kind = "PromiseKept" if planned.promise == "kept" else "PromiseBroken"
    data = {"promised_date": promise.date, "promised_amount": promise.amount.to_decimal_string()}
    _save(invoice, replace(invoice.dunning, promise=None), kind, data, now)
    return True


def _act(
    invoice: Invoice, customer: Customer | None, policy: Policy, planned: Plan, clock: Clock, mailer: Mailer
) -> None:
    step = planned.step
    assert step is not None
    now = iso_timestamp(clock.now())
    state = invoice.dunning
    done = (*state.levels_done, *planned.skipped, step.level)
    if step.action in MAILS:
        _mail(invoice, customer, step, planned, clock, mailer, done)
    elif step.action == "late_fee":
        assert policy.late_fee is not None
        fee = policy.late_fee.charge(invoice.balance)
        try:
            charged = charge_fee(invoice, fee) if fee.minor > 0 else invoice
        except LedgerError as exc:
            raise DunningError(str(exc)) from None
        data = {"level": step.level, "fee": fee.to_decimal_string(), "currency": fee.currency}
        data["balance"] = charged.balance.to_decimal_string()
        _save(charged, replace(state, levels_done=done), "LateFeeCharged", data, now)
    else:
        _hold(invoice, customer, policy, step, done, now)


def _mail(
    invoice: Invoice,
    customer: Customer | None,
    step: Step,
    planned: Plan,
    clock: Clock,
    mailer: Mailer,
    done: tuple[str, ...],
) -> None:
    now = iso_timestamp(clock.now())
    base = {"level": step.level, "action": step.action, "template": step.template, "channel": "email"}
    if customer is None or not customer.email:
        data = {**base, "skipped_levels": list(planned.skipped), "sent": False, "why": "no email address"}
        _save(invoice, replace(invoice.dunning, levels_done=done), "ReminderNotSent", data, now)
        return
    assert step.template is not None
    days_late = (clock.now().astimezone(UTC).date() - invoice.due_date).days
    rendered = render_reminder(
        step.template,
        number=invoice.number,
        amount=invoice.balance,
        due=invoice.due_date,
        days_late=max(days_late, 0),
        customer_name=customer.name,
        seller_name=mailer.settings.seller_name,
        contact=mailer.settings.contact,
        pay_url=pay_url(invoice, customer, mailer.settings, mailer.link_key, clock),
        promise_url=link_url("promise", invoice, customer, mailer.settings, mailer.link_key, clock),
        language=customer.language,
        account_url=account_url(invoice, customer, mailer.settings, mailer.link_key, clock),
    )
    kind = f"{step.action}; level={step.level}"
    message = mime_message(rendered, customer, mailer.settings, invoice.invoice_id, kind)
    email = customer.email
    message_id = mailer.once(
        f"{invoice.invoice_id}#{invoice.dunning.run}#{step.level}",
        lambda: mailer.send_raw(email, message.as_bytes()),
    )
    data = {
        **base,
        "skipped_levels": list(planned.skipped),
        "sent": True,
        "to": customer.email,
        "locale": rendered.locale,
        "subject": rendered.subject,
        "message_id": message_id,
        "balance": invoice.balance.to_decimal_string(),
        "currency": invoice.currency,
    }
    state = replace(invoice.dunning, levels_done=done, last_mail_at=now)
    kind = "FinalNoticeSent" if step.action == "final_notice" else "ReminderSent"
    _save(invoice, state, kind, data, now)


def _hold(
    invoice: Invoice, customer: Customer | None, policy: Policy, step: Step, done: tuple[str, ...], now: str
) -> None:
    """Credit hold and hand-off: the customer is held and assigned, the invoice escalated; both
    audit events (the escalation is the internal notification on the bus) in one transaction."""
    changed = replace(
        invoice,
        dunning=replace(invoice.dunning, levels_done=done),
        version=invoice.version + 1,
        updated_at=now,
    )
    data = {
        "invoice_id": invoice.invoice_id,
        "number": invoice.number,
        "customer_id": invoice.customer_id,
        "level": step.level,
        "collector": policy.collector,
        "balance": invoice.balance.to_decimal_string(),
        "currency": invoice.currency,
    }
    changes: list[tuple[Any, AuditEvent]] = [
        (changed, AuditEvent(invoice.invoice_id, changed.version, "DunningEscalated", now, ACTOR, data))
    ]
    if customer is not None and not customer.credit_hold:
        held = replace(customer, credit_hold=True, collector=policy.collector, version=customer.version + 1)
        changes.append(
            (
                held,
                AuditEvent(
                    customer.customer_id,
                    held.version,
                    "CustomerCreditHold",
                    now,
                    ACTOR,
                    {
                        "customer_id": customer.customer_id,
                        "on": True,
                        "collector": policy.collector,
                        "because_of": invoice.invoice_id,
                    },
                ),
            )
        )
    store.apply_changes(changes)


def record_failure(invoice_id: str, run: int, error: Any, clock: Clock) -> dict[str, Any]:
    """Put a failed task's error on the invoice, where finance sees it."""
    text = json.dumps(error, separators=(",", ":"))[:2000] if not isinstance(error, str) else error[:2000]
    for _ in range(MAX_ATTEMPTS):
        invoice = store.get_invoice(invoice_id)
        if invoice is None:
            return {"invoice_id": invoice_id, "recorded": False}
        now = iso_timestamp(clock.now())
        state = replace(invoice.dunning, status="failed", last_error=text)
        try:
            _save(invoice, state, "DunningFailed", {"run": run, "error": text}, now)
            return {"invoice_id": invoice_id, "recorded": True}
        except store.ConcurrentChangeError:
            continue
    raise store.StoreError(f"dunning of {invoice_id}: could not record the failure")


def started(invoice: Invoice, run: int, execution_arn: str, clock: Clock) -> None:
    """Record on the invoice that run ``run`` of its dunning started as ``execution_arn``."""
    now = iso_timestamp(clock.now())
    state = replace(
        invoice.dunning,
        execution_arn=execution_arn,
        run=run,
        status="running",
        started_at=now,
        last_error=None,
    )
    _save(invoice, state, "DunningStarted", {"run": run, "execution_arn": execution_arn}, now)


def parse_promise(invoice: Invoice, date_text: object, amount_text: object) -> tuple[date, Money]:
    """A promise as a form or JSON body gives it (``2026-12-01``, ``"500.00"``; no amount means
    the whole balance), or `InvalidRequestError` naming each bad field."""

    errors = []
    day: date | None = None
    amount: Money | None = None
    try:
        day = date.fromisoformat(str(date_text or "").strip())
    except ValueError:
        errors.append(FieldError("date", "must be a date, such as 2026-12-01"))
    text = str(amount_text).strip() if amount_text not in (None, "") else invoice.balance.to_decimal_string()
    try:
        amount = Money.parse(text, invoice.currency)
    except ValueError:
        errors.append(FieldError("amount", f"must be an amount in {invoice.currency}, such as 250.00"))
    if errors or day is None or amount is None:
        raise InvalidRequestError(errors)
    return day, amount


def record_promise(invoice_id: str, day: date, amount: Money, actor: str, clock: Clock) -> Invoice:
    """A promise to pay ``amount`` by ``day``: dunning pauses until then (see the planner)."""
    for _ in range(MAX_ATTEMPTS):
        invoice = store.get_invoice(invoice_id)
        if invoice is None:
            raise DunningInvoiceGoneError(f"no invoice {invoice_id}")
        today = clock.now().astimezone(UTC).date()
        errors = []
        if invoice.status not in COLLECTIBLE:
            errors.append(FieldError("invoice", f"is {invoice.status.value}: nothing to promise"))
        if not today <= day <= today + timedelta(days=MAX_PROMISE_DAYS):
            errors.append(FieldError("date", f"must be from today to {MAX_PROMISE_DAYS} days ahead"))
        if amount.currency != invoice.currency or not 0 < amount.minor <= invoice.balance.minor:
            errors.append(FieldError("amount", f"must be more than zero and at most {invoice.balance}"))
        if errors:
            raise InvalidRequestError(errors)
        now = iso_timestamp(clock.now())
        promise = Promise(day.isoformat(), amount, now, actor, invoice.balance)
        data = {
            "date": promise.date,
            "amount": amount.to_decimal_string(),
            "currency": amount.currency,
            "by": actor,
        }
        try:
            _save(invoice, replace(invoice.dunning, promise=promise), "PromiseToPay", data, now, actor)
        except store.ConcurrentChangeError:
            continue
        fresh = store.get_invoice(invoice_id)
        assert fresh is not None
        return fresh
    raise store.StoreError(f"promise on {invoice_id}: too much contention, try again")
