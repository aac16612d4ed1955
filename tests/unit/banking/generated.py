"""A generated ledger and a generated day of bank lines against it, each line with the truth of
what its payer paid: for the matching's accuracy check (`test_matching_accuracy`) and for the
statement benchmark of issue 22, which can import `generate` and `measure` from here (this lives
under tests/unit/banking because tests/benchmarks/statement_data.py is another change's).

Realistic on purpose where matching goes wrong: invoice numbers are dense (INV-2027-00001 up),
so a mistyped number is usually another customer's real invoice; names share words ("Keller
Logistik", "Keller Bau"); some customers bill the same amount every month; a quarter of the
payers' IBANs are not known yet. Every IBAN is valid (its check digits computed, as a statement
reader checks them). Deterministic for a seed.
"""

from __future__ import annotations

import random
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import TYPE_CHECKING

from stdnum.iso7064 import mod_97_10

from receivables.banking.creditor_reference import creditor_reference
from receivables.banking.creditor_reference import format as printed
from receivables.banking.matching import OpenItems
from receivables.banking.statement import Direction, Entry, Party, Remittance
from receivables.kernel.money import Money
from receivables.ledger.model import DueDateSource, Invoice, InvoiceStatus, SourceRef

if TYPE_CHECKING:
    from collections.abc import Callable

    from receivables.banking.matching import Decision

SURNAMES = """Keller Schmidt Dupont Moreau Rossi Bianchi Jansen Visser Novak Horvat Nielsen Berg
Lindqvist Virtanen Kowalski Nowak Garcia Martinez Silva Santos Murphy Walsh Fischer Weber Wagner
Becker Hoffmann Schulz Koch Richter Klein Wolf Lefebvre Laurent Girard Bonnet Ferrari Romano
Colombo Bakker Smit Dvorak Kovacs Toth Hansen Larsen Andersen Johansson Korhonen Lewandowski
Fernandez Lopez Costa Ferreira Byrne Ryan Meier Huber Lang Brandt Vogel Frank""".split()
SECTORS = """Logistik Logistics Bau Construction Maschinenbau Engineering Elektro Electric Textil
Textiles Papier Paper Holz Timber Metall Metals Chemie Chemicals Pharma Foods Lebensmittel Agrar
Farming Medien Media Software Systems Consulting Beratung Transport Freight Energie Energy Optik
Optics Druck Printing Moebel Furniture Glas Glass""".split()
FORMS = ["GmbH", "AG", "GmbH & Co. KG", "SAS", "SARL", "S.p.A.", "B.V.", "Ltd", "Inc.", "Oy", "AB", "SA"]
GENERIC = ["Zahlung", "Payment", "Ueberweisung", "Virement", "Pagamento", "Betaling", "Rechnungen"]


@dataclass(frozen=True, slots=True)
class Truth:
    """What the payer of a line paid: ``invoice_ids`` (empty: nothing of ours to letter)."""

    kind: str
    invoice_ids: frozenset[str]


@dataclass(slots=True)
class Generated:
    """The ledger, what finance knows of the payers, and the bank lines with their truth."""

    invoices: list[Invoice]
    customer_names: dict[str, str]
    known_ibans: dict[str, str]
    issued: dict[str, tuple[str, ...]]
    entries: list[Entry]
    truth: dict[str, Truth]

    def view(self) -> OpenItems:
        """The open items the matching reads, every index built once."""
        return OpenItems.build(
            self.invoices, customer_names=self.customer_names, ibans=self.known_ibans, issued=self.issued
        )


@dataclass(slots=True)
class Accuracy:
    """How a matcher did on the generated lines."""

    lines: int = 0
    automatic: int = 0
    wrong: int = 0  # lettered an invoice the payer did not pay (the goal is 0)
    incomplete: int = 0  # right invoices, but some the payer paid left open (money on account)
    # The oldest of a customer's invoices of the same balance lettered instead of the one paid
    # (the tie rule: the amount cannot tell them apart), not counted as wrong.
    ties: int = 0
    by_rule: Counter[str] = field(default_factory=Counter)
    wrong_kinds: Counter[str] = field(default_factory=Counter)

    @property
    def auto_share(self) -> float:
        """Share of the lines lettered without a person."""
        return self.automatic / self.lines if self.lines else 0.0


def measure(data: Generated, decide: Callable[[Entry], Decision]) -> Accuracy:
    """Run ``decide`` over every line and compare what it letters with the truth."""
    result = Accuracy()
    for entry in data.entries:
        result.lines += 1
        auto = decide(entry).automatic
        if auto is None:
            continue
        truth = data.truth[entry.position]
        result.automatic += 1
        result.by_rule[auto.rule.value] += 1
        lettered = auto.invoice_ids
        if lettered <= truth.invoice_ids:
            result.incomplete += lettered != truth.invoice_ids
        elif _alike(data, lettered - truth.invoice_ids, truth.invoice_ids - lettered):
            result.ties += 1
        else:
            result.wrong += 1
            result.wrong_kinds[truth.kind] += 1
    return result


