"""Render canonical documents in the formats receiving systems expect.

JSON receivers get the envelope as it is; procurement platforms get a cXML
``OrderRequest``; Peppol-style receivers get a UBL 2.1 ``Order``. XML is built
with lxml, never by pasting strings, so a description such as
"Bolts <M8> & nuts" cannot break (or inject into) the document.

Money amounts have two decimals, rounded half up on each line; the order
total is the sum of the rounded lines, so it matches what the receiver adds
up. Unit prices keep the precision they have (at least two decimals).

>>> render_json({"type": "purchase_order.approved", "data": {"qty": 2}})
b'{"type":"purchase_order.approved","data":{"qty":2}}'
"""

import hashlib
import json
import re
from decimal import Decimal

from lxml import etree

from . import units
from .money import money, plain, price, round_half_up, to_decimal

# the cXML version the hub declares unless a backend says otherwise
CXML_VERSION = "1.2.063"
_CXML_VERSION = re.compile(r"1\.2\.0[0-9]{2}")


def cxml_doctype(version=CXML_VERSION):
    """The DOCTYPE of a cXML document of ``version`` (the cXML.dtd it follows).

    >>> cxml_doctype("1.2.050")
    '<!DOCTYPE cXML SYSTEM "http://xml.cxml.org/schemas/cXML/1.2.050/cXML.dtd">'
    >>> cxml_doctype("2.0")
    Traceback (most recent call last):
    ...
    ValueError: the cXML version must look like 1.2.063, not '2.0'
    """
    if not isinstance(version, str) or not _CXML_VERSION.fullmatch(version):
        raise ValueError(f"the cXML version must look like 1.2.063, not {version!r}")
    return (
        f'<!DOCTYPE cXML SYSTEM "http://xml.cxml.org/schemas/cXML/{version}/cXML.dtd">'
    )


CXML_DOCTYPE = cxml_doctype()
XML_DECLARATION = b'<?xml version="1.0" encoding="UTF-8"?>\n'
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
USER_AGENT = "Finance Integration Hub"
CXML_OPERATIONS = ("new", "update", "delete")
DEPLOYMENT_MODES = ("production", "test")
SENDER_KEYS = (
    "from_domain",
    "from_identity",
    "to_domain",
    "to_identity",
    "sender_domain",
    "sender_identity",
    "shared_secret",
)

UBL_ORDER_NS = "urn:oasis:names:specification:ubl:schema:xsd:Order-2"
UBL_CAC_NS = "urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2"
UBL_CBC_NS = "urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2"
UBL_CUSTOMIZATION_ID = "urn:fdc:peppol.eu:poacc:trns:order:3"
UBL_PROFILE_ID = "urn:fdc:peppol.eu:poacc:bis:order_only:3"

# characters XML 1.0 cannot carry at all, even escaped
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


# -- values --------------------------------------------------------------------


def _text(value, field):
    text = "" if value is None else str(value)
    bad = _NOT_XML.search(text)
    if bad:
        raise ValueError(
            f"{field} contains the control character U+{ord(bad.group()):04X}, "
            "which XML cannot carry; remove it from the source document"
        )
    return text


def _sub(parent, tag, text=None, field=None, **attributes):
    element = etree.SubElement(parent, tag)
    for name, value in attributes.items():
        element.set(name, _text(value, f"{field or tag} {name}"))
    if text is not None:
        element.text = _text(text, field or tag)
    return element


def _lines(po):
    lines = po.get("lines") or []
    if not lines:
        raise ValueError(f"purchase order {po.get('external_id')!r} has no lines")
    priced = []
    for index, line in enumerate(lines, start=1):
        label = f"line {line.get('line_id') or index}"
        quantity = to_decimal(line.get("quantity"), f"the quantity of {label}")
        unit_price = to_decimal(line.get("unit_price"), f"the unit price of {label}")
        amount = round_half_up(quantity * unit_price)
        priced.append((index, line, quantity, unit_price, amount))
    return priced


def _required(po, *names):
    missing = [name for name in names if not po.get(name)]
    if missing:
        raise ValueError(
            f"purchase order {po.get('external_id')!r} misses: {', '.join(missing)}"
        )


def serialize(root, doctype=None):
    """``root`` as UTF-8 bytes after the XML declaration (and ``doctype``)."""
    body = etree.tostring(root, encoding="UTF-8", xml_declaration=False)
    prolog = XML_DECLARATION + (doctype.encode() + b"\n" if doctype else b"")
    return prolog + body


# -- JSON ----------------------------------------------------------------------


