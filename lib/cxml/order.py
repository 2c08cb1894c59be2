"""cXML ``OrderRequest`` -> canonical purchase order.

A buyer's procurement system sends its approved orders (new, update) and
cancellations (delete) as OrderRequests; each becomes a canonical
``purchase_order`` ready for ``canonical.check``.
"""

from .. import units
from ..canonical import put_optional
from ..money import plain
from . import reading
from .envelope import CXMLError, attribute, child, first_credential, text_of
from .reading import Converted

ORDER_OPERATIONS = ("new", "update", "delete")
# Contact roles that name the supplier on an order
ORDER_SUPPLIER_ROLES = ("supplierCorporate", "supplierAccount", "supplierMasterAccount")


def _order_supplier(order, header):
    suppliers = list(
        dict.fromkeys(
            text_of(supplier)
            for supplier in order.iterfind("ItemOut/SupplierID")
            if text_of(supplier)
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
    line_id = reading.line_id(item, "lineNumber", position)
    what = f"line {line_id} of {label}"
    quantity = reading.number(item.get("quantity"), f"the quantity of {what}")
    if quantity <= 0:
        raise CXMLError(
            f"the quantity of {what} must be positive, not {plain(quantity)}"
        )
    detail = child(item, "ItemDetail", f"the item detail of {what}")
    unit_price = reading.amount(
        detail, "UnitPrice/Money", f"the unit price of {what}", currency
    )
    basis = detail.find("PriceBasisQuantity")
    if basis is not None:  # the price is for this many units
        per = reading.number(
            basis.get("quantity"), f"the price basis quantity of {what}"
        )
        if per <= 0:
            raise CXMLError(f"the price basis quantity of {what} must be positive")
        unit_price /= per
    product_code = text_of(item.find("ItemID/SupplierPartID"))
    description = reading.description(detail.find("Description")) or product_code
    if not description:
        raise CXMLError(f"{what} has no description")
    uom = units.inbound_unit(text_of(detail.find("UnitOfMeasure")))
    if not uom:
        raise CXMLError(f"{what} has no unit of measure (ItemDetail/UnitOfMeasure)")
    line = {"line_id": line_id}
    put_optional(line, "product_code", product_code)
    line.update(
        description=description,
        quantity=float(quantity),
        uom=uom,
        unit_price=float(unit_price),
        tax_codes=reading.tax_codes(
            reading.tax_details(item.find("Tax"), currency, what)
        ),
    )
    put_optional(line, "cost_center", reading.cost_center(item))
    if item.get("requestedDeliveryDate"):
        line["requested_date"] = reading.calendar_date(
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
    order = reading.request_body(root, "OrderRequest")
    header = child(order, "OrderRequestHeader", "the order header")
    order_id = attribute(header, "orderID", "the order header")
    label = f"the order {order_id}"
    operation = reading.operation(header, "type", ORDER_OPERATIONS, label)
    currency = reading.currency_of(header, "Total/Money", f"the total of {label}")
    order_date = reading.calendar_date(header.get("orderDate"), f"the date of {label}")
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
    reading.unique_line_ids(lines, label)
    document = {
        "external_id": order_id,
        "supplier_external_id": supplier,
        "currency": currency,
        "order_date": order_date,
    }
    state = "cancelled" if operation == "delete" else "approved"
    if state == "approved":
        approved_at = reading.moment_of(header.get("orderDate")) or reading.moment_of(
            root.get("timestamp")
        )
        if not approved_at:
            raise CXMLError(f"the date of {label} needs a time zone such as +01:00")
        sender = first_credential(root, "Sender")
        approval = {
            "approver": f"{sender.domain}:{sender.identity}",
            "approved_at": approved_at,
        }
        put_optional(approval, "reference", (header.get("requisitionID") or "").strip())
        document["approval"] = approval
    document.update(state=state, lines=lines)
    reading.set_updated_at(document, root)
    version = (header.get("orderVersion") or "").strip()
    if version.isdigit():
        document["source_version"] = int(version)
    document["extensions"] = {"cxml_payload_id": root.get("payloadID")}
    return Converted("purchase_order", operation, document)
