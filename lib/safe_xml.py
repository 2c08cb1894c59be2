"""Hardened XML parsing for documents that come from other systems.

Partners send cXML and UBL; a hostile or broken one can send a "billion
laughs" entity bomb, an external entity that reads ``/etc/passwd`` or calls an
internal URL (XXE), or a document nested thousands of levels deep. ``parse``
refuses all of them before anything is expanded or fetched:

- entity and DTD declarations are refused in the raw text, before lxml sees
  the document; the only DOCTYPE accepted is cXML's
  ``<!DOCTYPE cXML SYSTEM "http://...cXML.dtd">`` without an internal subset,
  and that DTD is never loaded;
- the parser never resolves entities, never uses the network, drops
  processing instructions and keeps libxml2's own depth and size limits;
- size, nesting depth and encoding are checked with readable errors.

>>> parse(b'<Status code="200">OK</Status>').get("code")
'200'
>>> parse(b'<!DOCTYPE a [<!ENTITY x "y">]><a>&x;</a>')
Traceback (most recent call last):
...
lib.safe_xml.UnsafeXMLError: the document declares its own DTD or entities \
(<!DOCTYPE ... [...]>), which is refused for security reasons
"""

import codecs
import re

from lxml import etree

DEFAULT_MAX_BYTES = 5_000_000
DEFAULT_MAX_DEPTH = 100  # libxml2 stops at 256 anyway (huge_tree is off)

# the encodings partners may use; anything else is refused rather than guessed
UTF8_NAMES = {"utf-8", "utf8", "us-ascii", "ascii"}
UTF16_NAMES = {"utf-16", "utf16", "utf-16le", "utf-16be"}

_XML_DECLARATION = re.compile(
    r"<\?xml\s[^>]*?encoding\s*=\s*([\"'])([A-Za-z0-9._-]+)\1[^>]*?\?>"
)
_NAME = r"[A-Za-z_:][A-Za-z0-9_:.-]*"
_SYSTEM_DOCTYPE = re.compile(
    rf"<!DOCTYPE\s+{_NAME}\s+SYSTEM\s+(\"[^\"<>]*\"|'[^'<>]*')\s*>"
)


class UnsafeXMLError(ValueError):
    """The document is refused; the message is meant for a finance user."""


def _parser():
    # a new parser per document: lxml parsers keep state and are not shared
    return etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        dtd_validation=False,
        huge_tree=False,
        remove_pis=True,
    )


def _detect_encoding(data):
    """Return ``(codec, bytes after any byte-order mark)`` from the first bytes."""
    if data.startswith((codecs.BOM_UTF32_LE, codecs.BOM_UTF32_BE)):
        raise UnsafeXMLError("the document is UTF-32 encoded; use UTF-8 or UTF-16")
    if data.startswith(codecs.BOM_UTF8):
        return "utf-8", data[len(codecs.BOM_UTF8) :]
    if data.startswith(codecs.BOM_UTF16_LE):
        return "utf-16-le", data[2:]
    if data.startswith(codecs.BOM_UTF16_BE):
        return "utf-16-be", data[2:]
    # UTF-16 without a byte-order mark still starts with "<" (XML 1.0 annex F)
    if data.startswith(b"<\x00"):
        return "utf-16-le", data
    if data.startswith(b"\x00<"):
        return "utf-16-be", data
    return "utf-8", data


def _decode(data):
    """Decode the whole body, refusing unsupported or inconsistent encodings."""
    codec, payload = _detect_encoding(data)
    family = "UTF-16" if codec.startswith("utf-16") else "UTF-8"
    # the declaration is ASCII: read it before decoding bytes it may disown
    head = payload[:400].decode(codec, errors="replace")
    declaration = _XML_DECLARATION.match(head)
    declared = declaration.group(2) if declaration else None
    if declared:
        if declared.lower() not in UTF8_NAMES | UTF16_NAMES:
            raise UnsafeXMLError(
                f"the document declares the encoding {declared!r}; "
                "only UTF-8 and UTF-16 are accepted"
            )
        declared_family = "UTF-16" if declared.lower() in UTF16_NAMES else "UTF-8"
        if declared_family != family:
            raise UnsafeXMLError(
                f"the document declares the encoding {declared!r} "
                f"but its bytes are {family}"
            )
    try:
        text = payload.decode(codec)
    except UnicodeDecodeError as exc:
        raise UnsafeXMLError(
            f"the document is not valid {family}: byte 0x{payload[exc.start]:02x} "
            f"at position {exc.start} cannot be decoded"
        ) from None
    if "\x00" in text:  # XML forbids it; lxml would stop reading there
        raise UnsafeXMLError(
            f"the document contains a NUL character at position {text.index(chr(0))}"
        )
    if declared and declared.lower() in {"us-ascii", "ascii"} and not text.isascii():
        raise UnsafeXMLError(
            f"the document declares the encoding {declared!r} but contains "
            "other characters"
        )
    return text


