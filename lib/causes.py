"""Why an integration message fails: the vocabulary of causes, defined once.

Every failure path names a *cause code* (``tax.unknown_code``) with its
parameters (``{"code": "VAT21"}``). The exception inbox files failing
messages by backend + cause code (+ the one parameter that makes the fix
differ, such as the tax code), so that one cause is one row, however the
messages are worded, and two causes are never merged.

>>> cause = find("tax.unknown_code")
>>> cause.title, cause.kind, cause.key_param, cause.fix
('Tax code not mapped', 'business', 'code', 'add_tax_mapping')
>>> group_key(7, "tax.unknown_code", {"code": "VAT21", "line": "3"})
'7|tax.unknown_code|VAT21'
>>> group_key(7, "supplier.duplicate_vat", {"vat": "BE01", "partner_id": 4})
'7|supplier.duplicate_vat|'
>>> short_title("currency.inactive", {"code": "EUR"})
'Currency not active: EUR'

An unknown or missing code never gets lost: it falls back to the generic
cause of the error kind.

>>> normalize(None, "business")
'decision.needed'
>>> normalize("no.such.code", "transient")
'error.unexpected'
>>> normalize("supplier.duplicate_vat", "permanent")
'supplier.duplicate_vat'
"""

import re
from dataclasses import dataclass

PERMANENT = "permanent"
BUSINESS = "business"
TRANSIENT = "transient"

# the fix action kinds; the model maps each to one window
OPEN_PARTNER = "open_partner"
ADD_TAX_MAPPING = "add_tax_mapping"
ACTIVATE_CURRENCY = "activate_currency"
OPEN_MAPPING = "open_mapping"
EDIT_CREDENTIALS = "edit_credentials"
OPEN_BACKEND = "open_backend"

KIND_LABELS = {
    PERMANENT: "Data or configuration",
    BUSINESS: "Decision needed",
    TRANSIENT: "Temporary (retried automatically)",
}

FIX_LABELS = {
    OPEN_PARTNER: "Open the existing partner",
    ADD_TAX_MAPPING: "Add a tax mapping",
    ACTIVATE_CURRENCY: "Open the currency",
    OPEN_MAPPING: "Open the mapping",
    EDIT_CREDENTIALS: "Re-enter the credential",
    OPEN_BACKEND: "Open the backend",
}


@dataclass(frozen=True)
class Cause:
    """One root cause: its short title, error kind, grouping parameter, fix."""

    code: str
    title: str
    kind: str
    key_param: str | None = None
    fix: str | None = None


_CAUSES = (
    # suppliers
    Cause(
        "supplier.duplicate_vat",
        "Supplier VAT number already used",
        BUSINESS,
        fix=OPEN_PARTNER,
    ),
    Cause(
        "supplier.duplicate_iban",
        "Supplier bank account already used",
        BUSINESS,
        fix=OPEN_PARTNER,
    ),
    Cause(
        "supplier.duplicate_at_source",
        "Supplier duplicated at the source",
        BUSINESS,
        fix=OPEN_PARTNER,
    ),
    Cause(
        "supplier.duplicate_in_batch", "Two suppliers share one identifier", BUSINESS
    ),
    Cause(
        "supplier.link_refused",
        "Partner already linked to another supplier",
        BUSINESS,
        fix=OPEN_PARTNER,
    ),
    Cause("supplier.ambiguous", "Supplier matches several partners", BUSINESS),
    Cause("supplier.unknown", "Supplier not known yet", TRANSIENT),
    Cause("country.unknown", "Country code unknown", PERMANENT, "code"),
    Cause("payment_term.unknown", "Payment term unknown", PERMANENT, "name"),
    # currencies and taxes
    Cause("currency.unknown", "Currency unknown", PERMANENT, "code"),
    Cause(
        "currency.inactive", "Currency not active", BUSINESS, "code", ACTIVATE_CURRENCY
    ),
    Cause(
        "currency.no_rate", "Exchange rate missing", BUSINESS, "code", ACTIVATE_CURRENCY
    ),
    Cause("currency.mismatch", "Currency differs from the order", BUSINESS),
    Cause("tax.unknown_code", "Tax code not mapped", BUSINESS, "code", ADD_TAX_MAPPING),
    Cause(
        "tax.mapping_invalid",
        "Tax mapping points to a wrong record",
        BUSINESS,
        "code",
        ADD_TAX_MAPPING,
    ),
    Cause(
        "tax.no_purchase_tax",
        "No purchase tax for a tax code",
        BUSINESS,
        "code",
        ADD_TAX_MAPPING,
    ),
    Cause(
        "tax.ambiguous",
        "Several purchase taxes for a tax code",
        BUSINESS,
        "code",
        ADD_TAX_MAPPING,
    ),
    Cause("tax.missing", "Invoice line states no taxes", BUSINESS),
    Cause("cost_center.unknown", "Cost center unknown", BUSINESS, "code"),
    Cause("budget.exceeded", "Cost center over budget", BUSINESS, "code"),
    # units, orders, receipts
    Cause("unit.unknown", "Unit of measure unknown", BUSINESS, "unit"),
    Cause("unit.ambiguous", "Unit name used by several units", BUSINESS, "unit"),
    Cause("unit.incompatible", "Units cannot be converted", BUSINESS),
    Cause("unit.rounding", "Quantity finer than the unit allows", BUSINESS),
    Cause("order.unknown", "Purchase order not known yet", TRANSIENT),
    Cause("order.refused", "Order change refused", BUSINESS),
    Cause("order.line_unknown", "Order line unknown", BUSINESS),
    Cause("match.quantity", "Quantity above the order", BUSINESS),
    Cause("match.price", "Price differs from the order", BUSINESS),
    Cause("receipt.refused", "Receipt cannot be booked", BUSINESS),
    # bills and payments
    Cause("bill.duplicate", "Supplier invoice number already recorded", BUSINESS),
    Cause("bill.locked", "Bill already posted or cancelled", BUSINESS),
    Cause("payment.unmatched", "Payment does not match the bills", BUSINESS),
    Cause("payment.difference", "Payment amounts differ from Odoo", BUSINESS),
    Cause("document.changed", "Applied document arrived changed", BUSINESS),
    Cause("document.deleted", "Applied record was deleted in Odoo", BUSINESS),
    # payloads and configuration
    Cause(
        "schema.invalid",
        "Payload does not follow the format",
        PERMANENT,
        "path",
        OPEN_MAPPING,
    ),
    Cause(
        "mapping.failed",
        "Mapping cannot translate the payload",
        PERMANENT,
        None,
        OPEN_MAPPING,
    ),
    Cause("company.unknown", "Entity code without company", PERMANENT, "code"),
    Cause("ownership.refused", "Odoo is the system of record", BUSINESS),
    Cause("event.unknown_type", "No flow for this event type", PERMANENT, "type"),
    Cause(
        "backend.kind_not_allowed",
        "Backend of a kind that may not send this",
        PERMANENT,
        "type",
        OPEN_BACKEND,
    ),
    Cause("payload.altered", "Stored payload was altered", PERMANENT),
    # outbound and transport
    Cause(
        "auth.expired",
        "Credential refused by the other system",
        PERMANENT,
        None,
        EDIT_CREDENTIALS,
    ),
    Cause("delivery.refused", "Receiving system refused the message", PERMANENT),
    Cause("service.unavailable", "Other system not reachable", TRANSIENT),
    Cause("processing.interrupted", "Processing interrupted repeatedly", TRANSIENT),
    # generic, one per error kind: a failure without a code
    Cause("data.invalid", "Data or configuration problem", PERMANENT),
    Cause("decision.needed", "Decision needed", BUSINESS),
    Cause("error.unexpected", "Unexpected error", TRANSIENT),
)

