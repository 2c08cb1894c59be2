"""cXML ``InvoiceDetailRequest`` -> canonical invoice or credit note.

Suppliers bill through their network as InvoiceDetailRequests: invoices,
debit and credit memos, with taxes per line or for the whole document. Each
becomes a canonical ``invoice`` ready for ``canonical.check``.
"""

import datetime
from decimal import Decimal

from .. import units
from ..canonical import put_optional
from ..money import money, to_decimal
from . import line_amount, reading
from .envelope import CXMLError, attribute, child, first_credential, text_of
from .reading import Converted

INVOICE_PURPOSES = (
    "standard",
    "creditMemo",
    "lineLevelCreditMemo",
    "debitMemo",
    "lineLevelDebitMemo",
)
CREDIT_PURPOSES = ("creditMemo", "lineLevelCreditMemo")
# Contact roles that name the supplier on an invoice
INVOICE_SUPPLIER_ROLES = ("from", "supplierCorporate")


def _invoice_supplier(root, header):
    for partner in header.iterfind("InvoicePartner"):
        contact = partner.find("Contact")
        if contact is not None and contact.get("role") in INVOICE_SUPPLIER_ROLES:
            if (contact.get("addressID") or "").strip():
                return contact.get("addressID").strip()
    # the supplier sends its invoices: its identity is the From credential
    return first_credential(root, "From").identity


class _InvoiceReader:
    """Reads one InvoiceDetailRequest; credit memo amounts become positive."""

    def __init__(self, label, currency, credit):
        self.label, self.currency, self.credit = label, currency, credit
        self.details = []  # every line-level TaxDetail, for the totals

    def size(self, number):
        # canonical amounts are positive on a credit note, whatever the sign convention
        return abs(number) if self.credit else number

    def money(self, parent, path, what, required=True):
        amount = reading.amount(parent, path, what, self.currency, required)
        return None if amount is None else self.size(amount)

    def taxes(self, parent, what):
        return [
            (
                code,
                None if base is None else self.size(base),
                self.size(amount),
                purpose,
            )
            for code, base, amount, purpose in reading.tax_details(
                parent.find("Tax"), self.currency, what
            )
        ]

    def item_line(self, item, position, summary_taxed=False):
        line_id = reading.line_id(item, "invoiceLineNumber", position)
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
                reading.number(item.get("quantity"), f"the quantity of {what}")
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
        booking = self.line_amount(item, quantity, unit_price, what)
        details = self.taxes(item, what)
        self.details += details
        product_code = text_of(reference.find("ItemID/SupplierPartID"))
        line = {"line_id": line_id}
        put_optional(line, "po_line_id", (reference.get("lineNumber") or "").strip())
        put_optional(line, "product_code", product_code)
        line.update(
            description=reading.description(reference.find("Description"))
            or product_code
            or f"Line {line_id}",
            quantity=float(quantity),
        )
        put_optional(
            line, "uom", units.inbound_unit(text_of(item.find("UnitOfMeasure")))
        )
        line["unit_price"] = float(booking.unit_price)
        if booking.discount_percent is not None:
            line["discount_percent"] = float(booking.discount_percent)
        if booking.line_amount is not None:
            # the bill's check compares it with what Odoo books, to the cent
            line["line_amount"] = float(booking.line_amount)
        if details or not (summary_taxed and "po_line_id" in line):
            line["tax_codes"] = reading.tax_codes(details)
        # else the tax is stated only in the summary: the line takes the
        # taxes of the order line it invoices (no tax_codes)
        put_optional(line, "cost_center", reading.cost_center(item))
        return line

    def line_amount(self, item, quantity, unit_price, what):
        """The booking of an item line: its subtotal, and its discount
        (``InvoiceDetailDiscount``) with its net amount (see
        :func:`line_amount.line_amount`)."""
        discount = item.find("InvoiceDetailDiscount")
        rate = amount = None
        if discount is not None:
            if (discount.get("percentageRate") or "").strip():
                rate = reading.number(
                    discount.get("percentageRate"), f"the discount rate of {what}"
                )
            amount = self.money(
                discount, "Money", f"the discount of {what}", required=False
            )
            if rate is None and amount is None:
                raise CXMLError(
                    f"{what} has a discount (InvoiceDetailDiscount) with neither "
                    "a percentageRate nor an amount"
                )
        try:
            return line_amount.line_amount(
                quantity,
                unit_price,
                self.money(
                    item, "SubtotalAmount/Money", f"the amount of {what}", False
                ),
                rate,
                amount,
                self.money(item, "NetAmount/Money", f"the net amount of {what}", False),
                self.money(item, "Tax/Money", f"the tax of {what}", False),
            )
        except CXMLError as exc:
            raise CXMLError(
                f"{what}: {exc}; ask the supplier for a corrected invoice"
            ) from None

    def header_order_line(self, header_order, order_id, position):
        summary = child(
            header_order,
            "InvoiceDetailOrderSummary",
            f"the order summary of {self.label}",
        )
        line_id = reading.line_id(summary, "invoiceLineNumber", position)
        what = f"line {line_id} of {self.label}"
        amount = self.money(summary, "SubtotalAmount/Money", f"the amount of {what}")
        details = self.taxes(summary, what)
        self.details += details
        kind = "Credit" if self.credit else "Amount"
        on_order = f" on order {order_id}" if order_id else ""
        return {
            "line_id": line_id,
            "description": text_of(summary.find("Comments")) or f"{kind}{on_order}",
            "quantity": 1.0,
            "unit_price": float(amount),
            "tax_codes": reading.tax_codes(details),
        }

    def charges(self, summary, summary_details):
        """Shipping and special handling of the summary, each taxed as its
        shippingTax or specialHandlingTax detail says."""
        charges = []
        kinds = (
            ("ShippingAmount/Money", "Shipping", "shippingTax"),
            ("SpecialHandlingAmount/Money", "Special handling", "specialHandlingTax"),
        )
        for path, reason, tax_purpose in kinds:
            amount = self.money(
                summary, path, f"the {reason.lower()} of {self.label}", False
            )
            if amount and amount < 0:
                raise CXMLError(
                    f"{self.label} has a negative {reason.lower()} amount "
                    f"({money(amount)} {self.currency}); a refund of "
                    f"{reason.lower()} is sent as a credit memo (purpose creditMemo)"
                )
            if amount:
                codes = [
                    code
                    for code, _b, _a, purpose in summary_details
                    if purpose == tax_purpose
                ]
                charges.append(
                    {
                        "amount": float(amount),
                        "reason": reason,
                        "tax_codes": list(dict.fromkeys(codes)),
                    }
                )
        return charges

    def allowances(self, summary, summary_details, lines):
        """The summary's InvoiceDetailDiscount, taxed as the goods it reduces
        (see :func:`_discount_tax_codes`)."""
        discount = self.money(
            summary,
            "InvoiceDetailDiscount/Money",
            f"the discount of {self.label}",
            False,
        )
        if not discount:
            return []
        # senders write a discount with either sign; it always reduces the
        # total, and the bill's total is checked against NetAmount to the cent
        discount = abs(discount)
        return [
            {
                "amount": float(discount),
                "reason": "Discount",
                "tax_codes": _discount_tax_codes(
                    discount, summary_details, lines, self.label
                ),
            }
        ]


