import base64
import time

import pytest
from hypothesis import given
from hypothesis import strategies as st
from standardwebhooks import Webhook, WebhookVerificationError

from lib import standard_webhooks as sw

SECRET = "whsec_" + base64.b64encode(b"0123456789abcdef0123456789abcdef").decode()
NOW = 1_800_000_000
# The published test vector of the Standard Webhooks specification (its
# repository's Python library tests, test_sign_function; the standardwebhooks
# wheel and sdist do not ship those tests)
VECTOR_SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
VECTOR_ID = "msg_p5jXN8AQM9LWM0D4loKWxJek"
VECTOR_TIMESTAMP = 1614265330
VECTOR_BODY = b'{"test": 2432232314}'
VECTOR_SIGNATURE = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="


def test_signature_matches_the_specification_example():
    signature = sw.compute_signature(
        VECTOR_SECRET, VECTOR_ID, VECTOR_TIMESTAMP, VECTOR_BODY
    )
    assert f"v1,{signature}" == VECTOR_SIGNATURE


def test_the_specification_example_signs_and_verifies():
    headers = sw.sign(VECTOR_SECRET, VECTOR_ID, VECTOR_BODY, VECTOR_TIMESTAMP)
    assert headers == {
        "webhook-id": VECTOR_ID,
        "webhook-timestamp": str(VECTOR_TIMESTAMP),
        "webhook-signature": VECTOR_SIGNATURE,
    }
    sw.verify([VECTOR_SECRET], headers, VECTOR_BODY, now=VECTOR_TIMESTAMP + 60)


def test_the_specification_example_with_a_changed_signature_is_refused():
    # the specification's own negative case: the last character changed
    headers = sw.sign(VECTOR_SECRET, VECTOR_ID, VECTOR_BODY, VECTOR_TIMESTAMP)
    headers["webhook-signature"] = VECTOR_SIGNATURE[:-2] + "A="
    with pytest.raises(sw.SignatureError, match="no signature matches"):
        sw.verify([VECTOR_SECRET], headers, VECTOR_BODY, now=VECTOR_TIMESTAMP)


def test_receivers_using_the_specification_library_accept_the_hub_signature():
    now = int(time.time())
    headers = sw.sign(SECRET, "msg_1", b'{"a": 1}', timestamp=now)
    assert Webhook(SECRET).verify(b'{"a": 1}', headers) == {"a": 1}
    with pytest.raises(WebhookVerificationError):
        Webhook(SECRET).verify(b'{"a": 2}', headers)


def test_bodies_that_are_not_utf8_are_signed_as_raw_bytes():
    body = '<?xml version="1.0" encoding="UTF-16"?><Invoice/>'.encode("utf-16")
    headers = sw.sign(SECRET, "msg_1", body, timestamp=NOW)
    sw.verify([SECRET], headers, body, now=NOW)
    with pytest.raises(sw.SignatureError):
        sw.verify([SECRET], headers, body[:-1] + b"\x01", now=NOW)


def test_valid_request_verifies():
    headers = sw.sign(SECRET, "msg_1", b"{}", timestamp=NOW)
    sw.verify([SECRET], headers, b"{}", now=NOW)


@pytest.mark.parametrize("drift", [-301, 301])
def test_timestamp_outside_tolerance_is_refused(drift):
    headers = sw.sign(SECRET, "msg_1", b"{}", timestamp=NOW + drift)
    with pytest.raises(sw.SignatureError, match="tolerance"):
        sw.verify([SECRET], headers, b"{}", now=NOW)


@pytest.mark.parametrize("drift", [-300, 300])
def test_timestamp_at_the_tolerance_edge_is_accepted(drift):
    headers = sw.sign(SECRET, "msg_1", b"{}", timestamp=NOW + drift)
    sw.verify([SECRET], headers, b"{}", now=NOW)


@pytest.mark.parametrize(
    "missing", ["webhook-id", "webhook-timestamp", "webhook-signature"]
)
def test_missing_header_is_refused(missing):
    headers = sw.sign(SECRET, "msg_1", b"{}", timestamp=NOW)
    del headers[missing]
    with pytest.raises(sw.SignatureError, match="missing"):
        sw.verify([SECRET], headers, b"{}", now=NOW)


def test_any_of_several_signatures_and_secrets_may_match():
    headers = sw.sign(SECRET, "msg_1", b"{}", timestamp=NOW)
    headers["webhook-signature"] = "v1,AAAA v2,xyz " + headers["webhook-signature"]
    old = sw.generate_secret()
    sw.verify([old, SECRET], headers, b"{}", now=NOW)


def test_signature_for_another_id_is_refused():
    headers = sw.sign(SECRET, "msg_1", b"{}", timestamp=NOW)
    headers["webhook-id"] = "msg_2"
    with pytest.raises(sw.SignatureError, match="no signature matches"):
        sw.verify([SECRET], headers, b"{}", now=NOW)


def test_non_numeric_timestamp_is_refused():
    headers = sw.sign(SECRET, "msg_1", b"{}", timestamp=NOW)
    headers["webhook-timestamp"] = "yesterday"
    with pytest.raises(sw.SignatureError, match="integer"):
        sw.verify([SECRET], headers, b"{}", now=NOW)


@pytest.mark.parametrize("secret", ["", "whsec_!!!", "whsec_c2hvcnQ="])
def test_unusable_secret_is_refused(secret):
    with pytest.raises(ValueError):
        sw.decode_secret(secret)


def test_generated_secret_round_trips():
    secret = sw.generate_secret()
    assert secret.startswith("whsec_")
    assert len(sw.decode_secret(secret)) == 32


@given(body=st.binary(max_size=512), tampered=st.binary(min_size=1, max_size=8))
def test_any_change_to_the_body_breaks_the_signature(body, tampered):
    headers = sw.sign(SECRET, "msg_1", body, timestamp=NOW)
    sw.verify([SECRET], headers, body, now=NOW)
    with pytest.raises(sw.SignatureError):
        sw.verify([SECRET], headers, body + tampered, now=NOW)
