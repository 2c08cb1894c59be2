"""What every cXML business document is read with: figures, dates, taxes, lines.

The converters of ``order``, ``invoice`` and ``receipt`` share these readers;
each refusal is a :class:`CXMLError` naming the field for the sender.

>>> from lxml import etree
>>> tax = etree.fromstring(
...     '<Tax><TaxDetail category="vat" percentageRate="21"><TaxAmount>'
...     '<Money currency="EUR">2.10</Money></TaxAmount></TaxDetail></Tax>')
>>> tax_details(tax, "EUR", "line 1")
[('VAT21', None, Decimal('2.10'), 'tax')]
>>> tax_details(tax, "USD", "line 1")
Traceback (most recent call last):
...
lib.cxml.envelope.CXMLError: the VAT21 tax of line 1 is in EUR, the document in USD
"""

import datetime
import re
from decimal import Decimal
from typing import NamedTuple

from ..canonical import put_optional
from ..money import to_decimal
from ..tax_check import tax_code
from .envelope import CXMLError, attribute, child, text_of

# TaxDetail exemptDetail -> the UBL category it means, for the same tax code
EXEMPT_CATEGORIES = {"zeroRated": "Z", "exempt": "E"}
# no business figure reaches a quadrillion; beyond, cents cannot be kept
MAX_FIGURE = Decimal("1e15")


class Converted(NamedTuple):
    """A business document in canonical form and what to do with it."""

    object_type: str  # purchase_order, invoice, goods_receipt
    operation: str  # new, update or delete
    document: dict


def request_body(root, kind):
    """The ``kind`` document inside the cXML ``Request``."""
    body = root.find(f"Request/{kind}") if root.tag == "cXML" else None
    if body is None:
        raise CXMLError(f"the document is not a cXML {kind}")
    return body


def operation(header, name, allowed, label):
    """What to do with the document: its attribute ``name``, "new" by default.

    >>> from lxml import etree
    >>> operation(etree.fromstring('<H type="copy"/>'), "type", ("new", "update",
    ...     "delete"), "the order 7")
    Traceback (most recent call last):
    ...
    lib.cxml.envelope.CXMLError: the type of the order 7 must be new, update or \
delete, not 'copy'
    """
    value = (header.get(name) or "new").strip()
    if value not in allowed:
        choices = f"{', '.join(allowed[:-1])} or {allowed[-1]}"
        raise CXMLError(f"the {name} of {label} must be {choices}, not {value!r}")
    return value


def number(value, what):
    """``value`` as a Decimal; ``what`` names it in the refusal.

    Figures of a quadrillion or more are refused: no order, invoice or
    payment needs them, and they cannot be rounded to cents.

    >>> number("1e15", "the quantity of line 1")
    Traceback (most recent call last):
    ...
    lib.cxml.envelope.CXMLError: the quantity of line 1 is 1e15, too large for a \
business document
    """
    try:
        figure = to_decimal(value, what)
    except ValueError:
        raise CXMLError(
            f"{what} must be a number such as 12.5, not {value!r}"
        ) from None
    if abs(figure) >= MAX_FIGURE:
        raise CXMLError(f"{what} is {value}, too large for a business document")
    return figure


def moment_of(value):
    """The date-time as RFC 3339, or None without a valid time zone."""
    try:
        moment = datetime.datetime.fromisoformat((value or "").strip())
    except ValueError:
        return None
    return moment.isoformat() if moment.tzinfo else None


def calendar_date(value, what):
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


def currency_of(parent, path, what):
    """The currency of the ``Money`` at ``path``, the document's currency."""
    money_element = child(parent, path, what)
    code = (money_element.get("currency") or "").strip()
    if not code:
        raise CXMLError(f"{what} has no currency ({path})")
    return code


def amount(parent, path, what, currency, required=True):
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
    return number(text_of(element), what)


def description(element):
    """The description text; its ShortName only when there is no other text."""
    if element is None:
        return ""
    parts = [element.text or ""] + [node.tail or "" for node in element]
    return " ".join("".join(parts).split()) or text_of(element.find("ShortName"))


