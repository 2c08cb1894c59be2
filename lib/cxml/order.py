"""cXML ``OrderRequest`` -> canonical purchase order.

A buyer's procurement system sends its approved orders (new, update) and
cancellations (delete) as OrderRequests; each becomes a canonical
``purchase_order`` ready for ``canonical.check``.
"""

from decimal import Decimal

from .. import units
from ..canonical import put_optional
from ..money import money, plain, round_half_up
from . import reading
from .envelope import CXMLError, attribute, child, first_credential, text_of
from .reading import Converted

ORDER_OPERATIONS = ("new", "update", "delete")
# Contact roles that name the supplier on an order
ORDER_SUPPLIER_ROLES = ("supplierCorporate", "supplierAccount", "supplierMasterAccount")


def credential_id(credential):
    """A header credential as one external id: ``<domain>:<identity>``."""
    return f"{credential.domain}:{credential.identity}"


def _order_supplier(order, header, root):
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
    # the party the order is addressed to: the supplier
    return credential_id(first_credential(root, "To"))


def _classification(detail):
    """The first Classification of an item, as ``{"domain", "code"}``."""
    for element in detail.iterfind("Classification"):
        code = text_of(element) or (element.get("code") or "").strip()
        domain = (element.get("domain") or "").strip()
        if code and domain:
            return {"domain": domain, "code": code}
    return None


def _order_line(item, position, currency, label, default_date):
    """The canonical line of an ``ItemOut`` and its exact amount (Decimal)."""
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
    cost_center, cost_center_name = reading.single_cost_center(item, what)
    put_optional(line, "cost_center", cost_center)
    if cost_center:
        put_optional(line, "cost_center_name", cost_center_name)
    requested = item.get("requestedDeliveryDate") or default_date
    if requested:
        line["requested_date"] = reading.calendar_date(
            requested, f"the requested date of {what}"
        )
    put_optional(line, "classification", _classification(detail))
    amount = quantity * unit_price
    if abs(amount) >= reading.MAX_FIGURE:
        raise CXMLError(
            f"{what} amounts to {plain(quantity)} x {plain(unit_price)}, too large "
            "for a business document"
        )
    return line, amount


def _stated_extras(order, header, currency, label):
    """Tax and shipping the order states, in the header and on its items."""
    extras = Decimal(0)
    places = [(header, "the order")] + [
        (item, f"line {reading.line_id(item, 'lineNumber', position)}")
        for position, item in enumerate(order.iterfind("ItemOut"), start=1)
    ]
    for parent, where in places:
        for name in ("Tax", "Shipping"):
            figure = reading.amount(
                parent,
                f"{name}/Money",
                f"the {name.lower()} of {where} of {label}",
                currency,
                required=False,
            )
            extras += figure or 0
    return extras


def _check_total(order, header, currency, amounts, label):
    """The stated Total must be what the lines add up to: each line rounded
    to cents, or the exact sum rounded once; with or without the tax and
    shipping the order states."""
    stated = reading.amount(header, "Total/Money", f"the total of {label}", currency)
    rounded = sum((round_half_up(amount) for amount in amounts), Decimal(0))
    exact = round_half_up(sum(amounts, Decimal(0)))
    extras = _stated_extras(order, header, currency, label)
    accepted = {rounded, exact, rounded + extras, exact + extras}
    if stated in accepted:
        return
    with_extras = (
        f" ({money(rounded + extras)} {currency} with the tax and shipping it "
        "states)"
        if extras
        else ""
    )
    raise CXMLError(
        f"the total of {label} is {money(stated)} {currency}, but its lines add up "
        f"to {money(rounded)} {currency}{with_extras}; correct the total or the "
        "lines and send the order again"
    )


def order_request_to_canonical(root, *, supplier_external_id=None):
    """A cXML ``OrderRequest`` as a canonical purchase order.

    ``type`` new and update give an approved order, delete a cancelled one.
    cXML has no approver: the order counts as approved by the system that
    sends it (the Sender credential), at the order date-time (or, without a
    time zone, the message timestamp). The supplier is the items'
    ``SupplierID``, else the header Contact with a supplier role, else the
    party the order is addressed to (the ``To`` credential, as
    ``<domain>:<identity>``), unless the caller passes
    ``supplier_external_id``. A stated Total the lines do not add up to is
    refused, naming both figures; blanket orders are refused.
    """
    order = reading.request_body(root, "OrderRequest")
    header = child(order, "OrderRequestHeader", "the order header")
    order_id = attribute(header, "orderID", "the order header")
    label = f"the order {order_id}"
    operation = reading.operation(header, "type", ORDER_OPERATIONS, label)
    if (header.get("orderType") or "").strip() == "blanket":
        raise CXMLError(
            f"{label} is a blanket order, a ceiling agreed with the supplier rather "
            "than goods ordered; the hub takes regular and release orders"
        )
    currency = reading.currency_of(header, "Total/Money", f"the total of {label}")
    order_date = reading.calendar_date(header.get("orderDate"), f"the date of {label}")
    supplier = supplier_external_id or _order_supplier(order, header, root)
    priced = [
        _order_line(
            item, position, currency, label, header.get("requestedDeliveryDate")
        )
        for position, item in enumerate(order.iterfind("ItemOut"), start=1)
    ]
    if not priced:
        raise CXMLError(f"{label} has no items (ItemOut)")
    lines = [line for line, _amount in priced]
    reading.unique_line_ids(lines, label)
    if operation != "delete":  # a cancellation commits nothing
        _check_total(order, header, currency, [a for _l, a in priced], label)
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