def _discount_tax_codes(discount, summary_details, lines, label):
    """The tax of a summary discount: the one tax of the goods; with several,
    the one whose stated taxable amount is the goods' less the discount.
    cXML gives a discount no tax of its own, and the tax must be computed on
    the discounted amount, so an ambiguous discount is refused."""
    goods = {code for code, *_rest, purpose in summary_details if purpose == "tax"}
    for line in lines:
        goods.update(line.get("tax_codes", ()))
    if len(goods) <= 1:
        return sorted(goods)
    stated = {}
    for code, base, _amount, purpose in summary_details:
        if purpose == "tax" and base is not None:
            stated[code] = stated.get(code, Decimal(0)) + base
    reduced = [
        code
        for code in sorted(goods)
        if code in stated
        and all("tax_codes" in line for line in lines)
        and stated[code] == _base_of(code, lines) - discount
    ]
    if len(reduced) != 1:
        raise CXMLError(
            f"the discount of {label} ({money(discount)}) cannot be given a tax: "
            f"the goods carry several taxes ({', '.join(sorted(goods))}) and the "
            "taxable amounts of the summary do not show which one it reduces; "
            "the supplier must send the discount on the lines or per tax"
        )
    return reduced


def _net_of(line):
    """A line's untaxed amount: the net amount it states, else quantity x
    unit price less its discount."""
    if "line_amount" in line:
        return to_decimal(line["line_amount"])
    gross = to_decimal(line["quantity"]) * to_decimal(line["unit_price"])
    return gross * (100 - to_decimal(line.get("discount_percent", 0))) / 100


def _base_of(code, lines):
    """The untaxed amount of the lines that carry ``code``."""
    return sum(
        (_net_of(line) for line in lines if code in line.get("tax_codes", ())),
        Decimal(0),
    )


