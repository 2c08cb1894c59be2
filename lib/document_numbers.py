"""Supplier document numbers compared the way an AP clerk compares them.

Suppliers, scanners and AP tools write one invoice number in several ways:
"INV-7008-001", "inv 7008/001 ", "INV7008001". For duplicate checks and for
finding the bill a remittance pays, the hub compares a normalised key: upper
case, no spaces or punctuation, and no leading zeros before the number that
follows the letters (so "INV-007" and "INV-7" meet, "INV-70" stays apart).

>>> normalise("INV-7008-001"), normalise("inv7008001 "), normalise(" inv 7008/001")
('INV7008001', 'INV7008001', 'INV7008001')
>>> normalise("0042"), normalise("42"), normalise("4200"), normalise("INV-007")
('42', '42', '4200', 'INV7')
>>> normalise("Ré-12"), normalise("--"), normalise(None)
('RÉ12', '', '')

Zeros inside the number are significant: "F2026-0001" and "F2026-001" stay
two numbers. Separators are ignored ("F2026-0001" is "F20260001"), and
without them the hub cannot tell a year from a counter, so stripping the
zeros after a separator would make "F2026-0010" meet "F202610" but not
"F20260010". The invoice number (EN 16931 BT-1) is an identifier whose
characters all count; only the padding right after the letters is taken as
a typing habit. Such a pair is still caught by the possible-duplicate check
(same supplier, amount and date).

>>> normalise("F2026-0001"), normalise("F2026-001"), normalise("F20260001")
('F20260001', 'F2026001', 'F20260001')
"""

import re

_SEPARATORS = re.compile(r"[\W_]+", re.UNICODE)
_LEADING_ZEROS = re.compile(r"^([^0-9]*)0+(?=[0-9])")


def normalise(number):
    """The comparison key of a document number ('' when there is none)."""
    text = _SEPARATORS.sub("", str(number or "").upper())
    return _LEADING_ZEROS.sub(r"\1", text)
