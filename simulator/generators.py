"""Deterministic canonical events for demos, tests and benchmarks.

Supplier ``n`` always yields the same identifiers, so a re-run is an update
of the same partners, never new ones. VAT numbers and IBANs are unique for
``1 <= n <= 9_999_999`` (affine bijections of ``n`` modulo 10**7) and pass
the Belgian and ISO 13616 mod-97 checks that Odoo (via python-stdnum) applies.

Besides canonical events, ``procurement_*`` and ``ap_*`` build the raw JSON
of the procurement platform (API v2) and the AP-automation tool (API v1) in
the shapes the shipped mappings (``mappings/``) translate; supplier ``n``
there is the same supplier as ``supplier_event(n)``.
"""

import datetime
import random
from decimal import ROUND_HALF_UP, Decimal
from typing import NamedTuple

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


def belgian_enterprise_number(n):
    """``0`` + 7 digits + Belgian mod-97 check digits (10 digits)."""
    _check_n(n)
    first8 = f"0{(n * 104729 + 1234567) % 10**7:07d}"
    return f"{first8}{97 - int(first8) % 97:02d}"


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


# -- external system shapes (see mappings/ and mappings/samples/) -------------

# the procurement platform writes local Brussels time; November is UTC+1
PLATFORM_OFFSET = datetime.timezone(datetime.timedelta(hours=1))
PLATFORM_SUPPLIER_ID_BASE = 4710
PLATFORM_ORDER_ID_BASE = 9000
COMPANY_CODE = "BE01"
TAX_RATES = {"VAT21": Decimal("0.21"), "VAT6": Decimal("0.06")}
# the AP tool was loaded with Odoo's cost centres, the platform has its own
PLATFORM_COST_CENTERS = {"CC-100": "FIN-100", "CC-200": "OPS-200"}
CENT = Decimal("0.01")


class _Item(NamedTuple):
    number: str
    description: str
    unit: str  # UN/ECE Recommendation 20 code
    base_quantity: str
    quantity_places: int
    price: str
    price_places: int
    tax_code: str
    account: str  # the platform's cost-centre account


_CATALOGUE = (
    _Item("PAP-A4-80", "Copy paper A4 80 g/m2, box of 5 reams", "EA", "10", 0,
          "24.90", 2, "VAT21", "CC-100"),
    _Item("COF-BEAN-1", "Coffee beans, fair trade", "KGM", "12.5", 1,
          "18.40", 2, "VAT6", "CC-200"),
    _Item("SRV-CONSULT", "Finance process consulting", "DAY", "3", 0,
          "1234.50", 2, "VAT21", "CC-100"),
    _Item("SRV-MAINT-H", "Maintenance technician", "HUR", "7.5", 1,
          "85.00", 2, "VAT21", "CC-200"),
    _Item("DIESEL", "Diesel fuel", "LTR", "250", 0,
          "1.789", 3, "VAT21", "CC-200"),
)  # fmt: skip


def _european_number(value, places):
    """``Decimal("1234.5")``, 2 -> ``"1.234,50"`` (the platform's export format)."""
    text = f"{value:,.{places}f}"
    return text.replace(",", " ").replace(".", ",").replace(" ", ".")


def _day(n, offset_days=0):
    # n cycles over a year so any supplier/order number gives a valid date
    return BASE_TIME.date() + datetime.timedelta(days=(n - 1) % 365 + offset_days)


def _dotted_enterprise_number(number):
    return f"{number[:4]}.{number[4:7]}.{number[7:]}"


def _spaced(text, size=4):
    return " ".join(text[i : i + size] for i in range(0, len(text), size))


def _order_lines(n):
    """Deterministic lines of order ``n``: 2, 3 or 1 catalogue items."""
    _check_n(n)
    lines = []
    for index in range(1 + n % 3):
        item = _CATALOGUE[(n - 1 + index) % len(_CATALOGUE)]
        lines.append(
            {
                **item._asdict(),
                "line": index + 1,
                "quantity": Decimal(item.base_quantity) * (1 + (n - 1) % 4),
                "price": Decimal(item.price),
            }
        )
    return lines


