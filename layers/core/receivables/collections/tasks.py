"""Tasks: a thing a person is to do about a customer by a day (call them Tuesday, chase the PO),
with an owner. Each task is a JSON document, on its owner's list while open (the sparse index,
by due date) and on the customer's list; creating and finishing one is an audit event of the
customer (``TaskCreated``, ``TaskDone``) in the same transaction, so their timeline shows it.
"""

from __future__ import annotations

import secrets
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any

from receivables.collections.finance import change_customer, customer_or_404
from receivables.kernel.clock import iso_timestamp
from receivables.kernel.errors import ConflictError, FieldError, InvalidRequestError, NotFoundError
from receivables.storage import store

if TYPE_CHECKING:
    from receivables.kernel.clock import Clock

MAX_DAYS_AHEAD = 366
MAX_TASKS_LISTED = 200


def parse_task(title: object, owner: object, due: object, today: date) -> tuple[str, str, date]:
    """A task as a form or JSON body gives it, or `InvalidRequestError` naming each bad field."""
    errors = []
    text = str(title or "").strip()
    if not 0 < len(text) <= 200:
        errors.append(FieldError("title", "must be 1 to 200 characters"))
    who = str(owner or "").strip().lower()
    if not 0 < len(who) <= 200:
        errors.append(FieldError("owner", "must be 1 to 200 characters"))
    day: date | None = None
    try:
        day = date.fromisoformat(str(due or "").strip())
    except ValueError:
        errors.append(FieldError("due", "must be a date, such as 2026-12-01"))
    if day is not None and not today <= day <= today + timedelta(days=MAX_DAYS_AHEAD):
        errors.append(FieldError("due", f"must be from today to {MAX_DAYS_AHEAD} days ahead"))
    if errors or day is None:
        raise InvalidRequestError(errors)
    return text, who, day


def _writes(body: dict[str, Any], version: int, at: str) -> store.Write:
    sort = f"{body['due']}#{body['task_id']}"
    waiting = (store.open_tasks_of(body["owner"]), sort) if body["status"] == "open" else None
    listing = (store.customer_tasks_listing(body["customer_id"]), sort)
    return store.document_update(store.task_pk(body["task_id"]), body, version, at, listing, waiting=waiting)


def create_task(
    customer_id: str,
    title: str,
    owner: str,
    due: date,
    actor: str,
    clock: Clock,
    invoice_id: str | None = None,
) -> dict[str, Any]:
    """A new open task about the customer, owned by ``owner``, due on ``due``."""
    customer_or_404(customer_id)
    at = iso_timestamp(clock.now())
    body = {
        "task_id": "tsk_" + secrets.token_hex(10),
        "customer_id": customer_id,
        "invoice_id": invoice_id,
        "title": title,
        "owner": owner,
        "due": due.isoformat(),
        "status": "open",
        "created_by": actor,
        "created_at": at,
        "done_by": None,
        "done_at": None,
    }
    data = {"task_id": body["task_id"], "text": title, "owner": owner, "date": body["due"]}
    change_customer(
        customer_id, lambda c: c, "TaskCreated", data, actor, clock, writes=[_writes(body, 1, at)]
    )
    return body


def complete_task(task_id: str, actor: str, clock: Clock) -> dict[str, Any]:
    """Mark an open task done (it leaves its owner's list); `ConflictError` when it is done already."""
    found = store.get_document(store.task_pk(task_id)) if task_id.startswith("tsk_") else None
    if found is None:
        raise NotFoundError(f"no task {task_id}")
    body, version = found
    if body["status"] != "open":
        raise ConflictError(f"task {task_id} is done already")
    at = iso_timestamp(clock.now())
    done = {**body, "status": "done", "done_by": actor, "done_at": at}
    data = {"task_id": task_id, "text": body["title"], "owner": body["owner"]}
    try:
        change_customer(
            body["customer_id"],
            lambda c: c,
            "TaskDone",
            data,
            actor,
            clock,
            writes=[_writes(done, version + 1, at)],
        )
    except store.StoreError:
        raise ConflictError(f"task {task_id} changed meanwhile: reload and try again") from None
    return done


def open_tasks(owner: str) -> list[dict[str, Any]]:
    """The owner's open tasks, earliest due first (one Query of the sparse index)."""
    return [body for body, _ in store.waiting_documents(store.open_tasks_of(owner.lower()), MAX_TASKS_LISTED)]


def customer_tasks(customer_id: str) -> list[dict[str, Any]]:
    """Every task about the customer, earliest due first (one Query of the listing index)."""
    return [
        body
        for body, _ in store.listed_documents(store.customer_tasks_listing(customer_id), MAX_TASKS_LISTED)
    ]