CAUSES = {cause.code: cause for cause in _CAUSES}
GENERIC = {
    PERMANENT: "data.invalid",
    BUSINESS: "decision.needed",
    TRANSIENT: "error.unexpected",
}


# a position in a JSON path: lines[3]
ARRAY_INDEX = re.compile(r"\[\d+\]")


def normalize(code, kind):
    """A known cause code: ``code`` itself, else the generic code of ``kind``."""
    if code in CAUSES:
        return code
    return GENERIC.get(kind, GENERIC[PERMANENT])


def find(code):
    """The :class:`Cause` of ``code`` (generic when unknown).

    >>> find("nothing").code
    'data.invalid'
    """
    return CAUSES.get(code) or CAUSES[GENERIC[PERMANENT]]


def key_value(code, params):
    """The parameter that makes the fix differ, as text ('' when none).

    A path's array positions are dropped: one field wrong on several lines
    is one cause.

    >>> key_value("schema.invalid", {"path": "$.lines[3].price"})
    '$.lines[].price'
    >>> key_value("schema.invalid", None)
    ''
    """
    name = find(code).key_param
    if not name or not params:
        return ""
    value = params.get(name)
    if value in (None, False):
        return ""
    value = str(value)
    if name == "path":
        value = ARRAY_INDEX.sub("[]", value)
    return value[:120]


def group_key(backend_id, code, params):
    """The key one exception group has: backend, cause code, key parameter."""
    return f"{backend_id}|{code}|{key_value(code, params)}"


def short_title(code, params):
    """The one-line title of a group: the cause's title, and its parameter."""
    value = key_value(code, params)
    title = find(code).title
    return f"{title}: {value}" if value else title


def humane_age(seconds):
    """An age as read at a glance.

    >>> [humane_age(s) for s in (20, 600, 3 * 3600 + 50, 3 * 86400)]
    ['now', '10 min', '3 h', '3 d']
    """
    seconds = max(0, int(seconds))
    if seconds < 60:
        return "now"
    if seconds < 3600:
        return f"{seconds // 60} min"
    if seconds < 86400:
        return f"{seconds // 3600} h"
    return f"{seconds // 86400} d"


def policy_table():
    """The causes as a reStructuredText table (for the README).

    >>> policy_table().splitlines()[3]
    '   * - Cause'
    """
    lines = [
        ".. list-table::",
        "   :header-rows: 1",
        "",
        "   * - Cause",
        "     - Kind",
        "     - Fix action",
    ]
    for cause in _CAUSES:
        fix = FIX_LABELS.get(cause.fix, "-")
        title = cause.title + (f" (per {cause.key_param})" if cause.key_param else "")
        kind = KIND_LABELS[cause.kind]
        lines += [f"   * - {title}", f"     - {kind}", f"     - {fix}"]
    return "\n".join(lines)
