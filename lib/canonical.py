"""The canonical model: one JSON Schema (draft 2020-12) per business object.

Whatever system a record comes from, the hub first maps it to the canonical
form (``lib.mapping_engine``), then validates it here before the ORM touches
it. Schemas live in ``schemas/<object type>.json`` at the repository root
(version 1; a later version ``N`` goes to ``<object type>.vN.json``). Errors
are ``{"path": "$.lines[0].quantity", "reason": "must be a number"}`` with
reasons a finance user can act on.

>>> validate("invoice", {**example("invoice"), "document_type": "bill"})
[{'path': '$.document_type', 'reason': 'must be one of: invoice, credit_note'}]
>>> validate("supplier", example("supplier"))
[]
"""

import copy
import datetime
import json
import re
from pathlib import Path

from jsonschema import Draft202012Validator, FormatChecker, ValidationError, validators

from . import supplier_payload

OBJECT_TYPES = (
    "supplier",
    "purchase_order",
    "goods_receipt",
    "invoice",
    "payment",
    "cost_center",
    "order_confirmation",
)
SCHEMA_DIR = Path(__file__).resolve().parent.parent / "schemas"

_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_DATE_TIME = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt][0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]+)?"
    r"([Zz]|[+-][0-9]{2}:[0-9]{2})"
)
_TYPE_NAMES = {
    "string": "a string",
    "number": "a number",
    "integer": "a whole number",
    "boolean": "true or false",
    "object": "an object",
    "array": "a list",
    "null": "null",
}
# schema patterns -> what to tell the user when a value does not match
PATTERN_REASONS = {
    r"\S": "must not be blank",
    "^[A-Z]{3}$": "must be an ISO 4217 currency code such as 'EUR'",
    "^[A-Z]{2}$": "must be an ISO 3166 alpha-2 country code such as 'BE'",
    r"^\s*(?:[A-Za-z]{3}\s*)?$": "must be an ISO 4217 currency code such as 'EUR'",
    r"^\s*(?:[A-Za-z]{2}\s*)?$": "must be an ISO 3166 alpha-2 code such as 'BE'",
}
FORMAT_EXAMPLES = {
    "date": "a date such as 2026-11-26",
    "date-time": "a date and time such as 2026-11-26T06:00:00Z",
    "email": "an e-mail address",
    "iban": "a valid IBAN",
}


class CanonicalError(Exception):
    """A document does not follow the canonical schema; see ``errors``."""

    def __init__(self, errors):
        super().__init__("; ".join(f"{e['path']}: {e['reason']}" for e in errors))
        self.errors = errors


# -- formats -------------------------------------------------------------------

FORMAT_CHECKER = FormatChecker(formats=())


@FORMAT_CHECKER.checks("date", raises=ValueError)
def _is_date(value):
    if not isinstance(value, str):
        return True
    return bool(_DATE.fullmatch(value) and datetime.date.fromisoformat(value))


@FORMAT_CHECKER.checks("date-time", raises=ValueError)
def _is_date_time(value):
    """RFC 3339 with a mandatory offset (``Z`` or ``+01:00``)."""
    if not isinstance(value, str):
        return True
    if not _DATE_TIME.fullmatch(value):
        return False
    normalized = value.upper().replace("Z", "+00:00")
    try:
        # it must also be a moment in UTC: year 9999 at -23:59 is not
        moment = datetime.datetime.fromisoformat(normalized)
        moment.astimezone(datetime.UTC)
    except (ValueError, OverflowError):
        return False
    return True


@FORMAT_CHECKER.checks("email")
def _is_email(value):
    """The check supplier.upsert has always made: blank is "not given"."""
    if not isinstance(value, str) or not value.strip():
        return True
    text = value.strip()
    # the length limit is reported by maxLength; do not run the regex on megabytes
    if len(text) > supplier_payload.MAX_TEXT:
        return True
    return bool(supplier_payload.EMAIL_PATTERN.match(text.lower()))


@FORMAT_CHECKER.checks("iban")
def _is_iban(value):
    """ISO 13616 after removing spaces, dots and dashes; blank is "\\S"'s job."""
    if not isinstance(value, str) or not value.strip():
        return True
    return supplier_payload.iban_is_valid(supplier_payload.compact(value))


