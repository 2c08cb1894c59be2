"""The sample documents of ``samples/`` (cXML, UBL) as the tests read them."""

from pathlib import Path

from lib import canonical
from lib.cxml import parse_envelope

SAMPLES = Path(__file__).resolve().parent / "samples"
BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE cXML [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol9 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
]>
<cXML payloadID="x" timestamp="2026-11-26T09:00:00Z">&lol9;</cXML>"""
XXE = (
    b'<?xml version="1.0"?><!DOCTYPE cXML [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'
    b'<cXML payloadID="x" timestamp="2026-11-26T09:00:00Z">'
    b"<Header><From><Credential domain='d'><Identity>&xxe;</Identity>"
    b"</Credential></From></Header></cXML>"
)
TOO_DEEP = b"<cXML>" + b"<Extrinsic>" * 150 + b"</Extrinsic>" * 150 + b"</cXML>"


def sample(name, *replacements):
    """A sample document, with ``(old, new)`` byte replacements that must apply."""
    data = (SAMPLES / f"{name}.xml").read_bytes()
    for old, new in replacements:
        assert old in data, f"{old!r} is not in {name}.xml"
        data = data.replace(old, new)
    return data


def sample_root(name, *replacements):
    return parse_envelope(sample(name, *replacements)).root


def valid(converted):
    assert canonical.validate(converted.object_type, converted.document) == []
    return converted.document
