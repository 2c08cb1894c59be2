"""Read the cXML documents procurement networks send to the hub.

A cXML request is an envelope (who sends it, to whom, with which shared
secret) around one business document. :func:`parse_envelope` reads the
envelope through ``safe_xml``; the converters turn the business document into
the canonical model (``schemas/*.json``), ready for ``canonical.check``:

- ``OrderRequest`` (new, update, delete) -> purchase_order;
- ``InvoiceDetailRequest`` (invoices, debit and credit memos, line or header
  level) -> invoice;
- ``ShipNoticeRequest`` and ``ReceiptRequest`` -> goods_receipt.

Every refusal is a :class:`CXMLError` with a sentence for the sender and the
cXML status code to answer, which :func:`render_response` turns into the
``Response`` document. Credentials are only read here: checking them (and
answering 401) is the caller's business.

>>> document = (
...     b'<cXML payloadID="42@buyer.example" timestamp="2026-11-26T09:00:00Z">'
...     b'<Header><From><Credential domain="NetworkID"><Identity>AN01</Identity>'
...     b'</Credential></From><To><Credential domain="DUNS"><Identity>123456789'
...     b'</Identity></Credential></To><Sender><Credential domain="NetworkID">'
...     b'<Identity>AN01</Identity><SharedSecret>s3cr3t</SharedSecret></Credential>'
...     b'<UserAgent>Buyer 1.0</UserAgent></Sender></Header>'
...     b'<Request deploymentMode="test"><ConfirmationRequest/></Request></cXML>')
>>> envelope = parse_envelope(document)
>>> envelope.kind, envelope.deployment_mode, envelope.sender
('ConfirmationRequest', 'test', Credential(domain='NetworkID', identity='AN01'))
>>> envelope.shared_secret, "s3cr3t" in repr(envelope)
('s3cr3t', False)
>>> b"s3cr3t" in redact_shared_secret(document)
False
"""

import codecs
import datetime
import re
import time
import uuid
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, NamedTuple

from lxml import etree

from . import outbound_formats, safe_xml
from .outbound_formats import (
    CXML_DOCTYPE,
    REDACTED,
    UNECE_UNIT_CODES,
    XML_DECLARATION,
    XML_LANG,
)
from .tax_check import money, plain, tax_code, to_decimal

# cXML status codes the hub answers with, and their standard text
STATUS_TEXTS = {
    200: "OK",
    201: "Accepted",
    401: "Unauthorized",
    406: "Not Acceptable",
    409: "Conflict",
    500: "Internal Server Error",
}
DEPLOYMENT_MODES = ("production", "test")
ORDER_OPERATIONS = ("new", "update", "delete")
INVOICE_PURPOSES = (
    "standard",
    "creditMemo",
    "lineLevelCreditMemo",
    "debitMemo",
    "lineLevelDebitMemo",
)
CREDIT_PURPOSES = ("creditMemo", "lineLevelCreditMemo")
# Contact roles that name the supplier on an order or an invoice
ORDER_SUPPLIER_ROLES = ("supplierCorporate", "supplierAccount", "supplierMasterAccount")
INVOICE_SUPPLIER_ROLES = ("from", "supplierCorporate")
# TaxDetail exemptDetail -> the UBL category it means, for the same tax code
EXEMPT_CATEGORIES = {"zeroRated": "Z", "exempt": "E"}
MAX_STATUS_TEXT = 1000
PAYLOAD_DOMAIN = "finance-integration-hub"

# UN/ECE code -> Odoo unit name; the first name of a code wins ("Units")
ODOO_UNITS = {code: name for name, code in reversed(UNECE_UNIT_CODES.items())}

_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
_SECRET_TEXT = re.compile(r"(<SharedSecret\b[^>]*>).*?(</SharedSecret\s*>|\Z)", re.S)
_BYTE_ORDER_MARKS = (  # UTF-32 first: its little-endian mark starts like UTF-16's
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)
# UTF-16 without a byte-order mark still starts with "<" (XML 1.0 annex F)
_UNMARKED_UTF16 = {b"<\x00": "utf-16-le", b"\x00<": "utf-16-be"}


class CXMLError(ValueError):
    """A cXML document is refused.

    The message is meant for the sender and a finance user; ``status_code``
    is the cXML status to answer (406: the document is not acceptable).
    """

    def __init__(self, message, status_code=406):
        super().__init__(message)
        self.status_code = status_code


class Converted(NamedTuple):
    """A business document in canonical form and what to do with it."""

    object_type: str  # purchase_order, invoice, goods_receipt
    operation: str  # new, update or delete
    document: dict


# -- envelope ------------------------------------------------------------------


@dataclass(frozen=True)
class Credential:
    domain: str
    identity: str


