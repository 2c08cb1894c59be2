"""Read UBL 2.1 invoices and credit notes (Peppol BIS Billing 3.0).

Suppliers on the Peppol network send a UBL ``Invoice`` or ``CreditNote``;
:func:`invoice_to_canonical` parses it through ``safe_xml`` and returns the
canonical invoice (``schemas/invoice.json``), ready for ``canonical.check``.
Other documents are refused with a :class:`UBLError` whose message a finance
user can act on.

>>> invoice_to_canonical(b'<Order xmlns="urn:oasis:names:specification:ubl:'
...                      b'schema:xsd:Order-2"/>')
Traceback (most recent call last):
...
lib.ubl_inbound.UBLError: the document is a UBL Order, not an Invoice or a CreditNote

Amounts stay as the supplier states them: the untaxed total is
``TaxExclusiveAmount``, the total ``TaxInclusiveAmount`` (``PayableAmount``,
which deducts prepayments, goes to the extensions when it differs), and the
tax per code comes from each ``TaxSubtotal``. Document-level allowances and
charges (``cac:AllowanceCharge``) become the invoice's ``allowances`` and
``charges``, each with its reason and the tax of its ``TaxCategory``: the
lines, plus the charges, less the allowances, add up to the untaxed total.
"""

import datetime
from decimal import Decimal

from lxml import etree

from . import safe_xml
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
from .en16931 import canonical_problems as canonical_problems
from .en16931 import unit_price as _unit_price  # noqa: F401 (tests use it)
from .outbound_formats import UBL_CAC_NS, UBL_CBC_NS

INVOICE_NS = "urn:oasis:names:specification:ubl:schema:xsd:Invoice-2"
CREDIT_NOTE_NS = "urn:oasis:names:specification:ubl:schema:xsd:CreditNote-2"
NS = {"cac": UBL_CAC_NS, "cbc": UBL_CBC_NS}
# root element -> (document_type, line element, quantity element)
ROOTS = {
    f"{{{INVOICE_NS}}}Invoice": ("invoice", "InvoiceLine", "InvoicedQuantity"),
    f"{{{CREDIT_NOTE_NS}}}CreditNote": (
        "credit_note",
        "CreditNoteLine",
        "CreditedQuantity",
    ),
}
SUPPLIER_IDS = (  # in order of preference
    "cbc:EndpointID",
    "cac:PartyIdentification/cbc:ID",
    "cac:PartyLegalEntity/cbc:CompanyID",
    "cac:PartyTaxScheme/cbc:CompanyID",
)
# the identifiers a supplier is looked up by, in this order
IDENTIFIER_PATHS = (
    ("endpoint", "cbc:EndpointID"),
    ("vat", "cac:PartyTaxScheme/cbc:CompanyID"),
    ("registry", "cac:PartyLegalEntity/cbc:CompanyID"),
    ("gln", "cbc:EndpointID"),
    ("gln", "cac:PartyIdentification/cbc:ID"),
)
GLN_SCHEME = "0088"
# the element that states each figure, for messages
FIGURES = {
    "line_sum": "LineExtensionAmount",
    "untaxed": "TaxExclusiveAmount",
    "tax": "TaxTotal/TaxAmount",
    "total": "TaxInclusiveAmount",
    "payable": "PayableAmount",
}


class UBLError(EN16931Error):
    """A UBL document is refused; the message is meant for a finance user."""


def _text(parent, path):
    element = parent.find(path, NS)
    return "" if element is None else "".join(element.itertext()).strip()


def _date(text, what):
    error = UBLError(f"{what} must be a date such as 2026-12-03, not {text!r}")
    if len(text) != 10:  # UBL dates have no time part
        raise error
    try:
        return datetime.date.fromisoformat(text).isoformat()
    except ValueError:
        raise error from None


class _Reader(DocumentReader):
    """Reads amounts of one UBL document, all in its currency."""

    error = UBLError
    ns = NS
    tax_paths = ("cac:TaxScheme/cbc:ID", "cbc:Percent", "cbc:ID")


