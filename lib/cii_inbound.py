"""Read UN/CEFACT Cross Industry Invoices (Factur-X, ZUGFeRD, XRechnung-CII).

CII D16B is the second syntax of EN 16931 beside UBL. A supplier sends one
``rsm:CrossIndustryInvoice`` (the XML of a Factur-X / ZUGFeRD PDF, or an
XRechnung in CII); :func:`root_to_canonical` reads it into the same
canonical invoice as a UBL document, checked by the same EN 16931 rules
(``lib/en16931.py``). The document type code (BT-3) says whether it is an
invoice or a credit note:

>>> document_type("380"), document_type("381"), document_type("389")
('invoice', 'credit_note', 'invoice')
>>> document_type("386")
Traceback (most recent call last):
...
lib.cii_inbound.CIIError: the document is a prepayment invoice (type code 386): \
the hub does not book it as a vendor bill, since the final invoice states the \
prepayment (TotalPrepaidAmount) and would count it twice; book the prepayment \
as an advance, then send the final invoice
>>> document_type("999")
Traceback (most recent call last):
...
lib.cii_inbound.CIIError: the document type code 999 is no invoice or credit \
note code of EN 16931 (UNTDID 1001, BR-CL-01); the hub takes invoices (380, \
326, 384, 389, 751) and credit notes (381, 261)

Dates are ``udt:DateTimeString`` of format 102 (YYYYMMDD), the only format
EN 16931 allows in CII:

>>> from lxml import etree
>>> date(etree.fromstring(f'<d xmlns:udt="{UDT_NS}"><udt:DateTimeString '
...      'format="102">20260203</udt:DateTimeString></d>'), "the date")
'2026-02-03'
"""

import datetime
from decimal import Decimal

from lxml import etree

from .canonical import put_optional
from .en16931 import (
    NOT_BOOKED,
    DocumentReader,
    EN16931Error,
    Reading,
    line_booking,
    number,
    to_canonical,
)

CII_NS = "urn:un:unece:uncefact:data:standard:CrossIndustryInvoice:100"
RAM_NS = (
    "urn:un:unece:uncefact:data:standard:ReusableAggregateBusinessInformationEntity:100"
)
UDT_NS = "urn:un:unece:uncefact:data:standard:UnqualifiedDataType:100"
NS = {"rsm": CII_NS, "ram": RAM_NS, "udt": UDT_NS}
ROOT = f"{{{CII_NS}}}CrossIndustryInvoice"

# UNTDID 1001 codes (BT-3) the hub books, and what it books them as
INVOICE_CODES = {
    "380": "commercial invoice",
    "326": "partial invoice",
    "384": "corrected invoice",
    "389": "self-billed invoice",
    "751": "invoice information for accounting purposes",
}
CREDIT_NOTE_CODES = {"381": "credit note", "261": "self-billed credit note"}
# the other invoice and credit note codes EN 16931 allows (BR-CL-01)
OTHER_EN16931_CODES = frozenset(
    "71 80 81 82 83 84 102 130 202 203 204 211 218 219 262 295 296 308 325 "
    "331 382 383 385 387 388 390 393 394 395 396 420 456 457 458 527 532 553 "
    "575 623 633 780 817 870 875 876 877 935".split()
)
HANDLED = "invoices (380, 326, 384, 389, 751) and credit notes (381, 261)"
# a supplier's identifiers, in order of preference for its external id
SUPPLIER_IDS = (
    "ram:URIUniversalCommunication/ram:URIID",  # BT-34 electronic address
    "ram:GlobalID",  # BT-29 with a scheme
    "ram:ID",  # BT-29 without a scheme
    "ram:SpecifiedLegalOrganization/ram:ID",  # BT-30
    "ram:SpecifiedTaxRegistration/ram:ID",  # BT-31 (VA) or BT-32 (FC)
)
GLN_SCHEME = "0088"
VAT_SCHEME = "VA"  # the VAT number; FC is a local tax registration
DATE_FORMAT = "102"
FIGURES = {
    "line_sum": "LineTotalAmount",
    "charge_total": "ChargeTotalAmount",
    "allowance_total": "AllowanceTotalAmount",
    "untaxed": "TaxBasisTotalAmount",
    "tax": "TaxTotalAmount",
    "total": "GrandTotalAmount",
    "payable": "DuePayableAmount",
}
_SETTLEMENT = "rsm:SupplyChainTradeTransaction/ram:ApplicableHeaderTradeSettlement"
_AGREEMENT = "rsm:SupplyChainTradeTransaction/ram:ApplicableHeaderTradeAgreement"


