"""What the hostile-input tests (``test_hostile_*.py``) share.

Each input must either be accepted or be refused with the module's own,
documented error type and a readable message: ``EnvelopeError``,
``PayloadError``, ``validate()`` errors / ``CanonicalError``, ``MappingError``,
``UnsafeXMLError`` (a ValueError), ``SignatureError``. Any other exception is
a crash and fails the test. Whatever the envelope accepts must also be
storable as strict JSON in UTF-8, which is what the exchange log does with it.

Tests whose docstring starts with "Fixed" pin down crashes these suites
found and that were fixed.

A one-line summary ("hostile parsers: N inputs, R rejected cleanly,
A accepted, C crashes") is written when the run is done.
"""

import base64
import json
import traceback
from collections import Counter

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

from lib import canonical
from simulator.hostile import INJECTIONS  # noqa: F401 - shared by the suites

TALLY = Counter(tried=0, rejected=0, accepted=0, crashes=0)
FUZZ = settings(
    max_examples=200,
    deadline=None,
    database=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
NOW = 1_800_000_000
SECRET = "whsec_" + base64.b64encode(b"A" * 32).decode()
OTHER_SECRET = "whsec_" + base64.b64encode(b"B" * 32).decode()
MB = 1024 * 1024

VALID_EVENT = {
    "id": "evt-1",
    "type": "supplier.upsert",
    "occurred_at": "2026-11-26T06:00:00Z",
    "data": {"external_id": "SUP-1", "name": "Acme"},
}
VALID_BODY = json.dumps(VALID_EVENT).encode()


def summary():
    """The one-line tally the test run ends with (see conftest.py)."""
    return (
        f"hostile parsers: {TALLY['tried']} inputs, {TALLY['rejected']} rejected "
        f"cleanly, {TALLY['accepted']} accepted, {TALLY['crashes']} crashes"
    )


def crash(call_name, exc):
    TALLY["crashes"] += 1
    # the last frames only: a RecursionError has a thousand of them
    where = "".join(traceback.format_tb(exc.__traceback__)[-3:])
    raise AssertionError(
        f"crash in {call_name}: {type(exc).__name__}: {str(exc)[:300]}\n{where}"
    ) from None


def expect(call, errors, *args, **kwargs):
    """``call(*args)``: accepted, or refused with one of ``errors``."""
    TALLY["tried"] += 1
    try:
        result = call(*args, **kwargs)
    except errors as exc:
        assert str(exc).strip(), f"{type(exc).__name__} without a message"
        assert "Traceback" not in str(exc)
        TALLY["rejected"] += 1
        return exc
    except Exception as exc:  # anything else is a crash
        crash(getattr(call, "__name__", repr(call)), exc)
    TALLY["accepted"] += 1
    return result


def expect_validation(object_type, document):
    """``canonical.validate``: a list of readable errors, never an exception."""
    TALLY["tried"] += 1
    try:
        errors = canonical.validate(object_type, document)
    except Exception as exc:
        crash("canonical.validate", exc)
    assert isinstance(errors, list)
    for error in errors:
        assert isinstance(error["path"], str) and error["path"].startswith("$")
        assert isinstance(error["reason"], str) and error["reason"].strip()
    TALLY["rejected" if errors else "accepted"] += 1
    return errors


def assert_storable(document):
    """What was accepted goes to the log as strict JSON, UTF-8 encoded."""
    try:
        json.dumps(document, ensure_ascii=False, allow_nan=False).encode("utf-8")
    except (ValueError, UnicodeError) as exc:  # counted as a crash by expect()
        raise AssertionError(
            f"accepted but not storable as JSON in UTF-8: {exc}"
        ) from exc


def nested(depth, leaf=None):
    """A list ``depth`` levels deep, built without recursion."""
    value = leaf
    for _ in range(depth):
        value = [value]
    return value


def nested_dict(depth, leaf="x"):
    value = leaf
    for _ in range(depth):
        value = {"a": value}
    return value


JSON_SCALARS = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(10**30), max_value=10**30)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=40)
)
JSON_VALUES = st.recursive(
    JSON_SCALARS,
    lambda children: st.lists(children, max_size=4)
    | st.dictionaries(st.text(max_size=12), children, max_size=4),
    max_leaves=12,
)
# what a WSGI server can deliver in a header: latin-1 text
HEADER_TEXT = st.text(alphabet=st.characters(max_codepoint=255), max_size=300)

HUGE_INT = 10**400
# nesting beyond the recursion limit, which only Python callers can build
DEEP = (nested(5000), nested_dict(5000))
# the deepest nesting json.loads returns (deeper is refused as "too deep")
JSON_DEPTH = 900
JSON_DEEP = (nested(JSON_DEPTH), nested_dict(JSON_DEPTH))
HOSTILE_VALUES = [
    None,
    True,
    0,
    -1,
    HUGE_INT,
    1e308,
    float("inf"),
    "",
    " ",
    "\x00",
    "x" * MB,
    "9" * 100_000,
    [],
    {},
    ["a"],
    {"a": "b"},
    *DEEP,
    *INJECTIONS,
]