def _supplier(root):
    """``(supplier external id, identifiers)`` of the AccountingSupplierParty:
    the first of its ids (with its scheme) names it; the identifiers (Peppol
    endpoint, VAT number, legal registration, GLN) let the hub find a known
    supplier that is not bound yet."""
    party = root.find("cac:AccountingSupplierParty/cac:Party", NS)
    if party is None:
        party = etree.Element("none")
    supplier = ""
    for path in SUPPLIER_IDS:
        element = party.find(path, NS)
        value = "" if element is None else (element.text or "").strip()
        if value:
            # a scheme (Peppol EAS code such as 0208) keeps ids of registries apart
            scheme = (element.get("schemeID") or "").strip()
            supplier = f"{scheme}:{value}" if scheme else value
            break
    if not supplier:
        raise UBLError(
            "the document does not identify its supplier (AccountingSupplierParty: "
            "EndpointID, PartyIdentification or CompanyID)"
        )
    identifiers = []
    for kind, path in IDENTIFIER_PATHS:
        for element in party.iterfind(path, NS):
            value = (element.text or "").strip()
            scheme = (element.get("schemeID") or "").strip()
            if kind == "gln" and scheme != GLN_SCHEME:
                continue
            if kind == "vat" and not _vat_scheme(element):
                continue  # a tax registration (BT-32), not the VAT number
            if value:
                entry = {"kind": kind, "id": value}
                put_optional(entry, "scheme", scheme)
                if entry not in identifiers:
                    identifiers.append(entry)
    return supplier, identifiers


def _vat_scheme(company_id):
    """Whether a ``PartyTaxScheme/CompanyID`` is the VAT number (BT-31): its
    TaxScheme is VAT (GST in Australia and New Zealand, or not given).
    Another scheme (Norway's TAX for the Foretaksregisteret) is a tax
    registration (BT-32), not a VAT number.

    >>> from lxml import etree
    >>> scheme = etree.fromstring(
    ...     f'<cac:PartyTaxScheme xmlns:cac="{UBL_CAC_NS}" xmlns:cbc="{UBL_CBC_NS}">'
    ...     '<cbc:CompanyID>Foretaksregisteret</cbc:CompanyID><cac:TaxScheme>'
    ...     '<cbc:ID>TAX</cbc:ID></cac:TaxScheme></cac:PartyTaxScheme>')
    >>> _vat_scheme(scheme[0])
    False
    """
    scheme = _text(company_id.getparent(), "cac:TaxScheme/cbc:ID").upper()
    return scheme in ("", "VAT", "GST")


def _line_allowances_and_charges(reader, element, what):
    """``(charges, allowances)``: the line's own AllowanceCharges (BG-27,
    BG-28), each with its amount and reason."""
    found = {True: [], False: []}
    for part in element.iterfind("cac:AllowanceCharge", NS):
        charge = _text(part, "cbc:ChargeIndicator").lower() in ("true", "1")
        kind = "charge" if charge else "allowance"
        reason_code = _text(part, "cbc:AllowanceChargeReasonCode")
        entry = {
            "amount": reader.amount(part, "cbc:Amount", f"a {kind} of {what}"),
            "reason": _text(part, "cbc:AllowanceChargeReason")
            or reason_code
            or kind.capitalize(),
        }
        put_optional(entry, "reason_code", reason_code)
        found[charge].append(entry)
    return found[True], found[False]


def _line(reader, element, position, quantity_tag):
    line_id = _text(element, "cbc:ID") or str(position)
    what = f"line {line_id} of {reader.label}"
    quantity_element = element.find(f"cbc:{quantity_tag}", NS)
    if quantity_element is None:
        raise UBLError(f"{what} has no quantity ({quantity_tag})")
    quantity = number(quantity_element.text, f"the quantity of {what}")
    amount = reader.amount(element, "cbc:LineExtensionAmount", f"the amount of {what}")
    price = reader.amount(element, "cac:Price/cbc:PriceAmount", f"the price of {what}")
    # the price is for this many units
    per = reader.price_base(_text(element, "cac:Price/cbc:BaseQuantity"), what)
    charges, allowances = _line_allowances_and_charges(reader, element, what)
    # BR-LIN-04 / PEPPOL-EN16931-R120: the stated amount is the line's amount,
    # booked to the cent with its own allowances and charges
    booking = line_booking(
        what, reader.currency, quantity, price, per, charges, allowances, amount
    )
    item = element.find("cac:Item", NS)
    if item is None:
        raise UBLError(f"{what} has no item (cac:Item)")
    product_code = _text(item, "cac:SellersItemIdentification/cbc:ID")
    description = _text(item, "cbc:Name") or _text(item, "cbc:Description")
    return reader.canonical_line(
        {
            "line_id": line_id,
            "po_line_id": _text(element, "cac:OrderLineReference/cbc:LineID"),
            "product_code": product_code,
            "description": description,
            "quantity": quantity,
            "unit_code": quantity_element.get("unitCode"),
            "amount": amount,
            **booking,
            "tax_code": reader.tax_code(
                item.find("cac:ClassifiedTaxCategory", NS), what
            ),
            "cost_center": _text(element, "cbc:AccountingCost")
            or _text(reader.root, "cbc:AccountingCost"),
        }
    )


