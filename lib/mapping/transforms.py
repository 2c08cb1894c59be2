"""The transforms a mapping rule can apply to a value, and their parameters.

Each transform is a function ``(value, params, lookup) -> result`` that
raises :class:`Invalid` with a reason a finance admin can act on; units go
through the hub's one unit vocabulary (``lib.units``) and cross-reference
tables through the ``lookup`` callable the caller passes.

>>> TRANSFORM_FUNCTIONS["unit"]("C62", {}, None)
'Units'
>>> TRANSFORM_FUNCTIONS["boolean"]("Y", {}, None)
True
"""

import copy
import datetime
import functools
import math
import re
from decimal import Context, Decimal, InvalidOperation, localcontext
from zoneinfo import ZoneInfo

from .. import supplier_payload, units
from ..money import round_half_up

SAMPLE_MOMENT = datetime.datetime(2026, 11, 26, 14, 30, 5)

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


class LookupMissing(Exception):
    """Raised by a lookup callable when its table has no entry for the value.

    Its message, when given, becomes the error reason (e.g. "there is no
    cross-reference table 'x'"); without one the reason is the standard
    "no entry for 'X' in cross-reference table 'Y'".
    """


class Invalid(Exception):
    """A value a transform cannot convert; the message is the reason."""


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
    raise Invalid(f"{_show(value)} is not text")


def _string(value, what):
    if not isinstance(value, str):
        raise Invalid(f"{_show(value)} is not {what} written as text")
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
    return supplier_payload.compact(_text_of(value))


def example(fmt):
    """A sample moment written in ``fmt`` (for messages and format checks)."""
    return SAMPLE_MOMENT.strftime(fmt)


def _not_a_date(value, fmt, what, iso_example):
    if fmt:
        return Invalid(
            f"{_show(value)} is not a {what} in the format {fmt!r} "
            f"(such as {example(fmt)!r})"
        )
    return Invalid(f"{_show(value)} is not an ISO {what} such as {iso_example!r}")


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
        raise _not_a_date(value, fmt, "date", "2026-11-26") from None


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
        raise _not_a_date(
            value, fmt, "date and time", "2026-11-26T07:00:00+01:00"
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
            return round_half_up(number, digits)
    except InvalidOperation:  # text with hundreds of digits
        raise Invalid(f"{_show(value)} is too large") from None


def _finite_float(number, value):
    result = float(number)
    if not math.isfinite(result):
        raise Invalid(f"{_show(value)} is too large")
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
            raise Invalid(f"{_show(value)} is not a finite number")
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
        raise Invalid(reason)
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
    raise Invalid(f"{_show(value)} is not a whole number")


def _scale(value, params, _lookup):
    """``value * factor`` rounded to 6 decimals (``1250`` cents -> ``12.5``)."""
    if isinstance(value, str):
        value = _decimal(value, {}, None)
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise Invalid(f"{_show(value)} is not a number")
    try:
        finite = math.isfinite(value)
    except OverflowError:  # an integer beyond float range
        finite = False
    if not finite:
        raise Invalid(f"{_show(value)} is not a finite number")
    with localcontext(_WIDE):
        product = Decimal(repr(value)) * Decimal(repr(params["factor"]))
    return _finite_float(_rounded(product, 6, value), value)


def _lookup_value(lookup, table, key, params):
    if lookup is None:
        raise Invalid(f"no cross-reference lookup available for table {table!r}")
    try:
        return lookup(table, key)
    except LookupMissing as exc:
        if "default" in params:
            return copy.deepcopy(params["default"])
        reason = str(exc) or f"no entry for {key!r} in cross-reference table {table!r}"
        raise Invalid(reason) from None


def _unit(value, params, lookup):
    code = _text_of(value)
    if params.get("table"):
        return _lookup_value(lookup, params["table"], code, {})
    unit = units.odoo_unit(code)
    if unit:
        return unit
    name = units.unit_name(code)
    if name:
        raise Invalid(
            f"{_show(value)} ({name}) has no standard Odoo unit; map it with a "
            "cross-reference table (parameter 'table')"
        )
    raise Invalid(
        f"{_show(value)} is not a known UN/ECE unit code "
        f"(known: {', '.join(units.odoo_codes())})"
    )


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
            raise Invalid(
                f"{_show(value)} is not a known ISO 4217 numeric currency code"
            ) from None
    if re.fullmatch(r"[A-Za-z]{3}", code):
        return code.upper()
    raise Invalid(f"{_show(value)} is not an ISO 4217 currency such as 'EUR' or 978")


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
    raise Invalid(f"{_show(value)} is not a yes/no value (true/false, Y/N, 1/0)")


TRANSFORM_FUNCTIONS = {
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