class CIIError(EN16931Error):
    """A CII document is refused; the message is meant for a finance user."""


def _text(parent, path):
    element = parent.find(path, NS)
    return "" if element is None else "".join(element.itertext()).strip()


def document_type(code):
    """``invoice`` or ``credit_note`` for a document type code (BT-3)."""
    if code in INVOICE_CODES:
        return "invoice"
    if code in CREDIT_NOTE_CODES:
        return "credit_note"
    if code in NOT_BOOKED:
        name, reason = NOT_BOOKED[code]
        raise CIIError(f"the document is a {name} (type code {code}): {reason}")
    if code in OTHER_EN16931_CODES:
        raise CIIError(
            f"the document type code {code} is not one the hub books as a vendor "
            f"bill; it takes {HANDLED}: ask the supplier for one of these"
        )
    raise CIIError(
        f"the document type code {code or '(none)'} is no invoice or credit note "
        f"code of EN 16931 (UNTDID 1001, BR-CL-01); the hub takes {HANDLED}"
    )


def date(parent, what):
    """The ISO date of the ``udt:DateTimeString`` under ``parent``."""
    element = parent.find("udt:DateTimeString", NS)
    if element is None:
        raise CIIError(f"{what} is missing (udt:DateTimeString)")
    text = (element.text or "").strip()
    shape = "a date of format 102 (YYYYMMDD, such as 20261203)"
    given = (element.get("format") or "").strip()
    if given != DATE_FORMAT:
        raise CIIError(
            f"{what} must be {shape}, not format {given or '(none)'} {text!r}"
        )
    try:
        if len(text) != 8 or not text.isdigit():
            raise ValueError
        return datetime.date(int(text[:4]), int(text[4:6]), int(text[6:])).isoformat()
    except ValueError:
        raise CIIError(f"{what} must be {shape}, not {text!r}") from None


def _indicator(element):
    """A ChargeIndicator: True for a charge, False for an allowance."""
    return _text(element, "ram:ChargeIndicator/udt:Indicator").lower() in (
        "true",
        "1",
    )


class _Reader(DocumentReader):
    """Reads amounts of one CII document, all in its currency."""

    error = CIIError
    ns = NS
    tax_paths = ("ram:TypeCode", "ram:RateApplicablePercent", "ram:CategoryCode")


def _supplier(root):
    """``(supplier external id, identifiers)`` of the SellerTradeParty, as for
    UBL: the first of its ids names it (prefixed by its scheme, except the
    VA/FC kind of a tax registration, so that the same supplier has the same
    id in UBL and CII); the identifiers (electronic address, VAT number,
    legal registration, GLN) let the hub find a known supplier."""
    party = root.find(f"{_AGREEMENT}/ram:SellerTradeParty", NS)
    if party is None:
        party = etree.Element("none")
    supplier = _external_id(party)
    if not supplier:
        raise CIIError(
            "the document does not identify its supplier (SellerTradeParty: "
            "URIUniversalCommunication, GlobalID, ID, SpecifiedLegalOrganization "
            "or SpecifiedTaxRegistration)"
        )
    return supplier, _identifiers(party)


def _scheme(element):
    return (element.get("schemeID") or "").strip()