@dataclass(frozen=True)
class Envelope:
    """What the cXML header says; ``root`` is the parsed document.

    The shared secret stays out of ``repr`` so that logging an envelope
    cannot leak it.
    """

    payload_id: str
    timestamp: str
    kind: str
    deployment_mode: str
    from_credentials: tuple[Credential, ...]
    to_credentials: tuple[Credential, ...]
    sender_credentials: tuple[Credential, ...]
    user_agent: str
    shared_secret: str | None = field(default=None, repr=False)
    root: Any = field(default=None, repr=False, compare=False)

    @property
    def sender(self):
        """The Sender credential (the one with the shared secret, if any)."""
        return self.sender_credentials[0]


def _text(element):
    """All the text inside ``element``, stripped; ``""`` when it is missing."""
    return "" if element is None else "".join(element.itertext()).strip()


def _child(parent, path, what):
    element = parent.find(path)
    if element is None:
        raise CXMLError(f"{what} is missing ({path})")
    return element


def _attribute(element, name, what):
    value = (element.get(name) or "").strip()
    if not value:
        raise CXMLError(f"{what} has no {name}")
    return value


def _credentials(header, role):
    party = _child(header, role, f"the {role} party of the cXML header")
    found = []
    for credential in party.iterfind("Credential"):
        domain = (credential.get("domain") or "").strip()
        identity = _text(credential.find("Identity"))
        if not domain or not identity:
            raise CXMLError(f"a {role} credential needs a domain and an Identity")
        found.append((Credential(domain, identity), credential))
    if not found:
        raise CXMLError(f"the {role} party of the cXML header has no Credential")
    return found


def _first_credential(root, role):
    header = _child(root, "Header", "the cXML header")
    return _credentials(header, role)[0][0]


def parse_envelope(data):
    """Parse ``data`` (bytes) through ``safe_xml`` and read its cXML header.

    Refuses hostile or malformed XML, other document types and envelopes
    without payloadID, timestamp, From, To or Sender (all :class:`CXMLError`
    406). A missing shared secret is not refused here: ``shared_secret`` is
    then None and the caller answers 401.
    """
    try:
        root = safe_xml.parse(data)
    except safe_xml.UnsafeXMLError as exc:
        raise CXMLError(str(exc)) from None
    if root.tag != "cXML":
        name = etree.QName(root).localname
        raise CXMLError(f"the document is not cXML: its root element is <{name}>")
    payload_id = _attribute(root, "payloadID", "the cXML document")
    timestamp = _attribute(root, "timestamp", "the cXML document")
    header = _child(root, "Header", "the cXML header")
    body = root.find("Request")
    if body is None:
        body = root.find("Message")
    if body is None:
        raise CXMLError("the cXML document carries neither a Request nor a Message")
    documents = [
        child for child in body if _is_element(child) and child.tag != "Status"
    ]
    if len(documents) != 1:
        raise CXMLError(f"the cXML {body.tag} must carry exactly one document")
    mode = (body.get("deploymentMode") or "production").strip()
    if mode not in DEPLOYMENT_MODES:
        raise CXMLError(f"the deployment mode must be production or test, not {mode!r}")
    senders = _credentials(header, "Sender")
    # the credential that authenticates comes first
    senders.sort(key=lambda pair: pair[1].find("SharedSecret") is None)
    secret = senders[0][1].find("SharedSecret")
    return Envelope(
        payload_id=payload_id,
        timestamp=timestamp,
        kind=documents[0].tag,
        deployment_mode=mode,
        from_credentials=tuple(c for c, _ in _credentials(header, "From")),
        to_credentials=tuple(c for c, _ in _credentials(header, "To")),
        sender_credentials=tuple(c for c, _ in senders),
        user_agent=_text(header.find("Sender/UserAgent")),
        shared_secret=None if secret is None else _text(secret),
        root=root,
    )


def _is_element(node):
    # comments and processing instructions have a function as their tag
    return isinstance(node.tag, str)


def to_canonical(envelope):
    """Convert the business document of ``envelope`` (see :data:`CONVERTERS`)."""
    converter = CONVERTERS.get(envelope.kind)
    if converter is None:
        raise CXMLError(f"the hub does not accept cXML {envelope.kind} documents")
    return converter(envelope.root)


# -- values --------------------------------------------------------------------


def _request(root, kind):
    body = root.find(f"Request/{kind}") if root.tag == "cXML" else None
    if body is None:
        raise CXMLError(f"the document is not a cXML {kind}")
    return body


def _number(value, what):
    try:
        return to_decimal(value, what)
    except ValueError:
        raise CXMLError(
            f"{what} must be a number such as 12.5, not {value!r}"
        ) from None


def _moment_of(value):
    """The date-time as RFC 3339, or None without a valid time zone."""
    try:
        moment = datetime.datetime.fromisoformat((value or "").strip())
    except ValueError:
        return None
    return moment.isoformat() if moment.tzinfo else None