def procurement_supplier(n, version=1):
    """Supplier ``n`` as the procurement platform's API v2 returns it.

    Mapped by ``mappings/procurement_platform_v2_supplier.json`` it is the
    supplier of ``supplier_update_event(n, version)`` (same VAT, IBAN, times).
    """
    _check_n(n)
    if version < 1:
        raise ValueError("version must be >= 1")
    number = f"{n:06d}"
    name = f"Supplier {number} Ltd"
    enterprise_number = belgian_enterprise_number(n)
    moment = BASE_TIME + datetime.timedelta(days=version - 1, seconds=n - 1)
    return {
        "id": PLATFORM_SUPPLIER_ID_BASE + n,
        "number": f"SUP-{number}",
        # the platform keeps whatever users typed, spaces included
        "name": f" {name} ",
        "status": "active",
        "tax-id": f"BE {_dotted_enterprise_number(enterprise_number)}",
        "registration-number": enterprise_number,
        "primary-contact": {
            "name-given": "Accounts",
            "name-family": "Payable",
            "email": f"AP+{number}@Supplier.Example",
            "phone-work": _phone(n, version),
        },
        "primary-address": {
            "street1": f"{n} Industry Road",
            "street2": "",
            "postal-code": "1000",
            "city": "Brussels",
            "state": None,
            "country": {"code": "be", "name": "Belgium"},
        },
        "currency": {"code": "978"},
        "payment-term": {"code": "NET30"},
        "bank-accounts": [
            {
                "iban": _spaced(belgian_iban(n)),
                "bic": BANK_BIC.lower(),
                "account-holder": name,
            }
        ],
        "updated-at": moment.astimezone(PLATFORM_OFFSET).isoformat(),
        "version": version,
    }


def procurement_purchase_order(n, supplier_n):
    """Approved purchase order ``n`` of supplier ``supplier_n`` (platform API v2).

    Quantities and prices are strings in the platform's European export
    format (``"12,5"``, ``"1.234,50"``), dates ``DD/MM/YYYY``, the approval
    time is naive local time.
    """
    _check_n(supplier_n)
    order_date = _day(n)
    return {
        "id": PLATFORM_ORDER_ID_BASE + n,
        "po-number": f"PO-{n:06d}",
        "status": "issued",
        "version": 1,
        "order-date": order_date.isoformat(),
        "currency": {"code": "EUR"},
        "supplier": {
            "id": PLATFORM_SUPPLIER_ID_BASE + supplier_n,
            "number": f"SUP-{supplier_n:06d}",
            "name": f"Supplier {supplier_n:06d} Ltd",
        },
        "requisition-header": {
            "number": f"REQ-{n:06d}",
            "requested-by": {"login": "j.janssens"},
            "approved-by": {"email": "M.Peeters@Acme.Example"},
            "approved-at": f"{order_date.isoformat()} 09:15:00",
        },
        "order-lines": [
            {
                "line-num": line["line"],
                "item": {"number": line["number"]},
                "description": line["description"],
                "quantity": _european_number(line["quantity"], line["quantity_places"]),
                "uom": {"code": line["unit"]},
                "price": _european_number(line["price"], line["price_places"]),
                "account": {"code": line["account"]},
                "tax-codes": [{"code": line["tax_code"]}],
                "need-by-date": (order_date + datetime.timedelta(days=7)).strftime(
                    "%d/%m/%Y"
                ),
            }
            for line in _order_lines(n)
        ],
        "updated-at": f"{order_date.isoformat()}T10:00:00+01:00",
    }


