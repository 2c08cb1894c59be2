"""Masking of sensitive values (bank accounts, tax ids, personal data) in
payloads, keys and error texts shown to people without the right to see
them, and in logs.

A value is masked for what it is, wherever it stands: an IBAN or a VAT
number (recognised with python-stdnum; for a VAT number a wrong check digit
included, since a mistyped number is still someone's number), a Peppol
participant identifier (``0208:0477472701``), an e-mail address or an
international phone number.
It is also masked for the name of its key, however the sender spells it
(``bankAccountNumber``, ``account_no``, ``vat_id``, ``taxNumber``,
``swiftCode``, ``fax``, ``telephone``...), with everything below that key
when it holds a list or an object.

>>> mask_document({"vat": "BE0477472701", "name": "Acme",
...     "bank_accounts": [{"iban": "BE71096123456769"}]})
{'vat': 'BE••••••••01', 'name': 'Acme', 'bank_accounts': [{'iban': 'BE••••••••••••69'}]}
>>> mask_value("ap@acme.example")
'ap•••••••••••••'
>>> for key, value in mask_document({"bankAccountNumber": "123-4567890-12",
...         "swiftCode": "GEBABEBB", "telephone": ["+32 2 123 45 67"],
...         "vat_id": {"value": "X1"}, "qty": 3}).items():
...     print(key, value)
bankAccountNumber 12••••••••••12
swiftCode GE••••BB
telephone ['+3•••••••••••67']
vat_id {'value': '••'}
qty 3
>>> mask_document({"note": "pay to BE71 0961 2345 6769 please"})
{'note': 'pay to BE•••••••••••••••69 please'}
>>> mask_text("IBAN BE71096123456769 of supplier BE0477472701 is blocked")
'IBAN BE••••••••••••69 of supplier BE••••••••01 is blocked'
>>> mask_text("ubl:0208:0477472701/invoice/INV-7")
'ubl:02•••••••••••01/invoice/INV-7'
>>> mask_text("call +32 2 123 45 67 or mail ap@acme.example about INV-2026-0001")
'call +3•••••••••••67 or mail ap••••••••••••• about INV-2026-0001'
>>> mask_text('<cbc:EndpointID schemeID="0208">0477472701</cbc:EndpointID>'
...           '<cbc:Name>Acme</cbc:Name>')
'<cbc:EndpointID schemeID="0208">04••••••01</cbc:EndpointID><cbc:Name>Acme</cbc:Name>'
>>> is_sensitive_key("supplier_VAT_number"), is_sensitive_key("vat_rate")
(True, False)
"""

import re

from stdnum import iban as _iban
from stdnum.eu import vat as _eu_vat
from stdnum.exceptions import InvalidChecksum, ValidationError
from stdnum.gb import vat as _gb_vat

# key names, normalised (lower case, letters and digits only), whose values
# are sensitive; a key also is when its name ends with one of them
SENSITIVE_KEY_ENDINGS = (
    "iban",
    "bic",
    "swift",
    "swiftcode",
    "swiftbic",
    "accountnumber",
    "accountno",
    "accountnum",
    "accnumber",
    "accno",
    "acctnumber",
    "acctno",
    "bankaccount",
    "bankaccountnumber",
    "bankaccountno",
    "vat",
    "vatid",
    "vatno",
    "vatnumber",
    "vatregistrationnumber",
    "taxid",
    "taxno",
    "taxnumber",
    "taxidentifier",
    "taxregistrationnumber",
    "companyregistry",
    "registrationnumber",
    "endpointid",
    "email",
    "emailaddress",
    "phone",
    "phonenumber",
    "telephone",
    "fax",
    "faxnumber",
    "mobile",
    "mobilephone",
    "phonework",
    "sharedsecret",
    "password",
    "apikey",
    "secret",
    "token",
    "accesstoken",
)
# XML elements holding a party's legal or tax id (UBL cbc:CompanyID); in JSON
# a company_id is usually a record id, so only in XML
SENSITIVE_XML_ENDINGS = ("companyid",)
# an identifier qualified by its scheme: {"scheme": "0208", "id": "..."}
SCHEME_KEYS = {"scheme", "schemeid", "schemeagencyid"}
SCHEME_VALUE_KEYS = {"id", "value", "identifier"}
KEEP = 2