def _date(value, what):
    """The calendar date as written on the document (no time zone shift)."""
    text = (value or "").strip()
    if not text:
        raise CXMLError(f"{what} is missing")
    try:
        return datetime.datetime.fromisoformat(text).date().isoformat()
    except ValueError:
        raise CXMLError(
            f"{what} must be a date such as 2026-11-26T09:00:00+01:00, not {text!r}"
        ) from None


def _currency(parent, path, what):
    money_element = _child(parent, path, what)
    code = (money_element.get("currency") or "").strip()
    if not code:
        raise CXMLError(f"{what} has no currency ({path})")
    return code


def _money(parent, path, what, currency, required=True):
    """The amount of the ``Money`` at ``path``, in the document's currency."""
    element = parent.find(path)
    if element is None:
        if required:
            raise CXMLError(f"{what} is missing ({path})")
        return None
    code = (element.get("currency") or "").strip()
    if code != currency:
        raise CXMLError(
            f"{what} is in {code or 'no currency'}, the document in {currency}"
        )
    return _number(_text(element), what)


def _description(element):
    """The description text; its ShortName only when there is no other text."""
    if element is None:
        return ""
    parts = [element.text or ""] + [child.tail or "" for child in element]
    return " ".join("".join(parts).split()) or _text(element.find("ShortName"))


def odoo_unit(code):
    """The Odoo unit name of a UN/ECE unit code; unknown codes pass through.

    >>> odoo_unit("EA"), odoo_unit("KGM"), odoo_unit("PAL")
    ('Units', 'kg', 'PAL')
    """
    code = (code or "").strip()
    return ODOO_UNITS.get(code, code) or None


def _tax_details(tax, currency, what):
    """``(code, base or None, amount, purpose)`` per TaxDetail of a Tax."""
    if tax is None:
        return []
    details = []
    for detail in tax.iterfind("TaxDetail"):
        category = (detail.get("category") or "").strip()
        if not category:
            raise CXMLError(f"a tax of {what} has no category (TaxDetail)")
        try:
            code = tax_code(
                category,
                detail.get("percentageRate"),
                EXEMPT_CATEGORIES.get(detail.get("exemptDetail") or ""),
            )
        except ValueError as exc:
            raise CXMLError(f"a tax of {what}: {exc}") from None
        base = _money(
            detail, "TaxableAmount/Money", f"the {code} base of {what}", currency, False
        )
        amount = _money(
            detail, "TaxAmount/Money", f"the {code} tax of {what}", currency
        )
        details.append((code, base, amount, detail.get("purpose") or "tax"))
    return details


def _codes(details):
    return list(dict.fromkeys(code for code, *_rest in details))


def _normalized(name):
    return re.sub(r"[^a-z]", "", (name or "").lower())


def _cost_center(item):
    """The AccountingSegment id of the cost center, by Accounting or segment name."""
    for accounting in item.iterfind("Distribution/Accounting"):
        named = _normalized(accounting.get("name")) == "costcenter"
        for segment in accounting.iterfind("AccountingSegment"):
            if named or _normalized(_text(segment.find("Name"))) == "costcenter":
                return (segment.get("id") or "").strip() or None
    return None


def _put(mapping, key, value):
    """Set optional fields only when they have a value (the schemas refuse blanks)."""
    if value not in (None, "", [], {}):
        mapping[key] = value


def _order_id(info, what):
    """The order id of an OrderReference or OrderIDInfo."""
    for path in ("OrderReference", "OrderIDInfo"):
        reference = info.find(path)
        if reference is not None:
            return _attribute(reference, "orderID", f"the order reference of {what}")
    return None


def _single_order(order_ids, what):
    order_ids = list(dict.fromkeys(order_id for order_id in order_ids if order_id))
    if len(order_ids) > 1:
        raise CXMLError(
            f"{what} covers several purchase orders ({', '.join(order_ids)}); "
            "the hub takes one document per purchase order"
        )
    return order_ids[0] if order_ids else None


def _line_id(element, attribute, position):
    return (element.get(attribute) or "").strip() or str(position)


def _unique_line_ids(lines, what):
    seen = set()
    for line in lines:
        if line["line_id"] in seen:
            raise CXMLError(f"{what} has two lines numbered {line['line_id']}")
        seen.add(line["line_id"])


def _common(document, root):
    # the message timestamp is when the source system sent this version
    _put(document, "updated_at", _moment_of(root.get("timestamp")))


# -- OrderRequest --------------------------------------------------------------


def _order_supplier(order, header):
    suppliers = list(
        dict.fromkeys(
            _text(supplier)
            for supplier in order.iterfind("ItemOut/SupplierID")
            if _text(supplier)
        )
    )
    if len(suppliers) > 1:
        raise CXMLError(
            f"the items name different suppliers ({', '.join(suppliers)}); "
            "an order goes to one supplier"
        )
    if suppliers:
        return suppliers[0]
    for contact in header.iterfind("Contact"):
        if contact.get("role") in ORDER_SUPPLIER_ROLES and contact.get("addressID"):
            return contact.get("addressID").strip()
    return None


