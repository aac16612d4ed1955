"""Lettering codes: the name of one matched set (a bank line, the invoices it pays and the amounts),
unique per customer account, as accountants letter a ledger: ``A`` … ``Z``, ``AA``, ``AB`` … The
codes go on the ledger's allocations and audit events, and the accounting export carries them.

A code is reserved before the receipt is recorded, with a conditional write of the customer's
counter; a receipt that then fails leaves a gap, never a code used twice.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from receivables.kernel.clock import iso_timestamp
from receivables.storage import store

if TYPE_CHECKING:
    from receivables.kernel.clock import Clock

MAX_ATTEMPTS = 8


def code_of(number: int) -> str:
    """The ``number``-th code (from 1), in bijective base 26: 1 is ``A``, 26 ``Z``, 27 ``AA``.

    >>> [code_of(n) for n in (1, 26, 27, 52, 703)]
    ['A', 'Z', 'AA', 'AZ', 'AAA']
    """
    if number < 1:
        raise ValueError("lettering codes are numbered from 1")
    letters = []
    while number:
        number, rest = divmod(number - 1, 26)
        letters.append(chr(ord("A") + rest))
    return "".join(reversed(letters))


def reserve_code(customer_id: str, clock: Clock) -> str:
    """The customer's next lettering code, reserved (one conditional write of its counter)."""
    pk = store.lettering_pk(customer_id)
    for _ in range(MAX_ATTEMPTS):
        found = store.get_document(pk)
        body, version = found if found is not None else ({"next": 1}, 0)
        number = int(body["next"])
        try:
            store.put_document(pk, {"next": number + 1}, version + 1, iso_timestamp(clock.now()), None)
        except store.ConcurrentChangeError:
            continue
        return code_of(number)
    raise store.StoreError(f"the lettering codes of {customer_id} kept changing; try again")