def render_json(envelope):
    """Compact UTF-8 JSON, keys in the envelope's order; NaN is refused."""
    text = json.dumps(
        envelope, ensure_ascii=False, separators=(",", ":"), allow_nan=False
    )
    return text.encode("utf-8")


def render_json_batch(envelopes):
    """Several events in one body, as the hub itself takes batches:
    ``{"events": [...]}``, each envelope as :func:`render_json` gives it.

    >>> render_json_batch([{"id": "evt_1"}, {"id": "evt_2"}])
    b'{"events":[{"id":"evt_1"},{"id":"evt_2"}]}'
    """
    return render_json({"events": list(envelopes)})


def batch_webhook_id(event_ids):
    """The webhook-id of a batch: derived from its members' event ids only,
    whatever their order, so a retry of the same batch carries the same id
    and the receiver recognises it.

    >>> batch_webhook_id(["evt_b", "evt_a"]) == batch_webhook_id(["evt_a", "evt_b"])
    True
    >>> batch_webhook_id(["evt_a"]) != batch_webhook_id(["evt_a", "evt_b"])
    True
    >>> batch_webhook_id(["evt_a"]).startswith("batch_"), len(batch_webhook_id(["x"]))
    (True, 38)
    """
    digest = hashlib.sha256("\n".join(sorted(event_ids)).encode("utf-8"))
    return f"batch_{digest.hexdigest()[:32]}"


def first_of_chain(item, earlier_of):
    """The first item of a chain of replays: an event travels under the id
    of the event it repeats (Standard Webhooks: a webhook resent keeps its
    id; a cXML payloadID names one document), however many times it was
    replayed. ``earlier_of(item)`` gives the item ``item`` replays, or
    something false for an original; a chain that loops stops at the last
    item not seen before.

    >>> chain = {"evt_1:replay:2": "evt_1:replay:1", "evt_1:replay:1": "evt_1"}
    >>> first_of_chain("evt_1:replay:2", chain.get)
    'evt_1'
    >>> first_of_chain("evt_2", chain.get)
    'evt_2'
    >>> first_of_chain("a", {"a": "b", "b": "a"}.get)
    'b'
    """
    seen = {item}
    while True:
        earlier = earlier_of(item)
        if not earlier or earlier in seen:
            return item
        seen.add(earlier)
        item = earlier


def cxml_payload_id(key):
    """The cXML payloadID of the document sent for the event ``key``: the
    same on every retry and every replay of that event, so the receiving
    platform recognises the document it already has.

    >>> cxml_payload_id("evt_1")
    'evt_1@finance-integration-hub'
    """
    return f"{key}@finance-integration-hub"


# -- cXML ----------------------------------------------------------------------


def _credential(parent, domain, identity, shared_secret=None):
    credential = _sub(parent, "Credential", domain=domain)
    _sub(credential, "Identity", identity)
    if shared_secret is not None:
        _sub(credential, "SharedSecret", shared_secret, field="the cXML shared secret")
    return credential


def _check_sender(sender):
    missing = [key for key in SENDER_KEYS if sender.get(key) is None]
    if missing:
        raise ValueError(f"the cXML sender settings miss: {', '.join(missing)}")
    mode = sender.get("deployment_mode") or "production"
    if mode not in DEPLOYMENT_MODES:
        raise ValueError(
            f"the cXML deployment mode must be production or test, not {mode!r}"
        )
    return mode


def _cxml_moment(day):
    """A canonical date as the cXML date-time the DTD asks for (with a time
    zone): the start of that day in UTC, so that readers keep the date."""
    return f"{day}T00:00:00+00:00" if len(str(day)) == 10 else day


def _bill_to(parent, po):
    """``BillTo``: the buying company, with its postal address when complete
    (cXML needs a street, a city and a country for one)."""
    bill_to = po.get("bill_to") or {}
    if not bill_to.get("name"):
        raise ValueError(
            f"purchase order {po.get('external_id')!r} misses bill_to (the buying "
            "company and its invoice address), which cXML requires"
        )
    address = _sub(_sub(parent, "BillTo"), "Address")
    _sub(address, "Name", bill_to["name"], "the bill-to name").set(XML_LANG, "en")
    if bill_to.get("street") and bill_to.get("city") and bill_to.get("country_code"):
        postal = _sub(address, "PostalAddress")
        for key in ("street", "street2"):
            if bill_to.get(key):
                _sub(postal, "Street", bill_to[key], "the bill-to street")
        _sub(postal, "City", bill_to["city"], "the bill-to city")
        if bill_to.get("state_code"):
            _sub(postal, "State", bill_to["state_code"], "the bill-to state")
        if bill_to.get("zip"):
            _sub(postal, "PostalCode", bill_to["zip"], "the bill-to postal code")
        _sub(
            postal,
            "Country",
            bill_to["country_code"],
            "the bill-to country",
            isoCountryCode=bill_to["country_code"],
        )
    if bill_to.get("email"):
        _sub(address, "Email", bill_to["email"], "the bill-to e-mail")


