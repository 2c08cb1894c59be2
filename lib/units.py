"""The hub's one unit vocabulary: UN/ECE Recommendation 20 codes and Odoo's units.

Documents from outside (cXML, UBL, mapped JSON) name units by their
Recommendation 20 code; Odoo names its standard units ("Units", "kg",
"Hours"...). :data:`UNECE_UNITS` holds both: each code with its name and the
Odoo unit it means, None when Odoo has no such standard unit. Several codes
can mean one Odoo unit (C62 "one", H87 "piece", EA "each" and PCE are all
"Units"); an Odoo unit is written with the first code of the table that
means it.

>>> [odoo_unit(code) for code in ("C62", "H87", "EA", "PCE", " kgm ")]
['Units', 'Units', 'Units', 'Units', 'kg']

Peppol documents count articles, lump sums and service units (NAR, LS,
E48): all three are Odoo's Units. Odoo has no standard unit for a month or
a kilowatt hour; MON and KWH mean the units a company creates for them,
named Months and kWh:

>>> [odoo_unit(code) for code in ("NAR", "LS", "E48", "MON", "KWH")]
['Units', 'Units', 'Units', 'Months', 'kWh']
>>> unit_name("E48"), unit_name("MON"), unit_code("kWh"), "MON" in odoo_codes()
('service unit', 'month', 'KWH', False)
>>> odoo_unit("PR"), unit_name("PR"), odoo_unit("PAL")
(None, 'pair', None)
>>> inbound_unit("HUR"), inbound_unit("PAL"), inbound_unit(" ")
('Hours', 'PAL', None)
>>> unit_code("Units"), unit_code("m²"), unit_code("Crates")
('EA', 'MTK', 'Crates')

A canonical document may name a unit either way; :func:`odoo_unit_name` says
which Odoo unit it means. Quantities converted between units (by Odoo, in
binary floats) are checked with :func:`fits` before they are booked, and
compared as :func:`figure` Decimals.
"""

from decimal import Decimal
from typing import NamedTuple

from .money import plain, round_half_up, to_decimal


class Unit(NamedTuple):
    name: str  # the Recommendation 20 name
    odoo: str | None  # the name of the Odoo unit it means, None when none
    # False: Odoo has no such standard unit; the hub finds it by this name
    # when the company created it (Months, kWh)
    standard: bool = True


# UN/ECE Recommendation 20 code -> its name and the Odoo unit it means;
# the first code of an Odoo unit is the one the hub writes (EA for "Units")
UNECE_UNITS = {
    # count
    "EA": Unit("each", "Units"),
    "C62": Unit("one", "Units"),
    "H87": Unit("piece", "Units"),
    "PCE": Unit("piece", "Units"),
    "NAR": Unit("number of articles", "Units"),
    "LS": Unit("lump sum", "Units"),
    "E48": Unit("service unit", "Units"),
    "DZN": Unit("dozen", "Dozens"),
    "SET": Unit("set", None),
    "PR": Unit("pair", None),
    "BX": Unit("box", None),
    # mass
    "KGM": Unit("kilogram", "kg"),
    "GRM": Unit("gram", "g"),
    "TNE": Unit("tonne (metric ton)", "t"),
    "LBR": Unit("pound", "lb"),
    "ONZ": Unit("ounce (avoirdupois)", "oz"),
    # time
    "HUR": Unit("hour", "Hours"),
    "DAY": Unit("day", "Days"),
    "MON": Unit("month", "Months", standard=False),
    "ANN": Unit("year", "Years", standard=False),
    # energy
    "KWH": Unit("kilowatt hour", "kWh", standard=False),
    # length
    "MTR": Unit("metre", "m"),
    "MMT": Unit("millimetre", "mm"),
    "CMT": Unit("centimetre", "cm"),
    "KMT": Unit("kilometre", "km"),
    "INH": Unit("inch", "in"),
    "FOT": Unit("foot", "ft"),
    "YRD": Unit("yard", "yd"),
    "SMI": Unit("mile (statute mile)", "mi"),
    # surface
    "MTK": Unit("square metre", "m²"),
    "FTK": Unit("square foot", "ft²"),
    # volume
    "LTR": Unit("litre", "L"),
    "MTQ": Unit("cubic metre", "m³"),
    "INQ": Unit("cubic inch", "in³"),
    "FTQ": Unit("cubic foot", "ft³"),
    "OZA": Unit("fluid ounce (US)", "fl oz (US)"),
    "QT": Unit("quart (US)", "qt (US)"),
    "GLL": Unit("gallon (US)", "gal (US)"),
}

