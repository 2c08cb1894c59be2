import doctest
import time

import pytest

from lib import safe_xml
from lib.safe_xml import UnsafeXMLError, parse

CXML_DOCTYPE = (
    b'<!DOCTYPE cXML SYSTEM "http://xml.cxml.org/schemas/cXML/1.2.014/cXML.dtd">'
)
CXML_RESPONSE = (
    b'<?xml version="1.0" encoding="UTF-8"?>\n'
    + CXML_DOCTYPE
    + b'\n<cXML payloadID="1@platform" timestamp="2026-11-26T09:00:00Z">'
    b'<Response><Status code="200" text="OK"/></Response></cXML>'
)

BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol9 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
]>
<lolz>&lol9;</lolz>"""


def test_module_examples_hold():
    result = doctest.testmod(safe_xml, optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0
    assert result.failed == 0


def test_plain_document_parses():
    root = parse(b'<?xml version="1.0"?><a><b x="1">text</b></a>')
    assert root.tag == "a"
    assert root.find("b").get("x") == "1"


def test_cxml_with_its_standard_doctype_is_accepted_and_not_fetched():
    started = time.monotonic()
    root = parse(CXML_RESPONSE)
    assert time.monotonic() - started < 1  # no download of cXML.dtd
    assert root.tag == "cXML"
    assert root.find("Response/Status").get("code") == "200"
    assert root.getroottree().docinfo.system_url.endswith("cXML.dtd")


def test_doctype_after_comment_and_xml_declaration_is_still_checked():
    document = (
        b'<?xml version="1.0"?><!-- sent by the platform -->'
        b'<!DOCTYPE a [<!ENTITY x "boom">]><a>&x;</a>'
    )
    with pytest.raises(UnsafeXMLError, match="declares its own DTD or entities"):
        parse(document)


def test_billion_laughs_is_refused_before_expansion():
    started = time.monotonic()
    with pytest.raises(UnsafeXMLError, match="declares its own DTD or entities"):
        parse(BILLION_LAUGHS)
    assert time.monotonic() - started < 1


@pytest.mark.parametrize(
    "system_id",
    ["file:///etc/passwd", "http://169.254.169.254/latest/meta-data/"],
)
def test_external_entities_are_refused(system_id):
    document = (
        f'<?xml version="1.0"?><!DOCTYPE foo [<!ENTITY xxe SYSTEM "{system_id}">]>'
        "<foo>&xxe;</foo>"
    ).encode()
    with pytest.raises(UnsafeXMLError, match="security reasons"):
        parse(document)


def test_parameter_entities_are_refused():
    document = (
        b'<?xml version="1.0"?><!DOCTYPE foo [<!ENTITY % remote SYSTEM '
        b'"http://127.0.0.1:9/evil.dtd"> %remote;]><foo/>'
    )
    with pytest.raises(UnsafeXMLError, match="declares its own DTD or entities"):
        parse(document)


@pytest.mark.parametrize(
    "doctype",
    [
        b'<!DOCTYPE cXML PUBLIC "-//x//EN" "http://example.com/x.dtd">',
        b"<!DOCTYPE cXML>",
        b'<!DOCTYPE cXML SYSTEM "cXML.dtd" [ ]>',
    ],
)
def test_only_the_system_doctype_form_is_accepted(doctype):
    with pytest.raises(UnsafeXMLError, match="DOCTYPE|DTD"):
        parse(doctype + b"<cXML/>")


def test_entity_declaration_without_doctype_is_refused():
    with pytest.raises(UnsafeXMLError, match="declaration before its root"):
        parse(b'<!ENTITY x "y"><a/>')


def test_undefined_entity_from_an_external_dtd_is_refused():
    # with the DTD never loaded, &supplier; would silently vanish from the text
    with pytest.raises(UnsafeXMLError, match="entity &supplier;"):
        parse(CXML_DOCTYPE + b"<cXML>&supplier;</cXML>")


def test_doctype_text_inside_a_comment_of_the_body_is_not_a_false_alarm():
    root = parse(b"<a><!-- <!DOCTYPE x [<!ENTITY y 'z'>]> --><b/></a>")
    assert root.find("b") is not None


def test_processing_instructions_are_dropped():
    root = parse(b'<a><?php echo "x"; ?><b/></a>')
    assert [child.tag for child in root] == ["b"]


def _nested(levels):
    return b"<a>" * levels + b"</a>" * levels


def test_nesting_depth_limit():
    assert parse(_nested(100), max_depth=100).tag == "a"
    with pytest.raises(UnsafeXMLError, match="nested more than 100 levels"):
        parse(_nested(101), max_depth=100)
    with pytest.raises(UnsafeXMLError, match="nested more than 5 levels"):
        parse(_nested(6), max_depth=5)


def test_very_deep_nesting_is_refused_by_the_parser_limit_too():
    with pytest.raises(UnsafeXMLError, match="nested more than 100 levels"):
        parse(_nested(5000))


def test_oversize_body_is_refused_before_parsing():
    body = b"<a>" + b"x" * 2000 + b"</a>"
    with pytest.raises(UnsafeXMLError, match="2,007 bytes; at most 1,000"):
        parse(body, max_bytes=1000)


def test_truncated_document_reports_the_line():
    with pytest.raises(UnsafeXMLError, match=r"not well-formed XML \(line 3"):
        parse(b"<cXML>\n<Response>\n<Status code='200'>")


@pytest.mark.parametrize("body", [b"", b"   \n", b"not xml at all"])
def test_empty_or_non_xml_body_is_refused(body):
    with pytest.raises(UnsafeXMLError, match="empty|not well-formed"):
        parse(body)


def test_text_instead_of_bytes_is_a_programming_error():
    with pytest.raises(TypeError, match="expects bytes"):
        parse("<a/>")


def test_other_declared_encodings_are_refused():
    document = '<?xml version="1.0" encoding="ISO-8859-1"?><a>café</a>'
    with pytest.raises(UnsafeXMLError, match="only UTF-8 and UTF-16"):
        parse(document.encode("latin-1"))


def test_bytes_that_do_not_decode_are_refused():
    with pytest.raises(UnsafeXMLError, match="not valid UTF-8: byte 0xe9"):
        parse(b'<?xml version="1.0" encoding="UTF-8"?><a>caf\xe9</a>')


def test_declared_utf16_but_utf8_bytes_is_refused():
    with pytest.raises(UnsafeXMLError, match="declares the encoding 'UTF-16'"):
        parse(b'<?xml version="1.0" encoding="UTF-16"?><a/>')


def test_declared_ascii_with_other_characters_is_refused():
    document = '<?xml version="1.0" encoding="US-ASCII"?><a>café</a>'.encode()
    with pytest.raises(UnsafeXMLError, match="US-ASCII"):
        parse(document)


@pytest.mark.parametrize("codec", ["utf-16", "utf-16-le", "utf-16-be"])
def test_utf16_documents_parse(codec):
    document = '<?xml version="1.0" encoding="UTF-16"?><a>Café crème</a>'
    assert parse(document.encode(codec)).text == "Café crème"


def test_utf8_with_byte_order_mark_parses():
    assert parse(b"\xef\xbb\xbf<a>ok</a>").text == "ok"


def test_doctype_in_utf16_is_checked_too():
    with pytest.raises(UnsafeXMLError, match="declares its own DTD or entities"):
        parse(BILLION_LAUGHS.decode().encode("utf-16"))


def test_utf32_is_refused():
    with pytest.raises(UnsafeXMLError, match="UTF-32"):
        parse("<a/>".encode("utf-32"))


def test_system_dtd_is_never_loaded_even_from_a_local_file(tmp_path):
    dtd = tmp_path / "evil.dtd"
    dtd.write_text('<!ENTITY secret "from the DTD file">')
    document = f'<!DOCTYPE cXML SYSTEM "{dtd.as_uri()}"><cXML>&secret;</cXML>'
    with pytest.raises(UnsafeXMLError, match="entity &secret;"):
        parse(document.encode())
    root = parse(f'<!DOCTYPE cXML SYSTEM "{dtd.as_uri()}"><cXML>ok</cXML>'.encode())
    assert root.text == "ok"
