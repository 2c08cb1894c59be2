"""The cXML envelope: who sends a document, to whom, with which shared secret.

:func:`parse_envelope` reads the bytes through ``safe_xml`` (byte-order marks
and UTF-16 or UTF-32 documents included) and the header's credentials; every
refusal is a :class:`CXMLError` with a sentence for the sender and the cXML
status code to answer. Credentials are only read here: checking them (and
answering 401) is the caller's business. :func:`redact_shared_secret` keeps
the secret out of what the hub stores, even from a document it refused.

>>> document = (
...     b'<cXML payloadID="42@buyer.example" timestamp="2026-11-26T09:00:00Z">'
...     b'<Header><From><Credential domain="NetworkID"><Identity>AN01</Identity>'
...     b'</Credential></From><To><Credential domain="DUNS"><Identity>123456789'
...     b'</Identity></Credential></To><Sender><Credential domain="NetworkID">'
...     b'<Identity>AN01</Identity><SharedSecret>s3cr3t</SharedSecret></Credential>'
...     b'<UserAgent>Buyer 1.0</UserAgent></Sender></Header>'
...     b'<Request deploymentMode="test"><ConfirmationRequest/></Request></cXML>')
>>> envelope = parse_envelope(document)
>>> envelope.kind, envelope.deployment_mode, envelope.sender
('ConfirmationRequest', 'test', Credential(domain='NetworkID', identity='AN01'))
>>> envelope.shared_secret, "s3cr3t" in repr(envelope)
('s3cr3t', False)
>>> b"s3cr3t" in redact_shared_secret(document)
False
"""

import codecs
import re
from dataclasses import dataclass, field
from typing import Any

from lxml import etree

from .. import outbound_formats, safe_xml
from ..outbound_formats import DEPLOYMENT_MODES

REDACTED = "***"

_SECRET_TEXT = re.compile(r"(<SharedSecret\b[^>]*>).*?(</SharedSecret\s*>|\Z)", re.S)
_BYTE_ORDER_MARKS = (  # UTF-32 first: its little-endian mark starts like UTF-16's
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)
# UTF-16 without a byte-order mark still starts with "<" (XML 1.0 annex F)
_UNMARKED_UTF16 = {b"<\x00": "utf-16-le", b"\x00<": "utf-16-be"}


class CXMLError(ValueError):
    """A cXML document is refused.

    The message is meant for the sender and a finance user; ``status_code``
    is the cXML status to answer (406: the document is not acceptable).
    """

    def __init__(self, message, status_code=406):
        super().__init__(message)
        self.status_code = status_code


@dataclass(frozen=True)
class Credential:
    domain: str
    identity: str


@dataclass(frozen=True)
class Envelope:
    """What the cXML header says; ``root`` is the parsed document.

    The shared secret stays out of ``repr`` so that logging an envelope
    cannot leak it.
    """

    payload_id: str
    timestamp: str
    kind: str
    deployment_mode: str
    from_credentials: tuple[Credential, ...]
    to_credentials: tuple[Credential, ...]
    sender_credentials: tuple[Credential, ...]
    user_agent: str
    shared_secret: str | None = field(default=None, repr=False)
    root: Any = field(default=None, repr=False, compare=False)

    @property
    def sender(self):
        """The Sender credential (the one with the shared secret, if any)."""
        return self.sender_credentials[0]


def text_of(element):
    """All the text inside ``element``, stripped; ``""`` when it is missing."""
    return "" if element is None else "".join(element.itertext()).strip()


def child(parent, path, what):
    """The element at ``path``; ``what`` names it when it is missing."""
    element = parent.find(path)
    if element is None:
        raise CXMLError(f"{what} is missing ({path})")
    return element


def attribute(element, name, what):
    """The non-blank attribute ``name`` of ``element``, stripped."""
    value = (element.get(name) or "").strip()
    if not value:
        raise CXMLError(f"{what} has no {name}")
    return value


def _credentials(header, role):
    party = child(header, role, f"the {role} party of the cXML header")
    found = []
    for credential in party.iterfind("Credential"):
        domain = (credential.get("domain") or "").strip()
        identity = text_of(credential.find("Identity"))
        if not domain or not identity:
            raise CXMLError(f"a {role} credential needs a domain and an Identity")
        found.append((Credential(domain, identity), credential))
    if not found:
        raise CXMLError(f"the {role} party of the cXML header has no Credential")
    return found


