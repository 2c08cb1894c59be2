"""Field mappings configured by finance admins, applied as pure Python.

A mapping is a list of :class:`Rule`. Each rule reads one value at a *source*
path of the input document, converts it with a named *transform* and writes
it at a *target* path of the output. Paths are dotted; ``[]`` marks a list:
``items[].qty`` reads the ``qty`` of every item and ``lines[].quantity``
writes each result at the same index. Inbound mappings read the external
system's JSON and write canonical paths; outbound mappings are the same rules
with canonical paths as sources. The ORM builds the rules from database
records; nothing here touches Odoo.

>>> rules = [
...     Rule("external_id", "number", "trim", required=True),
...     Rule("lines[].quantity", "items[].qty", "decimal",
...          {"decimal_separator": ","}),
...     Rule("lines[].uom", "items[].unit", "unit"),
... ]
>>> output = apply(rules, {"number": " PO-1 ", "items": [
...     {"qty": "12,5", "unit": "KGM"}, {"qty": "3", "unit": "EA"}]})
>>> output["external_id"], output["lines"]
('PO-1', [{'quantity': 12.5, 'uom': 'kg'}, {'quantity': 3.0, 'uom': 'Units'}])
>>> try:
...     apply(rules, {"items": [{"qty": "12,5x", "unit": "KGM"}]})
... except MappingError as exc:
...     for error in exc.errors:
...         print(error["path"], "->", error["reason"])
number -> is required (for external_id)
items[0].qty -> '12,5x' is not a number with ',' as decimal separator
"""

import copy
import datetime
import functools
import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Context, Decimal, InvalidOperation, localcontext
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

# a missing key, told apart from an explicit JSON null
MISSING = object()
# a scalar list slot whose source value was empty; dropped at the end
_HOLE = object()
_SEGMENT = re.compile(r"^([^.\[\]]+)(\[\])?$")
_SAMPLE_MOMENT = datetime.datetime(2026, 11, 26, 14, 30, 5)
MAX_DIGITS = 12

TRANSFORMS = {
    "copy": "Copy the value as it is",
    "constant": "Always the value of parameter 'value' (no source)",
    "trim": "Text without surrounding spaces (numbers become text)",
    "upper": "Upper-case text without surrounding spaces",
    "lower": "Lower-case text without surrounding spaces",
    "title": "Title-case text without surrounding spaces ('ACME LTD' -> 'Acme Ltd')",
    "compact": "Upper-case text without spaces, dots or dashes (VAT numbers, IBANs)",
    "date": "Date in the 'format' given (e.g. %d/%m/%Y) to ISO YYYY-MM-DD",
    "datetime": "Date and time ('format', 'timezone' for local times) to UTC",
    "decimal": "Number from text with the separators given ('1.234,50' -> 1234.5)",
    "integer": "Whole number",
    "scale": "Number multiplied by 'factor' (0.01: cents to units)",
    "unit": "UN/ECE unit code (C62, KGM, HUR...) to the Odoo unit name",
    "currency": "ISO 4217 numeric code (978) or letters (eur) to 'EUR'",
    "lookup": "Value from the cross-reference table given in 'table'",
    "boolean": "true/false, yes/no, Y/N or 1/0 to true or false",
}

# transform -> {parameter: required?}
TRANSFORM_PARAMETERS = {
    "copy": {},
    "constant": {"value": True},
    "trim": {},
    "upper": {},
    "lower": {},
    "title": {},
    "compact": {},
    "date": {"format": False},
    "datetime": {"format": False, "timezone": False},
    "decimal": {
        "decimal_separator": False,
        "thousands_separator": False,
        "digits": False,
    },
    "integer": {},
    "scale": {"factor": True},
    "unit": {"table": False},
    "currency": {"table": False},
    "lookup": {"table": True, "default": False},
    "boolean": {},
}

# UN/ECE Recommendation 20 codes -> names of Odoo's standard units
UNECE_UNITS = {
    "C62": "Units",
    "EA": "Units",
    "H87": "Units",
    "PCE": "Units",
    "DZN": "Dozens",
    "GRM": "g",
    "KGM": "kg",
    "TNE": "t",
    "LTR": "L",
    "MTQ": "m³",
    "CMT": "cm",
    "MTR": "m",
    "KMT": "km",
    "MTK": "m²",
    "HUR": "Hours",
    "DAY": "Days",
}