def _order_line(item, position, currency, label):
    line_id = _line_id(item, "lineNumber", position)
    what = f"line {line_id} of {label}"
    quantity = _number(item.get("quantity"), f"the quantity of {what}")
    if quantity <= 0:
        raise CXMLError(
            f"the quantity of {what} must be positive, not {plain(quantity)}"
        )
    detail = _child(item, "ItemDetail", f"the item detail of {what}")
    unit_price = _money(
        detail, "UnitPrice/Money", f"the unit price of {what}", currency
    )
    basis = detail.find("PriceBasisQuantity")
    if basis is not None:  # the price is for this many units
        per = _number(basis.get("quantity"), f"the price basis quantity of {what}")
        if per <= 0:
            raise CXMLError(f"the price basis quantity of {what} must be positive")
        unit_price /= per
    product_code = _text(item.find("ItemID/SupplierPartID"))
    description = _description(detail.find("Description")) or product_code
    if not description:
        raise CXMLError(f"{what} has no description")
    uom = odoo_unit(_text(detail.find("UnitOfMeasure")))
    if not uom:
        raise CXMLError(f"{what} has no unit of measure (ItemDetail/UnitOfMeasure)")
    line = {"line_id": line_id}
    _put(line, "product_code", product_code)
    line.update(
        description=description,
        quantity=float(quantity),
        uom=uom,
        unit_price=float(unit_price),
        tax_codes=_codes(_tax_details(item.find("Tax"), currency, what)),
    )
    _put(line, "cost_center", _cost_center(item))
    if item.get("requestedDeliveryDate"):
        line["requested_date"] = _date(
            item.get("requestedDeliveryDate"), f"the requested date of {what}"
        )
    return line


def order_request_to_canonical(root, *, supplier_external_id=None):
    """A cXML ``OrderRequest`` as a canonical purchase order.

    ``type`` new and update give an approved order, delete a cancelled one.
    cXML has no approver: the order counts as approved by the system that
    sends it (the Sender credential), at the order date-time (or, without a
    time zone, the message timestamp). The supplier is the items'
    ``SupplierID``, else the header Contact with a supplier role, unless the
    caller passes ``supplier_external_id`` (known from the credentials).
    """
    order = _request(root, "OrderRequest")
    header = _child(order, "OrderRequestHeader", "the order header")
    order_id = _attribute(header, "orderID", "the order header")
    label = f"the order {order_id}"
    operation = (header.get("type") or "new").strip()
    if operation not in ORDER_OPERATIONS:
        raise CXMLError(
            f"the type of {label} must be new, update or delete, not {operation!r}"
        )
    currency = _currency(header, "Total/Money", f"the total of {label}")
    order_date = _date(header.get("orderDate"), f"the date of {label}")
    supplier = supplier_external_id or _order_supplier(order, header)
    if not supplier:
        raise CXMLError(
            f"{label} does not name its supplier (ItemOut/SupplierID or a header "
            "Contact with role supplierCorporate)"
        )
    lines = [
        _order_line(item, position, currency, label)
        for position, item in enumerate(order.iterfind("ItemOut"), start=1)
    ]
    if not lines:
        raise CXMLError(f"{label} has no items (ItemOut)")
    _unique_line_ids(lines, label)
    document = {
        "external_id": order_id,
        "supplier_external_id": supplier,
        "currency": currency,
        "order_date": order_date,
    }
    state = "cancelled" if operation == "delete" else "approved"
    if state == "approved":
        approved_at = _moment_of(header.get("orderDate")) or _moment_of(
            root.get("timestamp")
        )
        if not approved_at:
            raise CXMLError(f"the date of {label} needs a time zone such as +01:00")
        sender = _first_credential(root, "Sender")
        approval = {
            "approver": f"{sender.domain}:{sender.identity}",
            "approved_at": approved_at,
        }
        _put(approval, "reference", (header.get("requisitionID") or "").strip())
        document["approval"] = approval
    document.update(state=state, lines=lines)
    _common(document, root)
    version = (header.get("orderVersion") or "").strip()
    if version.isdigit():
        document["source_version"] = int(version)
    document["extensions"] = {"cxml_payload_id": root.get("payloadID")}
    return Converted("purchase_order", operation, document)


# -- InvoiceDetailRequest ------------------------------------------------------


def _invoice_supplier(root, header):
    for partner in header.iterfind("InvoicePartner"):
        contact = partner.find("Contact")
        if contact is not None and contact.get("role") in INVOICE_SUPPLIER_ROLES:
            if (contact.get("addressID") or "").strip():
                return contact.get("addressID").strip()
    # the supplier sends its invoices: its identity is the From credential
    return _first_credential(root, "From").identity


