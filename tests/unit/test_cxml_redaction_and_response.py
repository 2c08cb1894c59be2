"""The shared secret kept out of storage, and the cXML Response the hub answers."""

import pytest
from sample_documents import BILLION_LAUGHS, XXE, sample, sample_root

from lib import safe_xml
from lib.cxml import (
    STATUS_TEXTS,
    CXMLError,
    parse_envelope,
    redact_shared_secret,
    render_response,
)
from lib.cxml.order import order_request_to_canonical

# -- redaction -----------------------------------------------------------------


def test_redaction_replaces_the_shared_secret_and_keeps_the_rest():
    data = sample("cxml_order_request")
    redacted = redact_shared_secret(data)
    assert b"order-secret-1" not in redacted
    envelope = parse_envelope(redacted)
    assert envelope.shared_secret == "***"
    assert envelope.payload_id == "1764147600.order.1@buyer.example"
    converted = order_request_to_canonical(envelope.root)
    assert (
        converted.document
        == order_request_to_canonical(sample_root("cxml_order_request")).document
    )


def test_redaction_covers_every_shared_secret():
    data = sample(
        "cxml_order_request",
        (
            b"<Identity>AN-BUYER-01</Identity></Credential></From>",
            b"<Identity>AN-BUYER-01</Identity><SharedSecret>second</SharedSecret>"
            b"</Credential></From>",
        ),
    )
    redacted = redact_shared_secret(data)
    assert b"order-secret-1" not in redacted and b"second" not in redacted
    assert redacted.count(b"<SharedSecret>***</SharedSecret>") == 2


@pytest.mark.parametrize(
    "data",
    [
        b"<cXML><Header><SharedSecret>top-secret</SharedSecret>",
        XXE.replace(b"&xxe;", b"<SharedSecret>top-secret</SharedSecret>"),
        b"<cXML><SharedSecret>top-secret",
    ],
)
def test_redaction_also_covers_documents_that_are_refused(data):
    with pytest.raises(CXMLError):
        parse_envelope(data)
    assert b"top-secret" not in redact_shared_secret(data)


@pytest.mark.parametrize("codec", ["utf-16", "utf-16-le", "utf-16-be", "utf-32"])
def test_redaction_of_broken_wide_documents(codec):
    data = "<cXML><SharedSecret>top-secret</SharedSecret><Broken>".encode(codec)
    redacted = redact_shared_secret(data)
    assert "top-secret".encode(codec.replace("utf-32", "utf-32-le")) not in redacted
    assert "top-secret" not in redacted.decode(codec)
    assert "<SharedSecret>***</SharedSecret>" in redacted.decode(codec)


def test_redaction_of_a_parsable_utf16_document():
    text = (
        sample("cxml_order_request")
        .decode()
        .replace('encoding="UTF-8"', 'encoding="UTF-16"')
    )
    redacted = redact_shared_secret(text.encode("utf-16"))
    assert b"order-secret-1" not in redacted
    assert parse_envelope(redacted).shared_secret == "***"


# -- Response ------------------------------------------------------------------


@pytest.mark.parametrize("code", sorted(STATUS_TEXTS))
def test_every_status_code_renders_a_cxml_response(code):
    body = render_response(code, "details", "r-1@hub", timestamp="2026-11-26T09:00:00Z")
    assert body.startswith(b'<?xml version="1.0" encoding="UTF-8"?>\n<!DOCTYPE cXML')
    root = safe_xml.parse(body)
    assert (root.tag, root.get("payloadID")) == ("cXML", "r-1@hub")
    assert root.get("timestamp") == "2026-11-26T09:00:00Z"
    status = root.find("Response/Status")
    assert status.get("code") == str(code)
    assert status.get("text") == STATUS_TEXTS[code]
    assert status.text == "details"


def test_status_text_that_repeats_the_standard_wording_is_not_doubled():
    status = safe_xml.parse(render_response(200, "OK")).find("Response/Status")
    assert (status.get("text"), status.text) == ("OK", None)


def test_responses_get_a_new_payload_id_and_the_current_utc_time():
    first, second = (safe_xml.parse(render_response(201, "")) for _ in range(2))
    assert first.get("payloadID") != second.get("payloadID")
    assert first.get("payloadID").endswith("@finance-integration-hub")
    assert first.get("timestamp").endswith("+00:00")


def test_response_text_is_escaped_and_stripped_of_control_characters():
    body = render_response(406, 'line <1> & "2"\x00\x1b: bad')
    status = safe_xml.parse(body).find("Response/Status")
    assert status.text == 'line <1> & "2"\ufffd\ufffd: bad'


def test_response_text_is_capped():
    status = safe_xml.parse(render_response(500, "x" * 5000)).find("Response/Status")
    assert len(status.text) == 1000


def test_unknown_status_codes_are_a_programming_error():
    with pytest.raises(ValueError, match="not 404"):
        render_response(404, "not found")


def test_a_refusal_answers_with_its_own_status_and_reason():
    with pytest.raises(CXMLError) as caught:
        parse_envelope(BILLION_LAUGHS)
    body = render_response(caught.value.status_code, str(caught.value))
    status = safe_xml.parse(body).find("Response/Status")
    assert status.get("code") == "406"
    assert "declares its own DTD or entities" in status.text


@pytest.mark.parametrize(
    "data",
    [
        b"<cXML>\xff\xfe<SharedSecret>top-secret</SharedSecret>\xc3(",
        b"<\x00<SharedSecret>top-secret</SharedSecret>",
    ],
)
def test_redaction_of_broken_bytes_keeps_every_other_byte(data):
    redacted = redact_shared_secret(data)
    assert redacted == data.replace(b"top-secret", b"***")
