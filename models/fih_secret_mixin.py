from odoo import api, models
from odoo.exceptions import UserError, ValidationError
from odoo.tools import SQL

from ..lib.secret_box import MasterKeyError
from ..tools import decrypt, secret_box


class FihSecretMixin(models.AbstractModel):
    """Secrets stored encrypted under the server's master key.

    A model lists its secrets in ``_fih_secret_fields``: the write-only input
    field (computed empty, its inverse encrypts) → the ciphertext column
    (readable by administrators only, never shown). ``_get_secret`` is the
    only way back to a plaintext, for the flows; it is never logged.
    """

    _name = "fih.secret.mixin"
    _description = "Encrypted secrets"

    _fih_secret_fields = {}  # input field -> ciphertext column
    # ciphertext columns that have no input field (e.g. a previous secret)
    _fih_secret_extra_columns = ()

    def _compute_secret_inputs(self):
        for record in self:
            for field_name in self._fih_secret_fields:
                record[field_name] = False

    def _fih_secret_values(self, field_name, plaintext):
        """Values that store ``plaintext`` as ``field_name``; a model may add
        its own (e.g. the rotation of a signing secret)."""
        return {self._fih_secret_fields[field_name]: secret_box().encrypt(plaintext)}

    def _set_secret(self, field_name, plaintext):
        # the writes below are sudo (ciphertext fields are admin-only): the
        # caller must be allowed to change the record itself
        self.check_access("write")
        # and to set this secret: its input field may be kept for a group
        # (e.g. system administrators), whatever path leads here
        self.check_field_access_rights("write", [field_name])
        for record in self.sudo():
            record.write(record._fih_secret_values(field_name, plaintext))
            record.message_post(
                body=self.env._(
                    "%(label)s was changed.", label=self._fields[field_name].string
                )
            )

    def _inverse_secret(self, field_name):
        for record in self:
            plaintext = record[field_name]
            if plaintext:
                try:
                    record._set_secret(field_name, plaintext.strip())
                except ValueError as exc:
                    raise ValidationError(
                        self.env._(
                            "%(label)s is not usable: %(reason)s",
                            label=self._fields[field_name].string,
                            reason=exc,
                        )
                    ) from exc
        # the plaintext must not linger in the cache once it is encrypted
        self.invalidate_recordset([field_name])

    def _get_secret(self, field_name):
        """Decrypted secret, for the flows only; never log or display it."""
        self.ensure_one()
        token = self.sudo()[self._fih_secret_fields[field_name]]
        return decrypt(token) if token else None

    # -- master key rotation ---------------------------------------------------

    @api.model
    def _reencrypt_all_secrets(self):
        """Re-encrypt every stored secret of this model under the newest key.

        Rotation: set ``fih_master_key = NEW,OLD``, restart, run this, then
        remove OLD. Returns the number of secrets re-encrypted.
        """
        self.env.flush_all()  # raw updates below must not be overwritten later
        box = secret_box()
        columns = [*self._fih_secret_fields.values(), *self._fih_secret_extra_columns]
        records = self.sudo().with_context(active_test=False).search([])
        count = 0
        for record in records:
            values = {}
            for column in columns:
                token = record[column]
                if token:
                    try:
                        values[column] = box.rotate(token)
                    except MasterKeyError as exc:
                        raise UserError(
                            self.env._(
                                "The secrets of %(record)s cannot be re-encrypted: "
                                "%(reason)s Add the old key after the new one in "
                                "fih_master_key and try again.",
                                record=record.display_name,
                                reason=exc,
                            )
                        ) from exc
            if values:
                # raw update: re-encrypting is not a change of the secret
                self.env.cr.execute(
                    SQL(
                        "UPDATE %s SET %s WHERE id = %s",
                        SQL.identifier(self._table),
                        SQL(", ").join(
                            SQL("%s = %s", SQL.identifier(column), token)
                            for column, token in values.items()
                        ),
                        record.id,
                    )
                )
                count += len(values)
        self.invalidate_model()
        self.env.registry.clear_cache()
        self.env["fih.audit.log"].sudo().create(
            {
                "res_model": self._name,
                "record_name": self.env._("All records"),
                "action": "key_rotation",
                "changes": f'{{"secrets_reencrypted": {count}}}',
            }
        )
        return count

    def action_reencrypt_secrets(self):
        self.check_access("write")  # sudo inside: the caller's right first
        if not self.env.user.has_group("finance_integration_hub.group_fih_manager"):
            raise UserError(self.env._("Only an Integration Manager can do this."))
        count = self._reencrypt_all_secrets()
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {
                "title": self.env._("Secrets re-encrypted"),
                "message": self.env._(
                    "%s stored secrets now use the newest master key. The old key "
                    "can be removed from the configuration.",
                    count,
                ),
                "type": "success",
            },
        }
