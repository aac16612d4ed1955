"""Peppol e-invoices out: a UBL 2.1 Invoice or CreditNote following Peppol BIS Billing 3.0.

For customers whose accounts-payable system takes e-invoices, the invoice is built from the
ledger's data with the standard library's ElementTree (we only write XML here; everything we
read goes through defusedxml). What the document carries is what ingest reads back
(`receivables.ingest.ubl`): the number, dates, currency, parties, lines, tax total, monetary
totals and references, so an invoice sent and ingested again is the same invoice.

Peppol's rules that shape it:
- the seller and the buyer each have an electronic address (``cbc:EndpointID``, with its scheme),
  a legal registration name and a country; the seller's VAT id when it has one (BR-CO-09);
- ``cbc:BuyerReference`` or ``cac:OrderReference`` is present (PEPPOL-EN16931-R003);
- every VAT rate has its ``cac:TaxSubtotal`` (BR-CO-18), and the subtotals add up to the tax
  total (BR-CO-14); a rate's tax is its taxable amount at that rate, rounded, and the last rate
  absorbs the rounding so the document's tax is the ledger's to the cent;
- the line amounts add up to ``LineExtensionAmount`` (BR-CO-10); a difference between that and
  the tax-exclusive total (the source's document-level allowances and charges) is carried as one
  document-level ``cac:AllowanceCharge`` (BR-CO-13);
- an invoice that came without lines (a one-row CSV) gets one line for its net amount, since a
  Peppol invoice has at least one (BR-16);
- ``cac:PaymentMeans/cbc:PaymentID`` (BT-83, the remittance information the buyer quotes with
  the payment) is the invoice's ISO 11649 ``RF`` creditor reference, compact
  (`receivables.banking.creditor_reference`): the reference the invoice email, the PDF and the
  portal print, which letters a bank line to the invoice exactly. The means code stays 58 (SEPA
  credit transfer) for euros, 30 (credit transfer) otherwise.

A credit note (`build_credit_note`) has the same parties, tax and totals structure, type code 381,
``cac:CreditNoteLine`` with ``cbc:CreditedQuantity``, and a ``cac:BillingReference`` to the invoice
it credits when it names one. The ledger keeps only a credit note's amount (tax inclusive), not its
lines or tax, so it is sent as a lump sum: credited against a known invoice, the amount is split
over that invoice's VAT rates in proportion (one line per rate, the tax being the invoice's tax in
the same proportion); otherwise it is one line for the whole amount, without tax.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from decimal import ROUND_HALF_UP, Decimal
from typing import TYPE_CHECKING
from xml.etree.ElementTree import Element, SubElement, register_namespace, tostring

from receivables.banking.creditor_reference import creditor_reference
from receivables.kernel.money import Money, currency_exponent
from receivables.ledger.model import InvoiceLine

if TYPE_CHECKING:
    from datetime import date

    from receivables.ledger.model import CreditNote, Customer, Invoice, PartyId

INVOICE_NS = "urn:oasis:names:specification:ubl:schema:xsd:Invoice-2"
CREDIT_NOTE_NS = "urn:oasis:names:specification:ubl:schema:xsd:CreditNote-2"
CAC_NS = "urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2"
CBC_NS = "urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2"
CUSTOMIZATION = "urn:cen.eu:en16931:2017#compliant#urn:fdc:peppol.eu:2017:poacc:billing:3.0"
PROFILE = "urn:fdc:peppol.eu:2017:poacc:billing:01:1.0"
EMAIL_SCHEME = "EM"  # Peppol's electronic address scheme for an email address
register_namespace("", INVOICE_NS)
register_namespace("cac", CAC_NS)
register_namespace("cbc", CBC_NS)


@dataclass(frozen=True, slots=True)
class Seller:
    """Who issues the invoices: the legal name, the country, the Peppol endpoint (scheme and
    id, e.g. ``0088`` and a GLN, or ``9930`` and a German VAT id) and the VAT id."""

    name: str
    country: str
    endpoint_scheme: str
    endpoint_id: str
    vat_id: str | None = None
    street: str | None = None
    city: str | None = None
    postal_zone: str | None = None


def _cac(parent: Element, name: str) -> Element:
    return SubElement(parent, f"{{{CAC_NS}}}{name}")


def _cbc(parent: Element, name: str, text: str, **attributes: str) -> Element:
    element = SubElement(parent, f"{{{CBC_NS}}}{name}", attributes)
    element.text = text
    return element


def _amount(parent: Element, name: str, money: Money) -> Element:
    return _cbc(parent, name, money.to_decimal_string(), currencyID=money.currency)


def _decimal(value: Decimal) -> str:
    return format(value, "f")


def _id_of(identifiers: tuple[PartyId, ...], scheme: str) -> str | None:
    return next((i.value for i in identifiers if i.scheme == scheme), None)


def _seller_party(parent: Element, seller_id: str, seller: Seller) -> None:
    """The supplier: its own endpoint, and the ids the ledger knows it by (``seller_id``), so
    the invoice read back belongs to the same seller."""
    party = _cac(_cac(parent, "AccountingSupplierParty"), "Party")
    scheme, _, value = seller_id.partition(":")
    if scheme == "endpoint":
        endpoint_scheme, _, endpoint_id = value.partition(":")
    else:
        endpoint_scheme, endpoint_id = seller.endpoint_scheme, seller.endpoint_id
    _cbc(party, "EndpointID", endpoint_id, schemeID=endpoint_scheme)
    _cbc(_cac(party, "PartyName"), "Name", seller.name)
    _address(party, seller.street, seller.city, seller.postal_zone, seller.country)
    vat = value if scheme == "vat" else seller.vat_id
    if vat and scheme in ("vat", "self"):
        tax_scheme = _cac(party, "PartyTaxScheme")
        _cbc(tax_scheme, "CompanyID", vat)
        _cbc(_cac(tax_scheme, "TaxScheme"), "ID", "VAT")
    legal = _cac(party, "PartyLegalEntity")
    _cbc(legal, "RegistrationName", seller.name)
    if scheme == "legal":
        legal_scheme, _, legal_id = value.partition(":") if ":" in value else ("", "", value)
        attributes = {"schemeID": legal_scheme} if legal_scheme else {}
        _cbc(legal, "CompanyID", legal_id, **attributes)


def _address(party: Element, street: str | None, city: str | None, zone: str | None, country: str) -> None:
    address = _cac(party, "PostalAddress")
    if street:
        _cbc(address, "StreetName", street)
    if city:
        _cbc(address, "CityName", city)
    if zone:
        _cbc(address, "PostalZone", zone)
    _cbc(_cac(address, "Country"), "IdentificationCode", country)


def _buyer_party(parent: Element, customer: Customer, default_country: str) -> None:
    """The customer: their Peppol endpoint if we know it (else their email address, scheme EM),
    their VAT and company ids, their legal name and their contact address."""
    party = _cac(_cac(parent, "AccountingCustomerParty"), "Party")
    endpoint = _id_of(customer.identifiers, "endpoint")
    if endpoint:
        scheme, _, value = endpoint.partition(":")
        _cbc(party, "EndpointID", value, schemeID=scheme)
    else:
        _cbc(party, "EndpointID", customer.email or customer.customer_id, schemeID=EMAIL_SCHEME)
    name = customer.name or customer.customer_id
    _cbc(_cac(party, "PartyName"), "Name", name)
    _address(party, None, None, None, customer.country or default_country)
    vat = _id_of(customer.identifiers, "vat")
    if vat:
        tax_scheme = _cac(party, "PartyTaxScheme")
        _cbc(tax_scheme, "CompanyID", vat)
        _cbc(_cac(tax_scheme, "TaxScheme"), "ID", "VAT")
    legal = _cac(party, "PartyLegalEntity")
    _cbc(legal, "RegistrationName", name)
    legal_id = _id_of(customer.identifiers, "legal")
    if legal_id:
        scheme, _, value = legal_id.partition(":") if ":" in legal_id else ("", "", legal_id)
        attributes = {"schemeID": scheme} if scheme else {}
        _cbc(legal, "CompanyID", value, **attributes)
    if customer.email:
        _cbc(_cac(party, "Contact"), "ElectronicMail", customer.email)


def _category(percent: Decimal) -> str:
    return "S" if percent > 0 else "Z"


def _tax_category(parent: Element, name: str, percent: Decimal) -> None:
    category = _cac(parent, name)
    _cbc(category, "ID", _category(percent))
    _cbc(category, "Percent", _decimal(percent))
    _cbc(_cac(category, "TaxScheme"), "ID", "VAT")


@dataclass(frozen=True, slots=True)
class _Amounts:
    """The money of one document: what its lines, tax breakdown and totals are built from."""

    currency: str
    lines: list[InvoiceLine]
    total: Money  # tax inclusive
    tax: Money
    prepaid: Money
    payable: Money


def _single_line(description: str, net: Money, percent: Decimal | None) -> InvoiceLine:

    return InvoiceLine("1", description, Decimal(1), "C62", None, net, percent)


def _lines(invoice: Invoice) -> list[InvoiceLine]:
    """The invoice's lines; one for its net amount if it came without any."""
    if invoice.lines:
        return list(invoice.lines)
    net = invoice.total - invoice.tax
    percent = None
    if net.minor > 0 and invoice.tax.minor > 0:
        percent = (Decimal(invoice.tax.minor) * 100 / Decimal(net.minor)).quantize(Decimal("0.01"))
    return [_single_line(f"Invoice {invoice.number}", net, percent)]