# ISO 4217 numeric -> alphabetic codes of the currencies finance teams meet
ISO_4217_NUMERIC = {
    "036": "AUD",
    "124": "CAD",
    "156": "CNY",
    "203": "CZK",
    "208": "DKK",
    "344": "HKD",
    "348": "HUF",
    "356": "INR",
    "376": "ILS",
    "392": "JPY",
    "410": "KRW",
    "484": "MXN",
    "554": "NZD",
    "578": "NOK",
    "682": "SAR",
    "702": "SGD",
    "710": "ZAR",
    "752": "SEK",
    "756": "CHF",
    "764": "THB",
    "784": "AED",
    "826": "GBP",
    "840": "USD",
    "946": "RON",
    "949": "TRY",
    "975": "BGN",
    "978": "EUR",
    "985": "PLN",
    "986": "BRL",
}

_TRUE = frozenset({"true", "yes", "y", "1"})
_FALSE = frozenset({"false", "no", "n", "0"})


class MappingError(Exception):
    """The document (or the mapping itself) cannot be mapped; ``errors`` says why."""

    def __init__(self, errors):
        super().__init__("; ".join(f"{e['path']}: {e['reason']}" for e in errors))
        self.errors = errors


class LookupMissing(Exception):
    """Raised by a lookup callable when its table has no entry for the value.

    Its message, when given, becomes the error reason (e.g. "there is no
    cross-reference table 'x'"); without one the reason is the standard
    "no entry for 'X' in cross-reference table 'Y'".
    """


class _Invalid(Exception):
    """A value a transform cannot convert; the message is the reason."""


@dataclass(frozen=True)
class Rule:
    """One mapped field.

    ``default`` replaces a missing or blank source value and is written as is
    (it is already in target terms, the transform does not apply to it).
    ``required`` makes a value still missing after the default an error.
    Rules run by ``sequence``; constants run after every sourced rule so that
    a constant on ``lines[].x`` reaches every line, whatever its sequence.
    """

    target: str
    source: str | None
    transform: str = "copy"
    params: Mapping = field(default_factory=dict)
    default: object = None
    required: bool = False
    sequence: int = 10

    @classmethod
    def from_dict(cls, data):
        """Build a rule from its JSON form (a shipped mapping file's entry).

        >>> rule = Rule.from_dict({"target": "name", "source": "vendorName",
        ...                        "transform": "trim", "params": None})
        >>> rule.source, rule.transform, rule.params, rule.required
        ('vendorName', 'trim', {}, False)
        """
        unknown = set(data) - set(cls.__dataclass_fields__)
        if unknown:
            raise ValueError(f"unknown rule fields: {', '.join(sorted(unknown))}")
        values = dict(data)
        values["params"] = dict(values.get("params") or {})
        values.setdefault("source", None)
        return cls(**values)

    def as_dict(self):
        return {
            "target": self.target,
            "source": self.source,
            "transform": self.transform,
            "params": dict(self.params),
            "default": self.default,
            "required": self.required,
            "sequence": self.sequence,
        }


def identity_rules(paths, required=()):
    """Copy rules writing each path from the same path, in the given order.

    >>> [(r.target, r.source, r.required, r.sequence)
    ...  for r in identity_rules(["name", "lines[].qty"], required=["name"])]
    [('name', 'name', True, 10), ('lines[].qty', 'lines[].qty', False, 20)]
    """
    required = set(required)
    return [
        Rule(target=path, source=path, required=path in required, sequence=10 * n)
        for n, path in enumerate(paths, start=1)
    ]


def dict_lookup(tables):
    """A lookup callable over ``{table: {key: value}}`` (tests, previews).

    >>> lookup = dict_lookup({"payment_terms": {"NET30": "30 Days"}})
    >>> lookup("payment_terms", "NET30")
    '30 Days'
    """

    def lookup(table, value):
        try:
            return tables[table][value]
        except (KeyError, TypeError):
            raise LookupMissing() from None

    return lookup


