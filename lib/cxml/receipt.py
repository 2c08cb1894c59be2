"""cXML ``ShipNoticeRequest`` and ``ReceiptRequest`` -> canonical goods receipt.

The supplier announces what it shipped (ShipNoticeRequest), or the buyer's
system reports what it received (ReceiptRequest); both become a canonical
``goods_receipt`` ready for ``canonical.check``.
"""

from .. import units
from ..canonical import put_optional
from ..money import plain
from . import reading
from .envelope import CXMLError, attribute, child, first_credential, text_of
from .order import ORDER_OPERATIONS
from .reading import Converted


def _receipt_line(po_line_id, quantity, uom, what):
    if quantity <= 0:
        raise CXMLError(
            f"the quantity of {what} is {plain(quantity)}; returns and corrections "
            "are not taken by the hub yet"
        )
    line = {"po_line_id": po_line_id, "quantity": float(quantity)}
    put_optional(line, "uom", units.inbound_unit(uom))
    return line


def _goods_receipt(root, kind, operation, external_id, order_id, date, lines):
    """The canonical goods receipt read from the cXML request ``kind``;
    without lines, it covers the whole order."""
    document = {
        "external_id": external_id,
        "purchase_order_external_id": order_id,
        "receipt_date": date,
        "kind": "goods",
    }
    if lines:
        document["lines"] = lines
    else:
        document["whole_order"] = True
    reading.set_updated_at(document, root)
    document["extensions"] = {
        "cxml_payload_id": root.get("payloadID"),
        "cxml_document": kind,
    }
    return Converted("goods_receipt", operation, document)


def ship_notice_to_canonical(root):
    """A cXML ``ShipNoticeRequest`` (an actual shipment) as a goods receipt.

    The supplier announces what it shipped; the receipt is dated the
    expected delivery date (else the shipment date). A portion without
    items ships the whole referenced order (Fulfill DTD): the document then
    has ``whole_order`` and no lines. A notice may cover several orders (a
    portion each): the first portion's order is the document's, lines of the
    others name their order, other orders shipped whole are listed in
    ``whole_orders``. Planned shipments and returns are
    refused. The external_id is ``<From identity>/<shipmentID>`` because
    shipment ids are only unique per supplier. A delete without portions
    gives a document with the external_id only.
    """
    notice = reading.request_body(root, "ShipNoticeRequest")
    header = child(notice, "ShipNoticeHeader", "the ship notice header")
    shipment_id = attribute(header, "shipmentID", "the ship notice header")
    label = f"the ship notice {shipment_id}"
    operation = reading.operation(header, "operation", ORDER_OPERATIONS, label)
    external_id = f"{first_credential(root, 'From').identity}/{shipment_id}"
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
    order_ids = [reading.order_id(portion, label) for portion in portions]
    if not portions or not all(order_ids):
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
    # the first portion's order is the document's; a portion of another order
    # names its order on its lines, or lists it whole (Fulfill DTD: a portion
    # without items ships the whole order)
    order_id = order_ids[0]
    lines, whole = [], []
    for portion, portion_order in zip(portions, order_ids, strict=True):
        items = portion.findall("ShipNoticeItem")
        if not items:
            whole.append(portion_order)
        for item in items:
            po_line_id = attribute(item, "lineNumber", f"an item of {label}")
            what = f"line {po_line_id} of {label}"
            quantity = reading.number(item.get("quantity"), f"the quantity of {what}")
            line = _receipt_line(
                po_line_id, quantity, text_of(item.find("UnitOfMeasure")), what
            )
            if portion_order != order_id:
                line["purchase_order_external_id"] = portion_order
            lines.append(line)
    date = reading.calendar_date(date, f"the delivery date of {label}")
    converted = _goods_receipt(
        root, "ShipNoticeRequest", operation, external_id, order_id, date, lines
    )
    document = converted.document
    if order_id in whole and not any(
        "purchase_order_external_id" not in line for line in lines
    ):
        document["whole_order"] = True  # besides lines of other orders
    others = list(dict.fromkeys(o for o in whole if o != order_id))
    if others:
        document["whole_orders"] = others
    return converted


def receipt_to_canonical(root):
    """A cXML ``ReceiptRequest`` (the buyer's own receipt) as a goods receipt.

    Returned items and negative corrections are refused (not part of the
    canonical goods receipt yet).
    """
    request = reading.request_body(root, "ReceiptRequest")
    header = child(request, "ReceiptRequestHeader", "the receipt header")
    receipt_id = attribute(header, "receiptID", "the receipt header")
    label = f"the receipt {receipt_id}"
    operation = reading.operation(header, "operation", ("new", "delete"), label)
    orders = request.findall("ReceiptOrder")
    order_id = reading.single_order(
        [
            reading.order_id(
                child(o, "ReceiptOrderInfo", f"the order of {label}"), label
            )
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
        reference = child(item, "ReceiptItemReference", f"an item of {label}")
        po_line_id = attribute(reference, "lineNumber", f"an item of {label}")
        what = f"line {po_line_id} of {label}"
        if item.get("type") == "returned":
            raise CXMLError(f"{what} is a return; returns are not taken by the hub yet")
        quantity = reading.number(item.get("quantity"), f"the quantity of {what}")
        uom = text_of(item.find("UnitRate/UnitOfMeasure"))
        lines.append(_receipt_line(po_line_id, quantity, uom, what))
    if not lines:
        raise CXMLError(f"{label} has no items (ReceiptItem)")
    date = reading.calendar_date(header.get("receiptDate"), f"the date of {label}")
    return _goods_receipt(
        root, "ReceiptRequest", operation, receipt_id, order_id, date, lines
    )