# names Odoo gave its standard units in earlier versions -> today's name
ODOO_UNIT_ALIASES = {"Unit(s)": "Units"}

# Odoo unit name -> the code the hub writes for it
UNECE_CODES = {}
for _code, _unit in UNECE_UNITS.items():
    if _unit.odoo:
        UNECE_CODES.setdefault(_unit.odoo, _code)


def _code(code):
    return (code or "").strip().upper()


def odoo_unit(code):
    """The Odoo unit a UN/ECE code means (case and spaces do not matter), or
    None: an unknown code, or one without a standard Odoo unit."""
    unit = UNECE_UNITS.get(_code(code))
    return unit.odoo if unit else None


def unit_name(code):
    """The Recommendation 20 name of a code, or None when the hub does not know it."""
    unit = UNECE_UNITS.get(_code(code))
    return unit.name if unit else None


def odoo_codes():
    """The codes that mean a standard Odoo unit, sorted (for messages)."""
    return sorted(
        code for code, unit in UNECE_UNITS.items() if unit.odoo and unit.standard
    )


def inbound_unit(code):
    """The unit a canonical line gets for a received code: Odoo's name when the
    code means an Odoo unit, else the code as sent; None when it is blank."""
    return odoo_unit(code) or (code or "").strip() or None


def unit_code(uom):
    """The UN/ECE code of an Odoo unit name; other names pass through."""
    return UNECE_CODES.get(ODOO_UNIT_ALIASES.get(uom, uom), uom)


def odoo_unit_name(unit):
    """The name of the Odoo unit a canonical ``unit`` means: the Odoo unit of a
    UN/ECE code, an Odoo unit's name (in today's spelling), else the text as
    given (a unit the company created); None when blank.

    >>> [odoo_unit_name(u) for u in ("DZN", "c62", "Dozens", "Unit(s)", " kg ")]
    ['Dozens', 'Units', 'Dozens', 'Units', 'kg']
    >>> odoo_unit_name("Box of 10"), odoo_unit_name(" "), odoo_unit_name(None)
    ('Box of 10', None, None)
    """
    text = (unit or "").strip()
    if not text:
        return None
    return odoo_unit(text) or ODOO_UNIT_ALIASES.get(text, text)


def described(unit):
    """A document's unit for a message: its UN/ECE code and meaning when the
    hub knows them (a unit received as a code reaches the hub under the Odoo
    name it means), else the text as received.

    >>> described("Months"), described(" mon "), described("Crates")
    ('MON (month)', 'MON (month)', 'Crates')
    """
    code = _code(unit) if unit_name(unit) else unit_code(odoo_unit_name(unit))
    meaning = unit_name(code)
    return f"{code} ({meaning})" if meaning else unit


# how far from a whole number of rounding steps a converted quantity may be
# and still count as exact: the noise of binary floats, not a quantity
_NOISE = Decimal("1E-6")


def fits(quantity, rounding):
    """Whether ``quantity`` is a whole number of steps of ``rounding`` (the
    precision of a unit in Odoo, such as 0.01), binary float noise aside:
    a converted quantity that unit can record without rounding it.

    >>> fits(24 * (1 / 12), 0.01), fits(0.12 * (1 / 12), 0.01)
    (True, True)
    >>> fits(5 * (1 / 12), 0.01), fits(2.5, 1)
    (False, False)
    """
    steps = to_decimal(quantity) / to_decimal(rounding)
    return abs(steps - steps.to_integral_value()) <= _NOISE


def figure(value, places=9):
    """A quantity or price converted between units (a binary float) as a
    Decimal without the float's noise: half up to ``places`` decimals, far
    below any unit's or price's precision, written without trailing zeros.

    >>> figure(48 * (1 / 12)), figure(3.9999999999999996), figure(50 / 12)
    (Decimal('4'), Decimal('4'), Decimal('4.166666667'))
    >>> figure(2 / (1 / 12)), figure(0.1 + 0.2)
    (Decimal('24'), Decimal('0.3'))
    """
    return Decimal(plain(round_half_up(to_decimal(value), places)))