# -- paths ---------------------------------------------------------------------


@functools.lru_cache(maxsize=4096)
def parse_path(path):
    """``"items[].qty"`` -> ``(("items", True), ("qty", False))``.

    >>> parse_path("lines[].taxes[].code")
    (('lines', True), ('taxes', True), ('code', False))
    """
    if not isinstance(path, str) or not path:
        raise ValueError("must be a non-empty path such as 'lines[].quantity'")
    segments = []
    for part in path.split("."):
        match = _SEGMENT.match(part)
        if not match:
            raise ValueError(
                f"{path!r} is not a path such as 'lines[].quantity' "
                f"(bad part {part!r})"
            )
        segments.append((match.group(1), bool(match.group(2))))
    return tuple(segments)


def _list_depth(segments):
    return sum(1 for _name, is_list in segments if is_list)


# -- rule validation -----------------------------------------------------------


def _check_format(value, transform):
    if not isinstance(value, str) or not value:
        return "must be a format such as '%d/%m/%Y'"
    try:
        parsed = datetime.datetime.strptime(_SAMPLE_MOMENT.strftime(value), value)
    except (ValueError, re.error):  # re.error: a directive given twice
        return f"{value!r} is not a valid format (use codes such as %d/%m/%Y)"
    if transform == "date" and parsed.date() == datetime.date(1900, 1, 1):
        return f"{value!r} has no day, month or year"
    return None


def _check_timezone(value, _transform):
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError, TypeError):
        return f"{value!r} is not a time zone name such as 'Europe/Brussels'"
    return None


def _check_separator(value, _transform, allow_empty=False):
    if not isinstance(value, str) or len(value) > 1 or (not value and not allow_empty):
        return "must be a single character such as ',' or '.'"
    if value and (value.isdigit() or value in "+-"):
        return "must not be a digit or a sign"
    return None


def _check_digits(value, _transform):
    if isinstance(value, bool) or not isinstance(value, int):
        return "must be a whole number"
    if not 0 <= value <= MAX_DIGITS:
        return f"must be between 0 and {MAX_DIGITS}"
    return None


def _check_factor(value, _transform):
    if isinstance(value, bool) or not isinstance(value, int | float):
        return "must be a number such as 0.01"
    try:
        finite = math.isfinite(value)
    except OverflowError:  # an integer beyond float range
        finite = False
    if not finite:
        return "must be a finite number"
    return None


def _check_table(value, _transform):
    if not isinstance(value, str) or not value.strip():
        return "must be the name of a cross-reference table"
    return None


_PARAMETER_CHECKS = {
    "format": _check_format,
    "timezone": _check_timezone,
    "decimal_separator": _check_separator,
    "thousands_separator": functools.partial(_check_separator, allow_empty=True),
    "digits": _check_digits,
    "factor": _check_factor,
    "table": _check_table,
}


def _params_errors(rule, where):
    accepted = TRANSFORM_PARAMETERS[rule.transform]
    errors = []
    for name in rule.params:
        if name not in accepted:
            known = ", ".join(accepted) or "none"
            errors.append(
                {
                    "path": f"{where}.params.{name}",
                    "reason": f"unknown parameter for transform {rule.transform!r} "
                    f"(accepted: {known})",
                }
            )
            continue
        check = _PARAMETER_CHECKS.get(name)
        reason = check and check(rule.params[name], rule.transform)
        if reason:
            errors.append({"path": f"{where}.params.{name}", "reason": reason})
    for name, required in accepted.items():
        if required and name not in rule.params:
            errors.append(
                {
                    "path": f"{where}.params.{name}",
                    "reason": f"is required by transform {rule.transform!r}",
                }
            )
    separators = [
        rule.params.get(name) for name in ("decimal_separator", "thousands_separator")
    ]
    if rule.transform == "decimal" and (separators[0] or ".") == separators[1]:
        errors.append(
            {
                "path": f"{where}.params.thousands_separator",
                "reason": "must differ from the decimal separator",
            }
        )
    return errors