def _classification(parent, line, label):
    classification = line.get("classification") or {}
    if not classification.get("domain") or not classification.get("code"):
        raise ValueError(
            f"{label} has no classification (such as its UNSPSC code), which "
            "cXML requires"
        )
    _sub(
        parent,
        "Classification",
        classification["code"],
        f"the classification of {label}",
        domain=classification["domain"],
    )


def render_cxml_order_request(
    po, *, payload_id, timestamp, sender, operation="new", version=CXML_VERSION
):
    """A cXML ``OrderRequest`` for the canonical purchase order ``po``, valid
    against the cXML.dtd of ``version`` (which its DOCTYPE declares).

    ``sender`` holds ``from_domain``, ``from_identity``, ``to_domain``,
    ``to_identity``, ``sender_domain``, ``sender_identity``, ``shared_secret``
    and optionally ``deployment_mode`` (production, the default, or test).
    ``operation`` is the cXML order type: new, update or delete.
    The DTD requires a ``BillTo`` (from ``bill_to``), a ``Classification``
    per item (from the line's ``classification``) and a Description per
    accounting segment (the line's ``cost_center_name``, else its code).
    Dates become date-times at midnight UTC. A line whose ``line_id`` is not
    a whole number gets its position as ``lineNumber``; a line without
    ``product_code`` uses its ``line_id`` as ``SupplierPartID``.
    """
    if operation not in CXML_OPERATIONS:
        raise ValueError(
            f"the cXML operation must be new, update or delete, not {operation!r}"
        )
    if not payload_id or not timestamp:
        raise ValueError("a cXML message needs a payloadID and a timestamp")
    doctype = cxml_doctype(version)
    mode = _check_sender(sender)
    _required(po, "external_id", "currency", "order_date")
    lines = _lines(po)
    currency = po["currency"]

    root = etree.Element("cXML")
    root.set("payloadID", _text(payload_id, "the payloadID"))
    root.set("timestamp", _text(timestamp, "the timestamp"))
    root.set(XML_LANG, "en-US")

    header = _sub(root, "Header")
    _credential(_sub(header, "From"), sender["from_domain"], sender["from_identity"])
    _credential(_sub(header, "To"), sender["to_domain"], sender["to_identity"])
    sender_element = _sub(header, "Sender")
    _credential(
        sender_element,
        sender["sender_domain"],
        sender["sender_identity"],
        shared_secret=sender["shared_secret"],
    )
    _sub(sender_element, "UserAgent", USER_AGENT)

    request = _sub(root, "Request", deploymentMode=mode)
    order = _sub(request, "OrderRequest")
    order_header = _sub(
        order,
        "OrderRequestHeader",
        field="the order",
        orderID=po["external_id"],
        orderDate=_cxml_moment(po["order_date"]),
        type=operation,
    )
    total = sum((amount for *_rest, amount in lines), Decimal(0))
    _sub(_sub(order_header, "Total"), "Money", money(total), currency=currency)
    _bill_to(order_header, po)

    for index, line, quantity, unit_price, amount in lines:
        line_id = str(line.get("line_id") or index)
        label = f"line {line_id}"
        item = _sub(
            order,
            "ItemOut",
            field=label,
            quantity=plain(quantity),
            lineNumber=line_id if line_id.isdigit() else str(index),
        )
        if line.get("requested_date"):
            item.set(
                "requestedDeliveryDate",
                _text(_cxml_moment(line["requested_date"]), label),
            )
        item_id = _sub(item, "ItemID")
        _sub(item_id, "SupplierPartID", line.get("product_code") or line_id, label)
        detail = _sub(item, "ItemDetail")
        unit = _sub(detail, "UnitPrice")
        _sub(unit, "Money", price(unit_price), currency=currency)
        description = _sub(
            detail,
            "Description",
            line.get("description"),
            f"the description of {label}",
        )
        description.set(XML_LANG, "en")
        _sub(
            detail,
            "UnitOfMeasure",
            units.unit_code(line.get("uom")),
            f"the unit of {label}",
        )
        _classification(detail, line, label)
        if line.get("cost_center"):
            distribution = _sub(item, "Distribution")
            accounting = _sub(distribution, "Accounting", name="CostCenter")
            segment = _sub(
                accounting, "AccountingSegment", field=label, id=line["cost_center"]
            )
            _sub(segment, "Name", "Cost center").set(XML_LANG, "en")
            _sub(
                segment,
                "Description",
                line.get("cost_center_name") or line["cost_center"],
                f"the cost center of {label}",
            ).set(XML_LANG, "en")
            charge = _sub(distribution, "Charge")
            _sub(charge, "Money", money(amount), currency=currency)
    return serialize(root, doctype)


