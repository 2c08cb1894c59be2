import pytest
from hypothesis import given
from hypothesis import strategies as st

from lib import envelope

EVENT = {"id": "e1", "type": "supplier.upsert", "data": {}}


def test_single_event_is_one_event():
    events, is_batch = envelope.split_events(dict(EVENT), 10)
    assert (len(events), is_batch) == (1, False)


def test_batch_events_need_ids_and_unique_ones():
    with pytest.raises(envelope.EnvelopeError) as info:
        envelope.split_events(
            {"events": [{"type": "a.b", "data": {}}, EVENT, dict(EVENT)]}, 10
        )
    paths = [error["path"] for error in info.value.errors]
    assert paths == ["$.events[0].id", "$.events[2].id"]
    assert "repeats the id of $.events[1]" in info.value.errors[1]["reason"]


def test_batch_over_the_limit_has_its_own_code():
    with pytest.raises(envelope.EnvelopeError) as info:
        envelope.split_events({"events": [EVENT] * 3}, 2)
    assert info.value.code == "batch_too_large"


def test_unknown_type_lists_the_accepted_ones():
    with pytest.raises(envelope.EnvelopeError) as info:
        envelope.split_events(
            {"id": "e", "type": "x.y", "data": {}}, 1, known_types={"supplier.upsert"}
        )
    assert "accepted: supplier.upsert" in info.value.errors[0]["reason"]


@pytest.mark.parametrize(
    "body",
    [b"", b"{", b"[1,", b'{"a": NaN}', b"\xff\xfe", b'{"a": Infinity}', b"[" * 100000],
)
def test_malformed_bodies_are_refused_cleanly(body):
    with pytest.raises(envelope.EnvelopeError) as info:
        envelope.parse_json(body)
    assert info.value.code == "malformed_json"


@pytest.mark.parametrize(
    "document", [[], "text", 3, None, {"events": []}, {"events": {}}]
)
def test_wrong_shapes_are_refused(document):
    with pytest.raises(envelope.EnvelopeError):
        envelope.split_events(document, 5)


@given(
    st.recursive(
        st.none() | st.booleans() | st.integers() | st.text(),
        lambda c: st.lists(c) | st.dictionaries(st.text(), c),
        max_leaves=20,
    )
)
def test_any_json_value_is_accepted_or_refused_never_crashes(document):
    try:
        envelope.split_events(document, 5)
    except envelope.EnvelopeError as exc:
        assert exc.errors


def test_a_key_repeated_in_one_object_is_malformed_json_naming_the_key():
    body = (
        b'{"id": "e1", "type": "payment.upsert", "data": {"external_id": "P",'
        b' "amount": 10.0, "amount": 1000.0}}'
    )
    with pytest.raises(envelope.EnvelopeError) as info:
        envelope.parse_json(body)
    assert info.value.code == "malformed_json"
    assert "'amount' appears twice" in info.value.errors[0]["reason"]


def test_the_same_key_in_two_objects_is_accepted():
    document = envelope.parse_json(b'{"a": {"amount": 1}, "b": {"amount": 2}}')
    assert document == {"a": {"amount": 1}, "b": {"amount": 2}}