def _rule_errors(rule, where):
    """Problems of one rule alone; returns ``(errors, parsed target or None)``."""
    if not isinstance(rule, Rule):
        return [{"path": where, "reason": "must be a Rule"}], None
    errors = []
    target = source = None
    try:
        target = parse_path(rule.target)
    except ValueError as exc:
        errors.append({"path": f"{where}.target", "reason": str(exc)})
    if rule.transform not in TRANSFORMS:
        errors.append(
            {
                "path": f"{where}.transform",
                "reason": f"unknown transform {rule.transform!r} "
                f"(known: {', '.join(TRANSFORMS)})",
            }
        )
    elif not isinstance(rule.params, Mapping):
        errors.append({"path": f"{where}.params", "reason": "must be an object"})
    else:
        errors.extend(_params_errors(rule, where))
    if rule.transform == "constant":
        if target and target[-1][1]:
            errors.append(
                {
                    "path": f"{where}.target",
                    "reason": "a constant cannot fill a list of values ('[]' at "
                    "the end)",
                }
            )
    elif rule.source is None:
        errors.append(
            {"path": f"{where}.source", "reason": "is required (except for constants)"}
        )
    else:
        try:
            source = parse_path(rule.source)
        except ValueError as exc:
            errors.append({"path": f"{where}.source", "reason": str(exc)})
    if target and source and _list_depth(target) != _list_depth(source):
        errors.append(
            {
                "path": f"{where}.target",
                "reason": f"{rule.target!r} has {_list_depth(target)} list "
                f"level(s) ('[]') but source {rule.source!r} has "
                f"{_list_depth(source)}",
            }
        )
    if not isinstance(rule.required, bool):
        errors.append({"path": f"{where}.required", "reason": "must be true or false"})
    if isinstance(rule.sequence, bool) or not isinstance(rule.sequence, int):
        errors.append({"path": f"{where}.sequence", "reason": "must be a whole number"})
    return errors, target


def _target_clash(first, second):
    """Why two parsed targets cannot both be written, or None."""
    for (name, is_list), (other, other_is_list) in zip(first, second, strict=False):
        if name != other:
            return None
        if is_list != other_is_list:
            return "uses the same field as a list and as a single value"
    if len(first) == len(second):
        return "is already written by another rule"
    return "overlaps another rule's target (one contains the other)"


def validate_rules(rules):
    """Configuration problems of a mapping, ``[]`` when it can be activated.

    >>> for error in validate_rules([Rule("lines[].qty", "qty"),
    ...                              Rule("x", "y", "decimal", {"digits": "2"})]):
    ...     print(error["path"], "->", error["reason"])
    rules[0].target -> 'lines[].qty' has 1 list level(s) ('[]') but source 'qty' has 0
    rules[1].params.digits -> must be a whole number
    """
    errors, targets = [], []
    for index, rule in enumerate(rules):
        rule_errors, target = _rule_errors(rule, f"rules[{index}]")
        errors.extend(rule_errors)
        if target:
            for other_index, other in targets:
                reason = _target_clash(target, other)
                if reason:
                    errors.append(
                        {
                            "path": f"rules[{index}].target",
                            "reason": f"{rule.target!r} {reason} "
                            f"(rules[{other_index}])",
                        }
                    )
            targets.append((index, target))
    return errors


# -- transforms ------------------------------------------------------------------


def _show(value):
    """A value as quoted in an error reason, kept short."""
    if isinstance(value, str):
        return repr(value if len(value) <= 60 else value[:57] + "...")
    if isinstance(value, bool) or value is None:
        return {True: "true", False: "false", None: "null"}[value]
    if isinstance(value, int | float):
        return repr(value)
    return "a list" if isinstance(value, list) else "an object"


def _text_of(value):
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    if isinstance(value, float) and math.isfinite(value):
        return str(int(value)) if value.is_integer() else repr(value)
    raise _Invalid(f"{_show(value)} is not text")


def _string(value, what):
    if not isinstance(value, str):
        raise _Invalid(f"{_show(value)} is not {what} written as text")
    return value.strip()