def _pattern(validator, pattern, instance, schema):
    # JSON Schema patterns are ECMA-262, where "$" is the end of the text;
    # Python's "$" also matches before a final newline ("EUR\n")
    if not validator.is_type(instance, "string"):
        return
    if pattern.endswith("$") and not pattern.endswith("\\$"):
        pattern = pattern[:-1] + r"\Z"
    if not re.search(pattern, instance):
        yield ValidationError(f"{instance!r} does not match {pattern!r}")


_Validator = validators.extend(Draft202012Validator, {"pattern": _pattern})


# -- schemas -------------------------------------------------------------------

_SCHEMAS = {}
_VALIDATORS = {}


def _schema_file(object_type, version):
    if object_type not in OBJECT_TYPES:
        raise ValueError(
            f"unknown object type {object_type!r}; known: {', '.join(OBJECT_TYPES)}"
        )
    name = f"{object_type}.json" if version == 1 else f"{object_type}.v{version}.json"
    return SCHEMA_DIR / name


def _cached_schema(object_type, version):
    key = (object_type, version)
    if key not in _SCHEMAS:
        path = _schema_file(object_type, version)
        if not path.exists():
            raise ValueError(f"no version {version} of the {object_type} schema")
        _SCHEMAS[key] = json.loads(path.read_text(encoding="utf-8"))
    return _SCHEMAS[key]


def load_schema(object_type, version=1):
    """The JSON Schema of ``object_type`` (a copy: the cache stays intact)."""
    return copy.deepcopy(_cached_schema(object_type, version))


def _validator(object_type, version):
    key = (object_type, version)
    if key not in _VALIDATORS:
        _VALIDATORS[key] = _Validator(
            _cached_schema(object_type, version), format_checker=FORMAT_CHECKER
        )
    return _VALIDATORS[key]


def example(object_type, version=1):
    """A valid document of ``object_type`` (the schema's first example).

    >>> example("payment")["allocations"][0]
    {'invoice_external_id': 'DOC-INV-000001', 'amount': 345.09}
    """
    return copy.deepcopy(_cached_schema(object_type, version)["examples"][0])


def put_optional(document, key, value):
    """Set an optional field only when it has a value (the schemas refuse blanks).

    >>> line = {"line_id": "1"}
    >>> put_optional(line, "uom", None); put_optional(line, "cost_center", "CC1")
    >>> line
    {'line_id': '1', 'cost_center': 'CC1'}
    """
    if value not in (None, "", [], {}):
        document[key] = value


def field_paths(object_type, version=1, required_only=False):
    """Every canonical field as a mapping path, in schema order.

    Objects are walked into (``address.city``), lists of objects become
    ``lines[].quantity``; lists of values and free objects (``tax_codes``,
    ``extensions``) are one path. ``required_only`` keeps the fields that
    must be present whenever their list item exists.

    >>> field_paths("goods_receipt", required_only=True)
    ['external_id', 'purchase_order_external_id', 'receipt_date', 'kind', \
'lines[].po_line_id', 'lines[].quantity']
    """
    paths = []

    def walk(schema, prefix, parent_required):
        required = set(schema.get("required", ()))
        for name, prop in schema.get("properties", {}).items():
            path, is_required = prefix + name, parent_required and name in required
            types = prop.get("type")
            types = types if isinstance(types, list) else [types]
            items = prop.get("items", {})
            if "object" in types and "properties" in prop:
                walk(prop, path + ".", is_required)
            elif "array" in types and "properties" in items:
                # inside a list item "required" restarts: no list, no item
                walk(items, path + "[].", True)
            elif is_required or not required_only:
                paths.append(path)

    walk(_cached_schema(object_type, version), "", True)
    return paths


# -- validation ----------------------------------------------------------------


def _format_path(parts):
    text = "$"
    for part in parts:
        if isinstance(part, int):
            text += f"[{part}]"
        elif isinstance(part, str) and _IDENTIFIER.fullmatch(part):
            text += f".{part}"
        else:
            text += f"[{json.dumps(part) if isinstance(part, str) else repr(part)}]"
    return text