def _allowances_and_charges(reader):
    """``(charges, allowances)``: the document-level AllowanceCharges, each
    with its reason and the tax of its TaxCategory."""
    found = {"charge": [], "allowance": []}
    for element in reader.root.iterfind("cac:AllowanceCharge", NS):
        charge = _text(element, "cbc:ChargeIndicator").lower() in ("true", "1")
        kind = "charge" if charge else "allowance"
        what = f"the {kind} {len(found[kind]) + 1} of {reader.label}"
        amount = reader.amount(element, "cbc:Amount", f"the amount of {what}")
        code = reader.tax_code(element.find("cac:TaxCategory", NS), what)
        reason_code = _text(element, "cbc:AllowanceChargeReasonCode")
        entry = {
            "amount": amount,
            "reason": _text(element, "cbc:AllowanceChargeReason")
            or reason_code
            or kind.capitalize(),
        }
        put_optional(entry, "reason_code", reason_code)
        entry["tax_codes"] = [code] if code else []
        found[kind].append(entry)
    return found["charge"], found["allowance"]


def _taxes(reader):
    """``(amount_tax, tax_totals, sum of the subtotals' tax or None)`` from the
    TaxTotal in the document currency (a second TaxTotal may state the tax in
    the tax currency)."""
    for tax_total in reader.root.iterfind("cac:TaxTotal", NS):
        amount_element = tax_total.find("cbc:TaxAmount", NS)
        currency = "" if amount_element is None else amount_element.get("currencyID")
        if currency not in (None, "", reader.currency):
            continue
        tax = reader.amount(tax_total, "cbc:TaxAmount", f"the tax of {reader.label}")
        totals = {}
        for subtotal in tax_total.iterfind("cac:TaxSubtotal", NS):
            category = subtotal.find("cac:TaxCategory", NS)
            code = reader.tax_code(category, f"a tax subtotal of {reader.label}")
            if not code:
                raise UBLError(f"a tax subtotal of {reader.label} has no TaxCategory")
            what = f"the {code} subtotal of {reader.label}"
            base = reader.amount(subtotal, "cbc:TaxableAmount", f"the base of {what}")
            amount = reader.amount(subtotal, "cbc:TaxAmount", f"the tax of {what}")
            total = totals.setdefault(code, [Decimal(0), Decimal(0)])
            total[0] += base
            total[1] += amount
        category_tax = sum((amount for _base, amount in totals.values()), Decimal(0))
        return (
            tax,
            [
                {"tax_code": code, "base": float(base), "amount": float(amount)}
                for code, (base, amount) in totals.items()
            ],
            category_tax if totals else None,
        )
    raise UBLError(
        f"{reader.label} states no tax total in {reader.currency} (TaxTotal)"
    )


def invoice_to_canonical(data):
    """A UBL ``Invoice`` or ``CreditNote`` (bytes) as a canonical invoice.

    The supplier is the first of EndpointID, PartyIdentification ID, legal
    CompanyID and tax CompanyID of the AccountingSupplierParty, prefixed by
    its scheme (``0208:0123456789``); the external_id is
    ``<supplier>/<document type>/<number>`` because numbers are only unique
    per supplier and type (a credit note may reuse its invoice's number).
    """
    try:
        root = safe_xml.parse(data)
    except safe_xml.UnsafeXMLError as exc:
        raise UBLError(str(exc)) from None
    return root_to_canonical(root)