def _copy(value, _params, _lookup):
    return copy.deepcopy(value)


def _constant(_value, params, _lookup):
    return copy.deepcopy(params["value"])


def _trim(value, _params, _lookup):
    return _text_of(value)


def _upper(value, _params, _lookup):
    return _text_of(value).upper()


def _lower(value, _params, _lookup):
    return _text_of(value).lower()


def _title(value, _params, _lookup):
    return _text_of(value).title()


def _compact(value, _params, _lookup):
    """``'BE 0133.929.680'`` -> ``'BE0133929680'``."""
    return re.sub(r"[\s.\-]", "", _text_of(value)).upper()


def _example(fmt):
    return _SAMPLE_MOMENT.strftime(fmt)


def _date(value, params, _lookup):
    """``'26/11/2026'`` with ``%d/%m/%Y`` -> ``'2026-11-26'``.

    >>> _date("26/11/2026", {"format": "%d/%m/%Y"}, None)
    '2026-11-26'
    >>> _date("2026-11-26T23:30:00+01:00", {}, None)
    '2026-11-26'
    """
    text = _string(value, "a date")
    fmt = params.get("format")
    try:
        if fmt:
            return datetime.datetime.strptime(text, fmt).date().isoformat()
        if len(text) == 10:
            return datetime.date.fromisoformat(text).isoformat()
        # an ISO date-time: the date as written, without moving time zones
        return datetime.datetime.fromisoformat(text).date().isoformat()
    except ValueError:
        if fmt:
            raise _Invalid(
                f"{_show(value)} is not a date in the format {fmt!r} "
                f"(such as {_example(fmt)!r})"
            ) from None
        raise _Invalid(
            f"{_show(value)} is not an ISO date such as '2026-11-26'"
        ) from None


def _datetime(value, params, _lookup):
    """Any date and time -> ISO UTC; naive ones are in ``timezone`` (default UTC).

    >>> _datetime("2026-11-26 09:15", {"format": "%Y-%m-%d %H:%M",
    ...     "timezone": "Europe/Brussels"}, None)
    '2026-11-26T08:15:00Z'
    >>> _datetime("2026-11-26T07:00:00+01:00", {}, None)
    '2026-11-26T06:00:00Z'
    """
    text = _string(value, "a date and time")
    fmt = params.get("format")
    try:
        if fmt:
            moment = datetime.datetime.strptime(text, fmt)
        else:
            moment = datetime.datetime.fromisoformat(text)
        if moment.tzinfo is None:
            zone = params.get("timezone")
            moment = moment.replace(tzinfo=ZoneInfo(zone) if zone else datetime.UTC)
        moment = moment.astimezone(datetime.UTC).replace(tzinfo=None, microsecond=0)
    except (ValueError, OverflowError):
        if fmt:
            raise _Invalid(
                f"{_show(value)} is not a date and time in the format {fmt!r} "
                f"(such as {_example(fmt)!r})"
            ) from None
        raise _Invalid(
            f"{_show(value)} is not an ISO date and time such as "
            "'2026-11-26T07:00:00+01:00'"
        ) from None
    return moment.isoformat() + "Z"


@functools.lru_cache(maxsize=64)
def _number_pattern(decimal_separator, thousands_separator):
    point = re.escape(decimal_separator)
    if thousands_separator:
        # a space separator also matches the no-break spaces spreadsheets write
        group = (
            "[ \u00a0\u202f]"
            if thousands_separator == " "
            else re.escape(thousands_separator)
        )
        whole = rf"(?:[0-9]{{1,3}}(?:{group}[0-9]{{3}})+|[0-9]+)"
    else:
        group, whole = None, "[0-9]+"
    pattern = re.compile(rf"[+-]?(?:{whole}(?:{point}[0-9]*)?|{point}[0-9]+)")
    return pattern, group


# wide enough to round any finite float to 12 decimals without overflow
_WIDE = Context(prec=400)


def _rounded(number, digits, value):
    if digits is None:
        return number
    try:
        with localcontext(_WIDE):
            return number.quantize(Decimal(1).scaleb(-digits), ROUND_HALF_UP)
    except InvalidOperation:  # text with hundreds of digits
        raise _Invalid(f"{_show(value)} is too large") from None


