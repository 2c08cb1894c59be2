"""Masking of sensitive values (bank accounts, tax ids, personal data) in
payloads shown to people without the right to see them, and in logs.

>>> mask_document({"vat": "BE0477472701", "name": "Acme",
...     "bank_accounts": [{"iban": "BE71096123456769"}]})
{'vat': 'BE••••••••01', 'name': 'Acme', 'bank_accounts': [{'iban': 'BE••••••••••••69'}]}
>>> mask_value("ap@acme.example")
'ap•••••••••••••'
"""

import re

# key names, normalised (lower case, letters only), whose values are sensitive
SENSITIVE_KEYS = {
    "iban",
    "bic",
    "accountnumber",
    "bankaccount",
    "accnumber",
    "vat",
    "taxid",
    "vatnumber",
    "companyregistry",
    "registrationnumber",
    "email",
    "phone",
    "phonework",
    "mobile",
    "sharedsecret",
    "password",
    "apikey",
    "secret",
    "token",
}
KEEP = 2


def _normalised(key):
    return re.sub(r"[^a-z]", "", str(key).lower())


def mask_value(value):
    """Keep the first and last two characters of long values, hide the rest."""
    text = str(value)
    if len(text) <= 2 * KEEP + 2:
        return "•" * len(text)
    if "@" in text:
        return text[:KEEP] + "•" * (len(text) - KEEP)
    return text[:KEEP] + "•" * (len(text) - 2 * KEEP) + text[-KEEP:]


def mask_document(document):
    """A copy of ``document`` with the values of sensitive keys masked."""
    if isinstance(document, dict):
        return {
            key: (
                mask_value(value)
                if _normalised(key) in SENSITIVE_KEYS
                and isinstance(value, str | int | float)
                and value not in ("", None)
                else mask_document(value)
            )
            for key, value in document.items()
        }
    if isinstance(document, list):
        return [mask_document(item) for item in document]
    return document