def _line_total(currency: str, lines: list[InvoiceLine]) -> Money:
    total = Money.zero(currency)
    for line in lines:
        total = total + line.net
    return total


def _subtotals(
    currency: str, tax: Money, lines: list[InvoiceLine], allowance: Money
) -> list[tuple[Decimal, Money, Money]]:
    """Per VAT rate: (rate, taxable amount, tax), the last rate taking the rounding so that the
    subtotals add up to the document's tax."""
    by_rate: dict[Decimal, Money] = {}
    for line in lines:
        rate = line.tax_percent if line.tax_percent is not None else Decimal(0)
        by_rate[rate] = by_rate.get(rate, Money.zero(currency)) + line.net
    rates = sorted(by_rate, reverse=True)
    if allowance.minor:  # the document-level allowance or charge sits in the main rate
        by_rate[rates[0]] = by_rate[rates[0]] + allowance
    quantum = Decimal(1).scaleb(-currency_exponent(currency))
    subtotals: list[tuple[Decimal, Money, Money]] = []
    spent = Money.zero(currency)
    for index, rate in enumerate(rates):
        taxable = by_rate[rate]
        if index == len(rates) - 1:
            rate_tax = tax - spent
        else:
            value = (taxable.to_decimal() * rate / 100).quantize(quantum, rounding=ROUND_HALF_UP)
            rate_tax = Money.from_decimal(value, currency)
        spent = spent + rate_tax
        subtotals.append((rate, taxable, rate_tax))
    return subtotals


