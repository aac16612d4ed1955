"""The console's pictures, drawn on the server as SVG geometry (numbers only: the template draws
them, autoescaped, and the page needs no script and no style attribute).

`aging_bars`: one bar per aging bucket of a currency, each a link to the bucket's invoices.
`dso_trend`: the DSO of the daily snapshots as a line, once there are two.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from receivables.reporting.aging import BUCKET_NAMES

BAR_WIDTH = 300  # the widest bar, in SVG units
BAR_HEIGHT = 18
BAR_GAP = 6
TREND_WIDTH, TREND_HEIGHT = 400, 100


@dataclass(frozen=True, slots=True)
class Bar:
    """One bucket's bar: where it is drawn, what it says, and whether it is late."""

    bucket: str
    amount: str
    y: int
    width: int
    late: bool


def aging_bars(currency: dict[str, Any]) -> list[Bar]:
    """The bars of a currency's aging (``Aging.to_json``), widest = the largest bucket."""
    amounts = {name: Decimal(currency["buckets"][name]) for name in BUCKET_NAMES}
    widest = max(amounts.values()) or Decimal(1)
    return [
        Bar(
            name,
            currency["buckets"][name],
            n * (BAR_HEIGHT + BAR_GAP),
            max(int(BAR_WIDTH * amounts[name] / widest), 1 if amounts[name] else 0),
            name != "current",
        )
        for n, name in enumerate(BUCKET_NAMES)
    ]


def bars_height() -> int:
    return len(BUCKET_NAMES) * (BAR_HEIGHT + BAR_GAP)


def dso_trend(points: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The polyline of the DSO over the snapshots, with its first and last day and value; None
    with fewer than two days that have a DSO."""
    values = [
        (p["date"], Decimal(p["kpis"]["dso_standard"])) for p in points if p["kpis"].get("dso_standard")
    ]
    if len(values) < 2:
        return None
    top = max(v for _, v in values) or Decimal(1)
    step = Decimal(TREND_WIDTH) / (len(values) - 1)
    line = " ".join(
        f"{i * step:.1f},{TREND_HEIGHT - (TREND_HEIGHT - 10) * v / top:.1f}"
        for i, (_, v) in enumerate(values)
    )
    return {
        "points": line,
        "first": values[0],
        "last": values[-1],
        "width": TREND_WIDTH,
        "height": TREND_HEIGHT,
    }
