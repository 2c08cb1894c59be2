import datetime
import doctest

import pytest

from lib import delivery_policy
from lib.delivery_policy import (
    Outcome,
    classify,
    cxml_response_outcome,
    gives_up,
    next_delay,
    parse_retry_after,
)

NOW = datetime.datetime(2026, 11, 26, 8, 0, tzinfo=datetime.UTC)


def _cxml(code, text="", detail=""):
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<!DOCTYPE cXML SYSTEM "http://xml.cxml.org/schemas/cXML/1.2.014/cXML.dtd">\n'
        '<cXML payloadID="1@platform" timestamp="2026-11-26T09:00:00Z"><Response>'
        f'<Status code="{code}" text="{text}">{detail}</Status></Response></cXML>'
    ).encode()


def test_module_examples_hold():
    result = doctest.testmod(delivery_policy, optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0
    assert result.failed == 0


@pytest.mark.parametrize("status", [200, 201, 202, 204, 299])
def test_2xx_is_delivered(status):
    outcome = classify(status, {}, None)
    assert outcome.kind == "delivered"
    assert f"HTTP {status}" in outcome.reason
    assert outcome.retry_after is None


@pytest.mark.parametrize("status", [408, 409, 425, 429, 500, 502, 503, 504, 599])
def test_temporary_answers_are_retried(status):
    assert classify(status, {}, None).kind == "retry"


@pytest.mark.parametrize("status", [400, 401, 403, 404, 405, 410, 413, 415, 422, 451])
def test_other_client_errors_are_permanent(status):
    outcome = classify(status, {}, None)
    assert outcome.kind == "permanent"
    assert outcome.reason.startswith("the receiving system refused the message")


def test_permanent_reason_speaks_to_the_user():
    outcome = classify(422, {}, "  supplier\nSUP-9 is unknown ")
    assert outcome == Outcome(
        "permanent",
        "the receiving system refused the message (HTTP 422 Unprocessable "
        "Entity): supplier SUP-9 is unknown",
        None,
    )
    assert "check the credentials" in classify(401, {}, None).reason
    assert "check the endpoint URL" in classify(404, {}, None).reason


def test_long_details_are_shortened():
    reason = classify(400, {}, "x" * 5000).reason
    assert len(reason) < 400
    assert reason.endswith("...")


def test_redirect_that_was_not_followed_is_permanent():
    outcome = classify(301, {"Location": "https://elsewhere.example/"}, None)
    assert outcome.kind == "permanent"
    assert "https://elsewhere.example/" in outcome.reason
    assert "check the endpoint URL" in outcome.reason


@pytest.mark.parametrize("error", ["ConnectTimeout", "ConnectionError: refused"])
def test_connection_errors_and_timeouts_are_retried(error):
    outcome = classify(None, {}, error)
    assert outcome.kind == "retry"
    assert outcome.reason == f"the receiving system could not be reached: {error}"


def test_no_answer_and_no_error_is_retried():
    assert classify(None, None, None) == Outcome(
        "retry", "the receiving system did not answer", None
    )


def test_unexpected_status_codes_are_retried():
    assert classify(102, {}, None).kind == "retry"
    assert classify(799, {}, None).reason.startswith(
        "the receiving system gave an unexpected answer (HTTP 799)"
    )


def test_retry_after_seconds_is_read_case_insensitively():
    assert classify(429, {"retry-after": "17"}, None).retry_after == 17.0
    assert classify(503, {"RETRY-AFTER": "2.5"}, None).retry_after == 2.5
    assert classify(503, {}, None).retry_after is None


def test_retry_after_http_date():
    headers = {"Retry-After": "Thu, 26 Nov 2026 08:05:00 GMT"}
    assert classify(503, headers, None, now=NOW).retry_after == 300.0


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("0", 0.0),
        ("-30", 0.0),
        ("3600", 3600.0),
        ("999999", 3600.0),
        ("inf", 3600.0),
        ("nan", None),
        ("", None),
        (None, None),
        ("soon", None),
        ("Thu, 26 Nov 2026 07:00:00 GMT", 0.0),  # in the past
        ("Fri, 27 Nov 2026 08:00:00 GMT", 3600.0),  # a day ahead: capped
        ("Thu, 26 Nov 2026 08:00:30 -0000", 30.0),
    ],
)
def test_parse_retry_after(value, expected):
    assert parse_retry_after(value, now=NOW) == expected