_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
# international numbers only: +CC or 00CC, then 7 to 14 more digits
_PHONE = re.compile(r"(?<![\w+])(?:\+|00)\d(?:[ ./()-]?\d){7,14}(?!\w)")
# ISO 6523 scheme (four digits), colon, identifier: Peppol participants
_PARTICIPANT = re.compile(r"(?<![\w])\d{4}:[A-Za-z0-9][A-Za-z0-9.-]{3,}")
# two letters, then digits/letters, spaces allowed every four (IBAN print)
_IBAN_LIKE = re.compile(r"(?<![\w])[A-Z]{2}\d{2}(?: ?[A-Z0-9]{1,4}){3,8}(?![\w])")
_VAT_LIKE = re.compile(r"(?<![\w])[A-Z]{2}[ .-]?[0-9][0-9A-Z .-]{5,14}[0-9A-Z](?![\w])")
_XML_ELEMENT = re.compile(r"(<(?:[\w.-]+:)?([\w.-]+)(?:\s[^<>]*)?>)([^<]+)(?=</)")


def _normalised(key):
    return re.sub(r"[^a-z0-9]", "", str(key).lower())


def is_sensitive_key(key):
    """Whether values under ``key`` are sensitive, however it is spelt."""
    return _normalised(key).endswith(SENSITIVE_KEY_ENDINGS)


def mask_value(value):
    """Keep the first and last two characters of long values, hide the rest."""
    text = str(value)
    if len(text) <= 2 * KEEP + 2:
        return "•" * len(text)
    if "@" in text:
        return text[:KEEP] + "•" * (len(text) - KEEP)
    return text[:KEEP] + "•" * (len(text) - 2 * KEEP) + text[-KEEP:]


def _looks_valid(module, candidate):
    """Valid for ``module``, or valid but for its check digits."""
    try:
        module.validate(candidate)
    except InvalidChecksum:
        return True
    except ValidationError:
        return False
    return True


def _is_iban(candidate):
    # the check digits first: two letters and two digits are not enough
    return _iban.is_valid(candidate, check_country=False)


def _is_vat(candidate):
    return _looks_valid(_eu_vat, candidate) or _looks_valid(_gb_vat, candidate)


def _mask_match(check):
    def replace(match):
        text = match.group(0)
        return mask_value(text) if check is None or check(text) else text

    return replace


def _mask_xml_elements(text):
    def replace(match):
        opening, tag, content = match.groups()
        sensitive = is_sensitive_key(tag) or _normalised(tag).endswith(
            SENSITIVE_XML_ENDINGS
        )
        if sensitive and content.strip():
            return opening + mask_value(content)
        return match.group(0)

    return _XML_ELEMENT.sub(replace, text)


def mask_text(text):
    """``text`` with every IBAN, VAT number, participant id, e-mail address
    and phone number in it masked; in XML, the content of elements with a
    sensitive name as well."""
    if not text:
        return text
    text = str(text)
    if "<" in text:
        text = _mask_xml_elements(text)
    text = _EMAIL.sub(_mask_match(None), text)
    text = _IBAN_LIKE.sub(_mask_match(_is_iban), text)
    text = _VAT_LIKE.sub(_mask_match(_is_vat), text)
    text = _PARTICIPANT.sub(_mask_match(None), text)
    return _PHONE.sub(_mask_match(None), text)


def _mask_all(document):
    """Everything below a sensitive key: every scalar masked."""
    if isinstance(document, dict):
        return {key: _mask_all(value) for key, value in document.items()}
    if isinstance(document, list):
        return [_mask_all(item) for item in document]
    if isinstance(document, bool) or document in ("", None):
        return document
    return mask_value(document)


def _is_identifier_of_a_scheme(document, key):
    """``{"scheme": "0208", "id": "0477472701"}``: a party's identifier in an
    identification scheme (ISO 6523, as UBL and Peppol write them)."""
    return _normalised(key) in SCHEME_VALUE_KEYS and any(
        _normalised(other) in SCHEME_KEYS for other in document
    )


def mask_document(document):
    """A copy of ``document`` with sensitive values masked (see above).

    >>> mask_document({"kind": "endpoint", "scheme": "0208", "id": "0477472701"})
    {'kind': 'endpoint', 'scheme': '0208', 'id': '04••••••01'}
    """
    if isinstance(document, dict):
        return {
            key: (
                _mask_all(value)
                if is_sensitive_key(key) or _is_identifier_of_a_scheme(document, key)
                else mask_document(value)
            )
            for key, value in document.items()
        }
    if isinstance(document, list):
        return [mask_document(item) for item in document]
    if isinstance(document, str):
        return mask_text(document)
    return document
