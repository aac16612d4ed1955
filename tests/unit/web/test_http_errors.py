"""The one mapping of the kernel's errors to HTTP (`receivables.web.http_errors`)."""

from __future__ import annotations

import inspect

import pytest

from receivables.kernel import errors
from receivables.kernel.errors import (
    ConflictError,
    FieldError,
    ForbiddenError,
    InvalidRequestError,
    NotFoundError,
    ReceivablesError,
    UnauthenticatedError,
    UnavailableError,
)
from receivables.web.http_errors import STATUSES, http_error, status_of

MESSAGES = [
    (UnauthenticatedError, 401),
    (ForbiddenError, 403),
    (NotFoundError, 404),
    (ConflictError, 409),
    (UnavailableError, 503),
]


@pytest.mark.parametrize(("kind", "status"), MESSAGES)
def test_each_kernel_error_is_its_status_and_says_what_happened(
    kind: type[ReceivablesError], status: int
) -> None:
    assert http_error(kind("no invoice inv_1")) == (status, {"message": "no invoice inv_1"})


def test_a_bad_request_is_a_400_naming_every_bad_field() -> None:
    exc = InvalidRequestError([FieldError("amount", "is required"), FieldError("currency", "must be EUR")])
    assert http_error(exc) == (
        400,
        {
            "errors": [
                {"field": "amount", "reason": "is required"},
                {"field": "currency", "reason": "must be EUR"},
            ]
        },
    )


def test_the_base_and_errors_outside_the_hierarchy_stay_a_500() -> None:
    assert http_error(ReceivablesError("a bug")) is None
    assert http_error(ValueError("a bug")) is None
    assert status_of(KeyError("x")) is None


def test_every_kernel_error_class_is_mapped() -> None:
    kernel = {c for _, c in inspect.getmembers(errors, inspect.isclass) if issubclass(c, ReceivablesError)}
    assert kernel - {ReceivablesError} == set(STATUSES)


def test_a_domain_error_takes_the_status_of_its_first_kernel_base() -> None:
    from receivables.collections.dunning.service import DunningError, DunningInvoiceGoneError
    from receivables.customers.approvals import SelfApprovalError
    from receivables.disputes.service import DisputeError, DisputeNotFoundError
    from receivables.ledger.rules import InvalidTransitionError
    from receivables.payments.allocation import PaymentError, UnknownPaymentError
    from receivables.storage.store import ConcurrentChangeError, CursorError

    assert status_of(DisputeNotFoundError("no dispute dsp_1")) == 404
    assert status_of(DisputeError("waits for no decision")) == 409
    assert status_of(DunningInvoiceGoneError("no invoice")) == 404
    assert status_of(DunningError("fee refused")) == 409
    assert status_of(UnknownPaymentError("no payment")) == 404
    assert status_of(PaymentError("more refunded than paid")) == 409
    assert issubclass(InvalidTransitionError, ConflictError)
    assert status_of(ConcurrentChangeError("changed")) == 409
    assert status_of(SelfApprovalError("yours")) == 403
    assert http_error(CursorError()) == (
        400,
        {"errors": [{"field": "cursor", "reason": "is not a cursor of this listing"}]},
    )
