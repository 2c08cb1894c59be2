"""Encryption at rest for backend secrets (Fernet, AES-128-CBC + HMAC-SHA256).

The master key never lives in the database: it comes from the Odoo config
file (``fih_master_key``) or the ``FIH_MASTER_KEY`` environment variable.
Several comma-separated keys may be given: the first encrypts, all decrypt,
so the key can be rotated without downtime.

>>> box = SecretBox(Fernet.generate_key().decode())
>>> token = box.encrypt("s3cret")
>>> token != "s3cret" and box.decrypt(token)
's3cret'
"""

from cryptography.fernet import Fernet, InvalidToken, MultiFernet


class MasterKeyError(Exception):
    """The master key is missing or cannot decrypt a stored secret."""


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
