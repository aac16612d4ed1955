"""The bounded subset-sum: exact and windowed sums, ties oldest first, and its three bounds."""

from __future__ import annotations

import time
from collections import Counter
from itertools import combinations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from receivables.banking.subset import BUDGET, find_combinations


def test_one_invoice_or_one_combination() -> None:
    assert find_combinations([500, 300, 250], 550).unique == (1, 2)
    assert find_combinations([500, 300, 250], 300).unique == (1,)
    assert find_combinations([500, 300, 250], 1050).unique == (0, 1, 2)


def test_nothing_sums_to_it() -> None:
    search = find_combinations([500, 300, 250], 400)
    assert search.complete and search.solutions == () and search.unique is None


def test_two_different_combinations_are_ambiguous() -> None:
    search = find_combinations([300, 100, 200, 150, 150], 300)
    assert search.complete and len(search.solutions) == 2 and search.unique is None


def test_equal_balances_are_a_tie_taken_oldest_first() -> None:
    # Three monthly invoices of 100: any two pay 200, and the two oldest are the ones taken.
    assert find_combinations([100, 100, 100], 200).unique == (0, 1)
    assert find_combinations([100, 70, 100, 100], 170).unique == (0, 1)


def test_a_window_finds_a_short_payment() -> None:
    search = find_combinations([10000, 5000], 14996, 15000)
    assert search.unique == (0, 1)


def test_at_most_max_items_in_a_combination() -> None:
    balances = [100 + n for n in range(8)]
    assert find_combinations(balances, sum(balances), max_items=6).solutions == ()
    assert find_combinations(balances, sum(balances), max_items=8).unique == tuple(range(8))


def test_only_the_oldest_are_considered() -> None:
    balances = [1000] * 25 + [777]
    search = find_combinations(balances, 777)
    assert search.considered == 25 and search.solutions == ()


def test_sixty_open_invoices_finish_within_the_budget_and_give_up_rather_than_guess() -> None:
    balances = [100000 + 997 * n for n in range(60)]
    started = time.perf_counter()
    search = find_combinations(balances, sum(balances[5:11]) + 1)
    assert time.perf_counter() - started < 1.0
    assert not search.complete and search.steps == BUDGET + 1 and search.unique is None


def test_zero_and_negative_balances_are_refused() -> None:
    with pytest.raises(ValueError, match="positive"):
        find_combinations([100, 0], 100)


def _brute(balances: list[int], low: int, high: int, max_items: int) -> set[tuple[int, ...]]:
    """Every distinct multiset of balances within the window, by enumeration."""
    found = set()
    for size in range(1, max_items + 1):
        for combo in combinations(balances, size):
            if low <= sum(combo) <= high:
                found.add(tuple(sorted(combo)))
    return found


@settings(max_examples=300, deadline=None)
@given(
    st.lists(st.integers(min_value=1, max_value=60), min_size=1, max_size=9),
    st.integers(min_value=1, max_value=250),
    st.integers(min_value=0, max_value=5),
    st.integers(min_value=1, max_value=4),
)
def test_agrees_with_enumeration(balances: list[int], low: int, width: int, max_items: int) -> None:
    search = find_combinations(balances, low, low + width, max_items=max_items, max_solutions=1000)
    expected = _brute(balances, low, low + width, max_items)
    assert search.complete
    got = [tuple(sorted(balances[i] for i in s)) for s in search.solutions]
    assert len(got) == len(set(got)) and set(got) == expected
    for solution in search.solutions:
        assert len(solution) <= max_items and len(set(solution)) == len(solution)
        # Oldest first on ties: of each balance, the earliest invoices holding it are taken.
        taken = Counter(balances[i] for i in solution)
        for balance, count in taken.items():
            holders = [i for i, b in enumerate(balances) if b == balance][:count]
            assert set(holders) <= set(solution)
