"""Parsing and validation of the inbound webhook envelope.

A request body is either one event or ``{"events": [...]}``. An event is
``{"id": str, "type": str, "occurred_at": str?, "data": object}``. Errors are
returned as a list of ``{"path", "reason"}`` so senders can fix their payload.

>>> body = b'{"events": [{"id": "e1", "type": "supplier.upsert", "data": {}}]}'
>>> split_events(parse_json(body), 10)[1]
True
>>> try:
...     split_events({"id": "e1", "type": "Supplier", "data": {}}, 10)
... except EnvelopeError as exc:
...     exc.errors[0]["path"]
'$.type'

An event id may not contain the mark of the hub's replays:

>>> try:
...     split_events({"id": "e1:replay:1", "type": "a.b", "data": {}}, 10)
... except EnvelopeError as exc:
...     exc.errors[0]["reason"].split(",")[0]
"must not contain ':replay:'"
"""

import json
import re

EVENT_TYPE_PATTERN = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+$")
MAX_ID_LENGTH = 200
# marks the replays the hub makes of an event (``<id>:replay:<n>``): a sender
# may not use it, or its events could take the keys of future replays
RESERVED_ID_MARK = ":replay:"
# PostgreSQL cannot store NUL; other controls are refused like in master data
CONTROL_CHARACTERS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


class EnvelopeError(Exception):
    def __init__(self, errors, code="invalid_envelope"):
        super().__init__("; ".join(f"{e['path']}: {e['reason']}" for e in errors))
        self.errors = errors
        self.code = code

    def as_response(self):
        return {"error": self.code, "details": self.errors}


def _reject_constant(value):
    raise ValueError(f"{value} is not valid JSON")


class _DuplicateKey(ValueError):
    pass


def _unique_keys(pairs):
    """An object whose keys are unique: a repeated key (``"amount"`` twice) is
    ambiguous, each reader may keep another value, so it is refused.

    >>> try:
    ...     parse_json(b'{"data": {"amount": 10.0, "amount": 1000.0}}')
    ... except EnvelopeError as exc:
    ...     exc.code, exc.errors[0]["reason"]
    ('malformed_json', "the key 'amount' appears twice in one object; send it once")
    """
    document = {}
    for key, value in pairs:
        if key in document:
            raise _DuplicateKey(key)
        document[key] = value
    return document


def _malformed(reason):
    return EnvelopeError([{"path": "$", "reason": reason}], code="malformed_json")


def _storable(document):
    """Refuse what parses but cannot be stored as JSON text again: escaped lone
    surrogates (not Unicode) and numbers beyond float range (they become
    infinity)."""
    try:
        json.dumps(document, ensure_ascii=False, allow_nan=False).encode("utf-8")
    except UnicodeEncodeError as exc:
        raise _malformed("contains text that is not valid Unicode") from exc
    except ValueError as exc:
        raise _malformed("contains a number beyond the supported range") from exc
    return document


def parse_json(body):
    """Decode a UTF-8 JSON body; NaN/Infinity are refused (not JSON)."""
    try:
        text = body.decode("utf-8") if isinstance(body, bytes) else body
        return _storable(
            json.loads(
                text, parse_constant=_reject_constant, object_pairs_hook=_unique_keys
            )
        )
    except _DuplicateKey as exc:
        raise _malformed(
            f"the key {exc.args[0]!r} appears twice in one object; send it once"
        ) from exc
    except UnicodeDecodeError as exc:
        raise _malformed(f"body is not UTF-8 ({exc.reason})") from exc
    except RecursionError as exc:
        raise _malformed("JSON nesting is too deep") from exc
    except ValueError as exc:
        raise _malformed(f"malformed JSON: {exc}") from exc


def _event_errors(event, path, id_required):
    if not isinstance(event, dict):
        return [{"path": path, "reason": "an event must be a JSON object"}]
    errors = []
    event_id = event.get("id")
    if event_id is None:
        if id_required:
            errors.append({"path": f"{path}.id", "reason": "required in a batch"})
    elif not isinstance(event_id, str) or not event_id.strip():
        errors.append({"path": f"{path}.id", "reason": "must be a non-empty string"})
    elif len(event_id) > MAX_ID_LENGTH:
        errors.append(
            {"path": f"{path}.id", "reason": f"longer than {MAX_ID_LENGTH} characters"}
        )
    elif CONTROL_CHARACTERS.search(event_id):
        errors.append(
            {"path": f"{path}.id", "reason": "must not contain control characters"}
        )
    elif RESERVED_ID_MARK in event_id:
        errors.append(
            {
                "path": f"{path}.id",
                "reason": f"must not contain {RESERVED_ID_MARK!r}, which marks the "
                "replays made in Odoo; send the event under another id",
            }
        )
    event_type = event.get("type")
    if not isinstance(event_type, str) or not EVENT_TYPE_PATTERN.match(event_type):
        errors.append(
            {
                "path": f"{path}.type",
                "reason": "required, dotted lower-case name such as 'supplier.upsert'",
            }
        )
    if not isinstance(event.get("data"), dict):
        errors.append({"path": f"{path}.data", "reason": "required, a JSON object"})
    occurred_at = event.get("occurred_at")
    if occurred_at is not None and not isinstance(occurred_at, str):
        errors.append({"path": f"{path}.occurred_at", "reason": "must be a string"})
    return errors


def split_events(document, max_events, known_types=None):
    """Return ``(events, is_batch)`` or raise :class:`EnvelopeError`."""
    if not isinstance(document, dict):
        raise EnvelopeError([{"path": "$", "reason": "body must be a JSON object"}])
    is_batch = "events" in document
    if is_batch:
        events = document["events"]
        if not isinstance(events, list) or not events:
            raise EnvelopeError(
                [{"path": "$.events", "reason": "must be a non-empty list"}]
            )
        if len(events) > max_events:
            raise EnvelopeError(
                [
                    {
                        "path": "$.events",
                        "reason": f"{len(events)} events, at most {max_events} allowed",
                    }
                ],
                code="batch_too_large",
            )
        paths = [f"$.events[{i}]" for i in range(len(events))]
    else:
        events, paths = [document], ["$"]
    errors = []
    seen = {}
    for index, (event, path) in enumerate(zip(events, paths, strict=True)):
        event_errors = _event_errors(event, path, id_required=is_batch)
        if (
            not event_errors
            and known_types is not None
            and event["type"] not in known_types
        ):
            event_errors.append(
                {
                    "path": f"{path}.type",
                    "reason": f"unknown event type {event['type']!r}; "
                    f"accepted: {', '.join(sorted(known_types))}",
                }
            )
        errors.extend(event_errors)
        event_id = isinstance(event, dict) and event.get("id")
        if is_batch and isinstance(event_id, str):
            if event_id in seen:
                errors.append(
                    {
                        "path": f"{path}.id",
                        "reason": f"repeats the id of $.events[{seen[event_id]}]",
                    }
                )
            seen.setdefault(event_id, index)
    if errors:
        raise EnvelopeError(errors)
    return events, is_batch