class _InvoiceReader:
    """Reads one InvoiceDetailRequest; credit memo amounts become positive."""

    def __init__(self, label, currency, credit):
        self.label, self.currency, self.credit = label, currency, credit
        self.details = []  # every line-level TaxDetail, for the totals

    def size(self, number):
        # canonical amounts are positive on a credit note, whatever the sign convention
        return abs(number) if self.credit else number

    def money(self, parent, path, what, required=True):
        amount = _money(parent, path, what, self.currency, required)
        return None if amount is None else self.size(amount)

    def taxes(self, parent, what):
        return [
            (
                code,
                None if base is None else self.size(base),
                self.size(amount),
                purpose,
            )
            for code, base, amount, purpose in _tax_details(
                parent.find("Tax"), self.currency, what
            )
        ]

    def item_line(self, item, position):
        line_id = _line_id(item, "invoiceLineNumber", position)
        what = f"line {line_id} of {self.label}"
        reference = item.find("InvoiceDetailItemReference")
        if reference is None:
            reference = item.find("InvoiceDetailServiceItemReference")
        if reference is None:
            raise CXMLError(
                f"{what} has no item reference (InvoiceDetailItemReference)"
            )
        if item.get("quantity") is not None:
            quantity = self.size(
                _number(item.get("quantity"), f"the quantity of {what}")
            )
            unit_price = self.money(
                item, "UnitPrice/Money", f"the unit price of {what}", False
            )
            if unit_price is None:  # service lines may bill a rate instead
                unit_price = self.money(
                    item, "UnitRate/Money", f"the unit price of {what}"
                )
        else:  # a service line billed as one amount
            quantity = Decimal(1)
            unit_price = self.money(
                item, "SubtotalAmount/Money", f"the amount of {what}"
            )
        details = self.taxes(item, what)
        self.details += details
        product_code = _text(reference.find("ItemID/SupplierPartID"))
        line = {"line_id": line_id}
        _put(line, "po_line_id", (reference.get("lineNumber") or "").strip())
        _put(line, "product_code", product_code)
        line.update(
            description=_description(reference.find("Description"))
            or product_code
            or f"Line {line_id}",
            quantity=float(quantity),
        )
        _put(line, "uom", odoo_unit(_text(item.find("UnitOfMeasure"))))
        line.update(unit_price=float(unit_price), tax_codes=_codes(details))
        _put(line, "cost_center", _cost_center(item))
        return line

    def header_order_line(self, header_order, order_id, position):
        summary = _child(
            header_order,
            "InvoiceDetailOrderSummary",
            f"the order summary of {self.label}",
        )
        line_id = _line_id(summary, "invoiceLineNumber", position)
        what = f"line {line_id} of {self.label}"
        amount = self.money(summary, "SubtotalAmount/Money", f"the amount of {what}")
        details = self.taxes(summary, what)
        self.details += details
        kind = "Credit" if self.credit else "Amount"
        on_order = f" on order {order_id}" if order_id else ""
        return {
            "line_id": line_id,
            "description": _text(summary.find("Comments")) or f"{kind}{on_order}",
            "quantity": 1.0,
            "unit_price": float(amount),
            "tax_codes": _codes(details),
        }

    def charge_lines(self, summary, summary_details):
        """Shipping, special handling and discount of the summary as lines, so
        that the lines add up to the untaxed amount."""
        lines = []
        charges = (
            ("shipping", "ShippingAmount/Money", "Shipping", "shippingTax"),
            (
                "special-handling",
                "SpecialHandlingAmount/Money",
                "Special handling",
                "specialHandlingTax",
            ),
        )
        for line_id, path, description, tax_purpose in charges:
            amount = self.money(
                summary, path, f"the {description.lower()} of {self.label}", False
            )
            if amount:
                codes = [
                    code
                    for code, _b, _a, purpose in summary_details
                    if purpose == tax_purpose
                ]
                lines.append(
                    {
                        "line_id": line_id,
                        "description": description,
                        "quantity": 1.0,
                        "unit_price": float(amount),
                        "tax_codes": list(dict.fromkeys(codes)),
                    }
                )
        discount = self.money(
            summary,
            "InvoiceDetailDiscount/Money",
            f"the discount of {self.label}",
            False,
        )
        if discount:
            lines.append(
                {
                    "line_id": "discount",
                    "description": "Discount",
                    "quantity": 1.0,
                    "unit_price": -float(abs(discount)),
                    "tax_codes": [],
                }
            )
        return lines


def _tax_totals(details, lines):
    """Canonical tax_totals from ``(code, base, amount, purpose)`` details; a
    missing base is the untaxed amount of the lines that carry the code."""
    totals = {}
    for code, base, amount, _purpose in details:
        total = totals.setdefault(
            code, {"tax_code": code, "base": Decimal(0), "amount": Decimal(0)}
        )
        if base is None:
            base = sum(
                (
                    to_decimal(line["quantity"]) * to_decimal(line["unit_price"])
                    for line in lines
                    if code in line["tax_codes"]
                ),
                Decimal(0),
            )
        total["base"] += base
        total["amount"] += amount
    return [
        {
            "tax_code": code,
            "base": float(money(t["base"])),
            "amount": float(t["amount"]),
        }
        for code, t in totals.items()
    ]


