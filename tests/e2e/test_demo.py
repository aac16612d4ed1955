"""`receivables demo` as a user runs it: one command, the whole ingestion story, exit 0."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest

from tests.conftest import REPO_ROOT


def receivables_command() -> list[str]:
    script = Path(sys.executable).parent / "receivables"
    if script.exists():
        return [str(script)]
    found = shutil.which("receivables")
    if found is None:
        pytest.fail("the receivables console script is not installed (make .venv)")
    return [found]


@pytest.mark.xdist_group("accelerated_runtime")  # beside the dunning story, never against it
def test_the_demo_tells_the_story_on_the_local_runtime() -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    completed = subprocess.run(
        [*receivables_command(), "demo"],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,  # real seconds: the story is stepped, a loaded machine only makes it slower
        check=False,
    )

    assert completed.returncode == 0, completed.stderr
    out = completed.stdout
    assert "Receivables local runtime is up" in out
    assert re.search(r"inbox/2026-10/invoices\.csv\s+processed\s+created 5", out)
    assert "the same S3 notification delivered again -> skipped" in out
    assert re.search(r"invoices-copy\.csv\s+processed\s+created 0, duplicates 5", out)
    assert re.search(r"sales-order-example\.xml\s+processed\s+created 0, duplicates 1", out)
    assert re.search(r"Allowance-example\.xml\s+rejected .*conflicts 1", out)
    assert "[invalid_date] row 3, issue_date" in out
    assert re.search(r"invoice\s+Snippet1\s+0\.00 EUR .* credited", out)
    assert re.search(r"invoice\s+INV-2026-1004\s+330000 JPY", out)
    assert re.search(r"invoice\s+INV-2026-1005\s+1250\.750 KWD", out)
    assert "Brightside Retail SA <no email>  [needs contact details]" in out
    published = re.search(r"Ledger events on the bus \S+: (\d+) \(.*InvoiceIngested 12", out)
    assert published and int(published.group(1)) > 20
    assert "Inbox now holds 0 objects" in out
    # Payments: emails, card payments through the link, transfers through the finance API.
    assert re.search(r"Invoice emails sent through SES: \d+", out)
    assert re.search(r"INV-2026-1001\s+card 4242: paid on the checkout page\s+-> paid, 0\.00 EUR", out)
    assert re.search(
        r"INV-2026-3001\s+card 0002: declined \(Your card was declined\.\)\s+-> open, 1800\.00", out
    )
    assert re.search(r"INV-2026-1003\s+card 0259: paid on the checkout page\s+-> disputed", out)
    assert "-> INV-2026-1004: paid, 0 JPY still owed" in out
    assert "-> INV-2026-1005: partially_paid, 750.750 KWD still owed" in out
    assert "matched by reference, unapplied 100.00" in out
    assert "INV-2026-5002 (250.00 EUR) -> partially_paid, 150.00 EUR still owed" in out
    assert "A forged Stripe webhook is answered 400" in out
    # Dunning over the simulated weeks: every level for the silent customer, then credit hold;
    # a payment from the first reminder's link stops it; a broken promise resumes it.
    chapter = out.split("9. Dunning over the simulated weeks", 1)[1]
    north, rest = chapter.split("Harbour Lights Ltd, INV-2026-9002", 1)
    harbour, kestrel = rest.split("Kestrel Labs, INV-2026-9003", 1)
    # Every level is walked: mailed, or (on a machine too loaded to keep one simulated day a
    # second) skipped as stale and said so on the next mail, as the planner is designed to.
    walked: list[str] = []
    # (On the due date itself the day reads "D  ", not "D+0".)
    mail = re.compile(r"D(?:[+-]\d+| )\s+(\w+)\s+mailed:[^\n]*?(?:\(skipped ([\w, ]+)\))?$", re.MULTILINE)
    for level, skipped in mail.findall(north):
        walked += [*(skipped.split(", ") if skipped else []), level]
    assert walked == ["friendly", "first", "second", "final"]
    assert "escalated: credit hold, collector 'collections'" in north
    assert "Northwind Traders is on credit hold" in north
    assert "paid with its link: paid on the checkout page" in harbour
    paid = harbour.index("payment applied, 860.00 EUR")
    assert "mailed" not in harbour[paid:], "no reminder after the payment"
    assert "dunning ended: nothing to collect: the invoice is paid" in harbour[paid:], harbour
    assert "credit hold" not in harbour, harbour
    assert "promised, through its link" in kestrel and "200 'Thank you: your promise is noted'" in kestrel
    promised = kestrel.index("promise to pay 1500.00 EUR")
    broken = kestrel.index("broken promise")
    assert promised < broken < kestrel.index("escalated: credit hold")
    assert "mailed" not in kestrel[promised:broken], "no reminder while the promise stands"
    # Disputes: a duplicate settled without a person, a partial credit decided by finance.
    disputes = out.split("10. Disputes", 1)[1]
    orchard, lumen = disputes.split("Lumen Studio disputes", 1)
    assert "201 'Dispute received'" in orchard and "status settled: void_duplicate" in orchard
    assert "INV-2027-0102 void, 0.00 EUR owed; INV-2027-0101 open, 360.00 EUR owed" in orchard
    assert "attaches a PDF straight to S3: 303 -> 200" in lumen
    assert "DisputeDocumentAdded" in lumen and "DisputeAwaitingFinance" in lumen
    assert "finance accepts a 500.00 EUR credit (POST /disputes/{id}/decision): 202" in lumen
    assert "status accepted: accept, credit 500.00 EUR" in lumen
    assert "INV-2027-0201 open, 1300.00 EUR owed" in lumen
    assert "Customers told of the outcome by email: 2" in lumen
    # The portal: three invoices paid in one checkout; another customer's invoice and a revoked
    # link refused.
    portal = out.split("11. The customer portal", 1)[1].split("12. A new customer enrols", 1)[0]
    assert "the portal shows 3 open invoices" in portal
    assert "one checkout for €1,845.30" in portal and "back to /portal?paid=1" in portal
    assert "ways to pay euros, the preferred first: card, sepa_debit, bank_transfer" in portal
    assert "the portal shows 3 invoices as 'payment processing'" in portal
    assert portal.count("by sepa_debit processing") == 3  # and not paid meanwhile
    assert portal.count(": paid, 0.00 EUR still owed") == 3 + 1  # the debit, then autopay
    assert "Automatic payment is on with Visa ···· 4242" in portal
    assert re.search(r"charges it off-session on \d{4}-\d{2}-\d{2}: paid", portal)
    assert "closing balance 0.00 EUR" in portal
    assert "another customer's invoice: 400, no checkout" in portal
    assert "the clerk's session now: 410, the email's link: 410" in portal
    # Enrolment and documents: a VAT id corrected, an invoice held for its PO and delivery note,
    # reminded, released when the AP gave them on the portal, and mailed with the note.
    enrolment = out.split("12. A new customer enrols", 1)[1].split("13. Credit limits", 1)[0]
    assert "submits with VAT DE136695977: 400, " in enrolment and "check digit" in enrolment
    assert re.search(
        r"corrected to DE136695976 and submitted: 200; enrolment submitted, customer cus_\w+ created; "
        r"held for a controller: identifiers",
        enrolment,
    )
    assert "a controller checks the VAT id and approves: 200, enrolment approved" in enrolment
    assert "their AP requires on every invoice: po_number, delivery_note" in enrolment
    assert "blocked: WIL-2027-001, awaiting document" in enrolment
    assert "to owner@seller.example" in enrolment and "to ap@willow.example" in enrolment
    assert "finance's open documentation requests: 1" in enrolment
    assert re.search(r"the sweep has reminded the request [1-9]\d* time", enrolment)
    assert "the document is kept with the invoice" in enrolment
    waited = re.search(r"it waited (\d+) hours", enrolment)
    assert waited and int(waited.group(1)) >= 6 * 24
    assert re.search(
        r"goes out to ap@willow\.example with invoice-WIL-2027-001\.pdf, delivery-note-1-", enrolment
    )
    assert "open documentation requests now: 0" in enrolment
    # Credit: Willow crosses 80 % then 100 % of its limit, is put on hold, and its next order is
    # declined with the reasons; the cash forecast per week.
    credit = out.split("13. Credit limits", 1)[1].split("14. The bank", 1)[0]
    assert "sets Willow Labs' credit limit to 3500.00 EUR: 200" in credit
    assert re.search(r"exposure 2980\.00 EUR .* 85\.1 % of the limit; credit level 80 %", credit)
    assert re.search(r"exposure 3880\.00 EUR .* 110\.9 % of the limit; credit level 100 %", credit)
    assert "Willow Labs is on credit hold: yes" in credit
    assert re.search(r"an order of 250\.00 EUR: 200 decline \(hold: .*limit: ", credit)
    # Willow's short transfers: a discount taken in time, credited; damaged goods, routed.
    assert re.search(
        r"deduction of 20\.00 EUR on WIL-2027-003: early_payment_discount 20\.00 valid \(taken", credit
    )
    assert (
        "deduction of 120.00 EUR on WIL-2027-001: short_delivery 120.00 open, evidence needed: "
        "proof_of_delivery; owner logistics@seller.example, under dispute dsp_" in credit
    )
    assert "logistics@seller.example is mailed: Deduction: Willow Labs" in credit
    assert re.search(r"deductions EUR: 1 open \(120\.00\), valid 20\.00, invalid 0\.00", credit)
    assert re.search(r"cash forecast as of \d{4}-\d{2}-\d{2}, expected per week", credit)
    assert re.search(r"^   EUR: \d{4}-\d{2}-\d{2} [\d.]+ \([\d.]+\)", credit, re.M)
    # Finance's view: the aging adds up, the KPIs, the dashboard's screenshot.
    bank = out.split("14. The bank", 1)[1].split("15. What finance sees", 1)[0]
    # Stripe's payouts of the card payments: reconciled with their fees, never lettered again.
    assert re.search(r"Stripe paid out the card payments to the bank: [1-9]\d* payout\(s\) in EUR", bank)
    assert re.search(r"EUR credit payout reconciled with po_\w+: \d+ payment\(s\), gross [\d.]+, fees", bank)
    assert re.search(r"Stripe's payouts: [1-9]\d* reconciled .* fees [1-9][\d.]*, net [\d.]+ EUR", bank)
    assert "payout_pending" not in bank
    assert re.search(r"1200\.00 EUR credit lettered by structured_reference, code A", bank)
    assert re.search(r"99\.00 EUR credit lettered by invoice_number, code A", bank)
    assert re.search(r"650\.00 EUR credit review, suggested by payer_name", bank)
    assert "finance letters it to FJ-2027-002 and FJ-2027-003: 200, code B" in bank
    assert re.search(r"150\.00 EUR credit lettered by iban_amount, code C", bank)
    assert "AC04" in bank and "QB-2027-001: open, 99.00 EUR still owed" in bank
    assert "FJ-2027-004: paid, 0.00 EUR still owed" in bank
    finance = out.split("15. What finance sees", 1)[1]
    for row in re.findall(r"^   ([A-Z]{3}) +([\d. ]+)$", finance, re.M):
        total, *buckets = (Decimal(n) for n in row[1].split())
        assert len(buckets) == 5 and total == sum(buckets), row  # current, 1-30, ..., 90+
    assert re.search(r"^   EUR +[\d.]+", finance, re.M)
    # Which KPIs have figures depends on the simulated date the story ends on (the clock runs a
    # day a second): each one is a figure, or a line says why not yet.
    kpis = re.search(r"KPIs EUR \(30 days\): (.*)\n(      not yet: (.*)\n)?", finance)
    assert kpis, finance
    for label in ("DSO", "CEI %", "overdue %"):
        figure = re.search(rf"(^|, ){re.escape(label)} -?[\d.]+", kpis.group(1))
        assert figure or f"; {label}:" in f"; {kpis.group(3) or ''}", (label, kpis.group(0))
    shot = re.search(r"(?:in a browser|page is in): (\S+)", finance)
    assert shot and Path(shot.group(1)).stat().st_size > 1000
    # The last word: the books balance (a break is a bug, printed with its items; exit 1).
    reconciled = out.split("16. Do the books balance?", 1)[1]
    assert "BREAK" not in reconciled and "reconciliation: the books balance" in reconciled
    took = re.search(r"The demo took ([\d.]+) s", out)
    assert took and float(took.group(1)) < 480  # about 60 s on a quiet 2-core machine