# -- UBL -----------------------------------------------------------------------


def _cac(parent, name):
    return etree.SubElement(parent, f"{{{UBL_CAC_NS}}}{name}")


def _cbc(parent, name, text, field=None, **attributes):
    return _sub(parent, f"{{{UBL_CBC_NS}}}{name}", text, field or name, **attributes)


def _ubl_party(parent, role, party):
    """``party``: ``name`` and/or ``id``, optional ``endpoint_id`` with
    ``endpoint_scheme`` (a Peppol EAS code such as 0208 or 9925)."""
    if not party or not (party.get("name") or party.get("id")):
        raise ValueError(f"the UBL {role} needs a name or an id")
    element = _cac(_cac(parent, role), "Party")
    if party.get("endpoint_id"):
        attributes = {}
        if party.get("endpoint_scheme"):
            attributes["schemeID"] = party["endpoint_scheme"]
        _cbc(element, "EndpointID", party["endpoint_id"], f"the {role}", **attributes)
    if party.get("id"):
        _cbc(_cac(element, "PartyIdentification"), "ID", party["id"], f"the {role}")
    if party.get("name"):
        legal = _cac(element, "PartyLegalEntity")
        _cbc(legal, "RegistrationName", party["name"], f"the {role}")


def render_ubl_order(po, *, buyer, seller):
    """A UBL 2.1 ``Order`` (Peppol Order transaction 3) for ``po``.

    ``buyer`` and ``seller`` hold ``name`` and/or ``id``, and optionally
    ``endpoint_id`` and ``endpoint_scheme``.
    """
    _required(po, "external_id", "currency", "order_date")
    lines = _lines(po)
    currency = po["currency"]
    nsmap = {None: UBL_ORDER_NS, "cac": UBL_CAC_NS, "cbc": UBL_CBC_NS}
    root = etree.Element(f"{{{UBL_ORDER_NS}}}Order", nsmap=nsmap)
    _cbc(root, "UBLVersionID", "2.1")
    _cbc(root, "CustomizationID", UBL_CUSTOMIZATION_ID)
    _cbc(root, "ProfileID", UBL_PROFILE_ID)
    _cbc(root, "ID", po["external_id"], "the order id")
    _cbc(root, "IssueDate", po["order_date"], "the order date")
    _cbc(root, "DocumentCurrencyCode", currency, "the currency")
    _ubl_party(root, "BuyerCustomerParty", buyer)
    _ubl_party(root, "SellerSupplierParty", seller)

    total = money(sum((amount for *_rest, amount in lines), Decimal(0)))
    monetary_total = _cac(root, "AnticipatedMonetaryTotal")
    _cbc(monetary_total, "LineExtensionAmount", total, currencyID=currency)
    _cbc(monetary_total, "PayableAmount", total, currencyID=currency)

    for index, line, quantity, unit_price, amount in lines:
        line_id = str(line.get("line_id") or index)
        label = f"line {line_id}"
        item_line = _cac(_cac(root, "OrderLine"), "LineItem")
        _cbc(item_line, "ID", line_id, label)
        _cbc(
            item_line,
            "Quantity",
            plain(quantity),
            f"the unit of {label}",
            unitCode=units.unit_code(line.get("uom")),
        )
        _cbc(item_line, "LineExtensionAmount", money(amount), currencyID=currency)
        if line.get("requested_date"):
            period = _cac(_cac(item_line, "Delivery"), "RequestedDeliveryPeriod")
            _cbc(period, "EndDate", line["requested_date"], label)
        price_element = _cac(item_line, "Price")
        _cbc(price_element, "PriceAmount", price(unit_price), currencyID=currency)
        item = _cac(item_line, "Item")
        _cbc(item, "Name", line.get("description"), f"the description of {label}")
        if line.get("product_code"):
            sellers_id = _cac(item, "SellersItemIdentification")
            _cbc(sellers_id, "ID", line["product_code"], f"the product code of {label}")
    return serialize(root)