def invoice_detail_to_canonical(root, *, supplier_external_id=None):
    """A cXML ``InvoiceDetailRequest`` as a canonical invoice or credit note.

    Purposes creditMemo and lineLevelCreditMemo give a credit note (amounts
    made positive, whichever sign the sender uses); standard and debit memos
    an invoice. Lines come from ``InvoiceDetailItem`` (and service items) or,
    for header-level documents, one line per ``InvoiceDetailHeaderOrder``;
    shipping, special handling and discount of the summary become extra lines.
    Taxes per code come from the summary's TaxDetails, else from the lines'.
    The supplier is the InvoicePartner with role "from" or supplierCorporate
    (its addressID), else the From credential; the external_id is
    ``<supplier>/<invoiceID>`` because invoice numbers are only unique per
    supplier.
    """
    request = _request(root, "InvoiceDetailRequest")
    header = _child(request, "InvoiceDetailRequestHeader", "the invoice header")
    number = _attribute(header, "invoiceID", "the invoice header")
    purpose = (header.get("purpose") or "standard").strip()
    if purpose not in INVOICE_PURPOSES:
        raise CXMLError(
            f"the purpose of the invoice {number} must be one of "
            f"{', '.join(INVOICE_PURPOSES)}, not {purpose!r}"
        )
    credit = purpose in CREDIT_PURPOSES
    label = f"the {'credit memo' if credit else 'invoice'} {number}"
    operation = (header.get("operation") or "new").strip()
    if operation not in ("new", "delete"):
        raise CXMLError(
            f"the operation of {label} must be new or delete, not {operation!r}"
        )
    invoice_date = _date(header.get("invoiceDate"), f"the date of {label}")
    summary = _child(request, "InvoiceDetailSummary", f"the summary of {label}")
    currency = _currency(summary, "SubtotalAmount/Money", f"the subtotal of {label}")
    reader = _InvoiceReader(label, currency, credit)

    orders = request.findall("InvoiceDetailOrder")
    header_orders = request.findall("InvoiceDetailHeaderOrder")
    order_ids = [
        _order_id(
            _child(order, "InvoiceDetailOrderInfo", f"the order of {label}"), label
        )
        for order in orders + header_orders
    ]
    order_id = _single_order(order_ids, label)
    lines = []
    for order in orders:
        for item in order:
            if item.tag in ("InvoiceDetailItem", "InvoiceDetailServiceItem"):
                lines.append(reader.item_line(item, len(lines) + 1))
    for header_order in header_orders:
        lines.append(reader.header_order_line(header_order, order_id, len(lines) + 1))
    summary_details = reader.taxes(summary, label)
    lines += reader.charge_lines(summary, summary_details)
    if not lines:
        raise CXMLError(f"{label} has no lines (InvoiceDetailOrder)")
    _unique_line_ids(lines, label)

    tax = reader.money(summary, "Tax/Money", f"the tax of {label}")
    # NetAmount: subtotal, taxes and charges, less the discount
    total = _money(summary, "NetAmount/Money", f"the total of {label}", currency)
    if total < 0 and not credit:
        raise CXMLError(
            f"{label} has a negative total ({money(total)} {currency}); "
            "a refund is sent as a credit memo (purpose creditMemo)"
        )
    total = reader.size(total)
    supplier = supplier_external_id or _invoice_supplier(root, header)
    document = {
        "external_id": f"{supplier}/{number}",
        "document_type": "credit_note" if credit else "invoice",
        "supplier_external_id": supplier,
        "invoice_number": number,
        "invoice_date": invoice_date,
    }
    _put(document, "due_date", _due_date(header, invoice_date, label))
    document["currency"] = currency
    _put(document, "purchase_order_external_id", order_id)
    document["lines"] = lines
    _put(document, "tax_totals", _tax_totals(summary_details or reader.details, lines))
    document.update(
        amount_untaxed=float(total - tax),
        amount_tax=float(tax),
        amount_total=float(total),
    )
    _common(document, root)
    extensions = {"cxml_payload_id": root.get("payloadID"), "cxml_purpose": purpose}
    due = reader.money(summary, "DueAmount/Money", f"the amount due of {label}", False)
    if due is not None and due != total:
        extensions["cxml_due_amount"] = float(due)
    if header.get("isInformationOnly") == "yes":
        extensions["cxml_information_only"] = True
    document["extensions"] = extensions
    return Converted("invoice", operation, document)


