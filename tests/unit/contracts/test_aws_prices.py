"""The cost benchmark's arithmetic, at the list prices of tests/benchmarks/aws_prices.py."""

from __future__ import annotations

from decimal import Decimal

from tests.benchmarks.aws_prices import Usage, cost_usd


def test_nothing_used_costs_nothing() -> None:
    assert cost_usd(Usage(0, 0, 0, Decimal(0), Decimal(0), 0, 0)) == 0


def test_each_service_is_billed_at_its_list_price() -> None:
    # 1,000 transitions $0.025; 1M requests $0.20; 4,000 s at 0.25 GB = 1,000 GB-s $0.0133334;
    # 1M read units $0.125; 1M write units $0.625; 1,000 emails $0.10; 1M events $1.00.
    usage = Usage(1000, 1_000_000, 4_000_000, Decimal(1_000_000), Decimal(1_000_000), 1000, 1_000_000)
    assert cost_usd(usage) == Decimal("0.025") + Decimal("0.20") + Decimal("0.0133334") + Decimal(
        "0.125"
    ) + Decimal("0.625") + Decimal("0.10") + Decimal("1.00")