def _tax_totals(details, lines):
    """Canonical tax_totals from ``(code, base, amount, purpose)`` details; a
    missing base is the untaxed amount of the lines that carry the code."""
    totals = {}
    for code, base, amount, _purpose in details:
        total = totals.setdefault(
            code, {"tax_code": code, "base": Decimal(0), "amount": Decimal(0)}
        )
        if base is None:
            base = _base_of(code, lines)
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
    a summary invoice covering several orders (``InvoiceDetailOrder`` x n)
    names each line's order (see :func:`_lines_of_orders`);
    shipping and special handling of the summary become ``charges``, its
    discount an ``allowance`` taxed as the goods it reduces. Item lines
    without a Tax of their own, when the summary states the tax, have no
    ``tax_codes``: they take the taxes of the order lines they invoice.
    Taxes per code come from the summary's TaxDetails, else from the lines'.
    The supplier is the InvoicePartner with role "from" or supplierCorporate
    (its addressID), else the From credential; the external_id is
    ``<supplier>/<invoiceID>`` because invoice numbers are only unique per
    supplier.
    """
    request = reading.request_body(root, "InvoiceDetailRequest")
    header = child(request, "InvoiceDetailRequestHeader", "the invoice header")
    number = attribute(header, "invoiceID", "the invoice header")
    purpose = (header.get("purpose") or "standard").strip()
    if purpose not in INVOICE_PURPOSES:
        raise CXMLError(
            f"the purpose of the invoice {number} must be one of "
            f"{', '.join(INVOICE_PURPOSES)}, not {purpose!r}"
        )
    credit = purpose in CREDIT_PURPOSES
    label = f"the {'credit memo' if credit else 'invoice'} {number}"
    price_based = _price_based(header, credit, label)
    operation = reading.operation(header, "operation", ("new", "delete"), label)
    invoice_date = reading.calendar_date(
        header.get("invoiceDate"), f"the date of {label}"
    )
    summary = child(request, "InvoiceDetailSummary", f"the summary of {label}")
    currency = reading.currency_of(
        summary, "SubtotalAmount/Money", f"the subtotal of {label}"
    )
    reader = _InvoiceReader(label, currency, credit)

    orders = request.findall("InvoiceDetailOrder")
    header_orders = request.findall("InvoiceDetailHeaderOrder")
    order_ids = [
        reading.order_id(
            child(order, "InvoiceDetailOrderInfo", f"the order of {label}"), label
        )
        for order in orders + header_orders
    ]
    summary_details = reader.taxes(summary, label)
    summary_taxed = any(purpose == "tax" for *_rest, purpose in summary_details)
    groups = []  # (order id, lines of that InvoiceDetailOrder)
    position = 0
    for order, group_order_id in zip(orders, order_ids, strict=False):
        group = []
        for item in order:
            if item.tag in ("InvoiceDetailItem", "InvoiceDetailServiceItem"):
                position += 1
                group.append(reader.item_line(item, position, summary_taxed))
        groups.append((group_order_id, group))
    for header_order, group_order_id in zip(
        header_orders, order_ids[len(orders) :], strict=True
    ):
        position += 1
        groups.append(
            (
                group_order_id,
                [reader.header_order_line(header_order, group_order_id, position)],
            )
        )
    order_id, lines = _lines_of_orders(groups, label)
    if not lines:
        raise CXMLError(f"{label} has no lines (InvoiceDetailOrder)")
    if price_based:
        for line in lines:
            if "po_line_id" in line:
                line["price_adjustment"] = True
    reading.unique_line_ids(lines, label)
    charges = reader.charges(summary, summary_details)
    allowances = reader.allowances(summary, summary_details, lines)

    tax = reader.money(summary, "Tax/Money", f"the tax of {label}")
    # NetAmount: subtotal, taxes and charges, less the discount
    total = reading.amount(
        summary, "NetAmount/Money", f"the total of {label}", currency
    )
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
    put_optional(document, "due_date", _due_date(header, invoice_date, label))
    document["currency"] = currency
    put_optional(document, "purchase_order_external_id", order_id)
    document["lines"] = lines
    # charges and allowances count in the bases as lines of 1 (less for those)
    based_on = lines + [
        {
            "quantity": sign,
            "unit_price": entry["amount"],
            "tax_codes": entry["tax_codes"],
        }
        for sign, entries in ((1, charges), (-1, allowances))
        for entry in entries
    ]
    put_optional(
        document,
        "tax_totals",
        _tax_totals(summary_details or reader.details, based_on),
    )
    put_optional(document, "charges", charges)
    put_optional(document, "allowances", allowances)
    document.update(
        amount_untaxed=float(total - tax),
        amount_tax=float(tax),
        amount_total=float(total),
    )
    # what the supplier asks to be paid; the bill is held when it is not
    # the total (a deposit or credit already settled)
    due = reader.money(summary, "DueAmount/Money", f"the amount due of {label}", False)
    if due is not None:
        document["amount_due"] = float(due)
    # sent for the buyer's records (e.g. paid by purchasing card): never
    # posted as a payable bill
    if (header.get("isInformationOnly") or "").strip() == "yes":
        document["information_only"] = True
    reading.set_updated_at(document, root)
    document["extensions"] = {
        "cxml_payload_id": root.get("payloadID"),
        "cxml_purpose": purpose,
    }
    return Converted("invoice", operation, document)


def _price_based(header, credit, label):
    """Whether the credit memo only lowers the price of units already billed
    (``InvoiceDetailHeaderIndicator isPriceBasedLineLevelCreditMemo="yes"``):
    its item lines are then price adjustments, quantity the number of units
    and unit price the reduction per unit, and credit no quantity.

    >>> from xml.etree.ElementTree import fromstring
    >>> header = fromstring(
    ...     "<InvoiceDetailRequestHeader><InvoiceDetailHeaderIndicator "
    ...     'isPriceBasedLineLevelCreditMemo="yes"/></InvoiceDetailRequestHeader>')
    >>> _price_based(header, True, "the credit memo CN-1")
    True
    >>> _price_based(header, False, "the invoice F-1")
    Traceback (most recent call last):
    ...
    lib.cxml.envelope.CXMLError: the invoice F-1 is marked as a price-based \