def _external_id(party):
    for path in SUPPLIER_IDS:
        for element in party.iterfind(path, NS):
            value = (element.text or "").strip()
            if value:
                scheme = "" if "TaxRegistration" in path else _scheme(element)
                return f"{scheme}:{value}" if scheme else value
    return ""


def _identifiers(party):
    found = []
    wanted = (
        ("endpoint", "ram:URIUniversalCommunication/ram:URIID", None),
        ("vat", "ram:SpecifiedTaxRegistration/ram:ID", VAT_SCHEME),
        ("registry", "ram:SpecifiedLegalOrganization/ram:ID", None),
        ("gln", "ram:URIUniversalCommunication/ram:URIID", GLN_SCHEME),
        ("gln", "ram:GlobalID", GLN_SCHEME),
    )
    for kind, path, only in wanted:
        for element in party.iterfind(path, NS):
            value, scheme = (element.text or "").strip(), _scheme(element)
            if not value or (only and scheme.upper() != only):
                continue
            entry = {"kind": kind, "id": value}
            if kind != "vat":  # VA says it is a VAT number, not a registry
                put_optional(entry, "scheme", scheme)
            if entry not in found:
                found.append(entry)
    return found


def _line_allowances_and_charges(reader, settlement, what):
    """``(charges, allowances)``: the line's own allowances and charges
    (BG-27, BG-28), each with its amount and reason."""
    found = {True: [], False: []}
    for part in settlement.iterfind("ram:SpecifiedTradeAllowanceCharge", NS):
        charge = _indicator(part)
        kind = "charge" if charge else "allowance"
        reason_code = _text(part, "ram:ReasonCode")
        entry = {
            "amount": reader.amount(part, "ram:ActualAmount", f"a {kind} of {what}"),
            "reason": _text(part, "ram:Reason") or reason_code or kind.capitalize(),
        }
        put_optional(entry, "reason_code", reason_code)
        found[charge].append(entry)
    return found[True], found[False]


def _line(reader, element, position):
    line_id = _text(element, "ram:AssociatedDocumentLineDocument/ram:LineID") or str(
        position
    )
    what = f"line {line_id} of {reader.label}"
    agreement = element.find("ram:SpecifiedLineTradeAgreement", NS)
    settlement = element.find("ram:SpecifiedLineTradeSettlement", NS)
    if agreement is None or settlement is None:
        raise CIIError(
            f"{what} has no price or no amount (SpecifiedLineTradeAgreement, "
            "SpecifiedLineTradeSettlement)"
        )
    quantity_element = element.find(
        "ram:SpecifiedLineTradeDelivery/ram:BilledQuantity", NS
    )
    if quantity_element is None:
        raise CIIError(f"{what} has no quantity (BilledQuantity)")
    quantity = number(quantity_element.text, f"the quantity of {what}")
    amount = reader.amount(
        settlement,
        "ram:SpecifiedTradeSettlementLineMonetarySummation/ram:LineTotalAmount",
        f"the amount of {what}",
    )
    # BR-26: the net price; the base quantity (BT-149) is the net price's,
    # else the gross price's
    price = reader.amount(
        agreement,
        "ram:NetPriceProductTradePrice/ram:ChargeAmount",
        f"the price of {what}",
    )
    per = reader.price_base(
        _text(agreement, "ram:NetPriceProductTradePrice/ram:BasisQuantity")
        or _text(agreement, "ram:GrossPriceProductTradePrice/ram:BasisQuantity"),
        what,
    )
    charges, allowances = _line_allowances_and_charges(reader, settlement, what)
    booking = line_booking(
        what, reader.currency, quantity, price, per, charges, allowances, amount
    )
    product = element.find("ram:SpecifiedTradeProduct", NS)
    if product is None:
        raise CIIError(f"{what} has no item (SpecifiedTradeProduct)")
    product_code = _text(product, "ram:SellerAssignedID")
    description = _text(product, "ram:Name") or _text(product, "ram:Description")
    return reader.canonical_line(
        {
            "line_id": line_id,
            "po_line_id": _text(
                agreement, "ram:BuyerOrderReferencedDocument/ram:LineID"
            ),
            "product_code": product_code,
            "description": description,
            "quantity": quantity,
            "unit_code": quantity_element.get("unitCode"),
            "amount": amount,
            **booking,
            "tax_code": reader.tax_code(
                settlement.find("ram:ApplicableTradeTax", NS), what
            ),
            # BT-133, else BT-19 of the document
            "cost_center": _text(
                settlement, "ram:ReceivableSpecifiedTradeAccountingAccount/ram:ID"
            )
            or _text(
                reader.root,
                f"{_SETTLEMENT}/ram:ReceivableSpecifiedTradeAccountingAccount/ram:ID",
            ),
        }
    )


