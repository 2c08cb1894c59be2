import base64

import pytest
from hypothesis import given
from hypothesis import strategies as st

from lib import standard_webhooks as sw

SECRET = "whsec_" + base64.b64encode(b"0123456789abcdef0123456789abcdef").decode()
NOW = 1_800_000_000


def test_signature_matches_the_specification_example():
    # example from the Standard Webhooks specification
    secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
    body = b'{"test": 2432232314}'
    signature = sw.compute_signature(
        secret, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, body
    )
    assert signature == "g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="


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
