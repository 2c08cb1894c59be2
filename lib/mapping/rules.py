"""Mapping rules: what they are, the paths they read and write, and their checks.

A rule reads one value at a *source* path, converts it with a named
*transform* (``lib.mapping.transforms``) and writes it at a *target* path.
:func:`validate_rules` finds every configuration problem of a mapping before
it is activated, each as ``{"path", "reason"}``.
"""

import datetime
import functools
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from .transforms import TRANSFORM_PARAMETERS, TRANSFORMS, example

_SEGMENT = re.compile(r"^([^.\[\]]+)(\[\])?$")
MAX_DIGITS = 12


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


def list_depth(segments):
    """How many lists (``[]``) a parsed path goes through."""
    return sum(1 for _name, is_list in segments if is_list)


def _check_format(value, transform):
    if not isinstance(value, str) or not value:
        return "must be a format such as '%d/%m/%Y'"
    try:
        parsed = datetime.datetime.strptime(example(value), value)
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
    if target and source and list_depth(target) != list_depth(source):
        errors.append(
            {
                "path": f"{where}.target",
                "reason": f"{rule.target!r} has {list_depth(target)} list "
                f"level(s) ('[]') but source {rule.source!r} has "
                f"{list_depth(source)}",
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
