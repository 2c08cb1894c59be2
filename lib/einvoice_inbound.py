"""A supplier's e-invoice in either syntax of EN 16931, read by its reader.

The UBL address of a backend (``/finance_hub/ubl/<code>``) takes the
invoices and credit notes of both syntaxes of EN 16931: UBL 2.1 (Peppol BIS
3, ``lib/ubl_inbound.py``) and UN/CEFACT Cross Industry Invoice (Factur-X,
ZUGFeRD, XRechnung-CII, ``lib/cii_inbound.py``). The root element says which
one a document is; both give the same canonical invoice.

>>> read(b'<rsm:CrossIndustryInvoice xmlns:rsm="urn:un:unece:uncefact:data:'
...      b'standard:CrossIndustryInvoice:100"/>')
Traceback (most recent call last):
...
lib.cii_inbound.CIIError: the document type code (none) is no invoice or \
credit note code of EN 16931 (UNTDID 1001, BR-CL-01); the hub takes invoices \
(380, 326, 384, 389, 751) and credit notes (381, 261)
>>> read(b'<Order xmlns="urn:oasis:names:specification:ubl:schema:xsd:Order-2"/>')
Traceback (most recent call last):
...
lib.ubl_inbound.UBLError: the document is a UBL Order, not an Invoice or a CreditNote
"""

from . import cii_inbound, safe_xml, ubl_inbound


def read(data):
    """The canonical invoice of a UBL or CII document (bytes)."""
    try:
        root = safe_xml.parse(data)
    except safe_xml.UnsafeXMLError as exc:
        raise ubl_inbound.UBLError(str(exc)) from None
    if root.tag == cii_inbound.ROOT:
        return cii_inbound.root_to_canonical(root)
    return ubl_inbound.root_to_canonical(root)


def syntax_code(error):
    """The error code the intake answers for a refused document.

    >>> syntax_code(cii_inbound.CIIError("x")), syntax_code(ubl_inbound.UBLError("x"))
    ('invalid_cii', 'invalid_ubl')
    """
    return "invalid_cii" if isinstance(error, cii_inbound.CIIError) else "invalid_ubl"
