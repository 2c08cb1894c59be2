"""What a finance user reads about an exchanged message.

A message is titled by the business document it carries ("Supplier Acme
SA", "Bill INV-7008 from Acme"), not by its event code, and its payload is
laid out for reading: indented JSON or indented XML.

``document_facts`` reads the canonical document (``schemas/*.json``) and
returns the kind of document and the words its title is made of; the
translated sentence is the model's (``fih.message``).

>>> document_facts("supplier.upsert", {"external_id": "S1", "name": "Acme SA"})
{'kind': 'supplier', 'name': 'Acme SA'}
>>> document_facts("invoice.upsert", {"document_type": "invoice",
...     "invoice_number": "INV-7008", "supplier_external_id": "S1"})
{'kind': 'bill', 'number': 'INV-7008', 'party': 'S1'}
>>> document_facts("invoice.upsert", {"document_type": "credit_note",
...     "invoice_number": "CN-1"}, party="Acme")
{'kind': 'credit_note', 'number': 'CN-1', 'party': 'Acme'}
>>> document_facts("payment.upsert", {"reference": "PAY-9", "amount": 12.5,
...     "currency": "EUR"})
{'kind': 'payment', 'number': 'PAY-9', 'amount': '12.5 EUR'}
>>> document_facts("ping", None)
{}
>>> pretty_payload('{"data": {"name": "Acme", "lines": [1]}}')[0]
'json'
>>> print(pretty_payload('{"data": {"name": "Acme"}}')[1])
{
  "data": {
    "name": "Acme"
  }
}
>>> print(pretty_payload("<a><b>1</b></a>")[1])
<a>
  <b>1</b>
</a>
>>> pretty_payload("not a document")
('text', 'not a document')
"""

import json

from lxml import etree

from . import safe_xml

# object of a canonical event type, e.g. "supplier" for "supplier.upsert"
KINDS_BY_OBJECT = {
    "supplier": "supplier",
    "purchase_order": "purchase_order",
    "goods_receipt": "goods_receipt",
    "ship_notice": "ship_notice",
    "payment": "payment",
    "cost_center": "cost_center",
    "order_confirmation": "order_confirmation",
}


def _text(value):
    """A scalar as title text; nothing for empty or nested values."""
    if value in (None, "") or isinstance(value, dict | list | bool):
        return None
    return str(value).strip() or None


def _first(document, *keys):
    for key in keys:
        text = _text(document.get(key))
        if text:
            return text
    return None


def _compact(facts):
    return {key: value for key, value in facts.items() if value}


def document_facts(event_type, document, party=None):
    """The kind of document and the words of its title.

    ``party`` is the supplier's name when the caller found it (the canonical
    document carries the supplier's external id only); without it, the
    external id stands in.
    """
    if not isinstance(document, dict):
        return {}
    object_type = (event_type or "").split(".")[0]
    supplier = party or _first(document, "supplier_name", "supplier_external_id")
    if object_type == "invoice":
        kind = (
            "credit_note" if document.get("document_type") == "credit_note" else "bill"
        )
        return _compact(
            {
                "kind": kind,
                "number": _first(document, "invoice_number", "external_id"),
                "party": supplier,
            }
        )
    kind = KINDS_BY_OBJECT.get(object_type)
    if kind == "supplier":
        return _compact({"kind": kind, "name": _first(document, "name", "external_id")})
    if kind == "cost_center":
        return _compact(
            {
                "kind": kind,
                "name": " ".join(
                    filter(None, (_first(document, "code"), _first(document, "name")))
                )
                or _first(document, "external_id"),
            }
        )
    if kind == "payment":
        amount = _text(document.get("amount"))
        currency = _first(document, "currency")
        return _compact(
            {
                "kind": kind,
                "number": _first(document, "reference", "external_id"),
                "amount": " ".join(filter(None, (amount, currency))) or None,
            }
        )
    if kind in ("goods_receipt", "ship_notice", "order_confirmation"):
        return _compact(
            {
                "kind": kind,
                "number": _first(document, "external_id"),
                "order": _first(document, "purchase_order_external_id"),
            }
        )
    if kind == "purchase_order":
        return _compact(
            {
                "kind": kind,
                "number": _first(document, "external_id", "name"),
                "party": supplier,
            }
        )
    return {}


def pretty_payload(raw):
    """``(format, text)``: the payload indented for reading.

    JSON is indented by two spaces (non-ASCII kept), XML re-indented; any
    other text is returned as it is, with format ``"text"``.
    """
    text = raw or ""
    stripped = text.lstrip()
    if stripped.startswith(("{", "[")):
        try:
            document = json.loads(text)
        except ValueError:
            return "text", text
        return "json", json.dumps(document, indent=2, ensure_ascii=False)
    if stripped.startswith("<"):
        try:
            root = safe_xml.parse(text.encode())
        except ValueError:  # refused or malformed: shown as received
            return "text", text
        etree.indent(root, space="  ")
        return "xml", etree.tostring(root, encoding="unicode")
    return "text", text