def _due_date(header, invoice_date, label):
    """Invoice date plus the longest payInNumberOfDays (the net term)."""
    days = [
        _number(term.get("payInNumberOfDays"), f"the payment term of {label}")
        for term in header
        if term.tag in ("PaymentTerm", "InvoiceDetailPaymentTerm")
        and term.get("payInNumberOfDays")
    ]
    if not days:
        return None
    date = datetime.date.fromisoformat(invoice_date)
    return (date + datetime.timedelta(days=int(max(days)))).isoformat()


# -- ShipNoticeRequest and ReceiptRequest ----------------------------------------


def _receipt_line(po_line_id, quantity, uom, what):
    if quantity <= 0:
        raise CXMLError(
            f"the quantity of {what} is {plain(quantity)}; returns and corrections "
            "are not taken by the hub yet"
        )
    line = {"po_line_id": po_line_id, "quantity": float(quantity)}
    _put(line, "uom", odoo_unit(uom))
    return line


def ship_notice_to_canonical(root):
    """A cXML ``ShipNoticeRequest`` (an actual shipment) as a goods receipt.

    The supplier announces what it shipped; the receipt is dated the
    expected delivery date (else the shipment date). Planned shipments and
    returns are refused. The external_id is ``<From identity>/<shipmentID>``
    because shipment ids are only unique per supplier. A delete without
    portions gives a document with the external_id only.
    """
    notice = _request(root, "ShipNoticeRequest")
    header = _child(notice, "ShipNoticeHeader", "the ship notice header")
    shipment_id = _attribute(header, "shipmentID", "the ship notice header")
    label = f"the ship notice {shipment_id}"
    operation = (header.get("operation") or "new").strip()
    if operation not in ORDER_OPERATIONS:
        raise CXMLError(
            f"the operation of {label} must be new, update or delete, not {operation!r}"
        )
    external_id = f"{_first_credential(root, 'From').identity}/{shipment_id}"
    portions = notice.findall("ShipNoticePortion")
    if operation == "delete" and not portions:
        return Converted("goods_receipt", operation, {"external_id": external_id})
    if header.get("shipmentType") == "planned":
        raise CXMLError(
            f"{label} announces a planned shipment; only actual shipments are received"
        )
    if header.get("reason") == "return":
        raise CXMLError(
            f"{label} is for a return; returns are not taken by the hub yet"
        )
    order_id = _single_order([_order_id(portion, label) for portion in portions], label)
    if not order_id:
        raise CXMLError(
            f"{label} does not refer to a purchase order "
            "(ShipNoticePortion/OrderReference)"
        )
    date = next(
        (
            header.get(name)
            for name in ("deliveryDate", "shipmentDate", "noticeDate")
            if header.get(name)
        ),
        None,
    )
    lines = []
    for item in notice.iterfind("ShipNoticePortion/ShipNoticeItem"):
        po_line_id = _attribute(item, "lineNumber", f"an item of {label}")
        what = f"line {po_line_id} of {label}"
        quantity = _number(item.get("quantity"), f"the quantity of {what}")
        lines.append(
            _receipt_line(po_line_id, quantity, _text(item.find("UnitOfMeasure")), what)
        )
    if not lines:
        raise CXMLError(f"{label} has no items (ShipNoticeItem)")
    document = {
        "external_id": external_id,
        "purchase_order_external_id": order_id,
        "receipt_date": _date(date, f"the delivery date of {label}"),
        "kind": "goods",
        "lines": lines,
    }
    _common(document, root)
    document["extensions"] = {
        "cxml_payload_id": root.get("payloadID"),
        "cxml_document": "ShipNoticeRequest",
    }
    return Converted("goods_receipt", operation, document)


def receipt_to_canonical(root):
    """A cXML ``ReceiptRequest`` (the buyer's own receipt) as a goods receipt.

    Returned items and negative corrections are refused (not part of the
    canonical goods receipt yet).
    """
    request = _request(root, "ReceiptRequest")
    header = _child(request, "ReceiptRequestHeader", "the receipt header")
    receipt_id = _attribute(header, "receiptID", "the receipt header")
    label = f"the receipt {receipt_id}"
    operation = (header.get("operation") or "new").strip()
    if operation not in ("new", "delete"):
        raise CXMLError(
            f"the operation of {label} must be new or delete, not {operation!r}"
        )
    orders = request.findall("ReceiptOrder")
    order_id = _single_order(
        [
            _order_id(_child(o, "ReceiptOrderInfo", f"the order of {label}"), label)
            for o in orders
        ],
        label,
    )
    if not order_id:
        raise CXMLError(
            f"{label} does not refer to a purchase order (ReceiptOrderInfo)"
        )
    lines = []
    for item in request.iterfind("ReceiptOrder/ReceiptItem"):
        reference = _child(item, "ReceiptItemReference", f"an item of {label}")
        po_line_id = _attribute(reference, "lineNumber", f"an item of {label}")
        what = f"line {po_line_id} of {label}"
        if item.get("type") == "returned":
            raise CXMLError(f"{what} is a return; returns are not taken by the hub yet")
        quantity = _number(item.get("quantity"), f"the quantity of {what}")
        uom = _text(item.find("UnitRate/UnitOfMeasure"))
        lines.append(_receipt_line(po_line_id, quantity, uom, what))
    if not lines:
        raise CXMLError(f"{label} has no items (ReceiptItem)")
    document = {
        "external_id": receipt_id,
        "purchase_order_external_id": order_id,
        "receipt_date": _date(header.get("receiptDate"), f"the date of {label}"),
        "kind": "goods",
        "lines": lines,
    }
    _common(document, root)
    document["extensions"] = {
        "cxml_payload_id": root.get("payloadID"),
        "cxml_document": "ReceiptRequest",
    }
    return Converted("goods_receipt", operation, document)