def _opening(
    root: Element,
    number: str,
    issue_date: date,
    due_date: date | None,
    type_code: tuple[str, str],
    currency: str,
) -> None:
    """What every document starts with: the Peppol specification and profile, the number, the
    dates, the type code (element and value) and the currency."""
    _cbc(root, "CustomizationID", CUSTOMIZATION)
    _cbc(root, "ProfileID", PROFILE)
    _cbc(root, "ID", number)
    _cbc(root, "IssueDate", issue_date.isoformat())
    if due_date is not None:
        _cbc(root, "DueDate", due_date.isoformat())
    _cbc(root, type_code[0], type_code[1])
    _cbc(root, "DocumentCurrencyCode", currency)


def _references(root: Element, buyer_reference: str, po_number: str | None) -> None:
    """The buyer's reference and the purchase order (Peppol wants one of them, R003)."""
    _cbc(root, "BuyerReference", buyer_reference)
    if po_number:
        _cbc(_cac(root, "OrderReference"), "ID", po_number)


def _tax_and_totals(root: Element, amounts: _Amounts) -> None:
    """The document-level allowance or charge, the tax total with its subtotals per rate and the
    monetary totals, from the document's lines and amounts."""
    currency = amounts.currency
    line_total = _line_total(currency, amounts.lines)
    tax_exclusive = amounts.total - amounts.tax
    allowance = tax_exclusive - line_total  # document-level charges (+) or allowances (-)
    subtotals = _subtotals(currency, amounts.tax, amounts.lines, allowance)
    if allowance.minor:
        charge = _cac(root, "AllowanceCharge")
        _cbc(charge, "ChargeIndicator", "true" if allowance.minor > 0 else "false")
        _cbc(charge, "AllowanceChargeReason", "Charge" if allowance.minor > 0 else "Discount")
        _amount(charge, "Amount", Money(abs(allowance.minor), currency))
        _tax_category(charge, "TaxCategory", subtotals[0][0])

    total = _cac(root, "TaxTotal")
    _amount(total, "TaxAmount", amounts.tax)
    for rate, taxable, tax in subtotals:
        subtotal = _cac(total, "TaxSubtotal")
        _amount(subtotal, "TaxableAmount", taxable)
        _amount(subtotal, "TaxAmount", tax)
        _tax_category(subtotal, "TaxCategory", rate)

    rounding = amounts.payable - (amounts.total - amounts.prepaid)
    monetary = _cac(root, "LegalMonetaryTotal")
    _amount(monetary, "LineExtensionAmount", line_total)
    _amount(monetary, "TaxExclusiveAmount", tax_exclusive)
    _amount(monetary, "TaxInclusiveAmount", amounts.total)
    if allowance.minor < 0:
        _amount(monetary, "AllowanceTotalAmount", Money(-allowance.minor, currency))
    if allowance.minor > 0:
        _amount(monetary, "ChargeTotalAmount", allowance)
    if amounts.prepaid.minor:
        _amount(monetary, "PrepaidAmount", amounts.prepaid)
    if rounding.minor:
        _amount(monetary, "PayableRoundingAmount", rounding)
    _amount(monetary, "PayableAmount", amounts.payable)