def tax_details(tax, currency, what):
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
        base = amount(
            detail, "TaxableAmount/Money", f"the {code} base of {what}", currency, False
        )
        tax = amount(detail, "TaxAmount/Money", f"the {code} tax of {what}", currency)
        details.append((code, base, tax, detail.get("purpose") or "tax"))
    return details


def tax_codes(details):
    """The tax codes of ``tax_details``, each once, in order."""
    return list(dict.fromkeys(code for code, *_rest in details))


def _normalized(name):
    return re.sub(r"[^a-z]", "", (name or "").lower())


def _cost_center_segments(item):
    """``(id, description)`` of every cost-center segment of the item's
    distributions: an ``AccountingSegment`` whose Accounting or Name says
    cost center (its Description describes it), or an old-style ``Segment``
    whose type says so (its description attribute describes it)."""
    for accounting in item.iterfind("Distribution/Accounting"):
        named = _normalized(accounting.get("name")) == "costcenter"
        for segment in accounting.iterfind("AccountingSegment"):
            if named or _normalized(text_of(segment.find("Name"))) == "costcenter":
                yield (
                    (segment.get("id") or "").strip(),
                    description(segment.find("Description")),
                )
        for segment in accounting.iterfind("Segment"):
            if named or _normalized(segment.get("type")) == "costcenter":
                yield (
                    (segment.get("id") or "").strip(),
                    " ".join((segment.get("description") or "").split()),
                )


def cost_center(item):
    """The id of the item's (first) cost center, None without one.

    >>> from lxml import etree
    >>> cost_center(etree.fromstring(
    ...     '<ItemOut><Distribution><Accounting name="Acct"><Segment '
    ...     'type="Cost Center" id="CC-7" description="Sales"/></Accounting>'
    ...     '</Distribution></ItemOut>'))
    'CC-7'
    """
    for code, _description in _cost_center_segments(item):
        return code or None
    return None


def single_cost_center(item, what):
    """``(id, description)`` of the item's cost center, ``(None, "")``
    without one; an item split over several cost centers is refused (a
    canonical line is charged to one)."""
    found = {}
    for code, text in _cost_center_segments(item):
        if not code:
            raise CXMLError(f"a cost center of {what} has no id")
        found.setdefault(code, text)
    if len(found) > 1:
        raise CXMLError(
            f"{what} splits its cost over several cost centers "
            f"({', '.join(found)}); the hub charges a line to one cost center: "
            "send one line per cost center"
        )
    return next(iter(found.items()), (None, ""))


def order_id(info, what):
    """The order id of an OrderReference or OrderIDInfo; an OrderReference
    without its (optional) orderID names the order by the payloadID of the
    OrderRequest (its DocumentReference).

    >>> from lxml import etree
    >>> order_id(etree.fromstring(
    ...     '<Info><OrderReference><DocumentReference payloadID="42@buyer"/>'
    ...     '</OrderReference></Info>'), "the invoice F-1")
    '42@buyer'
    """
    for path in ("OrderReference", "OrderIDInfo"):
        reference = info.find(path)
        if reference is None:
            continue
        if path == "OrderReference" and not (reference.get("orderID") or "").strip():
            document = reference.find("DocumentReference")
            payload_id = "" if document is None else document.get("payloadID") or ""
            if payload_id.strip():
                return payload_id.strip()
        return attribute(reference, "orderID", f"the order reference of {what}")
    return None


def single_order(order_ids, what):
    """The one purchase order the ids name, None without any."""
    order_ids = list(dict.fromkeys(found for found in order_ids if found))
    if len(order_ids) > 1:
        raise CXMLError(
            f"{what} covers several purchase orders ({', '.join(order_ids)}); "
            "the hub takes one document per purchase order"
        )
    return order_ids[0] if order_ids else None


def line_id(element, name, position):
    """The line number in attribute ``name``, else the line's position."""
    return (element.get(name) or "").strip() or str(position)


def unique_line_ids(lines, what):
    """Refuse a document with two lines of the same number."""
    seen = set()
    for line in lines:
        if line["line_id"] in seen:
            raise CXMLError(f"{what} has two lines numbered {line['line_id']}")
        seen.add(line["line_id"])


def set_updated_at(document, root):
    """The message timestamp is when the source system sent this version."""
    put_optional(document, "updated_at", moment_of(root.get("timestamp")))
