"""Standard Webhooks signing and verification (https://www.standardwebhooks.com).

The signed content is ``{webhook-id}.{webhook-timestamp}.{raw body}``; the
signature header holds one or more space-separated ``v1,<base64 HMAC-SHA256>``
entries; secrets are ``whsec_<base64 key>``. Signatures are made by the
specification's own library (``standardwebhooks``).

>>> secret = "whsec_" + base64.b64encode(b"k" * 32).decode()
>>> headers = sign(secret, "msg_1", b'{"a": 1}', timestamp=1700000000)
>>> headers["webhook-signature"][:3]
'v1,'
>>> verify([secret], headers, b'{"a": 1}', now=1700000010)
>>> verify([secret], headers, b'{"a": 2}', now=1700000010)
Traceback (most recent call last):
...
lib.standard_webhooks.SignatureError: no signature matches the body
"""

import base64
import binascii
import datetime
import hashlib
import hmac
import secrets as _secrets
import time

from standardwebhooks import Webhook

SECRET_PREFIX = "whsec_"  # noqa: S105 - a format prefix, not a secret
DEFAULT_TOLERANCE = 5 * 60
MAX_WEBHOOK_ID_LENGTH = 256


class SignatureError(Exception):
    """The request is not authenticated; the message is safe to show the sender."""


def generate_secret(num_bytes=32):
    """Return a new random secret in ``whsec_<base64>`` form."""
    return SECRET_PREFIX + base64.b64encode(_secrets.token_bytes(num_bytes)).decode()


def decode_secret(secret):
    """Return the raw key bytes of a ``whsec_`` secret (the prefix is optional).

    Hand-made: the library decodes any text leniently, and a short or
    mistyped secret must be refused when it is configured.
    """
    if not secret:
        raise ValueError("empty webhook secret")
    value = secret[len(SECRET_PREFIX) :] if secret.startswith(SECRET_PREFIX) else secret
    try:
        key = base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise ValueError("webhook secret is not valid base64 after 'whsec_'") from exc
    if len(key) < 16:
        raise ValueError("webhook secret must hold at least 16 bytes")
    return key


def compute_signature(secret, webhook_id, timestamp, body):
    """Return the base64 HMAC-SHA256 of ``id.timestamp.body``."""
    key = decode_secret(secret)
    if isinstance(body, bytes):
        try:
            body = body.decode()
        except UnicodeDecodeError:
            # the library signs text only; the raw body may be UTF-16 XML or junk
            signed = b"%s.%d.%s" % (str(webhook_id).encode(), int(timestamp), body)
            return base64.b64encode(hmac.digest(key, signed, hashlib.sha256)).decode()
    moment = datetime.datetime.fromtimestamp(int(timestamp), datetime.UTC)
    signature = Webhook(key).sign(str(webhook_id), moment, body)
    return signature.removeprefix("v1,")


def sign(secret, webhook_id, body, timestamp=None):
    """Return the three Standard Webhooks headers for ``body``."""
    timestamp = int(time.time() if timestamp is None else timestamp)
    signature = compute_signature(secret, webhook_id, timestamp, body)
    return {
        "webhook-id": str(webhook_id),
        "webhook-timestamp": str(timestamp),
        "webhook-signature": f"v1,{signature}",
    }


def _header(headers, name):
    value = headers.get(name)
    if value is None:
        value = headers.get(name.title())
    return value


def verify(secrets_list, headers, body, now=None, tolerance=DEFAULT_TOLERANCE):
    """Check a request against any of ``secrets_list`` (current, then previous).

    Raises :class:`SignatureError` with a reason fit for a 401 response.
    Comparison is constant-time over every candidate signature.

    Hand-made around :func:`compute_signature`: ``Webhook.verify`` reads the
    real clock with a fixed tolerance, takes one secret, stops at the first
    match and lets a malformed signature entry escape as a ValueError.
    """
    webhook_id = _header(headers, "webhook-id")
    timestamp = _header(headers, "webhook-timestamp")
    signature_header = _header(headers, "webhook-signature")
    if not webhook_id or not timestamp or not signature_header:
        raise SignatureError(
            "missing webhook-id, webhook-timestamp or webhook-signature header"
        )
    if len(webhook_id) > MAX_WEBHOOK_ID_LENGTH:
        raise SignatureError("webhook-id is too long")
    try:
        timestamp_value = int(timestamp)
    except ValueError as exc:
        raise SignatureError("webhook-timestamp is not an integer") from exc
    now = int(time.time() if now is None else now)
    if abs(now - timestamp_value) > tolerance:
        raise SignatureError("webhook-timestamp is outside the allowed tolerance")
    candidates = []
    for entry in signature_header.split(" "):
        version, _sep, value = entry.partition(",")
        if version == "v1" and value:
            candidates.append(value.encode())
    if not candidates:
        raise SignatureError("no v1 signature in webhook-signature")
    matched = False
    for secret in secrets_list:
        if not secret:
            continue
        expected = compute_signature(secret, webhook_id, timestamp_value, body).encode()
        for candidate in candidates:
            # no early exit: timing must not reveal which candidate matched
            matched |= hmac.compare_digest(expected, candidate)
    if not matched:
        raise SignatureError("no signature matches the body")