def _finite_float(number, value):
    result = float(number)
    if not math.isfinite(result):
        raise _Invalid(f"{_show(value)} is too large")
    return result


def _decimal(value, params, _lookup):
    """Text in the separators given -> float; numbers pass through.

    >>> _decimal("1.234,50", {"decimal_separator": ",",
    ...                       "thousands_separator": "."}, None)
    1234.5
    >>> _decimal(2.675, {"digits": 2}, None)
    2.68
    """
    digits = params.get("digits")
    if isinstance(value, int | float) and not isinstance(value, bool):
        if isinstance(value, float) and not math.isfinite(value):
            raise _Invalid(f"{_show(value)} is not a finite number")
        if digits is None:
            return value
        return _finite_float(_rounded(Decimal(repr(value)), digits, value), value)
    decimal_separator = params.get("decimal_separator", ".")
    thousands_separator = params.get("thousands_separator", "")
    text = value.strip() if isinstance(value, str) else None
    pattern, group = _number_pattern(decimal_separator, thousands_separator)
    if text is None or not pattern.fullmatch(text):
        reason = (
            f"{_show(value)} is not a number with {decimal_separator!r} as "
            "decimal separator"
        )
        if thousands_separator:
            reason += f" and {thousands_separator!r} as thousands separator"
        raise _Invalid(reason)
    if group:
        text = re.sub(group, "", text)
    number = Decimal(text.replace(decimal_separator, "."))
    return _finite_float(_rounded(number, digits, value), value)


def _integer(value, _params, _lookup):
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    # int() refuses longer text (Python's 4,300-digit limit)
    if (
        isinstance(value, str)
        and re.fullmatch(r"[+-]?[0-9]+", value.strip())
        and len(value.strip()) <= 4000
    ):
        return int(value)
    raise _Invalid(f"{_show(value)} is not a whole number")


def _scale(value, params, _lookup):
    """``value * factor`` rounded to 6 decimals (``1250`` cents -> ``12.5``)."""
    if isinstance(value, str):
        value = _decimal(value, {}, None)
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise _Invalid(f"{_show(value)} is not a number")
    try:
        finite = math.isfinite(value)
    except OverflowError:  # an integer beyond float range
        finite = False
    if not finite:
        raise _Invalid(f"{_show(value)} is not a finite number")
    with localcontext(_WIDE):
        product = Decimal(repr(value)) * Decimal(repr(params["factor"]))
    return _finite_float(_rounded(product, 6, value), value)


def _lookup_value(lookup, table, key, params):
    if lookup is None:
        raise _Invalid(f"no cross-reference lookup available for table {table!r}")
    try:
        return lookup(table, key)
    except LookupMissing as exc:
        if "default" in params:
            return copy.deepcopy(params["default"])
        reason = str(exc) or f"no entry for {key!r} in cross-reference table {table!r}"
        raise _Invalid(reason) from None


def _unit(value, params, lookup):
    code = _text_of(value)
    if params.get("table"):
        return _lookup_value(lookup, params["table"], code, {})
    try:
        return UNECE_UNITS[code.upper()]
    except KeyError:
        raise _Invalid(
            f"{_show(value)} is not a known UN/ECE unit code "
            f"(known: {', '.join(sorted(UNECE_UNITS))})"
        ) from None


def _currency(value, params, lookup):
    """``978``, ``"036"`` or ``"eur"`` -> the ISO 4217 letters.

    >>> [_currency(code, {}, None) for code in (978, "036", " eur")]
    ['EUR', 'AUD', 'EUR']
    """
    code = _text_of(value)
    if params.get("table"):
        return _lookup_value(lookup, params["table"], code, {})
    if re.fullmatch(r"[0-9]{1,3}", code):
        try:
            return ISO_4217_NUMERIC[code.zfill(3)]
        except KeyError:
            raise _Invalid(
                f"{_show(value)} is not a known ISO 4217 numeric currency code"
            ) from None
    if re.fullmatch(r"[A-Za-z]{3}", code):
        return code.upper()
    raise _Invalid(f"{_show(value)} is not an ISO 4217 currency such as 'EUR' or 978")