def ap_supplier(n):
    """Supplier ``n`` as the AP-automation tool's API v1 returns it."""
    _check_n(n)
    number = f"{n:06d}"
    name = f"Supplier {number} Ltd"
    moment = BASE_TIME + datetime.timedelta(seconds=n - 1)
    return {
        "vendorNumber": f"SUP-{number}",
        "vendorName": name,
        "status": "ACTIVE",
        "vatNumber": f"BE{belgian_enterprise_number(n)}",
        "registrationNumber": belgian_enterprise_number(n),
        "email": f"ap+{number}@supplier.example",
        "phone": _phone(n, 1),
        "address": {
            "line1": f"{n} Industry Road",
            "line2": None,
            "postalCode": "1000",
            "city": "Brussels",
            "region": None,
            "countryCode": "BE",
        },
        "currencyCode": "EUR",
        "paymentTermsCode": "NET30",
        "bankAccounts": [
            {"iban": belgian_iban(n), "swiftCode": BANK_BIC, "accountName": name}
        ],
        "modifiedAt": moment.strftime("%Y-%m-%dT%H:%M:%S.000Z"),
        "revision": 1,
    }


def _money(value):
    return float(value.quantize(CENT, rounding=ROUND_HALF_UP))


def ap_invoice(n, supplier_n, po_n=None, credit_note=False):
    """Vendor invoice (or credit note) ``n`` of supplier ``supplier_n`` (AP API v1).

    With ``po_n`` the lines are those of ``procurement_purchase_order(po_n,
    ...)`` and reference its line numbers; a credit note credits one unit of
    the first line. Amounts are JSON numbers; totals add up to the cent.
    """
    _check_n(n)
    _check_n(supplier_n)
    lines = _order_lines(po_n or n)
    if credit_note:
        lines = [{**lines[0], "quantity": Decimal(1)}]
    invoice_date = _day(n, offset_days=7)
    kind, prefix = ("CREDIT_NOTE", "CN") if credit_note else ("INVOICE", "INV")
    line_items, bases = [], {}
    for line in lines:
        net = (line["quantity"] * line["price"]).quantize(CENT, ROUND_HALF_UP)
        tax = net * TAX_RATES[line["tax_code"]]
        bases[line["tax_code"]] = bases.get(line["tax_code"], Decimal(0)) + net
        line_items.append(
            {
                "lineNumber": line["line"],
                "poLineNumber": line["line"] if po_n else None,
                "itemCode": line["number"],
                "description": line["description"],
                "quantity": float(line["quantity"]),
                "unitOfMeasure": line["unit"],
                "unitPrice": float(line["price"]),
                "netAmount": float(net),
                "taxes": [
                    {
                        "code": line["tax_code"],
                        "rate": float(TAX_RATES[line["tax_code"]] * 100),
                        "amount": _money(tax),
                    }
                ],
                "costCenter": PLATFORM_COST_CENTERS[line["account"]],
            }
        )
    # tax is computed per tax code on the summed bases, as on the paper invoice
    summary = [
        {
            "taxCode": code,
            "taxableAmount": float(base),
            "taxAmount": _money(base * TAX_RATES[code]),
        }
        for code, base in sorted(bases.items())
    ]
    net_total = sum(bases.values(), Decimal(0))
    tax_total = sum((Decimal(str(item["taxAmount"])) for item in summary), Decimal(0))
    document = {
        "documentId": f"DOC-{prefix}-{n:06d}",
        "documentType": kind,
        "entity": COMPANY_CODE,
        "vendor": {
            "vendorNumber": f"SUP-{supplier_n:06d}",
            "vendorName": f"Supplier {supplier_n:06d} Ltd",
        },
        "invoiceNumber": f"{prefix}-2026-{n:06d}",
        "invoiceDate": invoice_date.isoformat(),
        "dueDate": (invoice_date + datetime.timedelta(days=30)).isoformat(),
        "currencyCode": "EUR",
        "poNumber": f"PO-{po_n:06d}" if po_n else None,
        "lineItems": line_items,
        "taxSummary": summary,
        "totals": {
            "netAmount": float(net_total),
            "taxAmount": float(tax_total),
            "grossAmount": float(net_total + tax_total),
        },
        "modifiedAt": f"{invoice_date.isoformat()}T08:30:00.000Z",
        "revision": 1,
    }
    if credit_note:
        document["originalInvoiceNumber"] = f"INV-2026-{n:06d}"
    return document
