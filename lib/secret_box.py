"""Encryption at rest for backend secrets (Fernet, AES-128-CBC + HMAC-SHA256).

A secret that is sent somewhere (an API key, a client secret) is *bound* to
its destination: :func:`bind` puts a fingerprint of where it may go inside
the encrypted text, and :func:`unbind` gives the secret back only for that
same destination. Whoever changes where a backend sends its calls cannot
have a stored secret sent to the new address.

The master key never lives in the database: it comes from the Odoo config
file (``fih_master_key``) or the ``FIH_MASTER_KEY`` environment variable.
Several comma-separated keys may be given: the first encrypts, all decrypt,
so the key can be rotated without downtime.

>>> box = SecretBox(Fernet.generate_key().decode())
>>> token = box.encrypt("s3cret")
>>> token != "s3cret" and box.decrypt(token)
's3cret'
"""

import hashlib
import hmac
import json

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

BOUND_PREFIX = "fih-bound-v1:"


class MasterKeyError(Exception):
    """The master key is missing or cannot decrypt a stored secret."""


class SecretDestinationError(ValueError):
    """A bound secret is asked for another destination than its own."""


def destination_fingerprint(*parts):
    """A short, stable digest of where a secret may be sent.

    >>> a = destination_fingerprint(7, ("https", "erp.example", 443), "bearer")
    >>> a == destination_fingerprint(7, ["https", "erp.example", 443], "bearer")
    True
    >>> a == destination_fingerprint(7, ("https", "evil.example", 443), "bearer")
    False
    """
    text = json.dumps(parts, default=str, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:40]


def bind(secret, fingerprint):
    """``secret`` with the destination it may go to, to be encrypted.

    >>> unbind(bind("k-1", "ab12"), "ab12")
    'k-1'
    >>> unbind(bind("k-1", "ab12"), "cd34")
    Traceback (most recent call last):
    ...
    lib.secret_box.SecretDestinationError: the secret was entered for another \
address or authentication method
    >>> unbind("k-1", "ab12")
    Traceback (most recent call last):
    ...
    lib.secret_box.SecretDestinationError: the secret was stored before secrets \
were bound to their address
    """
    return f"{BOUND_PREFIX}{fingerprint}:{secret}"


def unbind(bound, fingerprint):
    """The secret of :func:`bind`, only for the same ``fingerprint``."""
    if not bound.startswith(BOUND_PREFIX):
        raise SecretDestinationError(
            "the secret was stored before secrets were bound to their address"
        )
    stored, _sep, secret = bound[len(BOUND_PREFIX) :].partition(":")
    if not hmac.compare_digest(stored.encode(), fingerprint.encode()):
        raise SecretDestinationError(
            "the secret was entered for another address or authentication method"
        )
    return secret


class SecretBox:
    def __init__(self, keys):
        if isinstance(keys, str):
            keys = [k.strip() for k in keys.split(",")]
        keys = [k for k in (keys or []) if k]
        if not keys:
            raise MasterKeyError(
                "No master key for encrypted secrets: set 'fih_master_key' in the "
                "Odoo configuration file or the FIH_MASTER_KEY environment variable."
            )
        try:
            self._fernet = MultiFernet([Fernet(k.encode()) for k in keys])
        except (ValueError, TypeError) as exc:
            raise MasterKeyError(
                "The master key for encrypted secrets is not a valid Fernet key "
                "(32 url-safe base64-encoded bytes)."
            ) from exc

    def encrypt(self, plaintext):
        return self._fernet.encrypt(plaintext.encode()).decode()

    def decrypt(self, token):
        try:
            return self._fernet.decrypt(token.encode()).decode()
        except InvalidToken as exc:
            raise MasterKeyError(
                "A stored secret cannot be decrypted with the configured master "
                "key: the key is wrong or was rotated without keeping the old one."
            ) from exc

    def rotate(self, token):
        """Re-encrypt ``token`` under the first (newest) key."""
        try:
            return self._fernet.rotate(token.encode()).decode()
        except InvalidToken as exc:
            raise MasterKeyError(
                "A stored secret cannot be re-encrypted: none of the configured "
                "keys decrypts it."
            ) from exc


def generate_master_key():
    return Fernet.generate_key().decode()
