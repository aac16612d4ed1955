"""What the matching reads: the open invoices, indexed once, and what we know of the payers.

`OpenItemsView` is the little the matching asks of it (a storage-backed view can answer it with
GetItem and index queries later); `OpenItems` answers it from plain data held in memory, for the
tests, the benchmark and a batch of statement lines. Every question is a dictionary look-up or a
walk over one customer's invoices, so the work per bank line does not grow with the ledger: the
one fuzzy question (a payer's name) is asked of the few customers whose names share the start
or the end of a word with it (a blocking index), never of all of them.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

from rapidfuzz import fuzz, process

from receivables.banking.creditor_reference import compact, creditor_reference
from receivables.banking.lines import iban_key
from receivables.payments.cash import oldest_first

if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence

    from receivables.ledger.model import Invoice

# Words of a company name that say its legal form, not who it is ("Müller GmbH & Co. KG").
LEGAL_FORMS = frozenset(
    """
    gmbh mbh ag kg kgaa ohg ug gbr ek ev co und and et the
    ltd limited llc llp lp plc inc incorporated corp corporation company
    sa sas sasu sarl eurl snc sca sci scs selarl
    bv nv vof cv bvba sprl spa srl srls sl slu sll oy oyj ab asa aps as kft zrt sro spzoo
    """.split()
)
_NOT_ALNUM = re.compile(r"[^0-9a-z]+")
BLOCK_LIMIT = 200  # a name key shared by more customers than this tells too little to search by


def normalise_name(name: str) -> str:
    """A company name as compared: small letters without accents, punctuation as spaces, legal
    forms removed ("Müller Logistik GmbH & Co. KG" gives "muller logistik").

    >>> normalise_name("Société Générale SAS")
    'societe generale'
    """
    folded = unicodedata.normalize("NFKD", name.casefold())
    plain = "".join(c for c in folded if not unicodedata.combining(c))
    # Dotted abbreviations are one word ("B.V.", "S.p.A."), as is "A/S".
    plain = plain.replace(".", "").replace("a/s", "as")
    words = [w for w in _NOT_ALNUM.sub(" ", plain).split() if w not in LEGAL_FORMS]
    return " ".join(words)


def number_key(number: str) -> str:
    """An invoice number as looked up: letters and digits only, in small letters, the way
    `receivables.payments.cash.mentioned_invoices` compares them ("INV 2026/1001" is
    INV-2026-1001)."""
    return _NOT_ALNUM.sub("", number.casefold())


def _name_keys(normalised: str) -> set[str]:
    """The blocking keys of a normalised name: the first and the last three letters of each
    word, so that a typo in the middle of a word, or at one of its ends, still meets it."""
    keys = set()
    for word in normalised.split():
        keys |= {f"<{word[:3]}", f">{word[-3:]}"} if len(word) >= 3 else {f"={word}"}
    return keys


class OpenItemsView(Protocol):
    """The open items and payer knowledge the matching of a bank line reads."""

    def invoice(self, invoice_id: str) -> Invoice | None:
        """The invoice of that id, open or not; None when unknown."""

    def by_reference(self, reference: str) -> Sequence[Invoice]:
        """The invoices whose ``RF`` creditor reference this is (more than one: a collision)."""

    def by_number(self, number: str) -> Sequence[Invoice]:
        """The invoices of that number, however spaced or punctuated (several sellers may reuse
        one)."""

    def numbered(self, candidates: Sequence[str]) -> Mapping[str, Sequence[Invoice]]:
        """The invoices the remittance's candidate numbers (as written, `candidate_numbers`)
        name, by `number_key`: one lookup for all of them (a ledger reads them in one batch)."""

    def issued(self, reference: str) -> Sequence[str]:
        """The invoice ids a reference we issued stands for (a direct-debit collection's
        EndToEndId, a payout): empty when we issued none of that name."""

    def customers_of_iban(self, iban: str) -> Sequence[str]:
        """The customers an IBAN is known for (enrolment, a mandate, a confirmed lettering)."""

    def open_of(self, customer_id: str) -> Sequence[Invoice]:
        """A customer's collectible invoices with a balance, oldest due first."""

    def customer_name(self, customer_id: str) -> str | None:
        """The customer's name as finance knows it."""

    def customers_named(self, name: str, threshold: float) -> Sequence[tuple[str, float]]:
        """The customers whose normalised name scores at least ``threshold`` (0-100, rapidfuzz
        ``token_sort_ratio``) against ``name``, best first."""


