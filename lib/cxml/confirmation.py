"""cXML ``ConfirmationRequest`` -> canonical order confirmation.

The supplier answers an order: accepted as sent, rejected, or accepted with
changes line by line (other delivery dates, prices, quantities, substitute
items). Each confirmation becomes a canonical ``order_confirmation`` ready
for ``canonical.check``; the order-confirmation flow applies it to the order.
"""

from .. import units
from ..canonical import put_optional
from ..money import plain
from . import reading
from .envelope import CXMLError, attribute, child, first_credential, text_of
from .reading import Converted

# ConfirmationHeader type -> the canonical status of the whole order
ORDER_STATUSES = {
    "accept": "accepted",
    "reject": "rejected",
    "backordered": "backordered",
    "detail": "changed",
    "allDetail": "changed",
    "except": "changed",
}
# ConfirmationStatus type -> the canonical status of that part of a line
LINE_STATUSES = {
    "accept": "accepted",
    "reject": "rejected",
    "backordered": "backordered",
    "detail": "changed",
    "allDetail": "changed",
    "unknown": "unknown",
}
# what the hub does not take, and why
REFUSED_TYPES = {
    "requestToPay": "asks for payment, which is not an order confirmation; send an "
    "invoice (InvoiceDetailRequest)",
    "replace": "replaces the whole order; the buyer changes orders in the "
    "procurement system, which then sends the changed order",
}


def comments(parent):
    """The Comments of ``parent`` as one text, each comment once."""
    texts = [reading.description(element) for element in parent.iterfind("Comments")]
    return " ".join(dict.fromkeys(text for text in texts if text))


def _substitute(status):
    """What the supplier offers instead (ItemIn), as product code and text."""
    item = status.find("ItemIn")
    if item is None:
        return None
    substitute = {}
    put_optional(
        substitute, "product_code", text_of(item.find("ItemID/SupplierPartID"))
    )
    put_optional(
        substitute,
        "description",
        reading.description(item.find("ItemDetail/Description")),
    )
    return substitute or {"description": "an item the supplier did not name"}


class _Reader:
    """Reads the confirmation's line parts, all in one currency."""

    def __init__(self, label):
        self.label = label
        self.currency = None

    def unit_price(self, status, what):
        money_element = status.find("UnitPrice/Money")
        if money_element is None:
            return None
        code = (money_element.get("currency") or "").strip()
        if not code:
            raise CXMLError(f"the unit price of {what} has no currency")
        self.currency = self.currency or code
        return reading.amount(
            status, "UnitPrice/Money", f"the unit price of {what}", self.currency
        )

    def status_line(self, item, status, po_line_id, header_status):
        what = f"line {po_line_id} of {self.label}"
        kind = attribute(status, "type", f"a confirmation status of {what}")
        if kind == "requestToPay":
            raise CXMLError(f"{what} {REFUSED_TYPES['requestToPay']}")
        if kind not in LINE_STATUSES:
            raise CXMLError(
                f"the confirmation status of {what} must be one of "
                f"{', '.join(LINE_STATUSES)}, not {kind!r}"
            )
        if header_status == "accepted" and kind != "accept":
            raise CXMLError(
                f"{self.label} accepts the whole order, but {what} is {kind!r}; "
                "send changes as a detail or except confirmation"
            )
        quantity = reading.number(status.get("quantity"), f"the quantity of {what}")
        if quantity < 0:
            raise CXMLError(
                f"the quantity of {what} must not be negative, not {plain(quantity)}"
            )
        line = {
            "po_line_id": po_line_id,
            "status": LINE_STATUSES[kind],
            "quantity": float(quantity),
        }
        unit = text_of(status.find("UnitOfMeasure")) or text_of(
            item.find("UnitOfMeasure")
        )
        put_optional(line, "uom", units.inbound_unit(unit))
        for name, key in (
            ("deliveryDate", "delivery_date"),
            ("shipmentDate", "shipment_date"),
        ):
            if status.get(name):
                line[key] = reading.calendar_date(
                    status.get(name), f"the {name} of {what}"
                )
        price = self.unit_price(status, what)
        if price is not None:
            if price < 0:
                raise CXMLError(f"the unit price of {what} must not be negative")
            line["unit_price"] = float(price)
        put_optional(line, "substitute", _substitute(status))
        put_optional(line, "comments", comments(status))
        return line


def confirmation_to_canonical(root):
    """A cXML ``ConfirmationRequest`` as a canonical order confirmation.

    The header type gives the order's status (accept: accepted; reject:
    rejected; detail, allDetail and except: changed, the items saying how;
    backordered). Each ConfirmationStatus of an item becomes one line part
    with its status, quantity, expected delivery and shipment dates, a new
    unit price and a substitute item when the supplier states them, and its
    comments. requestToPay and replace confirmations are refused, as are
    types the Fulfill DTD does not define. The external id is
    ``<From identity>/<confirmID>`` (the payloadID without confirmID):
    confirmation ids are only unique per supplier.
    """
    request = reading.request_body(root, "ConfirmationRequest")
    header = child(request, "ConfirmationHeader", "the confirmation header")
    reference = child(request, "OrderReference", "the order the confirmation is for")
    order_id = attribute(
        reference, "orderID", "the order reference of the confirmation"
    )
    confirm_id = (header.get("confirmID") or "").strip()
    label = f"the confirmation {confirm_id or 'of order ' + order_id}"
    kind = attribute(header, "type", label)
    if kind in REFUSED_TYPES:
        raise CXMLError(f"{label} {REFUSED_TYPES[kind]}")
    if kind not in ORDER_STATUSES:
        raise CXMLError(
            f"the type of {label} must be one of {', '.join(ORDER_STATUSES)}, "
            f"not {kind!r}"
        )
    operation = reading.operation(header, "operation", ("new", "update"), label)
    status = ORDER_STATUSES[kind]
    reader = _Reader(label)
    lines = []
    for position, item in enumerate(request.iterfind("ConfirmationItem"), start=1):
        po_line_id = reading.line_id(item, "lineNumber", position)
        parts = item.findall("ConfirmationStatus")
        if not parts:
            raise CXMLError(
                f"line {po_line_id} of {label} has no status (ConfirmationStatus)"
            )
        lines += [reader.status_line(item, part, po_line_id, status) for part in parts]
    if status == "rejected" and lines:
        raise CXMLError(f"{label} rejects the whole order, so it cannot list items")
    if status == "changed" and not lines:
        raise CXMLError(f"{label} announces changes but lists no items")
    sender = first_credential(root, "From")
    document = {
        "external_id": f"{sender.identity}/{confirm_id or root.get('payloadID')}",
        "purchase_order_external_id": order_id,
        "status": status,
        "confirmation_date": reading.calendar_date(
            header.get("noticeDate"), f"the notice date of {label}"
        ),
    }
    put_optional(document, "supplier_reference", confirm_id)
    put_optional(document, "comments", comments(header))
    put_optional(document, "currency", reader.currency)
    put_optional(document, "lines", lines)
    reading.set_updated_at(document, root)
    version = (header.get("version") or "").strip()
    if version.isdigit():
        document["source_version"] = int(version)
    document["extensions"] = {
        "cxml_payload_id": root.get("payloadID"),
        "cxml_confirmation_type": kind,
    }
    return Converted("order_confirmation", operation, document)
