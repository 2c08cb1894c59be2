"""Field mappings configured by finance admins, applied as pure Python.

A mapping is a list of :class:`Rule`. Each rule reads one value at a *source*
path of the input document, converts it with a named *transform* and writes
it at a *target* path of the output. Paths are dotted; ``[]`` marks a list:
``items[].qty`` reads the ``qty`` of every item and ``lines[].quantity``
writes each result at the same index. Inbound mappings read the external
system's JSON and write canonical paths; outbound mappings are the same rules
with canonical paths as sources. The ORM builds the rules from database
records; nothing here touches Odoo.

This module applies mappings and is where callers import every public name
from; rules, paths and their validation live in ``lib.mapping.rules``, the
transforms in ``lib.mapping.transforms``.

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
from collections.abc import Callable

from .mapping.rules import Rule, identity_rules, list_depth, parse_path, validate_rules
from .mapping.transforms import (
    TRANSFORM_FUNCTIONS,
    TRANSFORM_PARAMETERS,
    TRANSFORMS,
    Invalid,
    LookupMissing,
    dict_lookup,
)

__all__ = [
    "MISSING",
    "TRANSFORMS",
    "TRANSFORM_PARAMETERS",
    "LookupMissing",
    "MappingError",
    "Rule",
    "apply",
    "dict_lookup",
    "identity_rules",
    "parse_path",
    "transform",
    "validate_rules",
]

# a missing key, told apart from an explicit JSON null
MISSING = object()
# a scalar list slot whose source value was empty; dropped at the end
_HOLE = object()


class MappingError(Exception):
    """The document (or the mapping itself) cannot be mapped; ``errors`` says why."""

    def __init__(self, errors):
        super().__init__("; ".join(f"{e['path']}: {e['reason']}" for e in errors))
        self.errors = errors


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
        return TRANSFORM_FUNCTIONS[name](value, rule.params, lookup)
    except Invalid as exc:
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
    function = TRANSFORM_FUNCTIONS[rule.transform]
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
            except Invalid as exc:
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
    if not list_depth(target):
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
