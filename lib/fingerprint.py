"""Keyed fingerprints of stored payloads and of identifiers.

A plain SHA-256 of a small document can be reversed by guessing: whoever
sees the hash of ``{"vat": "BE0477472701", ...}`` tries every VAT number of
a country in seconds. The hub therefore fingerprints with HMAC-SHA256 under
a sub-key derived from the server's master key (which never lives in the
database); without it nobody can test a guess.

A fingerprint names the key it was made with (``hmac-sha256:<key id>:<hex>``)
so that every configured key (the newest first, older ones during a master
key rotation) can check it. Fingerprints made before keyed fingerprints
existed are plain SHA-256 hex digests and are still checked as such.

>>> keys = ["k-new", "k-old"]
>>> stamp = fingerprint(keys, "{}")
>>> stamp.startswith("hmac-sha256:") and matches(keys, stamp, "{}")
True
>>> matches(keys, stamp, "{ }")
False
>>> matches(["k-old"], fingerprint(["k-old"], "{}"), "{}")
True
>>> matches(keys, fingerprint(["k-old"], "{}"), "{}")  # rotation: old key kept
True
>>> matches(["k-new"], fingerprint(["k-old"], "{}"), "{}")
Traceback (most recent call last):
...
lib.fingerprint.UnknownKeyError: the fingerprint was made with a master key ...
>>> import hashlib
>>> matches(keys, hashlib.sha256(b"{}").hexdigest(), "{}")  # before the upgrade
True
>>> token(keys, "0208:0477472701") == token(keys, "0208:0477472701")
True
>>> len(token(keys, "0208:0477472701")), token(keys, "x") != token(["k-old"], "x")
(20, True)
"""

import hashlib
import hmac

PREFIX = "hmac-sha256"
PURPOSE_PAYLOAD = b"finance-integration-hub/payload-fingerprint/v1"
PURPOSE_IDENTIFIER = b"finance-integration-hub/identifier-token/v1"
_LEGACY_LENGTH = 64


class UnknownKeyError(ValueError):
    """The fingerprint names a key none of the configured ones matches."""


def _sub_key(master_key, purpose):
    """A key for one purpose only, derived from ``master_key`` (HMAC-based
    derivation: knowing a sub-key tells nothing of the master key)."""
    return hmac.digest(master_key.encode(), purpose, hashlib.sha256)


def _key_id(sub_key):
    return hmac.digest(sub_key, b"key-id", hashlib.sha256).hex()[:8]


def _digest(sub_key, text):
    return hmac.digest(sub_key, text.encode(), hashlib.sha256).hex()


def fingerprint(master_keys, text):
    """The keyed fingerprint of ``text`` under the newest key."""
    sub_key = _sub_key(master_keys[0], PURPOSE_PAYLOAD)
    return f"{PREFIX}:{_key_id(sub_key)}:{_digest(sub_key, text)}"


def matches(master_keys, stored, text):
    """Whether ``stored`` is the fingerprint of ``text``, in constant time.

    Raises :class:`UnknownKeyError` when the fingerprint was made with a key
    that is no longer configured: it cannot be checked, which is not the
    same as "it differs".
    """
    if not stored:
        return False
    if not stored.startswith(PREFIX + ":"):
        if len(stored) != _LEGACY_LENGTH:
            return False
        legacy = hashlib.sha256(text.encode()).hexdigest()
        return hmac.compare_digest(stored, legacy)
    _prefix, key_id, _digest_hex = stored.split(":", 2)
    for master_key in master_keys:
        sub_key = _sub_key(master_key, PURPOSE_PAYLOAD)
        if _key_id(sub_key) == key_id:
            expected = f"{PREFIX}:{key_id}:{_digest(sub_key, text)}"
            return hmac.compare_digest(stored, expected)
    raise UnknownKeyError(
        "the fingerprint was made with a master key that is no longer configured"
    )


def token(master_keys, identifier):
    """A short, stable, keyed stand-in for an identifier (a supplier's VAT
    or Peppol id) where it would otherwise be shown, e.g. in a message key."""
    return _digest(_sub_key(master_keys[0], PURPOSE_IDENTIFIER), identifier)[:20]
