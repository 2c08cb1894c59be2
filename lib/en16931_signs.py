"""Signs of an EN 16931 document's charges and allowances, and of a
negative invoice turned into a credit note (pure: no ORM).

A canonical document states every charge and allowance as an amount of 0 or
more; a negative one is stated as the other kind of the opposite amount,
which books the same figures.
"""

from decimal import Decimal  # noqa: F401 - the examples below use it


def by_sign(charges, allowances):
    """``(charges, allowances)`` with no negative amount, as the canonical
    document states them: a negative charge lowers the total as an allowance
    of the opposite amount does, and a negative allowance raises it as a
    charge does. Each keeps its reason and tax; the bill books the same
    figures (a charge line at +amount, an allowance line at -amount).

    >>> by_sign([{"amount": Decimal("-10"), "reason": "Fee"}],
    ...          [{"amount": Decimal("5"), "reason": "Rebate"}])
    ... # doctest: +NORMALIZE_WHITESPACE
    ([], [{'amount': Decimal('10'), 'reason': 'Fee'},
          {'amount': Decimal('5'), 'reason': 'Rebate'}])
    """
    kept = {"charge": [], "allowance": []}
    other = {"charge": "allowance", "allowance": "charge"}
    for kind, entries in (("charge", charges), ("allowance", allowances)):
        for entry in entries:
            if entry["amount"] < 0:
                kept[other[kind]].append(dict(entry, amount=-entry["amount"]))
            else:
                kept[kind].append(entry)
    return kept["charge"], kept["allowance"]


def as_numbers(entries):
    """Charges or allowances as numbers of the canonical document."""
    return [dict(entry, amount=float(entry["amount"])) for entry in entries]


def lines_by_sign(lines):
    """The lines with their own charges and allowances :func:`by_sign`."""
    signed = []
    for line in lines:
        if line.get("line_charges") or line.get("line_allowances"):
            charges, allowances = by_sign(
                line.get("line_charges") or [], line.get("line_allowances") or []
            )
            line = dict(line)  # the keys keep their places
            for key, entries in (
                ("line_charges", charges),
                ("line_allowances", allowances),
            ):
                if entries:
                    line[key] = entries
                else:
                    line.pop(key, None)
        signed.append(line)
    return signed


def turned(lines, charges, allowances, tax_totals):
    """The figures of a negative invoice with their signs turned: a charge
    of 10.00 on it leaves 10.00 less to credit, as an allowance of 10.00 on
    the credit note does (:func:`by_sign` states it so once turned)."""
    turned_lines = []
    for line in lines:
        line = dict(line, quantity=-line["quantity"], line_amount=-line["line_amount"])
        if not line["quantity"]:  # no quantity to carry the sign: the price does
            line["unit_price"] = -line["unit_price"]
        for key in ("line_charges", "line_allowances"):
            if key in line:
                line[key] = [dict(one, amount=-one["amount"]) for one in line[key]]
        turned_lines.append(line)
    turned_charges = [dict(entry, amount=-entry["amount"]) for entry in charges]
    turned_allowances = [dict(entry, amount=-entry["amount"]) for entry in allowances]
    turned_taxes = [
        dict(entry, base=-entry["base"], amount=-entry["amount"])
        for entry in tax_totals
    ]
    return turned_lines, turned_charges, turned_allowances, turned_taxes
