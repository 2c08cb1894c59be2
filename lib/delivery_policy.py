"""What an outbound delivery attempt means: delivered, try again, or give up.

``classify`` reads the HTTP answer (or the connection error), and
``cxml_response_outcome`` reads the cXML ``Response`` in the body, because
cXML endpoints answer HTTP 200 even when they refused the order. Reasons are
written for the finance user who reads the exchange log.

>>> classify(202, {}, None).kind
'delivered'
>>> outcome = classify(503, {"Retry-After": "120"}, None)
>>> outcome.kind, outcome.retry_after
('retry', 120.0)
>>> classify(422, {}, "supplier SUP-9 is unknown").reason
'the receiving system refused the message (HTTP 422 Unprocessable Entity): \
supplier SUP-9 is unknown'
>>> next_delay(3, retry_after=None, base=10, cap=3600, rand=lambda: 1.0)
40.0
"""

import datetime
import email.utils
import http
import math
import random
from collections.abc import Mapping
from dataclasses import dataclass

from . import safe_xml
from .retry_policy import RetryPolicy

DELIVERED = "delivered"
RETRY = "retry"
PERMANENT = "permanent"

MAX_RETRY_AFTER = 3600.0  # a receiver must not park our queue for days
MAX_DETAIL_LENGTH = 300
# 4xx answers that mean "not now" rather than "never"
RETRYABLE_CLIENT_ERRORS = {408, 409, 425, 429}

_RETRY_REASONS = {
    408: "the receiving system timed out while reading the message",
    409: "the receiving system reported a conflict with a concurrent change",
    425: "the receiving system asked to send the message again later",
    429: "the receiving system asked us to slow down",
}
_PERMANENT_HINTS = {
    401: "check the credentials in the backend settings",
    403: "check the credentials and permissions in the backend settings",
    404: "check the endpoint URL in the backend settings",
    405: "check the endpoint URL in the backend settings",
    413: "the message is too large for the receiving system",
}


@dataclass(frozen=True)
class Outcome:
    kind: str  # delivered | retry | permanent
    reason: str
    retry_after: float | None = None


def _phrase(status_code):
    try:
        return f"HTTP {status_code} {http.HTTPStatus(status_code).phrase}"
    except ValueError:
        return f"HTTP {status_code}"


def _shorten(text):
    text = " ".join(str(text).split())
    if len(text) > MAX_DETAIL_LENGTH:
        return text[: MAX_DETAIL_LENGTH - 3] + "..."
    return text


def _with_detail(reason, detail):
    return f"{reason}: {_shorten(detail)}" if detail and str(detail).strip() else reason


def _header(headers, name):
    if not headers:
        return None
    value = headers.get(name)
    if value is None and isinstance(headers, Mapping):
        wanted = name.lower()
        for key, candidate in headers.items():
            if str(key).lower() == wanted:
                return candidate
    return value


def parse_retry_after(value, now=None):
    """Seconds to wait from a ``Retry-After`` value; None when unreadable.

    Both forms of RFC 9110 are read; the wait is capped at one hour and a
    date in the past means "now".

    >>> parse_retry_after("30"), parse_retry_after("-5"), parse_retry_after("86400")
    (30.0, 0.0, 3600.0)
    >>> now = datetime.datetime(2026, 11, 26, 8, 0, tzinfo=datetime.UTC)
    >>> parse_retry_after("Thu, 26 Nov 2026 08:02:00 GMT", now=now)
    120.0
    """
    if value is None:
        return None
    text = str(value).strip()
    if not text:
        return None
    try:
        seconds = float(text)
    except ValueError:
        seconds = None
    if seconds is None:
        try:
            when = email.utils.parsedate_to_datetime(text)
        except (TypeError, ValueError, IndexError):
            return None
        if when.tzinfo is None:  # "-0000" dates: RFC 9110 says GMT
            when = when.replace(tzinfo=datetime.UTC)
        now = now or datetime.datetime.now(datetime.UTC)
        seconds = (when - now).total_seconds()
    if math.isnan(seconds):
        return None
    return min(max(seconds, 0.0), MAX_RETRY_AFTER)