def first_credential(root, role):
    """The first credential of the header party ``role`` (From, To, Sender)."""
    header = child(root, "Header", "the cXML header")
    return _credentials(header, role)[0][0]


def parse_envelope(data):
    """Parse ``data`` (bytes) through ``safe_xml`` and read its cXML header.

    Refuses hostile or malformed XML, other document types and envelopes
    without payloadID, timestamp, From, To or Sender (all :class:`CXMLError`
    406). A missing shared secret is not refused here: ``shared_secret`` is
    then None and the caller answers 401.
    """
    try:
        root = safe_xml.parse(data)
    except safe_xml.UnsafeXMLError as exc:
        raise CXMLError(str(exc)) from None
    if root.tag != "cXML":
        name = etree.QName(root).localname
        raise CXMLError(f"the document is not cXML: its root element is <{name}>")
    payload_id = attribute(root, "payloadID", "the cXML document")
    timestamp = attribute(root, "timestamp", "the cXML document")
    header = child(root, "Header", "the cXML header")
    body = root.find("Request")
    if body is None:
        body = root.find("Message")
    if body is None:
        raise CXMLError("the cXML document carries neither a Request nor a Message")
    documents = [
        child for child in body if _is_element(child) and child.tag != "Status"
    ]
    if len(documents) != 1:
        raise CXMLError(f"the cXML {body.tag} must carry exactly one document")
    mode = (body.get("deploymentMode") or "production").strip()
    if mode not in DEPLOYMENT_MODES:
        raise CXMLError(f"the deployment mode must be production or test, not {mode!r}")
    senders = _credentials(header, "Sender")
    # the credential that authenticates comes first
    senders.sort(key=lambda pair: pair[1].find("SharedSecret") is None)
    secret = senders[0][1].find("SharedSecret")
    return Envelope(
        payload_id=payload_id,
        timestamp=timestamp,
        kind=documents[0].tag,
        deployment_mode=mode,
        from_credentials=tuple(c for c, _ in _credentials(header, "From")),
        to_credentials=tuple(c for c, _ in _credentials(header, "To")),
        sender_credentials=tuple(c for c, _ in senders),
        user_agent=text_of(header.find("Sender/UserAgent")),
        shared_secret=None if secret is None else text_of(secret),
        root=root,
    )


def _is_element(node):
    # comments and processing instructions have a function as their tag
    return isinstance(node.tag, str)


def redact_shared_secret(data):
    """``data`` with every SharedSecret value replaced by ``***``, for storage
    and logs.

    Parsable documents are redacted on the tree (and come back as UTF-8),
    broken ones textually in their own encoding, UTF-16 and UTF-32 included:
    the secret must not be stored even from a bad message.

    >>> print(redact_shared_secret(b"<cXML><SharedSecret>s3</SharedSecret></cXML>")
    ...       .decode())
    <?xml version="1.0" encoding="UTF-8"?>
    <cXML><SharedSecret>***</SharedSecret></cXML>
    >>> broken = "<cXML><SharedSecret>s3</SharedSecret>".encode("utf-16-le")
    >>> redact_shared_secret(broken).decode("utf-16-le")
    '<cXML><SharedSecret>***</SharedSecret>'
    """
    try:
        root = safe_xml.parse(data)
    except safe_xml.UnsafeXMLError:
        return _redact_text(bytes(data))
    for secret in root.iter("SharedSecret"):
        for node in list(secret):
            secret.remove(node)
        secret.text = REDACTED
    return outbound_formats.serialize(root, root.getroottree().docinfo.doctype or None)


def _redact_text(data):
    # as UTF-8 (which gives any bytes back unchanged), then as UTF-16 or UTF-32
    # when the document starts like them
    data = _redact_encoded(data, b"", "utf-8", "surrogateescape")
    mark, codec = _wide_encoding(data)
    if codec:
        # broken wide characters cannot come back as they were
        data = _redact_encoded(data, mark, codec, "replace")
    return data


def _redact_encoded(data, mark, codec, errors):
    text = data[len(mark) :].decode(codec, errors)
    text = _SECRET_TEXT.sub(lambda match: match[1] + REDACTED + match[2], text)
    return mark + text.encode(codec, "surrogateescape")


def _wide_encoding(data):
    """``(byte-order mark, codec)`` of UTF-16 or UTF-32 bytes, else ``(b"", None)``."""
    for mark, codec in _BYTE_ORDER_MARKS:
        if data.startswith(mark):
            return mark, codec
    return b"", _UNMARKED_UTF16.get(data[:2])