CONVERTERS = {
    "OrderRequest": order_request_to_canonical,
    "InvoiceDetailRequest": invoice_detail_to_canonical,
    "ShipNoticeRequest": ship_notice_to_canonical,
    "ReceiptRequest": receipt_to_canonical,
}


# -- Response and redaction ----------------------------------------------------


def render_response(status_code, text, payload_id=None, *, timestamp=None):
    """A cXML ``Response`` with ``<Status code=".." text="..">``.

    ``text`` (the specific reason, such as a :class:`CXMLError` message) is
    the Status content; the ``text`` attribute is the standard wording of the
    code, as cXML defines it. ``payload_id`` and ``timestamp`` default to a
    new unique id and the current time.

    >>> print(render_response(406, "line 2 has no quantity", "r-1@hub",
    ...                       timestamp="2026-11-26T09:00:00+00:00").decode())
    ... # doctest: +NORMALIZE_WHITESPACE
    <?xml version="1.0" encoding="UTF-8"?>
    <!DOCTYPE cXML SYSTEM "http://xml.cxml.org/schemas/cXML/1.2.014/cXML.dtd">
    <cXML payloadID="r-1@hub" timestamp="2026-11-26T09:00:00+00:00"
    xml:lang="en-US"><Response><Status code="406" text="Not Acceptable"
    xml:lang="en-US">line 2 has no quantity</Status></Response></cXML>
    """
    if status_code not in STATUS_TEXTS:
        raise ValueError(
            f"the hub answers with the cXML status codes "
            f"{', '.join(map(str, STATUS_TEXTS))}, not {status_code!r}"
        )
    if payload_id is None:
        payload_id = f"{time.time_ns()}.{uuid.uuid4().hex}@{PAYLOAD_DOMAIN}"
    if timestamp is None:
        timestamp = datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds")
    root = etree.Element("cXML")
    root.set("payloadID", _xml_safe(payload_id))
    root.set("timestamp", _xml_safe(timestamp))
    root.set(XML_LANG, "en-US")
    status = etree.SubElement(etree.SubElement(root, "Response"), "Status")
    status.set("code", str(status_code))
    status.set("text", STATUS_TEXTS[status_code])
    status.set(XML_LANG, "en-US")
    detail = _xml_safe(text or "")[:MAX_STATUS_TEXT].strip()
    if detail and detail != STATUS_TEXTS[status_code]:
        status.text = detail
    body = etree.tostring(root, encoding="UTF-8", xml_declaration=False)
    return XML_DECLARATION + CXML_DOCTYPE.encode() + b"\n" + body


def _xml_safe(text):
    # the reason may quote the refused document; XML cannot carry control characters
    return _NOT_XML.sub("\ufffd", str(text))


def redact_shared_secret(data):
    """``data`` with every SharedSecret value replaced by ``***``, for storage.

    Parsable documents are redacted on the tree (and come back as UTF-8),
    broken ones textually, including UTF-16 and UTF-32 ones that the byte
    pattern cannot see: the secret must not be stored even from a bad message.

    >>> broken = "<cXML><SharedSecret>s3</SharedSecret>".encode("utf-16-le")
    >>> redact_shared_secret(broken).decode("utf-16-le")
    '<cXML><SharedSecret>***</SharedSecret>'
    """
    redacted = outbound_formats.redact_shared_secret(data)
    # a parsed document comes back as UTF-8: wide bytes mean it was not parsed
    mark, codec = _wide_encoding(redacted)
    if codec is None:
        return redacted
    text = redacted[len(mark) :].decode(codec, errors="replace")
    text = _SECRET_TEXT.sub(lambda match: match[1] + REDACTED + match[2], text)
    return mark + text.encode(codec)


def _wide_encoding(data):
    """``(byte-order mark, codec)`` of UTF-16 or UTF-32 bytes, else ``(b"", None)``."""
    for mark, codec in _BYTE_ORDER_MARKS:
        if data.startswith(mark):
            return mark, codec
    return b"", _UNMARKED_UTF16.get(data[:2])