def classify(status_code, headers=None, error=None, now=None):
    """Turn one delivery attempt into an :class:`Outcome`.

    ``status_code`` is None when no HTTP answer came back (``error`` then
    holds the connection error or timeout). With a status code, ``error`` may
    carry an excerpt of the answer's body to show the user.
    """
    if status_code is None:
        return Outcome(
            RETRY,
            _with_detail("the receiving system could not be reached", error)
            if error
            else "the receiving system did not answer",
        )
    code = int(status_code)
    phrase = _phrase(code)
    if 200 <= code < 300:
        return Outcome(
            DELIVERED, f"the receiving system accepted the message ({phrase})"
        )
    if code in RETRYABLE_CLIENT_ERRORS or 500 <= code < 600:
        reason = _RETRY_REASONS.get(code, "the receiving system had a problem")
        return Outcome(
            RETRY,
            _with_detail(f"{reason} ({phrase})", error),
            parse_retry_after(_header(headers, "Retry-After"), now=now),
        )
    if 300 <= code < 400:
        location = _header(headers, "Location")
        reason = f"the receiving system redirected the message elsewhere ({phrase})"
        if location:
            reason += f" to {_shorten(location)}"
        return Outcome(PERMANENT, reason + "; check the endpoint URL")
    if 400 <= code < 500:
        reason = f"the receiving system refused the message ({phrase})"
        hint = _PERMANENT_HINTS.get(code)
        if hint:
            reason += f"; {hint}"
        return Outcome(PERMANENT, _with_detail(reason, error))
    # 1xx as a final answer or codes outside HTTP: a broken proxy, try again
    return Outcome(
        RETRY,
        _with_detail(
            f"the receiving system gave an unexpected answer ({phrase})", error
        ),
    )


def next_delay(
    attempt, retry_after=None, base=30.0, cap=6 * 3600.0, rand=random.random
):
    """Seconds before the next attempt: the receiver's wish or the backoff.

    Full-jitter exponential backoff (see ``retry_policy``), never shorter than
    the ``Retry-After`` the receiver asked for.

    >>> next_delay(1, retry_after=300, base=10, cap=3600, rand=lambda: 0.5)
    300.0
    """
    policy = RetryPolicy(base_seconds=base, cap_seconds=cap)
    return float(max(retry_after or 0.0, policy.delay(attempt, rand)))


def gives_up(attempts, age_seconds, max_attempts=8, max_age_seconds=3 * 24 * 3600.0):
    """True when the message goes to the dead-letter state.

    >>> gives_up(3, 60, max_attempts=3), gives_up(1, 60, max_age_seconds=3600)
    (True, False)
    """
    policy = RetryPolicy(max_attempts=max_attempts, max_age_seconds=max_age_seconds)
    return policy.gives_up(attempts, age_seconds)


# -- cXML ----------------------------------------------------------------------


def calls_allowed(breaker_status, consecutive_failures, in_flight, width, threshold):
    """How many delivery calls may be under way at once.

    ``width`` (the backend's parallel deliveries) while the circuit is
    closed, but never more than the failures left before it opens, so an
    outage costs no more calls than one at a time would; while it is open or
    half open, a lone probe, and nothing beside it.

    >>> calls_allowed("closed", 0, 0, width=8, threshold=5)
    5
    >>> calls_allowed("closed", 3, 0, width=8, threshold=5)
    2
    >>> calls_allowed("closed", 0, 0, width=4, threshold=5)
    4
    >>> calls_allowed("half_open", 5, 0, width=8, threshold=5)
    1
    >>> calls_allowed("half_open", 5, 1, width=8, threshold=5)
    0
    """
    if breaker_status != "closed":
        return 0 if in_flight else 1
    return max(min(width, threshold - consecutive_failures), 1)