def _check_prolog(text):
    """Refuse DTD and entity declarations before the parser can act on them.

    Walks what comes before the root element (XML declaration, comments,
    processing instructions, DOCTYPE) so that a comment mentioning
    "<!DOCTYPE" later in the body is not a false alarm.
    """
    position = 0
    while True:
        while position < len(text) and text[position] in " \t\r\n":
            position += 1
        rest = text[position : position + 9]
        if rest.startswith("<?"):
            end = text.find("?>", position)
        elif rest.startswith("<!--"):
            end = text.find("-->", position)
        elif rest.upper().startswith("<!DOCTYPE"):
            match = _SYSTEM_DOCTYPE.match(text, position)
            if not match:
                raise UnsafeXMLError(_doctype_reason(text[position:]))
            position = match.end()
            continue
        elif rest.startswith("<!"):
            raise UnsafeXMLError(
                "the document contains a declaration before its root element "
                f"({rest.strip()}...), which is refused for security reasons"
            )
        else:
            return  # the root element (or garbage the parser will report)
        if end < 0:
            return  # unterminated: the parser reports it with its line
        position = end + 2


def _doctype_reason(doctype_text):
    head = doctype_text[:2000]
    closing = head.find(">")
    subset = head.find("[")
    if "<!ENTITY" in head.upper() or 0 <= subset < closing or closing < 0 <= subset:
        return (
            "the document declares its own DTD or entities (<!DOCTYPE ... [...]>), "
            "which is refused for security reasons"
        )
    return (
        "only a DOCTYPE with a SYSTEM identifier (as cXML uses) is accepted, "
        f"not {head[: closing + 1 if closing >= 0 else 80]!r}"
    )


def _check_tree(root):
    """Second line of defence, on what lxml actually parsed."""
    docinfo = root.getroottree().docinfo
    internal = docinfo.internalDTD
    if internal is not None and (
        any(True for _ in internal.iterentities())
        or any(True for _ in internal.iterelements())
    ):
        raise UnsafeXMLError(
            "the document declares its own DTD or entities, which is refused "
            "for security reasons"
        )
    if docinfo.doctype and (docinfo.public_id or not docinfo.system_url):
        raise UnsafeXMLError(
            "only a DOCTYPE with a SYSTEM identifier (as cXML uses) is accepted, "
            f"not {docinfo.doctype!r}"
        )
    for entity in root.iter(etree.Entity):
        # left unexpanded because the DTD is never loaded: data would be lost
        raise UnsafeXMLError(
            f"the document uses the entity {entity.text} that is defined "
            "outside the document; entities are not accepted"
        )


def _depth_exceeds(root, max_depth):
    depth = 0
    for event, _element in etree.iterwalk(root, events=("start", "end")):
        depth += 1 if event == "start" else -1
        if depth > max_depth:
            return True
    return False


def parse(data, max_bytes=DEFAULT_MAX_BYTES, max_depth=DEFAULT_MAX_DEPTH):
    """Parse ``data`` (bytes) and return the root element.

    Raises :class:`UnsafeXMLError` (a ValueError) with a readable reason for
    anything refused or malformed. ``max_depth`` counts the root as level 1;
    values above 255 cannot be reached (libxml2's own limit).

    >>> parse(b"<a><b>1</b>") # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    lib.safe_xml.UnsafeXMLError: the document is not well-formed XML (line 1, ...
    """
    if isinstance(data, str):
        raise TypeError("safe_xml.parse expects bytes, as received on the wire")
    data = bytes(data)
    if not data.strip():
        raise UnsafeXMLError("the document is empty")
    if len(data) > max_bytes:
        raise UnsafeXMLError(
            f"the document is {len(data):,} bytes; at most {max_bytes:,} are accepted"
        )
    _check_prolog(_decode(data))
    try:
        root = etree.fromstring(data, _parser())  # noqa: S320 - hardened parser
    except etree.XMLSyntaxError as exc:
        message = exc.msg or str(exc)
        if "Excessive depth" in message:
            raise UnsafeXMLError(
                f"the document is nested more than {max_depth} levels deep"
            ) from None
        line, column = exc.position if exc.position else (exc.lineno, 0)
        raise UnsafeXMLError(
            f"the document is not well-formed XML (line {line}, column {column}): "
            f"{message.split(', line ')[0]}"
        ) from None
    if root is None:
        raise UnsafeXMLError("the document has no root element")
    _check_tree(root)
    if _depth_exceeds(root, max_depth):
        raise UnsafeXMLError(
            f"the document is nested more than {max_depth} levels deep"
        )
    return root
