"""Canonical supplier (``supplier.upsert``): validation and normalisation.

Returns plain dictionaries; turning them into ``res.partner`` values is the
ORM side's job. Every problem is reported as ``{"path", "reason"}``.

>>> supplier = normalize({"external_id": "S1", "name": " Acme ",
...     "bank_accounts": [{"iban": "be71 0961 2345 6769"}]})
>>> supplier["name"], supplier["bank_accounts"][0]["iban"]
('Acme', 'BE71096123456769')
"""

import re

from stdnum import iban as stdnum_iban

MAX_TEXT = 256
# NUL and the other C0 controls have no place in master data (and PostgreSQL
# refuses NUL); tabs and line breaks are tolerated
CONTROL_CHARACTERS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
EMAIL_PATTERN = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
COUNTRY_PATTERN = re.compile(r"^[A-Z]{2}$")
CURRENCY_PATTERN = re.compile(r"^[A-Z]{3}$")


class PayloadError(Exception):
    """The payload is invalid: retrying it cannot succeed."""

    def __init__(self, errors):
        super().__init__(
            "; ".join(f"{error['path']}: {error['reason']}" for error in errors)
        )
        self.errors = errors


def compact(value):
    return re.sub(r"[\s.\-]", "", value or "").upper()


def iban_is_valid(iban):
    """ISO 13616 check of an already compacted IBAN, by python-stdnum: the
    country's length and format, and the mod-97 check digits.

    >>> iban_is_valid("BE71096123456769"), iban_is_valid("BE71096123456768")
    (True, False)
    """
    # national account checks (check_country) would also refuse real IBANs of
    # banks missing from stdnum's registry
    return stdnum_iban.is_valid(iban, check_country=False)


def _text(data, key, errors, path, required=False, max_length=MAX_TEXT):
    value = data.get(key)
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            errors.append({"path": f"{path}.{key}", "reason": "required"})
        return ""
    if not isinstance(value, str):
        errors.append({"path": f"{path}.{key}", "reason": "must be a string"})
        return ""
    value = value.strip()
    if CONTROL_CHARACTERS.search(value):
        errors.append(
            {"path": f"{path}.{key}", "reason": "contains a control character"}
        )
        return ""
    if len(value) > max_length:
        errors.append(
            {"path": f"{path}.{key}", "reason": f"longer than {max_length} characters"}
        )
    return value


def _address(data, errors):
    address = data.get("address") or {}
    if not isinstance(address, dict):
        errors.append({"path": "data.address", "reason": "must be an object"})
        return {}
    result = {
        key: _text(address, key, errors, "data.address")
        for key in ("street", "street2", "zip", "city", "state_code", "country_code")
    }
    result["country_code"] = result["country_code"].upper()
    if result["country_code"] and not COUNTRY_PATTERN.match(result["country_code"]):
        errors.append(
            {
                "path": "data.address.country_code",
                "reason": "must be an ISO 3166 alpha-2 code such as 'BE'",
            }
        )
    return result


def _bank_accounts(data, errors):
    accounts = data.get("bank_accounts") or []
    if not isinstance(accounts, list):
        errors.append({"path": "data.bank_accounts", "reason": "must be a list"})
        return []
    result = []
    for index, account in enumerate(accounts):
        path = f"data.bank_accounts[{index}]"
        if not isinstance(account, dict):
            errors.append({"path": path, "reason": "must be an object"})
            continue
        iban = compact(_text(account, "iban", errors, path, required=True))
        if iban and not iban_is_valid(iban):
            errors.append(
                {"path": f"{path}.iban", "reason": f"{iban} is not a valid IBAN"}
            )
        result.append(
            {
                "iban": iban,
                "bic": compact(_text(account, "bic", errors, path)),
                "holder": _text(account, "holder", errors, path),
            }
        )
    if len({account["iban"] for account in result}) != len(result):
        errors.append(
            {"path": "data.bank_accounts", "reason": "the same IBAN appears twice"}
        )
    return result


def normalize(data):
    """Validate ``data`` and return the normalised supplier, or raise."""
    if not isinstance(data, dict):
        raise PayloadError([{"path": "data", "reason": "must be an object"}])
    errors = []
    supplier = {
        "external_id": _text(data, "external_id", errors, "data", required=True),
        "name": _text(data, "name", errors, "data", required=True),
        "vat": compact(_text(data, "vat", errors, "data", max_length=32)),
        "company_registry": _text(data, "company_registry", errors, "data"),
        "email": _text(data, "email", errors, "data").lower(),
        "phone": _text(data, "phone", errors, "data", max_length=64),
        "currency": _text(data, "currency", errors, "data").upper(),
        "payment_terms": _text(data, "payment_terms", errors, "data"),
        "updated_at": _text(data, "updated_at", errors, "data", max_length=64),
        "address": _address(data, errors),
        "bank_accounts": _bank_accounts(data, errors),
    }
    if supplier["email"] and not EMAIL_PATTERN.match(supplier["email"]):
        errors.append({"path": "data.email", "reason": "is not an e-mail address"})
    if supplier["currency"] and not CURRENCY_PATTERN.match(supplier["currency"]):
        errors.append(
            {"path": "data.currency", "reason": "must be an ISO 4217 code like 'EUR'"}
        )
    if errors:
        raise PayloadError(errors)
    return supplier
