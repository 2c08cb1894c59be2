"""Public real-world cXML documents (shared/corpus/cxml), read as the hub reads
what a procurement network posts: each is read faithfully into the canonical
model, or refused only for a reason the cXML standard itself gives.

Report (kept true by ``test_the_public_documents_report``):

- OrderRequest (3 documents): read. The supplier is the order's To
  credential (none of them has ItemOut/SupplierID), the stated totals agree
  with the lines. ``OrderRequest-builder.xml`` carries no SharedSecret: it
  is read, but the endpoint answers 401 (the hub authenticates senders by
  the shared secret, which the DTD leaves optional).
- ShipNoticeRequest (1 document): read. Its portion lists no items, which
  the Fulfill DTD defines as "the entire referenced order is included".

Mutations of these documents (numbers, dates, identifiers, encodings) are
read or refused with a :class:`CXMLError`, never another exception.
"""

import codecs
import json

import pytest
from hostile_inputs import INJECTIONS, assert_storable, expect
from lxml import etree
from public_corpus import cxml_sample

from lib.cxml import CXMLError, checked, parse_envelope, to_canonical

DOCUMENTS = (
    "OrderRequest.xml",
    "OrderRequest-builder.xml",
    "OrderRequest-handling.xml",
    "ShipNoticeRequest.xml",
)
# documents the hub refuses, with the reason the standard gives: none today
REFUSED = {}


def read(data):
    """What the cXML endpoint does before storing: envelope, conversion,
    canonical check."""
    return checked(to_canonical(parse_envelope(data)))


def test_the_public_documents_report():
    report = {}
    for name in DOCUMENTS:
        data = cxml_sample(name)
        kind = parse_envelope(data).kind
        try:
            read(data)
        except CXMLError as exc:
            report[name] = (kind, f"refused: {exc}")
        else:
            report[name] = (kind, "read")
    assert report == {
        "OrderRequest.xml": ("OrderRequest", "read"),
        "OrderRequest-builder.xml": ("OrderRequest", "read"),
        "OrderRequest-handling.xml": ("OrderRequest", "read"),
        "ShipNoticeRequest.xml": ("ShipNoticeRequest", "read"),
        **REFUSED,
    }


def test_the_public_order_request_is_read_faithfully():
    converted = read(cxml_sample("OrderRequest.xml"))
    document = converted.document
    assert (converted.object_type, converted.operation) == ("purchase_order", "new")
    assert document["external_id"] == "DO1234"
    # no SupplierID, no supplier contact: the order is addressed to the supplier
    assert document["supplier_external_id"] == "NetworkId:supplier@supplier.com"
    assert (document["currency"], document["order_date"]) == ("EUR", "2000-10-12")
    assert document["approval"] == {
        "approver": "NetworkId:inbound@prominate-platform.com",
        "approved_at": "2000-10-12T18:41:29-08:00",
    }
    assert [
        (
            line["line_id"],
            line["product_code"],
            line["description"],
            line["quantity"],
            line["uom"],
            line["unit_price"],
            line["requested_date"],
            line["tax_codes"],
        )
        for line in document["lines"]
    ] == [
        ("1", "1233244", "hello from item 1", 10.0, "Units", 2.1, "2020-02-28", []),
        ("2", "1233245", "hello from item 2", 20.0, "Units", 3.2, "2020-02-28", []),
    ]
    # 10 x 2.10 + 20 x 3.20 = 85.00, the stated Total
    assert sum(line["quantity"] * line["unit_price"] for line in document["lines"]) == (
        pytest.approx(85.0)
    )
    assert document["lines"][0]["classification"] == {"domain": "custom", "code": "0"}


def test_the_builder_order_request_is_read_and_has_no_shared_secret():
    data = cxml_sample("OrderRequest-builder.xml")
    assert parse_envelope(data).shared_secret is None  # the endpoint answers 401
    document = read(data).document
    assert document["external_id"] == "myorder-1"
    assert document["supplier_external_id"] == "NetworkId:supplier@supplier.com"
    assert document["currency"] == "USD"
    assert [(line["quantity"], line["unit_price"]) for line in document["lines"]] == [
        (3.0, 763.2),
        (5.0, 226.2),
    ]