def _sort_key(parts):
    # "." sorts before "[" as in the path text, but lines[2] before lines[10]
    return tuple(
        ("[", part, "") if isinstance(part, int) else (".", 0, str(part))
        for part in parts
    )


# each handler gets (path parts, keyword value, instance, error) and yields
# (path parts, reason); keywords without one keep jsonschema's message


def _required(path, names, instance, _error):
    for name in names:
        if name not in instance:
            yield [*path, name], "is required"


def _dependent_required(path, dependencies, instance, _error):
    for trigger, needed in dependencies.items():
        for name in needed if trigger in instance else ():
            if name not in instance:
                yield [*path, name], f"is required when {trigger} is given"


def _additional_properties(path, _value, instance, error):
    known = error.schema.get("properties", {})
    for name in instance:
        if name not in known:
            yield path, f"must not have the unexpected field {name!r}"


def _type(path, types, _instance, _error):
    types = types if isinstance(types, list) else [types]
    yield path, "must be " + " or ".join(_TYPE_NAMES.get(n, n) for n in types)


def _enum(path, values, _instance, _error):
    yield path, "must be one of: " + ", ".join(str(value) for value in values)


def _pattern_reason(path, pattern, _instance, _error):
    yield path, PATTERN_REASONS.get(pattern, f"must match the pattern {pattern}")


def _format_reason(path, name, instance, _error):
    shown = repr(instance) if len(instance) <= 60 else repr(instance[:57] + "...")
    yield path, f"{shown} is not {FORMAT_EXAMPLES.get(name, name)}"


def _items_count(bound):
    def reason(path, count, _instance, _error):
        yield path, f"must have {bound} {count} item{'s' if count != 1 else ''}"

    return reason


def _bound(words):
    def reason(path, limit, _instance, _error):
        if isinstance(limit, float) and limit.is_integer():
            limit = int(limit)
        yield path, f"must be {words} {limit}"

    return reason


def _max_length(path, length, _instance, _error):
    yield path, f"must be at most {length} characters long"


def _min_length(path, length, _instance, _error):
    if length == 1:
        yield path, "must not be empty"
    else:
        yield path, f"must be at least {length} characters long"


def _unique_items(path, _value, _instance, _error):
    yield path, "must not list the same value twice"


def _alternatives(path, branches, _instance, error):
    # anyOf: [{"required": [a]}, {"required": [b]}] -> "needs a or b"
    if all(set(branch) == {"required"} for branch in branches):
        names = (", ".join(branch["required"]) for branch in branches)
        yield path, f"needs {' or '.join(names)}"
    else:
        yield path, error.message


_REASONS = {
    "required": _required,
    "dependentRequired": _dependent_required,
    "additionalProperties": _additional_properties,
    "type": _type,
    "enum": _enum,
    "pattern": _pattern_reason,
    "format": _format_reason,
    "minItems": _items_count("at least"),
    "maxItems": _items_count("at most"),
    "minimum": _bound("at least"),
    "maximum": _bound("at most"),
    "exclusiveMinimum": _bound("greater than"),
    "exclusiveMaximum": _bound("less than"),
    "maxLength": _max_length,
    "minLength": _min_length,
    "uniqueItems": _unique_items,
    "anyOf": _alternatives,
    "oneOf": _alternatives,
}


def _reasons(error):
    """Yield ``(path parts, reason)`` for one jsonschema error."""
    path = list(error.absolute_path)
    handler = _REASONS.get(error.validator)
    if handler is None:
        yield path, error.message
    else:
        yield from handler(path, error.validator_value, error.instance, error)


def _duplicate_ibans(document):
    """What JSON Schema cannot say: one IBAN once per supplier (compacted)."""
    accounts = document.get("bank_accounts")
    seen = {}
    for index, account in enumerate(accounts if isinstance(accounts, list) else ()):
        iban = account.get("iban") if isinstance(account, dict) else None
        if not isinstance(iban, str) or not iban.strip():
            continue
        iban = supplier_payload.compact(iban)
        if iban in seen:
            yield (
                ["bank_accounts", index, "iban"],
                f"repeats the IBAN of $.bank_accounts[{seen[iban]}]",
            )
        seen.setdefault(iban, index)