def _lookup(value, params, lookup):
    return _lookup_value(lookup, params["table"], _text_of(value), params)


def _boolean(value, _params, _lookup):
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float) and value in (0, 1):
        return value == 1
    text = value.strip().lower() if isinstance(value, str) else None
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise _Invalid(f"{_show(value)} is not a yes/no value (true/false, Y/N, 1/0)")


_TRANSFORM_FUNCTIONS = {
    "copy": _copy,
    "constant": _constant,
    "trim": _trim,
    "upper": _upper,
    "lower": _lower,
    "title": _title,
    "compact": _compact,
    "date": _date,
    "datetime": _datetime,
    "decimal": _decimal,
    "integer": _integer,
    "scale": _scale,
    "unit": _unit,
    "currency": _currency,
    "lookup": _lookup,
    "boolean": _boolean,
}


def transform(name, value, params=None, lookup=None):
    """Run one transform on one value (the UI's preview); raises MappingError.

    >>> transform("unit", "KGM")
    'kg'
    >>> try:
    ...     transform("decimal", "12,5x", {"decimal_separator": ","})
    ... except MappingError as exc:
    ...     print(exc.errors[0]["reason"])
    '12,5x' is not a number with ',' as decimal separator
    """
    rule = Rule("value", "value", name, params or {})
    errors = validate_rules([rule])
    if errors:
        raise MappingError(errors)
    try:
        return _TRANSFORM_FUNCTIONS[name](value, rule.params, lookup)
    except _Invalid as exc:
        raise MappingError([{"path": "$", "reason": str(exc)}]) from None


# -- reading and writing documents -----------------------------------------------


def _is_empty(value):
    return (
        value is MISSING
        or value is None
        or (isinstance(value, str) and not value.strip())
    )


class _Reading:
    """Values found at one source path, with their list indexes."""

    def __init__(self):
        self.matches = []  # (indexes, value, concrete path)
        self.lists = []  # (indexes of the enclosing items, length)
        self.errors = []


def _missing_below(reading, rest, indexes, path):
    # below a missing parent a single value is missing, a list has no items
    if not any(is_list for _name, is_list in rest):
        tail = "".join(f".{name}" for name, _is_list in rest)
        reading.matches.append((indexes, MISSING, path + tail))


def _read(node, segments, indexes, path, reading):
    (name, is_list), rest = segments[0], segments[1:]
    here = f"{path}.{name}" if path else name
    value = node.get(name, MISSING)
    if not is_list:
        if not rest:
            reading.matches.append((indexes, value, here))
        elif _is_empty(value):
            _missing_below(reading, rest, indexes, here)
        elif not isinstance(value, dict):
            reading.errors.append({"path": here, "reason": "must be an object"})
        else:
            _read(value, rest, indexes, here, reading)
        return
    if _is_empty(value):
        return
    if not isinstance(value, list):
        reading.errors.append({"path": here, "reason": "must be a list"})
        return
    reading.lists.append((indexes, len(value)))
    for index, item in enumerate(value):
        item_path, item_indexes = f"{here}[{index}]", (*indexes, index)
        if not rest:
            reading.matches.append((item_indexes, item, item_path))
        elif item is None:
            _missing_below(reading, rest, item_indexes, item_path)
        elif not isinstance(item, dict):
            reading.errors.append({"path": item_path, "reason": "must be an object"})
        else:
            _read(item, rest, item_indexes, item_path, reading)


def _ensure_list(output, segments, prefix, length):
    """Create the target list under ``prefix`` and one item per source item."""
    node, indexes = output, iter(prefix)
    for position, (name, is_list) in enumerate(segments):
        last = position == len(segments) - 1
        if not is_list:
            node = node.setdefault(name, {})
            continue
        items = node.setdefault(name, [])
        index = next(indexes, None)
        if index is None:
            if not last:
                items.extend({} for _ in range(length - len(items)))
            return
        items.extend({} for _ in range(index + 1 - len(items)))
        node = items[index]


