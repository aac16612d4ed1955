"""Peppol e-invoices out: a UBL 2.1 Invoice following Peppol BIS Billing 3.0, from our invoice.

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
  Peppol invoice has at least one (BR-16).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import TYPE_CHECKING
from xml.etree.ElementTree import Element, SubElement, register_namespace, tostring

from receivables.money import Money, currency_exponent

if TYPE_CHECKING:
    from receivables.domain import Customer, Invoice, InvoiceLine, PartyId

INVOICE_NS = "urn:oasis:names:specification:ubl:schema:xsd:Invoice-2"
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


def _lines(invoice: Invoice) -> list[InvoiceLine]:
    """The invoice's lines; one for its net amount if it came without any."""
    from receivables.domain import InvoiceLine

    if invoice.lines:
        return list(invoice.lines)
    net = invoice.total - invoice.tax
    percent = None
    if net.minor > 0 and invoice.tax.minor > 0:
        percent = (Decimal(invoice.tax.minor) * 100 / Decimal(net.minor)).quantize(Decimal("0.01"))
    return [InvoiceLine("1", f"Invoice {invoice.number}", Decimal(1), "C62", None, net, percent)]


def _subtotals(
    invoice: Invoice, lines: list[InvoiceLine], allowance: Money
) -> list[tuple[Decimal, Money, Money]]:
    """Per VAT rate: (rate, taxable amount, tax), the last rate taking the rounding so that the
    subtotals add up to the invoice's tax."""
    currency = invoice.currency
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
            tax = invoice.tax - spent
        else:
            value = (taxable.to_decimal() * rate / 100).quantize(quantum, rounding=ROUND_HALF_UP)
            tax = Money.from_decimal(value, currency)
        spent = spent + tax
        subtotals.append((rate, taxable, tax))
    return subtotals


def build_invoice(invoice: Invoice, customer: Customer, seller: Seller) -> bytes:
    """The invoice as a Peppol BIS Billing 3.0 UBL Invoice (UTF-8 bytes)."""
    root = Element(f"{{{INVOICE_NS}}}Invoice")
    _cbc(root, "CustomizationID", CUSTOMIZATION)
    _cbc(root, "ProfileID", PROFILE)
    _cbc(root, "ID", invoice.number)
    _cbc(root, "IssueDate", invoice.issue_date.isoformat())
    _cbc(root, "DueDate", invoice.due_date.isoformat())
    _cbc(root, "InvoiceTypeCode", "380")
    _cbc(root, "DocumentCurrencyCode", invoice.currency)
    _cbc(root, "BuyerReference", invoice.buyer_reference or invoice.po_number or customer.customer_id)
    if invoice.po_number:
        _cbc(_cac(root, "OrderReference"), "ID", invoice.po_number)
    _seller_party(root, invoice.seller_id, seller)
    _buyer_party(root, customer, seller.country)
    means = _cac(root, "PaymentMeans")
    _cbc(means, "PaymentMeansCode", "58" if invoice.currency == "EUR" else "30")
    _cbc(means, "PaymentID", invoice.number)

    lines = _lines(invoice)
    line_total = Money.zero(invoice.currency)
    for line in lines:
        line_total = line_total + line.net
    tax_exclusive = invoice.total - invoice.tax
    allowance = tax_exclusive - line_total  # document-level charges (+) or allowances (-)
    subtotals = _subtotals(invoice, lines, allowance)
    if allowance.minor:
        charge = _cac(root, "AllowanceCharge")
        _cbc(charge, "ChargeIndicator", "true" if allowance.minor > 0 else "false")
        _cbc(charge, "AllowanceChargeReason", "Charge" if allowance.minor > 0 else "Discount")
        _amount(charge, "Amount", Money(abs(allowance.minor), invoice.currency))
        _tax_category(charge, "TaxCategory", subtotals[0][0])

    total = _cac(root, "TaxTotal")
    _amount(total, "TaxAmount", invoice.tax)
    for rate, taxable, tax in subtotals:
        subtotal = _cac(total, "TaxSubtotal")
        _amount(subtotal, "TaxableAmount", taxable)
        _amount(subtotal, "TaxAmount", tax)
        _tax_category(subtotal, "TaxCategory", rate)

    rounding = invoice.payable - (invoice.total - invoice.prepaid)
    monetary = _cac(root, "LegalMonetaryTotal")
    _amount(monetary, "LineExtensionAmount", line_total)
    _amount(monetary, "TaxExclusiveAmount", tax_exclusive)
    _amount(monetary, "TaxInclusiveAmount", invoice.total)
    if allowance.minor < 0:
        _amount(monetary, "AllowanceTotalAmount", Money(-allowance.minor, invoice.currency))
    if allowance.minor > 0:
        _amount(monetary, "ChargeTotalAmount", allowance)
    if invoice.prepaid.minor:
        _amount(monetary, "PrepaidAmount", invoice.prepaid)
    if rounding.minor:
        _amount(monetary, "PayableRoundingAmount", rounding)
    _amount(monetary, "PayableAmount", invoice.payable)

    for index, line in enumerate(lines, start=1):
        node = _cac(root, "InvoiceLine")
        _cbc(node, "ID", line.line_id or str(index))
        quantity = line.quantity if line.quantity is not None else Decimal(1)
        _cbc(node, "InvoicedQuantity", _decimal(quantity), unitCode=line.unit_code or "C62")
        _amount(node, "LineExtensionAmount", line.net)
        item = _cac(node, "Item")
        _cbc(item, "Name", line.description or f"Line {index}")
        _tax_category(item, "ClassifiedTaxCategory", line.tax_percent or Decimal(0))
        price = line.unit_price if line.unit_price is not None else _unit_price(line.net, quantity)
        _cbc(_cac(node, "Price"), "PriceAmount", _decimal(price), currencyID=invoice.currency)
    return b'<?xml version="1.0" encoding="UTF-8"?>\n' + tostring(root, encoding="unicode").encode()


def _unit_price(net: Money, quantity: Decimal) -> Decimal:
    if quantity == 0:
        return net.to_decimal()
    return (net.to_decimal() / quantity).quantize(Decimal("0.0001")).normalize()
