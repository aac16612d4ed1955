"""Disputes: opened by the test cards and accounts that are disputed, answered with evidence or
accepted (closed)."""

from __future__ import annotations

import copy
from typing import TYPE_CHECKING, Any

from receivables_local.stripe_local import forms
from receivables_local.stripe_local.forms import FormError
from receivables_local.stripe_local.objects import checks
from receivables_local.stripe_local.objects.api import NO_REQUEST, StripeError, new_id
from receivables_local.stripe_local.objects.balance import Balance

if TYPE_CHECKING:
    from receivables_local.stripe_local.forms import Params
    from receivables_local.stripe_local.objects.api import RequestInfo

DISPUTE_RESPONSE_WINDOW = 7 * 24 * 3600
DISPUTE_EVIDENCE_FIELDS = (
    "access_activity_log",
    "billing_address",
    "cancellation_policy",
    "cancellation_policy_disclosure",
    "cancellation_rebuttal",
    "customer_communication",
    "customer_email_address",
    "customer_name",
    "customer_purchase_ip",
    "customer_signature",
    "duplicate_charge_documentation",
    "duplicate_charge_explanation",
    "duplicate_charge_id",
    "product_description",
    "receipt",
    "refund_policy",
    "refund_policy_disclosure",
    "refund_refusal_explanation",
    "service_date",
    "service_documentation",
    "shipping_address",
    "shipping_carrier",
    "shipping_date",
    "shipping_documentation",
    "shipping_tracking_number",
    "uncategorized_file",
    "uncategorized_text",
)
_OPEN_DISPUTE = ("needs_response", "warning_needs_response")


class Disputes(Balance):
    """Disputes of charges."""

    def _open_dispute(self, charge: dict[str, Any], reason: str, *, final: bool = False) -> None:
        """The customer disputes ``charge`` (``charge.dispute.created``). A card dispute awaits
        the merchant's evidence; a bank debit's dispute is ``final``: Stripe closes it as lost at
        once (``charge.dispute.closed``), there is no appeal."""
        now = self.now()
        dispute: dict[str, Any] = {
            "id": new_id("dp_"),
            "object": "dispute",
            "amount": charge["amount"],
            "balance_transactions": [],
            "charge": charge["id"],
            "created": now,
            "currency": charge["currency"],
            "evidence": dict.fromkeys(DISPUTE_EVIDENCE_FIELDS),
            "evidence_details": {
                "due_by": now + DISPUTE_RESPONSE_WINDOW,
                "has_evidence": False,
                "past_due": False,
                "submission_count": 0,
            },
            "is_charge_refundable": False,
            "livemode": False,
            "metadata": {},
            "payment_intent": charge["payment_intent"],
            "reason": reason,
            "status": "needs_response",
        }
        if final:
            dispute["status"] = "lost"
            dispute["evidence_details"]["due_by"] = None
        charge["disputed"] = True
        self._objects[dispute["id"]] = dispute
        self._dispute_withdrawn(dispute)
        self._emit("charge.dispute.created", dispute, NO_REQUEST)
        if final:
            self._emit("charge.dispute.closed", dispute, NO_REQUEST)

    def update_dispute(self, dispute_id: str, params: Params, request: RequestInfo) -> dict[str, Any]:
        """``POST /v1/disputes/{id}``: stage or submit evidence (``submit`` defaults to true), or
        change metadata. In test mode ``uncategorized_text`` ``winning_evidence`` wins the
        dispute and ``losing_evidence`` loses it."""
        with self.lock:
            dispute = self._get("dispute", dispute_id)
            before = copy.deepcopy(dispute)
            evidence = forms.obj(params, "evidence")
            submit_flag = forms.boolean(params, "submit")
            touches_evidence = "evidence" in params or submit_flag is not None
            if touches_evidence and dispute["status"] not in _OPEN_DISPUTE:
                raise StripeError(
                    400,
                    f"This dispute is {dispute['status'].replace('_', ' ')}: its evidence can no longer be "
                    "updated or submitted.",
                    param="evidence",
                )
            for key, value in evidence.items():
                if not isinstance(value, str):
                    raise FormError("Invalid string", f"evidence[{key}]", "parameter_invalid_string")
                dispute["evidence"][key] = value or None
            if "metadata" in params:
                merged = {**dispute["metadata"], **forms.mapping(params, "metadata")}
                dispute["metadata"] = checks.metadata(merged, "metadata")
            details = dispute["evidence_details"]
            details["has_evidence"] = any(v is not None for v in dispute["evidence"].values())
            verdict: str | None = None
            if touches_evidence and submit_flag is not False:
                details["submission_count"] += 1
                dispute["status"] = "under_review"
                text = dispute["evidence"]["uncategorized_text"]
                verdict = {"winning_evidence": "won", "losing_evidence": "lost"}.get(text or "")
            previous = {k: v for k, v in before.items() if dispute[k] != v}
            self._emit("charge.dispute.updated", dispute, request, previous)
            if verdict is not None:
                dispute["status"] = verdict
                if verdict == "won":
                    self._dispute_reinstated(dispute)
                self._emit("charge.dispute.closed", dispute, request)
            return copy.deepcopy(dispute)

    def close_dispute(self, dispute_id: str, request: RequestInfo) -> dict[str, Any]:
        """``POST /v1/disputes/{id}/close``: accept the dispute, which is then lost."""
        with self.lock:
            dispute = self._get("dispute", dispute_id)
            if dispute["status"] not in _OPEN_DISPUTE:
                raise StripeError(
                    400,
                    f"This dispute is {dispute['status'].replace('_', ' ')} and can no longer be closed.",
                    param="dispute",
                )
            dispute["status"] = "lost"
            self._emit("charge.dispute.closed", dispute, request)
            return copy.deepcopy(dispute)