credit memo (isPriceBasedLineLevelCreditMemo) but its purpose is not a credit \
memo; the supplier must send it with purpose lineLevelCreditMemo
    """
    indicator = header.find("InvoiceDetailHeaderIndicator")
    if indicator is None:
        return False
    marked = (indicator.get("isPriceBasedLineLevelCreditMemo") or "").strip()
    if marked != "yes":
        return False
    if not credit:
        raise CXMLError(
            f"{label} is marked as a price-based credit memo "
            "(isPriceBasedLineLevelCreditMemo) but its purpose is not a credit "
            "memo; the supplier must send it with purpose lineLevelCreditMemo"
        )
    return True


def _lines_of_orders(groups, label):
    """``(order id, lines)`` of an invoice from its ``(order id, lines)``
    groups, one per ``InvoiceDetailOrder`` (or header order).

    One order: the document names it, its lines do not. A summary invoice
    covering several orders: the document names none and every line names
    its own order (``purchase_order_external_id``). A group without an order
    reference beside one with is refused (its lines could not be matched). Line numbers
    repeated from one order to the next are qualified by their order
    (``PO-2/1``).

    >>> _lines_of_orders([("PO-1", [{"line_id": "1"}])], "the invoice F-1")
    ('PO-1', [{'line_id': '1'}])
    >>> _lines_of_orders(
    ...     [("PO-1", [{"line_id": "1"}]), ("PO-2", [{"line_id": "1"}])], "F")
    (None, [{'line_id': 'PO-1/1', 'purchase_order_external_id': 'PO-1'}, \
{'line_id': 'PO-2/1', 'purchase_order_external_id': 'PO-2'}])
    """
    distinct = list(dict.fromkeys(found for found, _lines in groups if found))
    lines = [line for _order, group in groups for line in group]
    if distinct and any(not found for found, _lines in groups):
        raise CXMLError(
            f"{label} invoices the purchase order(s) {', '.join(distinct)}, "
            "but one of its InvoiceDetailOrder names no order (OrderReference "
            "orderID or OrderIDInfo); each order of a summary invoice must be named"
        )
    if len(distinct) <= 1:
        return (distinct[0] if distinct else None), lines
    numbers = [line["line_id"] for line in lines]
    qualify = len(set(numbers)) != len(numbers)
    for found, group in groups:
        for line in group:
            if qualify:
                line["line_id"] = f"{found}/{line['line_id']}"
            line["purchase_order_external_id"] = found
    return None, lines


def _due_date(header, invoice_date, label):
    """Invoice date plus the longest payInNumberOfDays (the net term)."""
    days = [
        reading.number(term.get("payInNumberOfDays"), f"the payment term of {label}")
        for term in header
        if term.tag in ("PaymentTerm", "InvoiceDetailPaymentTerm")
        and term.get("payInNumberOfDays")
    ]
    if not days:
        return None
    date = datetime.date.fromisoformat(invoice_date)
    return (date + datetime.timedelta(days=int(max(days)))).isoformat()
