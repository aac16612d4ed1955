"""AWS list prices the cost benchmarks use, in one place (USD, us-east-1, as published in
November 2026), and the arithmetic that turns metered counts into dollars.

Sources: aws.amazon.com/step-functions/pricing (Standard workflows), /lambda/pricing (Arm),
/dynamodb/pricing/on-demand (after the November 2024 on-demand price cut), /ses/pricing
(outbound email from EC2/Lambda), /eventbridge/pricing (custom events). Free tiers are left out:
they are per account, not per invoice.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

STEP_FUNCTIONS_STANDARD_PER_TRANSITION = Decimal("0.025") / 1000
LAMBDA_ARM64_PER_GB_SECOND = Decimal("0.0000133334")
LAMBDA_PER_REQUEST = Decimal("0.20") / 1_000_000
LAMBDA_MEMORY_GB = Decimal(256) / 1024  # the template's functions: arm64, 256 MB
DYNAMODB_ON_DEMAND_PER_WRITE_UNIT = Decimal("0.625") / 1_000_000
DYNAMODB_ON_DEMAND_PER_READ_UNIT = Decimal("0.125") / 1_000_000
SES_PER_EMAIL = Decimal("0.10") / 1000
EVENTBRIDGE_PER_CUSTOM_EVENT = Decimal("1.00") / 1_000_000


@dataclass(frozen=True, slots=True)
class Usage:
    """What one invoice's dunning consumed."""

    transitions: int
    invocations: int
    billed_ms: int  # Lambda bills each invocation's duration rounded up to the millisecond
    read_units: Decimal
    write_units: Decimal
    emails: int
    events: int  # audit events published on the bus (each one Publisher record and one PutEvents entry)


def cost_usd(usage: Usage) -> Decimal:
    """The list-price cost of ``usage``."""
    lambda_seconds = Decimal(usage.billed_ms) / 1000
    return (
        usage.transitions * STEP_FUNCTIONS_STANDARD_PER_TRANSITION
        + usage.invocations * LAMBDA_PER_REQUEST
        + lambda_seconds * LAMBDA_MEMORY_GB * LAMBDA_ARM64_PER_GB_SECOND
        + usage.read_units * DYNAMODB_ON_DEMAND_PER_READ_UNIT
        + usage.write_units * DYNAMODB_ON_DEMAND_PER_WRITE_UNIT
        + usage.emails * SES_PER_EMAIL
        + usage.events * EVENTBRIDGE_PER_CUSTOM_EVENT
    )
