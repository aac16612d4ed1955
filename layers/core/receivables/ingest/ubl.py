"""UBL 2.1 Invoice and CreditNote, as Peppol BIS Billing 3.0 uses them.

Parsed with defusedxml: a DTD, an entity declaration or an external reference rejects the file
(no XXE, no entity expansion bombs).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from receivables.ingest.fields import (
    FieldError,
    bounded_number,
    control_character,
    normalise_email,
    normalise_vat,
    one_line,
    parse_date,
)
from receivables.ingest.model import FileRejectedError, ParsedDocument, ProblemCollector
from receivables.kernel.money import Money, MoneyError, normalise_currency, parse_decimal, sum_money
from receivables.ledger.model import Buyer, DocumentType, InvoiceLine, PartyId

if TYPE_CHECKING:
    from datetime import date
    from decimal import Decimal
    from xml.etree.ElementTree import Element

    from receivables.ingest.model import ParseResult

CBC = "urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2"
CAC = "urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2"
ROOTS = {
    "{urn:oasis:names:specification:ubl:schema:xsd:Invoice-2}Invoice": DocumentType.INVOICE,
    "{urn:oasis:names:specification:ubl:schema:xsd:CreditNote-2}CreditNote": DocumentType.CREDIT_NOTE,
}
_NS = {"cbc": CBC, "cac": CAC}
# Peppol allows "NA" as the order reference when there is no purchase order.
_NO_ORDER = {"", "NA", "N/A"}


def parse_ubl(data: bytes) -> ParseResult:
    """Parse one UBL Invoice or CreditNote into a document (or a rejection with every problem)."""
    from defusedxml import DefusedXmlException
    from defusedxml.ElementTree import ParseError, fromstring

    try:
        root = fromstring(data, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except DefusedXmlException as exc:
        raise FileRejectedError(
            "unsafe_xml",
            f"the XML declares a DTD or entities, which are refused: {type(exc).__name__}",
        ) from None
    except ParseError as exc:
        raise FileRejectedError("malformed_xml", f"not well-formed XML: {exc}") from None
    doc_type = ROOTS.get(root.tag)
    if doc_type is None:
        raise FileRejectedError(
            "unsupported_xml",
            f"the root element {root.tag} is not a UBL 2.1 Invoice or CreditNote",
        )
    return _UblReader(root, doc_type).read()


class _UblReader:
    def __init__(self, root: Element, doc_type: DocumentType) -> None:
        self.root = root
        self.doc_type = doc_type
        self.line_tag = "cac:InvoiceLine" if doc_type is DocumentType.INVOICE else "cac:CreditNoteLine"
        self.quantity_tag = (
            "cbc:InvoicedQuantity" if doc_type is DocumentType.INVOICE else "cbc:CreditedQuantity"
        )
        self.problems = ProblemCollector("document", self.text("cbc:ID") or None)
        self.currency = ""

    def text(self, path: str, node: Element | None = None) -> str:
        found = (self.root if node is None else node).find(path, _NS)
        return (found.text or "").strip() if found is not None else ""

    def single_line(self, path: str, node: Element | None = None, *, name: bool = False) -> str:
        """The text at ``path``, refused (a problem, and "") if it holds a control character; in a
        ``name``, line breaks and tabs become spaces first (see `receivables.ingest.fields`)."""
        value = self.text(path, node)
        if name:
            value = one_line(value)
        if (found := control_character(value)) is not None:
            self.problems.add(
                "control_character", f"the value holds a control character ({found}), which is not text", path
            )
            return ""
        return value

    def money(self, path: str, node: Element | None = None, *, required: bool = True) -> Money | None:
        found = (self.root if node is None else node).find(path, _NS)
        if found is None or not (found.text or "").strip():
            if required:
                self.problems.add("missing_field", "the amount is missing", path)
            return None
        currency = found.get("currencyID", "")
        if self.currency and currency and currency != self.currency:
            self.problems.add(
                "invalid_currency",
                f"amount in {currency} in a document in {self.currency}",
                path,
            )
            return None
        raw = found.text or ""
        try:
            return Money.from_decimal(bounded_number(parse_decimal(raw), raw.strip()), self.currency)
        except (MoneyError, FieldError) as exc:
            self.problems.add("invalid_amount", str(exc), path)
            return None

    def decimal(self, path: str, node: Element) -> Decimal | None:
        raw = self.text(path, node)
        if not raw:
            return None
        try:
            return bounded_number(parse_decimal(raw), raw)
        except (MoneyError, FieldError) as exc:
            self.problems.add("invalid_number", str(exc), path)
            return None

    def date(self, path: str, *, required: bool) -> date | None:
        raw = self.text(path)
        if not raw:
            if required:
                self.problems.add("missing_field", "the date is missing", path)
            return None
        try:
            return parse_date(raw)
        except FieldError as exc:
            self.problems.add("invalid_date", str(exc), path)
            return None

    def read(self) -> ParseResult:
        number = self.single_line("cbc:ID")
        if not self.text("cbc:ID"):
            self.problems.add("missing_field", "the invoice number is missing", "cbc:ID")
        try:
            self.currency = normalise_currency(self.text("cbc:DocumentCurrencyCode"))
        except MoneyError as exc:
            self.problems.add("invalid_currency", str(exc), "cbc:DocumentCurrencyCode")
            return self.problems.rejected()
        issue_date = self.date("cbc:IssueDate", required=True)
        due_date = self.date("cbc:DueDate", required=False) or self.date(
            "cac:PaymentMeans/cbc:PaymentDueDate", required=False
        )
        seller_id = self.seller_id()
        buyer = self.buyer()
        lines = self.lines()
        totals = "cac:LegalMonetaryTotal/"
        line_total = self.money(totals + "cbc:LineExtensionAmount")
        total = self.money(totals + "cbc:TaxInclusiveAmount")
        prepaid = self.money(totals + "cbc:PrepaidAmount", required=False) or Money.zero(self.currency)
        rounding = self.money(totals + "cbc:PayableRoundingAmount", required=False) or Money.zero(
            self.currency
        )
        payable = self.money(totals + "cbc:PayableAmount")
        tax = self.tax_total()
        if (
            line_total is not None
            and lines
            and sum_money((ln.net for ln in lines), self.currency) != line_total
        ):
            self.problems.add(
                "inconsistent_total",
                f"the lines add up to {sum_money((ln.net for ln in lines), self.currency)}, "
                f"not {line_total} (Peppol rule BR-CO-10)",
                totals + "cbc:LineExtensionAmount",
            )
        if total is not None and payable is not None and payable != total - prepaid + rounding:
            self.problems.add(
                "inconsistent_total",
                f"the amount due {payable} is not {total} less prepaid {prepaid} plus rounding "
                f"{rounding} (Peppol rule BR-CO-16)",
                totals + "cbc:PayableAmount",
            )
        if total is not None and total.minor <= 0:
            self.problems.add("invalid_amount", f"the total must be positive, got {total}", totals)
        if self.problems or issue_date is None or total is None or payable is None or buyer is None:
            return self.problems.rejected()
        order = self.single_line("cac:OrderReference/cbc:ID")
        buyer_reference = self.single_line("cbc:BuyerReference")
        billing_reference = self.single_line("cac:BillingReference/cac:InvoiceDocumentReference/cbc:ID")
        contract_reference = self.single_line("cac:ContractDocumentReference/cbc:ID")
        if self.problems:
            return self.problems.rejected()
        return ParsedDocument(
            doc_type=self.doc_type,
            seller_id=seller_id,
            number=number,
            buyer=buyer,
            currency=self.currency,
            issue_date=issue_date,
            due_date=due_date,
            payment_terms=one_line(self.text("cac:PaymentTerms/cbc:Note")) or None,
            total=total,
            tax=tax,
            prepaid=prepaid,
            payable=payable,
            lines=tuple(lines),
            location="document",
            po_number=None if order.upper() in _NO_ORDER else order,
            buyer_reference=buyer_reference or None,
            billing_reference=billing_reference or None,
            contract_reference=contract_reference or None,
        )

    def tax_total(self) -> Money:
        # With a separate tax accounting currency there are two TaxTotals: take the document's.
        for node in self.root.findall("cac:TaxTotal", _NS):
            amount = node.find("cbc:TaxAmount", _NS)
            if amount is not None and amount.get("currencyID", self.currency) == self.currency:
                return self.money("cbc:TaxAmount", node) or Money.zero(self.currency)
        return Money.zero(self.currency)

    def party_ids(self, party: Element) -> list[PartyId]:
        ids: list[PartyId] = []
        if vat := self.text("cac:PartyTaxScheme/cbc:CompanyID", party):
            ids.append(PartyId("vat", normalise_vat(vat)))
        legal = party.find("cac:PartyLegalEntity/cbc:CompanyID", _NS)
        legal_id = (legal.text or "").strip() if legal is not None else ""
        if legal is not None and legal_id:
            scheme = legal.get("schemeID")
            ids.append(PartyId("legal", f"{scheme}:{legal_id}" if scheme else legal_id))
        endpoint = party.find("cbc:EndpointID", _NS)
        endpoint_id = (endpoint.text or "").strip() if endpoint is not None else ""
        if endpoint is not None and endpoint_id:
            ids.append(PartyId("endpoint", f"{endpoint.get('schemeID', '')}:{endpoint_id}"))
        return ids

    def seller_id(self) -> str:
        party = self.root.find("cac:AccountingSupplierParty/cac:Party", _NS)
        # The seller is the legal entity (its VAT id first): one company may send from several
        # Peppol endpoints.
        ids = self.party_ids(party) if party is not None else []
        if not ids:
            self.problems.add(
                "missing_field",
                "the seller has no VAT, company or endpoint id",
                "cac:AccountingSupplierParty",
            )
            return ""
        return ids[0].key()

    def buyer(self) -> Buyer | None:
        party = self.root.find("cac:AccountingCustomerParty/cac:Party", _NS)
        if party is None:
            self.problems.add("missing_customer", "the buyer is missing", "cac:AccountingCustomerParty")
            return None
        ids = self.party_ids(party)
        email: str | None = None
        if raw_email := self.single_line("cac:Contact/cbc:ElectronicMail", party):
            try:
                email = normalise_email(raw_email)
                ids.append(PartyId("email", email))
            except FieldError:
                email = None  # a malformed contact address is not a reason to lose the invoice
        name = (
            self.single_line("cac:PartyLegalEntity/cbc:RegistrationName", party, name=True)
            or self.single_line("cac:PartyName/cbc:Name", party, name=True)
            or None
        )
        if not ids and name:
            ids.append(PartyId("name", " ".join(name.casefold().split())))
        if not ids:
            self.problems.add(
                "missing_customer",
                "the buyer has no identifier, email or name",
                "cac:AccountingCustomerParty",
            )
            return None
        country = self.text("cac:PostalAddress/cac:Country/cbc:IdentificationCode", party) or None
        return Buyer(name=name, identifiers=tuple(ids), email=email, country=country)

    def lines(self) -> list[InvoiceLine]:
        lines: list[InvoiceLine] = []
        for index, node in enumerate(self.root.findall(self.line_tag, _NS), start=1):
            net = self.money("cbc:LineExtensionAmount", node)
            if net is None:
                continue
            quantity = node.find(self.quantity_tag, _NS)
            lines.append(
                InvoiceLine(
                    line_id=self.text("cbc:ID", node) or str(index),
                    description=one_line(self.text("cac:Item/cbc:Name", node)) or None,
                    quantity=self.decimal(self.quantity_tag, node),
                    unit_code=quantity.get("unitCode") if quantity is not None else None,
                    unit_price=self.decimal("cac:Price/cbc:PriceAmount", node),
                    net=net,
                    tax_percent=self.decimal("cac:Item/cac:ClassifiedTaxCategory/cbc:Percent", node),
                )
            )
        return lines
