"""Deterministic canonical events for demos, tests and benchmarks.

Supplier ``n`` always yields the same identifiers, so a re-run is an update
of the same partners, never new ones. VAT numbers and IBANs are unique for
``1 <= n <= 9_999_999`` (affine bijections of ``n`` modulo 10**7) and pass
the Belgian and ISO 13616 mod-97 checks that Odoo (via python-stdnum) applies.
"""

import datetime
import random

BASE_TIME = datetime.datetime(2026, 11, 26, 6, 0, 0, tzinfo=datetime.UTC)
MAX_SUPPLIER = 9_999_999
# Belfius' bank-code range is 050-099, consistent with the BIC below
BANK_CODE = "068"
BANK_BIC = "GKCCBEBB"
TOP_LEVEL_KEYS = ("id", "type", "occurred_at")

_CITIES = (
    ("1000", "Brussels"),
    ("2000", "Antwerpen"),
    ("9000", "Gent"),
    ("4000", "Liège"),
    ("8000", "Brugge"),
    ("3000", "Leuven"),
    ("5000", "Namur"),
)
_STREETS = ("Industry Road", "Rue de la Loi", "Meir", "Korenmarkt", "Avenue Louise")
_PAYMENT_TERMS = ("30 Days", "15 Days", "45 Days", "End of Following Month")


def _check_n(n):
    if not 1 <= n <= MAX_SUPPLIER:
        raise ValueError(f"supplier number must be in 1..{MAX_SUPPLIER}, got {n}")


def _iso(moment):
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def _iban_numeric(iban):
    """ISO 13616: move the first four characters to the end, letters to 10..35."""
    rearranged = iban[4:] + iban[:4]
    return int("".join(str(int(char, 36)) for char in rearranged))


def iban_check_digits(country_code, bban):
    return f"{98 - _iban_numeric(country_code + '00' + bban) % 97:02d}"


def is_valid_iban(iban):
    iban = iban.replace(" ", "").upper()
    if len(iban) < 15 or not iban[:2].isalpha() or not iban[2:].isalnum():
        return False
    return _iban_numeric(iban) % 97 == 1


def belgian_enterprise_number(n):
    """``0`` + 7 digits + Belgian mod-97 check digits (10 digits)."""
    _check_n(n)
    first8 = f"0{(n * 104729 + 1234567) % 10**7:07d}"
    return f"{first8}{97 - int(first8) % 97:02d}"


def is_valid_belgian_vat(vat):
    digits = vat.upper().removeprefix("BE")
    if len(digits) != 10 or not digits.isdigit() or digits[0] not in "01":
        return False
    return (int(digits[:8]) + int(digits[8:])) % 97 == 0


def belgian_iban(n):
    """``BEkk`` + bank code + 7-digit account + national mod-97 check."""
    _check_n(n)
    account = f"{BANK_CODE}{(n * 7919 + 100000) % 10**7:07d}"
    bban = f"{account}{int(account) % 97 or 97:02d}"
    return f"BE{iban_check_digits('BE', bban)}{bban}"


def _phone(n, version):
    # the exchange part moves with the version so updates visibly change it
    return f"+32 2 {555 + 100 * (version - 1) + n // 10000} {n % 10000:04d}"


def _apply_overrides(event, overrides):
    for key, value in overrides.items():
        target = event if key in TOP_LEVEL_KEYS else event["data"]
        if isinstance(value, dict) and isinstance(target.get(key), dict):
            target[key] = {**target[key], **value}
        else:
            target[key] = value
    return event


def _supplier(n, version, seed, overrides):
    _check_n(n)
    if version < 1:
        raise ValueError("version must be >= 1")
    moment = _iso(BASE_TIME + datetime.timedelta(days=version - 1, seconds=n - 1))
    zip_code, city, street, payment_terms = (
        "1000",
        "Brussels",
        "Industry Road",
        "30 Days",
    )
    if seed:
        rng = random.Random(f"{seed}:{n}")
        zip_code, city = rng.choice(_CITIES)
        street = rng.choice(_STREETS)
        payment_terms = rng.choice(_PAYMENT_TERMS)
    number = f"{n:06d}"
    name = f"Supplier {number} Ltd"
    enterprise_number = belgian_enterprise_number(n)
    event = {
        "id": f"evt-sup-{number}-v{version}",
        "type": "supplier.upsert",
        "occurred_at": moment,
        "data": {
            "external_id": f"SUP-{number}",
            "name": name,
            "vat": f"BE{enterprise_number}",
            "company_registry": enterprise_number,
            "email": f"ap+{number}@supplier.example",
            "phone": _phone(n, version),
            "address": {
                "street": f"{n} {street}",
                "street2": "",
                "zip": zip_code,
                "city": city,
                "state_code": "",
                "country_code": "BE",
            },
            "currency": "EUR",
            "payment_terms": payment_terms,
            "bank_accounts": [
                {"iban": belgian_iban(n), "bic": BANK_BIC, "holder": name}
            ],
            "updated_at": moment,
        },
    }
    return _apply_overrides(event, overrides)


def supplier_event(n, seed=None, **overrides):
    """Version 1 ``supplier.upsert`` event of supplier ``n``.

    A non-zero ``seed`` varies city, street and payment terms (still
    deterministic); ``overrides`` replace ``id``/``type``/``occurred_at`` or
    any ``data`` field (dicts such as ``address`` are merged).
    """
    return _supplier(n, 1, seed, overrides)


def supplier_update_event(n, version=2, seed=None, **overrides):
    """A later version of supplier ``n``: new event id, later timestamps, new phone."""
    return _supplier(n, version, seed, overrides)


def supplier_events(count, seed=0, start=1):
    """Events for suppliers ``start`` .. ``start + count - 1``."""
    return [supplier_event(n, seed=seed) for n in range(start, start + count)]
