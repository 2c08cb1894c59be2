from odoo import models

from ..lib import secret_strength, standard_webhooks

# distinct byte values a random 16-byte signing key has all but surely
MIN_DISTINCT_KEY_BYTES = 8


class FihBackendSecretStrength(models.Model):
    """Shared secrets a person types in must be hard to guess: the cXML
    SharedSecret (checked on every cXML request) and the webhook signing
    secret. A weak one is refused with the reason, in words."""

    _inherit = "fih.backend"

    def _fih_secret_values(self, field_name, plaintext):
        if field_name == "cxml_shared_secret":
            reason = secret_strength.weakness(plaintext)
            if reason:
                raise ValueError(reason)
        elif field_name == "webhook_secret":
            key = standard_webhooks.decode_secret(plaintext)
            if len(set(key)) < MIN_DISTINCT_KEY_BYTES:
                raise ValueError(
                    "its key repeats the same few bytes; generate a random one"
                )
        return super()._fih_secret_values(field_name, plaintext)
