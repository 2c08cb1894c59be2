import pytest
from hypothesis import given
from hypothesis import strategies as st

from lib import canonical, units
from lib.outbound_formats import render_ubl_order
from lib.units import inbound_unit, odoo_unit, unit_code, unit_name

# Odoo 18's standard units of measure (addons/uom/data/uom_data.xml)
ODOO_STANDARD_UNITS = [
    "Units",
    "Dozens",
    "Days",
    "Hours",
    "m",
    "mm",
    "km",
    "cm",
    "m²",
    "L",
    "m³",
    "kg",
    "g",
    "t",
    "lb",
    "oz",
    "in",
    "ft",
    "yd",
    "mi",
    "ft²",
    "fl oz (US)",
    "qt (US)",
    "gal (US)",
    "in³",
    "ft³",
]


@pytest.mark.parametrize("code", ["C62", "H87", "EA", "PCE", "c62", " ea "])
def test_every_count_code_means_odoo_units(code):
    assert odoo_unit(code) == "Units"


@pytest.mark.parametrize(
    ("code", "uom"),
    [
        ("DZN", "Dozens"),
        ("KGM", "kg"),
        ("GRM", "g"),
        ("TNE", "t"),
        ("LBR", "lb"),
        ("LTR", "L"),
        ("MTQ", "m³"),
        ("MTR", "m"),
        ("KMT", "km"),
        ("MTK", "m²"),
        ("HUR", "Hours"),
        ("DAY", "Days"),
    ],
)
def test_codes_mean_odoo_units(code, uom):
    assert odoo_unit(code) == uom
    assert unit_code(uom) == code


@pytest.mark.parametrize("uom", ODOO_STANDARD_UNITS)
def test_every_odoo_standard_unit_has_a_code_that_means_it(uom):
    code = unit_code(uom)
    assert code in units.UNECE_UNITS
    assert odoo_unit(code) == uom


def test_units_are_written_as_ea_whatever_the_name_odoo_gave_them():
    assert unit_code("Units") == unit_code("Unit(s)") == "EA"


@pytest.mark.parametrize("code", ["SET", "PR", "BX"])
def test_codes_without_an_odoo_unit_are_known_by_name(code):
    assert odoo_unit(code) is None
    assert unit_name(code) in ("set", "pair", "box")
    assert code not in units.odoo_codes()


def test_units_are_written_with_their_code_in_orders():
    order = {**canonical.example("purchase_order"), "currency": "EUR"}
    order["lines"] = [{**order["lines"][0], "uom": "Hours"}]
    sent = render_ubl_order(order, buyer={"name": "Hub"}, seller={"id": "SUP-1"})
    assert b'unitCode="HUR"' in sent


def test_unknown_codes_and_names():
    assert odoo_unit("PAL") is None and unit_name("PAL") is None
    assert odoo_unit(None) is None
    assert unit_code("Crates") == "Crates"
    assert unit_code(None) is None


def test_received_codes_become_odoo_units_or_stay_as_sent():
    assert inbound_unit(" C62 ") == "Units"
    assert inbound_unit("H87") == "Units"
    assert inbound_unit(" PAL ") == "PAL"
    assert inbound_unit("") is None
    assert inbound_unit(None) is None


@given(st.sampled_from(sorted(units.UNECE_CODES)))
def test_the_code_written_for_an_odoo_unit_reads_back_as_that_unit(uom):
    assert odoo_unit(unit_code(uom)) == uom
