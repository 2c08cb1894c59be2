"""The cXML ``Response`` the hub answers every request with.

A refusal (:class:`~lib.cxml.envelope.CXMLError`) carries its status code and
reason; :func:`render_response` writes them as the ``Status`` of a Response,
with the standard wording of the code in its ``text`` attribute.
"""

import datetime
import re
import time
import uuid

from lxml import etree

from ..outbound_formats import CXML_DOCTYPE, XML_LANG, serialize

# cXML status codes the hub answers with, and their standard text
STATUS_TEXTS = {
    200: "OK",
    201: "Accepted",
    400: "Bad Request",
    401: "Unauthorized",
    406: "Not Acceptable",
    408: "Request Timeout",
    409: "Conflict",
    429: "Too Many Requests",
    500: "Internal Server Error",
}
MAX_STATUS_TEXT = 1000
PAYLOAD_DOMAIN = "finance-integration-hub"

_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def render_response(status_code, text, payload_id=None, *, timestamp=None):
    """A cXML ``Response`` with ``<Status code=".." text="..">``.

    ``text`` (the specific reason, such as a :class:`CXMLError` message) is
    the Status content; the ``text`` attribute is the standard wording of the
    code, as cXML defines it. ``payload_id`` and ``timestamp`` default to a
    new unique id and the current time.

    >>> print(render_response(406, "line 2 has no quantity", "r-1@hub",
    ...                       timestamp="2026-11-26T09:00:00+00:00").decode())
    ... # doctest: +NORMALIZE_WHITESPACE
    <?xml version="1.0" encoding="UTF-8"?>
    <!DOCTYPE cXML SYSTEM "http://xml.cxml.org/schemas/cXML/1.2.063/cXML.dtd">
    <cXML payloadID="r-1@hub" timestamp="2026-11-26T09:00:00+00:00"
    xml:lang="en-US"><Response><Status code="406" text="Not Acceptable"
    xml:lang="en-US">line 2 has no quantity</Status></Response></cXML>
    """
    if status_code not in STATUS_TEXTS:
        raise ValueError(
            f"the hub answers with the cXML status codes "
            f"{', '.join(map(str, STATUS_TEXTS))}, not {status_code!r}"
        )
    if payload_id is None:
        payload_id = f"{time.time_ns()}.{uuid.uuid4().hex}@{PAYLOAD_DOMAIN}"
    if timestamp is None:
        timestamp = datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds")
    root = etree.Element("cXML")
    root.set("payloadID", _xml_safe(payload_id))
    root.set("timestamp", _xml_safe(timestamp))
    root.set(XML_LANG, "en-US")
    status = etree.SubElement(etree.SubElement(root, "Response"), "Status")
    status.set("code", str(status_code))
    status.set("text", STATUS_TEXTS[status_code])
    status.set(XML_LANG, "en-US")
    detail = _xml_safe(text or "")[:MAX_STATUS_TEXT].strip()
    if detail and detail != STATUS_TEXTS[status_code]:
        status.text = detail
    return serialize(root, CXML_DOCTYPE)


def _xml_safe(text):
    # the reason may quote the refused document; XML cannot carry control characters
    return _NOT_XML.sub("\ufffd", str(text))