def test_the_handling_order_request_dates_its_lines_by_the_header():
    envelope = parse_envelope(cxml_sample("OrderRequest-handling.xml"))
    assert (envelope.deployment_mode, envelope.shared_secret) == ("test", "Secret!123")
    document = read(cxml_sample("OrderRequest-handling.xml")).document
    assert document["external_id"] == "acme-1-1"
    assert document["supplier_external_id"] == "NetworkId:AN00000456"
    (line,) = document["lines"]
    # the header's requestedDeliveryDate holds for lines without their own
    assert (line["requested_date"], line["quantity"], line["unit_price"]) == (
        "2025-01-28",
        1.0,
        10.0,
    )


def test_the_public_ship_notice_announces_the_whole_order():
    converted = read(cxml_sample("ShipNoticeRequest.xml"))
    assert (converted.object_type, converted.operation) == ("goods_receipt", "new")
    document = converted.document
    assert document["external_id"] == "AN00000123/S2-123"
    assert document["purchase_order_external_id"] == "DO1234"
    assert document["receipt_date"] == "2000-10-18"  # the expected delivery
    assert document["whole_order"] is True
    assert "lines" not in document


# -- mutations -------------------------------------------------------------------

HOSTILE = [
    "",
    " ",
    "-1",
    "0",
    "1e400",
    "1E-400",
    "1e15",
    "NaN",
    "-Infinity",
    "12,5",
    "9" * 60,
    "0." + "1" * 60,
    "x" * 5000,
    "2026-02-30T00:00:00+00:00",
    "26/11/2026",
    "99999-12-31T00:00:00+00:00",
    "0000-01-01T00:00:00",
    "\u202e\u200b",
    "\ufffd",
    *INJECTIONS[:6],
]


def _mutations(data):
    """``(where, document)``: each attribute and each text, one at a time,
    replaced by each hostile value."""
    root = parse_envelope(data).root
    places = []
    for element in root.iter():
        if not isinstance(element.tag, str):
            continue
        places += [(element, name) for name in element.attrib]
        if (element.text or "").strip():
            places.append((element, None))
    for element, name in places:
        for value in HOSTILE:
            old = element.get(name) if name else element.text
            if name:
                element.set(name, value)
            else:
                element.text = value
            yield (
                f"{element.tag}@{name or 'text'}={value[:20]!r}",
                etree.tostring(root.getroottree(), encoding="UTF-8"),
            )
            if name:
                element.set(name, old)
            else:
                element.text = old


@pytest.mark.parametrize("name", DOCUMENTS)
def test_mutated_documents_are_read_or_refused_readably(name):
    data = cxml_sample(name)
    for _where, mutated in _mutations(data):
        converted = expect(read, CXMLError, mutated)
        if not isinstance(converted, CXMLError):
            assert_storable(converted.document)
            json.dumps(converted.document, allow_nan=False)


def _reencoded(data, codec, declared, mark=b""):
    text = data.decode("utf-8").replace('encoding="UTF-8"', f'encoding="{declared}"')
    return mark + text.encode(codec)


@pytest.mark.parametrize("name", DOCUMENTS)
@pytest.mark.parametrize(
    ("codec", "declared", "mark"),
    [
        ("utf-8", "UTF-8", codecs.BOM_UTF8),
        ("utf-16-le", "UTF-16", codecs.BOM_UTF16_LE),
        ("utf-16-be", "UTF-16", codecs.BOM_UTF16_BE),
    ],
)
def test_re_encoded_documents_read_the_same(name, codec, declared, mark):
    data = cxml_sample(name)
    assert read(_reencoded(data, codec, declared, mark)).document == (
        read(data).document
    )


@pytest.mark.parametrize("name", DOCUMENTS)
def test_broken_encodings_are_refused_readably(name):
    data = cxml_sample(name)
    for broken in (
        data.replace(b'encoding="UTF-8"', b'encoding="EBCDIC-XYZ"'),
        data.replace(b"<Identity>", b"<Identity>\xff\xfe", 1),
        data[: len(data) // 2],
        data.decode().encode("utf-16-le"),  # no byte-order mark, UTF-8 declared
        # the hub takes UTF-8 and UTF-16 (what cXML networks send), nothing guessed
        _reencoded(data, "utf-32-le", "UTF-32", codecs.BOM_UTF32_LE),
        _reencoded(data, "cp1252", "windows-1252"),
    ):
        expect(read, CXMLError, broken)
