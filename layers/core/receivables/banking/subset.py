"""Which of a customer's open invoices a transfer pays, from its amount alone: a bounded
subset-sum.

The search is bounded three ways so that a customer with hundreds of open invoices costs no more
than one with ten: at most ``max_considered`` invoices (the oldest), at most ``max_items`` in one
combination, and at most ``budget`` search steps. When the budget runs out the search says so
(``complete`` is False) and the caller must not take what it found as the only answer.

Invoices of the same balance are interchangeable for the amount: a combination is a choice of
*how many* invoices of each balance, and the ones taken are the oldest of that balance (oldest
first on ties). Two combinations are different only when their balances differ (300 = 100 + 200
= 150 + 150): then the amount is ambiguous.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Sequence

MAX_CONSIDERED = 25
MAX_ITEMS = 6
BUDGET = 20_000


@dataclass(frozen=True, slots=True)
class SubsetSearch:
    """What the search found: ``solutions`` are combinations (indexes into the balances given,
    oldest first), at most ``max_solutions`` of them; ``complete`` is False when the step budget
    ran out first; ``considered`` is how many of the balances were looked at; ``steps`` the work
    done."""

    solutions: tuple[tuple[int, ...], ...]
    complete: bool
    considered: int
    steps: int

    @property
    def unique(self) -> tuple[int, ...] | None:
        """The one combination, when the search finished and found exactly one."""
        return self.solutions[0] if self.complete and len(self.solutions) == 1 else None


class _StopSearchError(Exception):
    """The search has enough solutions, or no more steps."""


@dataclass(slots=True)
class _Search:
    values: list[int]  # distinct balances, largest first
    members: list[list[int]]  # per balance, the indexes holding it, oldest first
    reach: list[list[int]]  # reach[g][s]: the most s invoices from groups g.. can sum to
    low: int
    high: int
    max_solutions: int
    budget: int
    taken: list[int]
    solutions: list[tuple[int, ...]] = field(default_factory=list)
    steps: int = 0

    def run(self, group: int, low: int, high: int, slots: int) -> None:
        """Choose how many invoices of balance ``values[group]`` to take, then go on; ``low`` and
        ``high`` are what is still to be covered."""
        self.steps += 1
        if self.steps > self.budget:
            raise _StopSearchError
        if group == len(self.values) or slots == 0 or self.reach[group][slots] < low:
            return
        value = self.values[group]
        for count in range(min(len(self.members[group]), slots, high // value), -1, -1):
            self.taken[group] = count
            left_low, left_high = low - count * value, high - count * value
            if count and left_low <= 0 <= left_high:
                self._record()
            if left_high > 0:
                self.run(group + 1, left_low, left_high, slots - count)
        self.taken[group] = 0

    def _record(self) -> None:
        picked = [i for g, n in enumerate(self.taken) for i in self.members[g][:n]]
        self.solutions.append(tuple(sorted(picked)))
        if len(self.solutions) >= self.max_solutions:
            raise _StopSearchError


def find_combinations(
    balances: Sequence[int],
    low: int,
    high: int | None = None,
    *,
    max_considered: int = MAX_CONSIDERED,
    max_items: int = MAX_ITEMS,
    max_solutions: int = 2,
    budget: int = BUDGET,
) -> SubsetSearch:
    """Combinations of ``balances`` (positive minor units, oldest first) whose sum lies between
    ``low`` and ``high`` (``high`` defaults to ``low``: an exact sum).

    Stops at ``max_solutions`` (two is enough to know an amount is ambiguous).

    >>> find_combinations([500, 300, 200], 500).solutions
    ((0,), (1, 2))
    """
    top = low if high is None else high
    considered = list(balances[:max_considered])
    if any(b <= 0 for b in considered):
        raise ValueError("balances searched must be positive")
    groups: dict[int, list[int]] = {}
    for index, balance in enumerate(considered):
        groups.setdefault(balance, []).append(index)
    values = sorted(groups, reverse=True)
    members = [groups[v] for v in values]
    reach = _reach(values, members, max_items)
    search = _Search(values, members, reach, low, top, max_solutions, budget, [0] * len(values))
    complete = True
    if low <= top and top > 0:
        try:
            search.run(0, low, top, max_items)
        except _StopSearchError:
            complete = search.steps <= budget
    return SubsetSearch(tuple(search.solutions), complete, len(considered), search.steps)


def _reach(values: list[int], members: list[list[int]], max_items: int) -> list[list[int]]:
    """reach[g][s]: the largest sum of at most s invoices of the groups from g on (their largest
    balances, since the groups are largest first); the search stops where it cannot reach."""
    flat = [v for v, m in zip(values, members, strict=True) for _ in m]
    starts, position = [], 0
    for m in members:
        starts.append(position)
        position += len(m)
    starts.append(position)
    prefix = [0]
    for v in flat:
        prefix.append(prefix[-1] + v)
    return [
        [prefix[min(starts[g] + s, len(flat))] - prefix[starts[g]] for s in range(max_items + 1)]
        for g in range(len(values) + 1)
    ]