def test_retry_after_on_a_permanent_answer_is_ignored():
    assert classify(400, {"Retry-After": "60"}, None).retry_after is None


def test_next_delay_is_full_jitter_exponential_backoff():
    assert next_delay(1, None, base=10, cap=3600, rand=lambda: 1.0) == 10.0
    assert next_delay(4, None, base=10, cap=3600, rand=lambda: 1.0) == 80.0
    assert next_delay(4, None, base=10, cap=3600, rand=lambda: 0.5) == 40.0
    assert next_delay(30, None, base=10, cap=3600, rand=lambda: 1.0) == 3600.0


def test_next_delay_honours_the_receivers_retry_after():
    assert next_delay(1, 120.0, base=10, cap=3600, rand=lambda: 1.0) == 120.0
    assert next_delay(6, 5.0, base=10, cap=3600, rand=lambda: 1.0) == 320.0


def test_next_delay_stays_within_bounds_with_real_randomness():
    for attempt in range(1, 20):
        assert 1.0 <= next_delay(attempt, None, base=10, cap=600) <= 600


def test_gives_up_on_attempts_or_age():
    assert not gives_up(2, 59, max_attempts=3, max_age_seconds=60)
    assert gives_up(3, 0, max_attempts=3, max_age_seconds=60)
    assert gives_up(1, 60, max_attempts=3, max_age_seconds=60)


# -- cXML ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("code", "text"),
    [(200, "OK"), (201, "Accepted"), (204, "No Content"), (280, ""), (281, "")],
)
def test_cxml_success_codes_are_delivered(code, text):
    outcome = cxml_response_outcome(_cxml(code, text))
    assert outcome.kind == "delivered"
    assert f"cXML {code}" in outcome.reason


def test_cxml_409_is_a_duplicate_that_was_already_delivered():
    outcome = cxml_response_outcome(_cxml(409, "Conflict", "payloadID already seen"))
    assert outcome.kind == "delivered"
    assert "duplicate" in outcome.reason
    assert outcome.reason.endswith(": payloadID already seen")


@pytest.mark.parametrize("code", [400, 401, 403, 406, 412, 417, 475])
def test_cxml_client_errors_are_permanent(code):
    outcome = cxml_response_outcome(_cxml(code, "Refused", "Unknown supplier"))
    assert outcome.kind == "permanent"
    assert outcome.reason == (
        f"the platform refused the order (cXML status {code} Refused): "
        "Unknown supplier"
    )


@pytest.mark.parametrize("code", [500, 503, 550, 429])
def test_cxml_server_errors_are_retried(code):
    assert cxml_response_outcome(_cxml(code, "Busy")).kind == "retry"


def test_cxml_500_reason_explains_the_http_200_trap():
    outcome = cxml_response_outcome(
        _cxml(500, "Internal Server Error", "ERP back end is down")
    )
    assert outcome == Outcome(
        "retry",
        "the platform answered HTTP 200 but its cXML status was 500 Internal "
        "Server Error: ERP back end is down",
        None,
    )


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"", "not readable cXML: the document is empty"),
        (b"<html><body>Bad gateway</body></html>", "has no cXML Response Status"),
        (b"<cXML><Response/></cXML>", "has no cXML Response Status"),
        (b"<cXML><Response><Status/></Response></cXML>", "'' is not a number"),
        (b"<cXML><Response><Status code='OK'/></Response></cXML>", "'OK'"),
        (b"<cXML><Response><Status code='200'>", "not readable cXML"),
        (b'<!DOCTYPE x [<!ENTITY a "b">]><cXML/>', "not readable cXML"),
        (b"<cXML><Response><Status code='600'/></Response></cXML>", "unexpected"),
    ],
)
def test_missing_or_unparsable_cxml_status_is_retried(body, reason):
    outcome = cxml_response_outcome(body)
    assert outcome.kind == "retry"
    assert outcome.reason.startswith("the platform answered HTTP 200 but")
    assert reason in outcome.reason


def test_cxml_reason_names_the_actual_http_status():
    outcome = cxml_response_outcome(b"", http_status=202)
    assert outcome.reason.startswith("the platform answered HTTP 202 but")