def _allowances_and_charges(reader, settlement):
    """``(charges, allowances)`` of the document (BG-20, BG-21), each with its
    reason and the tax of its CategoryTradeTax."""
    found = {"charge": [], "allowance": []}
    for element in settlement.iterfind("ram:SpecifiedTradeAllowanceCharge", NS):
        kind = "charge" if _indicator(element) else "allowance"
        what = f"the {kind} {len(found[kind]) + 1} of {reader.label}"
        amount = reader.amount(element, "ram:ActualAmount", f"the amount of {what}")
        code = reader.tax_code(element.find("ram:CategoryTradeTax", NS), what)
        reason_code = _text(element, "ram:ReasonCode")
        entry = {
            "amount": amount,
            "reason": _text(element, "ram:Reason") or reason_code or kind.capitalize(),
        }
        put_optional(entry, "reason_code", reason_code)
        entry["tax_codes"] = [code] if code else []
        found[kind].append(entry)
    return found["charge"], found["allowance"]


def _taxes(reader, settlement, summation):
    """``(amount_tax, tax_totals, sum of the categories)``: the tax total in
    the invoice currency (BT-110; a second one may state it in the tax
    currency, BT-111) and the breakdown per category (BG-23)."""
    tax = None
    for element in summation.iterfind("ram:TaxTotalAmount", NS):
        currency = (element.get("currencyID") or "").strip()
        if currency in ("", reader.currency):
            tax = number(element.text, f"the tax of {reader.label}")
            break
    if tax is None:
        raise CIIError(
            f"{reader.label} states no tax total in {reader.currency} "
            "(TaxTotalAmount)"
        )
    totals, category_sum = {}, Decimal(0)
    for element in settlement.iterfind("ram:ApplicableTradeTax", NS):
        code = reader.tax_code(element, f"a tax breakdown of {reader.label}")
        what = f"the {code} breakdown of {reader.label}"
        base = reader.amount(element, "ram:BasisAmount", f"the base of {what}")
        amount = reader.amount(element, "ram:CalculatedAmount", f"the tax of {what}")
        total = totals.setdefault(code, [Decimal(0), Decimal(0)])
        total[0] += base
        total[1] += amount
        category_sum += amount
    tax_totals = [
        {"tax_code": code, "base": float(base), "amount": float(amount)}
        for code, (base, amount) in totals.items()
    ]
    return tax, tax_totals, category_sum


def root_to_canonical(root):
    """A parsed ``rsm:CrossIndustryInvoice`` as a canonical invoice."""
    try:
        return to_canonical(_reading(root))
    except CIIError:
        raise
    except EN16931Error as exc:
        raise CIIError(str(exc)) from None