def _control_characters(document):
    """Text with NUL or other control characters (tabs and line breaks are
    fine) in the supplier's own fields: no business value needs them, and
    PostgreSQL cannot store NUL."""
    places = [((key,), value) for key, value in document.items()]
    for nested in ("address",):
        if isinstance(document.get(nested), dict):
            places += [
                ((nested, key), value) for key, value in document[nested].items()
            ]
    accounts = document.get("bank_accounts")
    for index, account in enumerate(accounts if isinstance(accounts, list) else ()):
        if isinstance(account, dict):
            places += [
                (("bank_accounts", index, key), value) for key, value in account.items()
            ]
    for parts, value in places:
        if isinstance(value, str) and supplier_payload.CONTROL_CHARACTERS.search(
            value.strip()
        ):
            yield list(parts), "contains a control character"


def _supplier_checks(document):
    yield from _duplicate_ibans(document)
    yield from _control_characters(document)


def _payment_checks(document):
    """What JSON Schema says badly: an allocation of zero settles nothing,
    and a negative amount is a credit note, not an invoice."""
    allocations = document.get("allocations")
    for index, item in enumerate(allocations if isinstance(allocations, list) else ()):
        amount = item.get("amount") if isinstance(item, dict) else None
        if isinstance(amount, bool) or not isinstance(amount, int | float):
            continue  # the schema reports it
        if amount == 0:
            yield ["allocations", index, "amount"], "must not be zero"
        elif amount < 0 and item.get("document_type") == "invoice":
            yield (
                ["allocations", index, "amount"],
                "is negative, which makes it a credit note: set document_type "
                "to credit_note or leave it out",
            )


def _goods_receipt_checks(document):
    """A receipt of the whole order has no lines of that order: they would
    contradict it (lines of the other orders of a ship notice may stay)."""
    order = document.get("purchase_order_external_id")
    if document.get("whole_order") is True and any(
        line.get("purchase_order_external_id", order) == order
        for line in document.get("lines") or ()
    ):
        yield ["lines"], "must be left out when whole_order is true"
    if order in (document.get("whole_orders") or ()):
        yield ["whole_orders"], "repeats the document's own order: use whole_order"


def _order_confirmation_checks(document):
    """Prices the supplier confirms need their currency."""
    lines = document.get("lines")
    priced = any(
        isinstance(line, dict) and "unit_price" in line
        for line in (lines if isinstance(lines, list) else ())
    )
    if priced and "currency" not in document:
        yield ["currency"], "is required when a line states a unit price"


_EXTRA_CHECKS = {
    "supplier": _supplier_checks,
    "payment": _payment_checks,
    "goods_receipt": _goods_receipt_checks,
    "order_confirmation": _order_confirmation_checks,
}


def validate(object_type, document, version=1):
    """Readable errors of ``document`` against the schema, ``[]`` when valid.

    Never raises for a JSON-like ``document``; an unknown ``object_type`` or
    ``version`` is a programming error (ValueError).

    >>> errors = validate("purchase_order", {"external_id": "PO-1", "foo": 1,
    ...     "currency": "euro", "lines": [{"quantity": "12"}]})
    >>> for error in errors[:4]:
    ...     print(error["path"], "->", error["reason"])
    $ -> must not have the unexpected field 'foo'
    $.currency -> must be an ISO 4217 currency code such as 'EUR'
    $.lines[0].description -> is required
    $.lines[0].line_id -> is required
    """
    found = {}
    try:
        for error in _validator(object_type, version).iter_errors(document):
            for parts, reason in _reasons(error):
                found[(_sort_key(parts), reason)] = {
                    "path": _format_path(parts),
                    "reason": reason,
                }
    except RecursionError:  # beyond Python's own limit: not a business document
        return [{"path": "$", "reason": "is nested too deeply"}]
    check = _EXTRA_CHECKS.get(object_type)
    if check and isinstance(document, dict):
        for parts, reason in check(document):
            found[(_sort_key(parts), reason)] = {
                "path": _format_path(parts),
                "reason": reason,
            }
    return [found[key] for key in sorted(found)]


def check(object_type, document, version=1):
    """Return ``document`` when valid, else raise :class:`CanonicalError`."""
    errors = validate(object_type, document, version)
    if errors:
        raise CanonicalError(errors)
    return document
