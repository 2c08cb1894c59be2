"""Forged, replayed and malformed Standard Webhooks signatures (see
hostile_inputs.py)."""

import pytest
from hostile_inputs import (
    FUZZ,
    HEADER_TEXT,
    NOW,
    OTHER_SECRET,
    SECRET,
    VALID_BODY,
    expect,
)
from hypothesis import given
from hypothesis import strategies as st

from lib import (
    standard_webhooks,
)

# -- standard webhooks -----------------------------------------------------------------


def _verify(headers, body=VALID_BODY, secrets=(SECRET,)):
    standard_webhooks.verify(list(secrets), headers, body, now=NOW)
    return True


def _signed(body=VALID_BODY, secret=SECRET, webhook_id="msg_1", timestamp=NOW):
    return standard_webhooks.sign(secret, webhook_id, body, timestamp=timestamp)


def test_forged_replayed_and_malformed_signatures_are_refused():
    good = _signed()
    other_signature = _signed(secret=OTHER_SECRET)["webhook-signature"]
    cases = [
        {},
        {**good, "webhook-id": ""},
        {**good, "webhook-timestamp": ""},
        {**good, "webhook-signature": ""},
        {**good, "webhook-id": "x" * 10_000},
        {**good, "webhook-timestamp": "abc"},
        {**good, "webhook-timestamp": "1.8e9"},
        {**good, "webhook-timestamp": "0x6b49d200"},
        {**good, "webhook-timestamp": "9" * 5000},
        {**good, "webhook-timestamp": "-" + str(NOW)},
        {**good, "webhook-timestamp": str(NOW - 301)},  # replayed late
        {**good, "webhook-timestamp": str(NOW + 301)},
        {**good, "webhook-timestamp": str(NOW + 1)},  # re-dated, same signature
        {**good, "webhook-id": "msg_2"},  # signature of another delivery
        {**good, "webhook-signature": "v1,"},
        {**good, "webhook-signature": "v1"},
        {**good, "webhook-signature": "v1,!!!not-base64!!!"},
        {**good, "webhook-signature": "v1,AAAA"},
        {**good, "webhook-signature": "v1," + "A" * 100_000},
        {**good, "webhook-signature": "v2," + good["webhook-signature"][3:]},
        {**good, "webhook-signature": "V1," + good["webhook-signature"][3:]},
        {**good, "webhook-signature": good["webhook-signature"] + "="},
        {**good, "webhook-signature": good["webhook-signature"].lower()},
        {**good, "webhook-signature": "v1a," + good["webhook-signature"][3:]},
        {**good, "webhook-signature": other_signature},  # another backend's secret
        {**good, "webhook-signature": " ".join([other_signature] * 100)},
        {**good, "webhook-signature": "v1,\xe9\xff" * 50},
        {**good, "webhook-signature": "\t" + good["webhook-signature"]},
    ]
    for headers in cases:
        outcome = expect(_verify, standard_webhooks.SignatureError, headers)
        assert isinstance(outcome, standard_webhooks.SignatureError), headers
    # a body that is not the signed one
    for body in (VALID_BODY + b" ", b"", VALID_BODY[:-1], VALID_BODY.upper()):
        outcome = expect(_verify, standard_webhooks.SignatureError, good, body)
        assert isinstance(outcome, standard_webhooks.SignatureError)
    # backend A's signature checked against backend B's secrets
    outcome = expect(
        _verify, standard_webhooks.SignatureError, good, VALID_BODY, [OTHER_SECRET]
    )
    assert isinstance(outcome, standard_webhooks.SignatureError)


def test_one_good_signature_among_many_is_accepted():
    good = _signed()
    other = _signed(secret=OTHER_SECRET)["webhook-signature"]
    headers = {
        **good,
        "webhook-signature": " ".join([other] * 99 + [good["webhook-signature"]]),
    }
    assert expect(_verify, standard_webhooks.SignatureError, headers) is True
    # header names as a proxy may send them
    titled = {name.title(): value for name, value in good.items()}
    assert expect(_verify, standard_webhooks.SignatureError, titled) is True


@pytest.mark.parametrize(
    "secret",
    [
        "",
        "whsec_",
        "whsec_!!!",
        "whsec_" + "A" * 7,
        "whsec_QUJD",
        "x" * 10_001,
        "whsec_\xe9",
    ],
)
def test_unusable_secrets_are_a_readable_value_error(secret):
    outcome = expect(standard_webhooks.decode_secret, ValueError, secret)
    assert isinstance(outcome, ValueError)


@FUZZ
@given(
    headers=st.dictionaries(
        st.sampled_from(["webhook-id", "webhook-timestamp", "webhook-signature"]),
        HEADER_TEXT,
    ),
    body=st.binary(max_size=200),
)
def test_random_headers_never_crash_verify(headers, body):
    outcome = expect(_verify, standard_webhooks.SignatureError, headers, body)
    assert isinstance(outcome, standard_webhooks.SignatureError)


@FUZZ
@given(
    webhook_id=HEADER_TEXT.filter(lambda text: 0 < len(text) <= 256),
    body=st.binary(max_size=300),
)
def test_any_properly_signed_request_verifies_and_any_change_is_refused(
    webhook_id, body
):
    headers = _signed(body=body, webhook_id=webhook_id)
    assert expect(_verify, standard_webhooks.SignatureError, headers, body) is True
    outcome = expect(_verify, standard_webhooks.SignatureError, headers, body + b"x")
    assert isinstance(outcome, standard_webhooks.SignatureError)