def _write(output, segments, indexes, value, holes):
    node, indexes = output, iter(indexes)
    for position, (name, is_list) in enumerate(segments):
        last = position == len(segments) - 1
        if not is_list:
            if last:
                node[name] = value
            else:
                node = node.setdefault(name, {})
            continue
        items = node.setdefault(name, [])
        index = next(indexes)
        if last:
            if len(items) <= index:
                items.extend([_HOLE] * (index + 1 - len(items)))
                holes.append(items)
            items[index] = value
            return
        items.extend({} for _ in range(index + 1 - len(items)))
        node = items[index]


def _existing_indexes(node, segments, indexes=()):
    """Indexes of the target items that already exist (for constants)."""
    if not segments:
        yield indexes
        return
    (name, is_list), rest = segments[0], segments[1:]
    child = node.get(name) if isinstance(node, dict) else None
    if not is_list:
        if child is not None:
            yield from _existing_indexes(child, rest, indexes)
        return
    for index, item in enumerate(child if isinstance(child, list) else ()):
        yield from _existing_indexes(item, rest, (*indexes, index))


def _apply_sourced(rule, document, output, lookup, errors, holes):
    source, target = parse_path(rule.source), parse_path(rule.target)
    reading = _Reading()
    _read(document, source, (), "", reading)
    errors.extend(reading.errors)
    for prefix, length in reading.lists:
        _ensure_list(output, target, prefix, length)
    function = _TRANSFORM_FUNCTIONS[rule.transform]
    for indexes, value, path in reading.matches:
        if _is_empty(value):
            if _is_empty(rule.default):
                if rule.required:
                    errors.append(
                        {"path": path, "reason": f"is required (for {rule.target})"}
                    )
                continue
            result = copy.deepcopy(rule.default)
        else:
            try:
                result = function(value, rule.params, lookup)
            except _Invalid as exc:
                errors.append({"path": path, "reason": str(exc)})
                continue
        if result is not None:
            _write(output, target, indexes, result, holes)


def _apply_constant(rule, output, errors, holes):
    target = parse_path(rule.target)
    value = rule.params["value"]
    if value is None:
        if rule.required:
            errors.append({"path": rule.target, "reason": "the constant is empty"})
        return
    if not _list_depth(target):
        _write(output, target, (), copy.deepcopy(value), holes)
        return
    # only items that exist: a constant never invents list items
    list_prefix = target[: max(i for i, (_n, flag) in enumerate(target) if flag) + 1]
    for indexes in list(_existing_indexes(output, list_prefix)):
        _write(output, target, indexes, copy.deepcopy(value), holes)


def apply(
    rules,
    document,
    lookup: Callable[[str, object], object] | None = None,
):
    """Map ``document`` with ``rules``; returns the output dict or raises.

    ``lookup(table, key)`` resolves cross-reference tables (``key`` is the
    source value as text) and raises :class:`LookupMissing` for a miss. Every
    problem of every rule is collected before :class:`MappingError` is raised
    once; paths name the source field with its list indexes (``items[2].qty``).
    A missing or blank value (``null``, ``""``) writes nothing unless the rule
    has a default; a source list that is absent writes no list at all.
    """
    rules = list(rules)
    errors = validate_rules(rules)
    if errors:
        raise MappingError(errors)
    if not isinstance(document, dict):
        raise MappingError([{"path": "$", "reason": "must be an object"}])
    output, holes = {}, []
    ordered = sorted(rules, key=lambda rule: rule.sequence)
    for rule in ordered:
        try:
            if rule.transform != "constant":
                _apply_sourced(rule, document, output, lookup, errors, holes)
        except RecursionError:  # copying a value nested hundreds of levels deep
            errors.append(
                {"path": rule.source, "reason": "the value is nested too deeply"}
            )
    for rule in ordered:
        if rule.transform == "constant":
            _apply_constant(rule, output, errors, holes)
    for items in holes:
        items[:] = [item for item in items if item is not _HOLE]
    if errors:
        # several rules reading one broken parent report it once
        unique = {(error["path"], error["reason"]): error for error in errors}
        raise MappingError(list(unique.values()))
    return output