def _alike(data: Generated, lettered: frozenset[str], paid: frozenset[str]) -> bool:
    """Whether the invoices lettered instead are the same customer's, of the same balances."""
    by_id = {i.invoice_id: i for i in data.invoices}

    def kinds(ids: frozenset[str]) -> list[tuple[str, int]]:
        return sorted((by_id[i].customer_id, by_id[i].balance.minor) for i in ids)

    return kinds(lettered) == kinds(paid)


@dataclass(slots=True)
class _Customer:
    customer_id: str
    name: str
    iban: str
    currency: str
    unpaid: list[Invoice] = field(default_factory=list)  # open, not paid by a line yet


KINDS = {
    "rf_structured": 20,
    "rf_text": 6,
    "number": 16,
    "numbers_several": 7,
    "number_typo": 12,
    "several_no_ref": 8,
    "iban_only": 8,
    "partial": 7,
    "short": 5,
    "overpay": 3,
    "some_numbers": 3,
    "direct_debit": 2,
    "unknown": 3,
}


class _SpentError(Exception):
    """No customer has enough unpaid invoices left for the line wanted."""


class _Generator:
    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        self.customers: list[_Customer] = []
        self.invoices: list[Invoice] = []
        self.issued: dict[str, tuple[str, ...]] = {}
        self.entries: list[Entry] = []
        self.truth: dict[str, Truth] = {}

    # --- the ledger ---------------------------------------------------------------------------
    def ledger(self, customers: int, invoices: int) -> None:
        rng = self.rng
        pairs = rng.sample([(s, t) for s in SURNAMES for t in SECTORS], customers)
        for n, (surname, sector) in enumerate(pairs):
            rng.randint(10, 99)  # once random check digits: still drawn, so a seed's day stays the same
            iban = _iban("DE", str(rng.randint(10**17, 10**18 - 1)))
            currency = "USD" if rng.random() < 0.05 else "EUR"
            name = f"{surname} {sector} {rng.choice(FORMS)}"
            self.customers.append(_Customer(f"cus_{n:05d}", name, iban, currency))
        weights = [min(rng.paretovariate(1.6), 12.0) for _ in self.customers]
        subscription = {c.customer_id: self._amount() for c in self.customers if rng.random() < 0.08}
        owners = rng.choices(self.customers, weights, k=invoices)
        days = sorted(rng.randint(0, 150) for _ in owners)  # numbered in the order issued
        for n, (owner, day) in enumerate(zip(owners, days, strict=True), start=1):
            amount = subscription.get(owner.customer_id) or self._amount()
            self.invoices.append(self._invoice(n, owner, amount, date(2027, 1, 1) + timedelta(days=day)))

    def _amount(self) -> int:
        return int(10 ** self.rng.uniform(3.7, 6.3))  # 50.00 to 20,000.00 in cents, log-uniform

    def _invoice(self, n: int, owner: _Customer, amount: int, issued: date) -> Invoice:
        rng, cur = self.rng, owner.currency
        roll = rng.random()
        status, balance = InvoiceStatus.OPEN, amount
        if roll < 0.08:
            status, balance = InvoiceStatus.PARTIALLY_PAID, max(1, amount // rng.randint(2, 5))
        elif roll < 0.12:
            status, balance = InvoiceStatus.PAID, 0
        invoice = Invoice(
            invoice_id=f"inv_{rng.getrandbits(96):024x}",
            seller_id="self",
            number=f"INV-2027-{n:05d}",
            customer_id=owner.customer_id,
            currency=cur,
            issue_date=issued,
            due_date=issued + timedelta(days=30),
            due_date_source=DueDateSource.DOCUMENT,
            total=Money(amount, cur),
            tax=Money.zero(cur),
            prepaid=Money.zero(cur),
            payable=Money(amount, cur),
            balance=Money(balance, cur),
            paid=Money(amount - balance, cur),
            credited=Money.zero(cur),
            written_off=Money.zero(cur),
            status=status,
            lines=(),
            fingerprint=str(n),
            source=SourceRef("b", "inbox/generated.csv", "csv", f"row {n}"),
        )
        if status is not InvoiceStatus.PAID:
            owner.unpaid.append(invoice)
        return invoice

    # --- the bank lines -----------------------------------------------------------------------
    def lines(self, count: int) -> None:
        kinds, weights = list(KINDS), list(KINDS.values())
        for n in range(count):
            kind = self.rng.choices(kinds, weights)[0]
            position = f"Ntry[{n + 1}]"
            if self.rng.random() < 0.01:  # a return or a charge: never lettered
                self._add(position, "debit", Money(self.rng.randint(100, 90000), "EUR"), Party(), (), set())
                continue
            try:
                getattr(self, f"_{kind}")(position, kind)
            except _SpentError:  # every open invoice is paid already: a stranger's transfer
                self._unknown(position, "unknown")

    def _pick(self, how_many: int = 1) -> tuple[_Customer, list[Invoice]]:
        for _ in range(100):
            customer = self.rng.choice(self.customers)
            if len(customer.unpaid) >= how_many:
                break
        else:
            able = [c for c in self.customers if len(c.unpaid) >= how_many]
            if not able:
                raise _SpentError
            customer = self.rng.choice(able)
        chosen = self.rng.sample(customer.unpaid, how_many)
        for invoice in chosen:
            customer.unpaid.remove(invoice)
        return customer, chosen

    def _payer(self, customer: _Customer) -> Party:
        rng, name = self.rng, customer.name
        roll = rng.random()
        if roll < 0.3:
            name = name.upper()
        elif roll < 0.5:
            name = " ".join(name.split()[:2])
        elif roll < 0.6:
            i = rng.randrange(1, len(name) - 1)
            name = name[:i] + name[i + 1 :]
        return Party(name[:35], customer.iban, "DEUTDEFFXXX" if rng.random() < 0.5 else None)

    def _add(
        self,
        position: str,
        kind: str,
        amount: Money,
        payer: Party,
        text: tuple[str, ...],
        paid: set[str],
        structured: tuple[str, ...] = (),
        e2e: str | None = None,
    ) -> None:
        direction = Direction.DEBIT if kind == "debit" else Direction.CREDIT
        if e2e is None and self.rng.random() < 0.3:
            e2e = f"E2E{self.rng.getrandbits(40):010X}"
        remittance = Remittance(text, structured, e2e)
        booked = date(2027, 6, 1)
        self.entries.append(
            Entry(position, amount, direction, booked, booked, counterparty=payer, remittance=remittance)
        )
        self.truth[position] = Truth(kind, frozenset(paid))

    def _money(self, customer: _Customer, minor: int) -> Money:
        return Money(minor, customer.currency)

    def _owed(self, invoices: list[Invoice]) -> int:
        return sum(i.balance.minor for i in invoices)

    def _written(self, number: str) -> str:
        _, year, serial = number.split("-")
        forms = [
            number,
            f"INV {year} {serial}",
            f"inv{year}/{serial}",
            number.lower(),
            f"INV-{year}-{serial}.",
        ]
        return self.rng.choice(forms)

    def _typo(self, number: str) -> str:
        digits = list(number.split("-")[2])
        while True:
            mistyped = digits[:]
            i = self.rng.randrange(len(digits))
            roll = self.rng.random()
            if roll < 0.4 and i + 1 < len(digits):
                mistyped[i], mistyped[i + 1] = mistyped[i + 1], mistyped[i]
            elif roll < 0.8:
                mistyped[i] = str(self.rng.randrange(10))
            else:
                del mistyped[i]
            if mistyped != digits:
                return f"INV-2027-{''.join(mistyped)}"

    def _rf_structured(self, position: str, kind: str) -> None:
        customer, (invoice,) = self._pick()
        ref = creditor_reference(invoice.invoice_id)
        text = (self.rng.choice(GENERIC),)
        amount = self._money(customer, invoice.balance.minor)
        self._add(position, kind, amount, self._payer(customer), text, {invoice.invoice_id}, (ref,))

    def _rf_text(self, position: str, kind: str) -> None:
        customer, (invoice,) = self._pick()
        text = (f"{self.rng.choice(GENERIC)} {printed(creditor_reference(invoice.invoice_id))}",)
        amount = self._money(customer, invoice.balance.minor)
        self._add(position, kind, amount, self._payer(customer), text, {invoice.invoice_id})

    def _number(self, position: str, kind: str) -> None:
        customer, (invoice,) = self._pick()
        text = (f"{self.rng.choice(GENERIC)} {self._written(invoice.number)}",)
        amount = self._money(customer, invoice.balance.minor)
        self._add(position, kind, amount, self._payer(customer), text, {invoice.invoice_id})

    def _numbers_several(self, position: str, kind: str) -> None:
        customer, invoices = self._pick(self.rng.randint(2, 3))
        text = (" ".join(self._written(i.number) for i in invoices),)
        amount = self._money(customer, self._owed(invoices))
        self._add(position, kind, amount, self._payer(customer), text, {i.invoice_id for i in invoices})

    def _number_typo(self, position: str, kind: str) -> None:
        customer, (invoice,) = self._pick()
        text = (f"{self.rng.choice(GENERIC)} {self._typo(invoice.number)}",)
        amount = self._money(customer, invoice.balance.minor)
        self._add(position, kind, amount, self._payer(customer), text, {invoice.invoice_id})

    def _several_no_ref(self, position: str, kind: str) -> None:
        customer, invoices = self._pick(self.rng.randint(2, 3))
        text = (f"{self.rng.choice(GENERIC)} Kd-Nr {self.rng.randint(1000, 9999)}",)
        amount = self._money(customer, self._owed(invoices))
        self._add(position, kind, amount, self._payer(customer), text, {i.invoice_id for i in invoices})

    def _iban_only(self, position: str, kind: str) -> None:
        customer, (invoice,) = self._pick()
        amount = self._money(customer, invoice.balance.minor)
        text = (self.rng.choice(GENERIC),)
        self._add(position, kind, amount, self._payer(customer), text, {invoice.invoice_id})

    def _partial(self, position: str, kind: str) -> None:
        customer, (invoice,) = self._pick()
        words = self.rng.choice(["Teilzahlung", "part payment", "acompte", "instalment 1"])
        part = max(1, invoice.balance.minor * self.rng.randint(20, 80) // 100)
        text = (f"{words} {self._written(invoice.number)}",) if self.rng.random() < 0.8 else (words,)
        self._add(
            position, kind, self._money(customer, part), self._payer(customer), text, {invoice.invoice_id}
        )

    def _short(self, position: str, kind: str) -> None:
        customer, (invoice,) = self._pick()
        short = min(invoice.balance.minor - 1, self.rng.randint(1, 500))
        text = (
            (f"{self._written(invoice.number)} abzgl. Gebuehren",)
            if self.rng.random() < 0.5
            else ("Zahlung",)
        )
        amount = self._money(customer, invoice.balance.minor - short)
        self._add(position, kind, amount, self._payer(customer), text, {invoice.invoice_id})

    def _overpay(self, position: str, kind: str) -> None:
        customer, (invoice,) = self._pick()
        amount = self._money(customer, invoice.balance.minor + self.rng.randint(1000, 50000))
        text = (f"{self.rng.choice(GENERIC)} {self._written(invoice.number)}",)
        self._add(position, kind, amount, self._payer(customer), text, {invoice.invoice_id})

    def _some_numbers(self, position: str, kind: str) -> None:
        customer, invoices = self._pick(self.rng.randint(2, 3))
        text = (f"{self.rng.choice(GENERIC)} {self._written(invoices[0].number)} u.a.",)
        amount = self._money(customer, self._owed(invoices))
        self._add(position, kind, amount, self._payer(customer), text, {i.invoice_id for i in invoices})

    def _direct_debit(self, position: str, kind: str) -> None:
        customer, invoices = self._pick(self.rng.randint(1, 2))
        e2e = f"DD-2027-{len(self.issued) + 1:06d}"
        self.issued[e2e] = tuple(i.invoice_id for i in invoices)
        amount = self._money(customer, self._owed(invoices))
        paid = {i.invoice_id for i in invoices}
        self._add(position, kind, amount, self._payer(customer), ("SEPA-Lastschrift",), paid, e2e=e2e)

    def _unknown(self, position: str, kind: str) -> None:
        payer = Party("Privat Person Hans", _iban("AT", str(self.rng.randint(10**18, 10**19 - 1))[-16:]))
        text = (self.rng.choice(["Order 4711", "Spende", "Miete Juni", f"Ref {self.rng.randint(1, 99999)}"]),)
        self._add(position, kind, Money(self._amount(), "EUR"), payer, text, set())


def _iban(country: str, account: str) -> str:
    """The IBAN of ``account`` (the BBAN) in ``country``, with its mod-97 check digits."""
    return f"{country}{mod_97_10.calc_check_digits(account + country)}{account}"


def generate(lines: int = 2000, invoices: int = 20000, customers: int = 2000, *, seed: int = 22) -> Generated:
    """A ledger of ``invoices`` for ``customers`` and ``lines`` bank lines paying some of them
    (each invoice at most once), a quarter of the payers' IBANs unknown to finance."""
    gen = _Generator(seed)
    gen.ledger(customers, invoices)
    gen.lines(lines)
    known = {c.iban: c.customer_id for c in gen.customers if gen.rng.random() < 0.75}
    names = {c.customer_id: c.name for c in gen.customers}
    return Generated(gen.invoices, names, known, gen.issued, gen.entries, gen.truth)
