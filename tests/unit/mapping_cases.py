"""What the ``test_mapping_*`` tests share: lookup tables and rule runners."""

import pytest

from lib import mapping_engine as me
from lib.mapping_engine import MappingError, Rule

TABLES = {
    "payment_terms": {"NET30": "30 Days"},
    "units": {"kilo": "kg"},
    "currencies": {"1": "EUR"},
    "flags": {"X": None},
}
LOOKUP = me.dict_lookup(TABLES)


def mapped(value, transform, **params):
    return me.apply([Rule("out", "in", transform, params)], {"in": value}, LOOKUP)[
        "out"
    ]


def reasons(document, *rules):
    with pytest.raises(MappingError) as info:
        me.apply(rules, document, LOOKUP)
    return info.value.errors