def _reading(root):
    if root.tag != ROOT:
        raise CIIError(
            f"the document is a {etree.QName(root).localname}, not a "
            "CrossIndustryInvoice"
        )
    header = root.find("rsm:ExchangedDocument", NS)
    if header is None:
        header = etree.Element("none")
    code = _text(header, "ram:TypeCode")
    kind = document_type(code)
    number_ = _text(header, "ram:ID")
    if not number_:
        raise CIIError("the document has no number (ExchangedDocument/ID)")
    label = f"the {'credit note' if kind == 'credit_note' else 'invoice'} {number_}"
    settlement = root.find(_SETTLEMENT, NS)
    if settlement is None:
        raise CIIError(f"{label} has no settlement (ApplicableHeaderTradeSettlement)")
    currency = _text(settlement, "ram:InvoiceCurrencyCode")
    if not currency:
        raise CIIError(f"{label} has no currency (InvoiceCurrencyCode)")
    reader = _Reader(root, label, currency)
    supplier, identifiers = _supplier(root)
    issue = header.find("ram:IssueDateTime", NS)
    if issue is None:
        raise CIIError(f"{label} has no date (IssueDateTime)")
    lines = [
        _line(reader, element, position)
        for position, element in enumerate(
            root.iterfind(
                "rsm:SupplyChainTradeTransaction/ram:IncludedSupplyChainTradeLineItem",
                NS,
            ),
            1,
        )
    ]
    if not lines:
        raise CIIError(
            f"{label} has no lines (IncludedSupplyChainTradeLineItem); an invoice "
            "has at least one line (BR-16): the Factur-X MINIMUM and BASIC WL "
            "profiles carry none, ask the supplier for the BASIC, EN 16931 or "
            "EXTENDED profile"
        )
    charges, allowances = _allowances_and_charges(reader, settlement)
    summation = settlement.find(
        "ram:SpecifiedTradeSettlementHeaderMonetarySummation", NS
    )
    if summation is None:
        raise CIIError(
            f"{label} has no totals (SpecifiedTradeSettlementHeaderMonetarySummation)"
        )

    def figure(name, what, required=True):
        return reader.amount(summation, f"ram:{name}", f"{what} of {label}", required)

    tax, tax_totals, category_tax = _taxes(reader, settlement, summation)
    due = ""
    for terms in settlement.iterfind("ram:SpecifiedTradePaymentTerms", NS):
        moment = terms.find("ram:DueDateDateTime", NS)
        if moment is not None:
            due = date(moment, f"the due date of {label}")
            break
    return Reading(
        document_type=kind,
        number=number_,
        label=label,
        currency=currency,
        supplier=supplier,
        identifiers=identifiers,
        invoice_date=date(issue, f"the date of {label}"),
        due_date=due,
        purchase_order=_text(
            root, f"{_AGREEMENT}/ram:BuyerOrderReferencedDocument/ram:IssuerAssignedID"
        ),
        lines=lines,
        charges=charges,
        allowances=allowances,
        untaxed=figure("TaxBasisTotalAmount", "the untaxed total"),
        tax=tax,
        tax_totals=tax_totals,
        category_tax=category_tax,
        total=figure("GrandTotalAmount", "the total"),
        payable=figure("DuePayableAmount", "the amount due"),
        line_sum=figure("LineTotalAmount", "the sum of lines"),
        charge_total=figure("ChargeTotalAmount", "the charges", False),
        allowance_total=figure("AllowanceTotalAmount", "the allowances", False),
        prepaid=figure("TotalPrepaidAmount", "the prepaid amount", False),
        rounding=figure("RoundingAmount", "the rounding amount", False),
        check_payable=True,
        payment_terms="; ".join(
            text
            for text in (
                _text(terms, "ram:Description")
                for terms in settlement.iterfind("ram:SpecifiedTradePaymentTerms", NS)
            )
            if text
        ),
        billing_references=[
            text
            for text in (
                _text(reference, "ram:IssuerAssignedID")
                for reference in settlement.iterfind(
                    "ram:InvoiceReferencedDocument", NS
                )
            )
            if text
        ],
        names=FIGURES,
    )