def _document_lines(root: Element, amounts: _Amounts, line_tag: str, quantity_tag: str) -> None:
    """The lines: ``InvoiceLine`` with ``InvoicedQuantity``, or ``CreditNoteLine`` with
    ``CreditedQuantity``."""
    for index, line in enumerate(amounts.lines, start=1):
        node = _cac(root, line_tag)
        _cbc(node, "ID", line.line_id or str(index))
        quantity = line.quantity if line.quantity is not None else Decimal(1)
        _cbc(node, quantity_tag, _decimal(quantity), unitCode=line.unit_code or "C62")
        _amount(node, "LineExtensionAmount", line.net)
        item = _cac(node, "Item")
        _cbc(item, "Name", line.description or f"Line {index}")
        _tax_category(item, "ClassifiedTaxCategory", line.tax_percent or Decimal(0))
        price = line.unit_price if line.unit_price is not None else _unit_price(line.net, quantity)
        _cbc(_cac(node, "Price"), "PriceAmount", _decimal(price), currencyID=amounts.currency)


def _serialised(root: Element) -> bytes:
    return b'<?xml version="1.0" encoding="UTF-8"?>\n' + tostring(root, encoding="unicode").encode()


def build_invoice(invoice: Invoice, customer: Customer, seller: Seller) -> bytes:
    """The invoice as a Peppol BIS Billing 3.0 UBL Invoice (UTF-8 bytes)."""
    root = Element(f"{{{INVOICE_NS}}}Invoice")
    _opening(
        root,
        invoice.number,
        invoice.issue_date,
        invoice.due_date,
        ("InvoiceTypeCode", "380"),
        invoice.currency,
    )
    _references(root, invoice.buyer_reference or invoice.po_number or customer.customer_id, invoice.po_number)
    if invoice.contract_reference:  # BT-12, after the order and billing references
        _cbc(_cac(root, "ContractDocumentReference"), "ID", invoice.contract_reference)
    _seller_party(root, invoice.seller_id, seller)
    _buyer_party(root, customer, seller.country)
    means = _cac(root, "PaymentMeans")
    _cbc(means, "PaymentMeansCode", "58" if invoice.currency == "EUR" else "30")
    _cbc(means, "PaymentID", creditor_reference(invoice.invoice_id))
    amounts = _Amounts(
        invoice.currency, _lines(invoice), invoice.total, invoice.tax, invoice.prepaid, invoice.payable
    )
    _tax_and_totals(root, amounts)
    _document_lines(root, amounts, "InvoiceLine", "InvoicedQuantity")
    return _serialised(root)