@dataclass(slots=True)
class OpenItems:
    """`OpenItemsView` over plain data, every index built once by `build`."""

    invoices: dict[str, Invoice] = field(default_factory=dict)
    references: dict[str, list[Invoice]] = field(default_factory=dict)
    numbers: dict[str, list[Invoice]] = field(default_factory=dict)
    issued_refs: dict[str, tuple[str, ...]] = field(default_factory=dict)
    ibans: dict[str, tuple[str, ...]] = field(default_factory=dict)
    open_by_customer: dict[str, list[Invoice]] = field(default_factory=dict)
    names: dict[str, str] = field(default_factory=dict)
    normalised: dict[str, str] = field(default_factory=dict)
    name_index: dict[str, list[str]] = field(default_factory=dict)

    @classmethod
    def build(
        cls,
        invoices: Iterable[Invoice],
        *,
        customer_names: Mapping[str, str | None] | None = None,
        ibans: Mapping[str, str] | Iterable[tuple[str, str]] = (),
        issued: Mapping[str, Sequence[str]] | None = None,
        references: Mapping[str, str] | None = None,
    ) -> OpenItems:
        """Index ``invoices`` (open or not: a reference to a paid invoice is still recognised, and
        refused with its reason) by id, ``RF`` reference, number and customer.

        ``references`` gives an invoice's reference where it is not the derived one
        (`creditor_reference` of its id); ``ibans`` is IBAN → customer id (a mapping, or pairs
        when one IBAN is known for several customers); ``issued`` is a reference we issued →
        the invoice ids it collects; ``customer_names`` is customer id → name."""
        items = cls()
        given_refs = references or {}
        by_customer: dict[str, list[Invoice]] = {}
        for invoice in invoices:
            items.invoices[invoice.invoice_id] = invoice
            ref = compact(given_refs.get(invoice.invoice_id) or creditor_reference(invoice.invoice_id))
            items.references.setdefault(ref, []).append(invoice)
            items.numbers.setdefault(number_key(invoice.number), []).append(invoice)
            by_customer.setdefault(invoice.customer_id, []).append(invoice)
        items.open_by_customer = {c: oldest_first(i) for c, i in by_customer.items()}
        items.issued_refs = {ref.strip(): tuple(ids) for ref, ids in (issued or {}).items()}
        pairs = ibans.items() if isinstance(ibans, Mapping) else ibans
        known: dict[str, dict[str, None]] = {}
        for iban, customer_id in pairs:
            known.setdefault(iban_key(iban), {})[customer_id] = None
        items.ibans = {iban: tuple(customers) for iban, customers in known.items()}
        for customer_id, name in (customer_names or {}).items():
            if name:
                items.names[customer_id] = name
                items.normalised[customer_id] = normalise_name(name)
                for key in _name_keys(items.normalised[customer_id]):
                    items.name_index.setdefault(key, []).append(customer_id)
        return items

    def invoice(self, invoice_id: str) -> Invoice | None:
        """The invoice of that id, open or not; None when unknown."""
        return self.invoices.get(invoice_id)

    def by_reference(self, reference: str) -> Sequence[Invoice]:
        """The invoices whose ``RF`` creditor reference this is."""
        return self.references.get(compact(reference), ())

    def by_number(self, number: str) -> Sequence[Invoice]:
        """The invoices of that number, however spaced or punctuated."""
        return self.numbers.get(number_key(number), ())

    def numbered(self, candidates: Sequence[str]) -> Mapping[str, Sequence[Invoice]]:
        """The invoices of each candidate number, by `number_key`, where there are any."""
        keys = dict.fromkeys(number_key(c) for c in candidates)
        return {k: self.numbers[k] for k in keys if k in self.numbers}

    def issued(self, reference: str) -> Sequence[str]:
        """The invoice ids a reference we issued stands for."""
        return self.issued_refs.get(reference.strip(), ())

    def customers_of_iban(self, iban: str) -> Sequence[str]:
        """The customers an IBAN is known for."""
        return self.ibans.get(iban_key(iban), ())

    def open_of(self, customer_id: str) -> Sequence[Invoice]:
        """A customer's collectible invoices with a balance, oldest due first."""
        return self.open_by_customer.get(customer_id, ())

    def customer_name(self, customer_id: str) -> str | None:
        """The customer's name as finance knows it."""
        return self.names.get(customer_id)

    def customers_named(self, name: str, threshold: float) -> Sequence[tuple[str, float]]:
        """The customers whose name is close to ``name``, among those sharing a name key."""
        query = normalise_name(name)
        if not query:
            return ()
        keyed = [self.name_index.get(key, []) for key in _name_keys(query)]
        telling = [ids for ids in keyed if len(ids) <= BLOCK_LIMIT] or [min(keyed, key=len, default=[])]
        choices = {c: self.normalised[c] for ids in telling for c in ids[: BLOCK_LIMIT * 4]}
        found = process.extract(query, choices, scorer=fuzz.token_sort_ratio, score_cutoff=threshold, limit=5)
        return sorted(((key, float(score)) for _, score, key in found), key=lambda f: (-f[1], f[0]))