def root_to_canonical(root):
    """A parsed UBL ``Invoice`` or ``CreditNote`` as a canonical invoice."""
    try:
        return to_canonical(_reading(root))
    except UBLError:
        raise
    except EN16931Error as exc:
        raise UBLError(str(exc)) from None


def _reading(root):
    if root.tag not in ROOTS:
        name = etree.QName(root)
        kind = "UBL " if name.namespace and "ubl:schema" in name.namespace else ""
        raise UBLError(
            f"the document is a {kind}{name.localname}, not an Invoice or a CreditNote"
        )
    document_type, line_tag, quantity_tag = ROOTS[root.tag]
    number = _text(root, "cbc:ID")
    if not number:
        raise UBLError("the document has no number (cbc:ID)")
    noun = "credit note" if document_type == "credit_note" else "invoice"
    label = f"the {noun} {number}"
    type_code = _text(root, "cbc:InvoiceTypeCode") or _text(
        root, "cbc:CreditNoteTypeCode"
    )
    if type_code in NOT_BOOKED:
        name, reason = NOT_BOOKED[type_code]
        raise UBLError(f"{label} is a {name} (type code {type_code}): {reason}")
    currency = _text(root, "cbc:DocumentCurrencyCode")
    if not currency:
        raise UBLError(f"{label} has no currency (DocumentCurrencyCode)")
    reader = _Reader(root, label, currency)
    supplier, identifiers = _supplier(root)

    lines = [
        _line(reader, element, position, quantity_tag)
        for position, element in enumerate(root.iterfind(f"cac:{line_tag}", NS), 1)
    ]
    if not lines:
        raise UBLError(f"{label} has no lines ({line_tag})")
    charges, allowances = _allowances_and_charges(reader)
    totals = root.find("cac:LegalMonetaryTotal", NS)
    if totals is None:
        raise UBLError(f"{label} has no totals (LegalMonetaryTotal)")
    untaxed = reader.amount(
        totals, "cbc:TaxExclusiveAmount", f"the untaxed total of {label}"
    )
    total = reader.amount(totals, "cbc:TaxInclusiveAmount", f"the total of {label}")
    payable = reader.amount(totals, "cbc:PayableAmount", f"the amount due of {label}")
    line_sum = reader.amount(
        totals, "cbc:LineExtensionAmount", f"the sum of lines of {label}", False
    )
    tax, tax_totals, category_tax = _taxes(reader)
    due = _text(root, "cbc:DueDate") or _text(
        root, "cac:PaymentMeans/cbc:PaymentDueDate"
    )
    return Reading(
        document_type=document_type,
        number=number,
        label=label,
        currency=currency,
        supplier=supplier,
        identifiers=identifiers,
        invoice_date=_date(_text(root, "cbc:IssueDate"), f"the date of {label}"),
        due_date=_date(due, f"the due date of {label}") if due else "",
        purchase_order=_text(root, "cac:OrderReference/cbc:ID"),
        lines=lines,
        charges=charges,
        allowances=allowances,
        untaxed=untaxed,
        tax=tax,
        tax_totals=tax_totals,
        total=total,
        payable=payable,
        line_sum=line_sum,
        prepaid=reader.amount(
            totals, "cbc:PrepaidAmount", f"the prepaid amount of {label}", False
        ),
        charge_total=reader.amount(
            totals, "cbc:ChargeTotalAmount", f"the charges of {label}", False
        ),
        allowance_total=reader.amount(
            totals, "cbc:AllowanceTotalAmount", f"the allowances of {label}", False
        ),
        rounding=reader.amount(
            totals, "cbc:PayableRoundingAmount", f"the rounding of {label}", False
        ),
        category_tax=category_tax,
        check_payable=True,
        payment_terms=_text(root, "cac:PaymentTerms/cbc:Note"),
        billing_references=[
            _text(reference, "cbc:ID")
            for reference in root.iterfind(
                "cac:BillingReference/cac:InvoiceDocumentReference", NS
            )
            if _text(reference, "cbc:ID")
        ],
        names=FIGURES,
    )