def _share(part: Money, amount: Money, whole: Money) -> Money:
    """``part`` scaled by ``amount / whole``, rounded half up to the minor unit."""
    value = (Decimal(part.minor) * amount.minor / whole.minor).quantize(Decimal(1), rounding=ROUND_HALF_UP)
    return Money(int(value), part.currency)


def _credit_lines(credit_note: CreditNote, invoice: Invoice | None) -> tuple[list[InvoiceLine], Money]:
    """The credit note's lines and tax: the amount over the credited invoice's VAT rates in
    proportion, the tax in the same proportion; without the invoice (or in another currency),
    one line for the whole amount, without tax."""
    amount, currency = credit_note.amount, credit_note.currency
    if invoice is None or invoice.currency != currency or invoice.total.minor <= 0:
        return [_single_line(f"Credit note {credit_note.number}", amount, Decimal(0))], Money.zero(currency)
    invoice_lines = _lines(invoice)
    allowance = (invoice.total - invoice.tax) - _line_total(currency, invoice_lines)
    breakdown = _subtotals(currency, invoice.tax, invoice_lines, allowance)
    tax = _share(invoice.tax, amount, invoice.total)
    net, spent = amount - tax, Money.zero(currency)
    lines: list[InvoiceLine] = []
    for index, (rate, taxable, _) in enumerate(breakdown):
        last = index == len(breakdown) - 1
        share = net - spent if last else _share(taxable, amount, invoice.total)
        spent = spent + share
        if share.minor or (last and not lines):
            # A negative share is a negative quantity at a positive price, as Peppol wants (BR-27).
            lines.append(
                replace(
                    _single_line(f"Credit on invoice {invoice.number}", share, rate),
                    line_id=str(len(lines) + 1),
                    quantity=Decimal(-1 if share.minor < 0 else 1),
                )
            )
    return lines, tax


def build_credit_note(
    credit_note: CreditNote, customer: Customer, seller: Seller, invoice: Invoice | None = None
) -> bytes:
    """The credit note as a Peppol BIS Billing 3.0 UBL CreditNote (UTF-8 bytes).

    ``invoice`` is the invoice the credit note names (``credit_note.invoice_reference``), when
    the ledger has it: the billing reference then carries its issue date, the buyer and order
    references are the invoice's, and the amount is split over its VAT rates (see the module's
    docstring). Passing an invoice other than the one the credit note names is a ValueError.
    """
    if invoice is not None and invoice.number != credit_note.invoice_reference:
        raise ValueError(
            f"credit note {credit_note.number} names invoice {credit_note.invoice_reference}, "
            f"not {invoice.number}"
        )
    # ElementTree's process-wide registry gives the empty prefix to the Invoice namespace, and
    # ``tostring(default_namespace=...)`` refuses our unqualified attributes (currencyID, ...): the
    # root is written unqualified and declares the CreditNote namespace as its default itself.
    root = Element("CreditNote", xmlns=CREDIT_NOTE_NS)
    _opening(
        root,
        credit_note.number,
        credit_note.issue_date,
        None,
        ("CreditNoteTypeCode", "381"),
        credit_note.currency,
    )
    po_number = invoice.po_number if invoice is not None else None
    buyer_reference = invoice.buyer_reference if invoice is not None else None
    _references(root, buyer_reference or po_number or customer.customer_id, po_number)
    if credit_note.invoice_reference:
        reference = _cac(_cac(root, "BillingReference"), "InvoiceDocumentReference")
        _cbc(reference, "ID", credit_note.invoice_reference)
        if invoice is not None:
            _cbc(reference, "IssueDate", invoice.issue_date.isoformat())
    _seller_party(root, credit_note.seller_id, seller)
    _buyer_party(root, customer, seller.country)
    lines, tax = _credit_lines(credit_note, invoice)
    zero = Money.zero(credit_note.currency)
    amounts = _Amounts(credit_note.currency, lines, credit_note.amount, tax, zero, credit_note.amount)
    _tax_and_totals(root, amounts)
    _document_lines(root, amounts, "CreditNoteLine", "CreditedQuantity")
    return _serialised(root)


def _unit_price(net: Money, quantity: Decimal) -> Decimal:
    if quantity == 0:
        return net.to_decimal()
    return (net.to_decimal() / quantity).quantize(Decimal("0.0001")).normalize()