def cxml_response_outcome(body, http_status=200):
    """Read the ``<Response><Status code=... text=...>`` of a cXML answer.

    Any 2xx cXML status is delivered (201 accepted, 280/281 forwarded by a
    hub); 409 means the platform already has this payloadID, so the order
    was delivered before; 5xx and an unreadable answer are retried.

    >>> cxml_response_outcome(b'<cXML><Response><Status code="200" text="OK"/>'
    ...                       b'</Response></cXML>').kind
    'delivered'
    >>> print(cxml_response_outcome(b'<cXML><Response><Status code="500" '
    ...     b'text="Internal Server Error">ERP down</Status></Response></cXML>').reason)
    the platform answered HTTP 200 but its cXML status was 500 Internal Server \
Error: ERP down
    """
    prefix = f"the platform answered HTTP {http_status} but"
    try:
        root = safe_xml.parse(body or b"")
    except safe_xml.UnsafeXMLError as exc:
        return Outcome(RETRY, f"{prefix} its answer is not readable cXML: {exc}")
    status = root.find("Response/Status") if root.tag == "cXML" else None
    if status is None:
        return Outcome(RETRY, f"{prefix} its answer has no cXML Response Status")
    raw_code = (status.get("code") or "").strip()
    try:
        code = int(raw_code)
    except ValueError:
        return Outcome(
            RETRY, f"{prefix} its cXML status code {raw_code!r} is not a number"
        )
    label = f"{code} {status.get('text') or ''}".strip()
    detail = "".join(status.itertext()).strip()
    if 200 <= code < 300:
        return Outcome(
            DELIVERED,
            _with_detail(f"the platform accepted the order (cXML {label})", detail),
        )
    if code == 409:
        return Outcome(
            DELIVERED,
            _with_detail(
                "the platform already has this order (cXML 409, duplicate "
                "payloadID); it was delivered by an earlier attempt",
                detail,
            ),
        )
    if code in RETRYABLE_CLIENT_ERRORS or 500 <= code < 600:
        return Outcome(
            RETRY, _with_detail(f"{prefix} its cXML status was {label}", detail)
        )
    if 400 <= code < 500:
        return Outcome(
            PERMANENT,
            _with_detail(
                f"the platform refused the order (cXML status {label})", detail
            ),
        )
    return Outcome(
        RETRY, _with_detail(f"{prefix} its cXML status {label} is unexpected", detail)
    )


MAX_EXCERPT = 2000
# answers worth keeping an excerpt of, per format; anything else keeps its
# status line only, so that an internal service's answer is never stored
EXPECTED_ANSWERS = {
    "json": ("application/json", "+json"),
    "cxml_order_request": ("text/xml", "application/xml", "+xml"),
    "ubl_order": ("text/xml", "application/xml", "+xml"),
}


def response_excerpt(status, headers, content, payload_format):
    """What is kept of an answer: the first bytes of a 2xx answer of the
    expected content type, the status line of any other.

    >>> json_answer = {"Content-Type": "application/json; charset=utf-8"}
    >>> response_excerpt(200, json_answer, b'{"ok": true}', "json")
    '{"ok": true}'
    >>> response_excerpt(200, {"Content-Type": "text/html"}, b"<html>", "json")
    'HTTP 200 OK'
    >>> response_excerpt(500, json_answer, b'{"trace": "..."}', "json")
    'HTTP 500 Internal Server Error'
    """
    try:
        phrase = http.HTTPStatus(status).phrase
    except ValueError:
        phrase = ""
    status_line = f"HTTP {status} {phrase}".strip()
    content_type = (headers or {}).get("Content-Type", "").split(";")[0].strip().lower()
    expected = EXPECTED_ANSWERS.get(payload_format, ())
    if not 200 <= status < 300 or not any(
        content_type == kind or (kind.startswith("+") and content_type.endswith(kind))
        for kind in expected
    ):
        return status_line
    return content[:MAX_EXCERPT].decode("utf-8", errors="replace")
