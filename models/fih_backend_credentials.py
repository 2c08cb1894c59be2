from datetime import timedelta

from odoo import api, fields, models
from odoo.exceptions import UserError

from ..lib import secret_box as secret_binding
from ..lib import standard_webhooks, url_guard
from ..tools import decrypt

# secrets that leave the database towards the backend, bound to where they go
BOUND_SECRETS = ("api_key", "oauth_client_secret", "cxml_shared_secret")
# the fields that decide where a bound secret goes
DESTINATION_FIELDS = frozenset({"base_url", "auth_type", "oauth_token_url"})


class SecretNotUsable(UserError):
    """A stored secret may not be sent where the backend now points."""


def webhook_secrets(webhook_config, now=None):
    """Secrets that may sign a webhook: current, then previous while in grace.

    ``webhook_config`` is a :class:`WebhookConfig` or a backend record.
    """
    secrets = []
    if webhook_config.webhook_secret_encrypted:
        secrets.append(decrypt(webhook_config.webhook_secret_encrypted))
    valid_until = webhook_config.webhook_secret_previous_valid_until
    if (
        webhook_config.webhook_secret_previous_encrypted
        and valid_until
        and valid_until > (now or fields.Datetime.now())
    ):
        secrets.append(decrypt(webhook_config.webhook_secret_previous_encrypted))
    return secrets


class FihBackendCredentials(models.Model):
    """A backend's credentials: the webhook signing secret (generated,
    rotated with a grace period, revoked), the keys of outbound calls and
    the cXML shared secret, all write-only; and their expiry reminders."""

    _name = "fih.backend"
    _inherit = ["fih.backend", "fih.secret.mixin"]

    _fih_secret_fields = {
        "webhook_secret": "webhook_secret_encrypted",
        "api_key": "api_key_encrypted",
        "oauth_client_secret": "oauth_client_secret_encrypted",
        "cxml_shared_secret": "cxml_shared_secret_encrypted",
    }
    _fih_secret_extra_columns = ("webhook_secret_previous_encrypted",)

    webhook_secret_encrypted = fields.Char(copy=False, groups="base.group_system")
    webhook_secret_previous_encrypted = fields.Char(
        copy=False, groups="base.group_system"
    )
    webhook_secret_previous_valid_until = fields.Datetime(
        string="Previous Secret Accepted Until",
        copy=False,
        readonly=True,
        help="After a rotation the previous signing secret is still accepted "
        "until this time, so the external system can switch without losing "
        "webhooks.",
    )
    webhook_secret_rotated_at = fields.Datetime(copy=False, readonly=True)
    secret_grace_hours = fields.Integer(
        string="Rotation Grace (hours)",
        default=24,
        tracking=True,
        help="How long the previous signing secret stays valid after a new one "
        "is set.",
    )
    api_key_encrypted = fields.Char(copy=False, groups="base.group_system")
    oauth_client_secret_encrypted = fields.Char(copy=False, groups="base.group_system")
    cxml_shared_secret_encrypted = fields.Char(copy=False, groups="base.group_system")
    cxml_shared_secret = fields.Char(
        string="cXML Shared Secret",
        compute="_compute_secret_inputs",
        inverse="_inverse_cxml_shared_secret",
        help="SharedSecret of the cXML Sender credential. Stored encrypted and "
        "never shown again.",
    )
    has_cxml_shared_secret = fields.Boolean(compute="_compute_has_secrets")
    webhook_secret = fields.Char(
        string="Webhook Signing Secret",
        compute="_compute_secret_inputs",
        inverse="_inverse_webhook_secret",
        help="Shared secret (whsec_...) with which the external system signs its "
        "webhooks. Stored encrypted and never shown again; setting a new one "
        "keeps the previous one valid for the grace period.",
    )
    api_key = fields.Char(
        string="API Key",
        compute="_compute_secret_inputs",
        inverse="_inverse_api_key",
        help="Key sent to the external system on outbound calls. Stored encrypted "
        "and never shown again.",
    )
    oauth_client_secret = fields.Char(
        string="OAuth2 Client Secret",
        compute="_compute_secret_inputs",
        inverse="_inverse_oauth_client_secret",
        help="Stored encrypted and never shown again.",
    )
    has_webhook_secret = fields.Boolean(compute="_compute_has_secrets")
    has_api_key = fields.Boolean(compute="_compute_has_secrets")
    has_oauth_client_secret = fields.Boolean(compute="_compute_has_secrets")
    credential_expiry_date = fields.Date(
        tracking=True,
        help="When the credentials agreed with this system expire (API key, "
        "client secret, signing secret). The owner is reminded beforehand.",
    )
    credential_reminder_days = fields.Integer(
        default=14,
        tracking=True,
        help="How many days before the expiry date the owner is reminded.",
    )

    @api.depends(
        "webhook_secret_encrypted",
        "api_key_encrypted",
        "oauth_client_secret_encrypted",
        "cxml_shared_secret_encrypted",
    )
    def _compute_has_secrets(self):
        for backend in self.sudo():
            for field_name, column in self._fih_secret_fields.items():
                backend[f"has_{field_name}"] = bool(backend[column])

    # -- secrets bound to their destination ---------------------------------

    def _destination(self):
        """Where this backend's secrets go: the origin of its base URL, its
        authentication method and its token URL."""
        self.ensure_one()
        backend = self.sudo()
        return (
            url_guard.origin(backend.base_url),
            backend.auth_type or "none",
            (backend.oauth_token_url or "").strip(),
        )

    def _destination_fingerprint(self):
        return secret_binding.destination_fingerprint(self.id, *self._destination())

    def _get_secret(self, field_name):
        secret = super()._get_secret(field_name)
        if secret is None or field_name not in BOUND_SECRETS:
            return secret
        try:
            return secret_binding.unbind(secret, self._destination_fingerprint())
        except secret_binding.SecretDestinationError as exc:
            raise SecretNotUsable(
                self.env._(
                    "The %(label)s of %(backend)s is not sent: %(reason)s. An "
                    "administrator must re-enter the secret for the current "
                    "address.",
                    label=self._fields[field_name].string,
                    backend=self.name,
                    reason=exc,
                )
            ) from None

    def write(self, vals):
        """A change of where the secrets go clears them, in the same
        transaction: they were entered for the previous destination."""
        before = {}
        if DESTINATION_FIELDS & set(vals):
            before = {backend.id: backend._destination() for backend in self}
        result = super().write(vals)
        if before:
            moved = self.filtered(lambda b: b._destination() != before[b.id])
            entered_now = {name for name in BOUND_SECRETS if vals.get(name)}
            moved._clear_bound_secrets(before, exclude=entered_now)
        return result

    def _clear_bound_secrets(self, before, exclude=()):
        for backend in self.sudo():
            columns = [
                self._fih_secret_fields[name]
                for name in BOUND_SECRETS
                if name not in exclude and backend[self._fih_secret_fields[name]]
            ]
            if not columns:
                continue
            backend.write(dict.fromkeys(columns, False))
            labels = [
                self._fields[name].string
                for name in BOUND_SECRETS
                if self._fih_secret_fields[name] in columns
            ]
            backend._audit(
                "secret",
                {
                    backend.id: {
                        "secrets_cleared": labels,
                        "reason": "destination changed",
                        "before": list(before[backend.id]),
                        "after": list(backend._destination()),
                    }
                },
            )
            backend.message_post(
                body=self.env._(
                    "The address or authentication method changed, so these "
                    "secrets were cleared and must be entered again: %s.",
                    ", ".join(labels),
                )
            )

    def _fih_secret_values(self, field_name, plaintext):
        if field_name in BOUND_SECRETS:
            plaintext = secret_binding.bind(plaintext, self._destination_fingerprint())
        values = super()._fih_secret_values(field_name, plaintext)
        if field_name == "webhook_secret":
            standard_webhooks.decode_secret(plaintext)  # refuse unusable secrets
            values["webhook_secret_rotated_at"] = fields.Datetime.now()
            if self.webhook_secret_encrypted:
                values.update(
                    webhook_secret_previous_encrypted=self.webhook_secret_encrypted,
                    webhook_secret_previous_valid_until=fields.Datetime.now()
                    + timedelta(hours=self.secret_grace_hours),
                )
        return values

    def _inverse_webhook_secret(self):
        self._inverse_secret("webhook_secret")

    def _inverse_api_key(self):
        self._inverse_secret("api_key")

    def _inverse_oauth_client_secret(self):
        self._inverse_secret("oauth_client_secret")

    def _inverse_cxml_shared_secret(self):
        self._inverse_secret("cxml_shared_secret")

    def _webhook_verification_secrets(self, now=None):
        """Current secret, plus the previous one during its grace period."""
        self.ensure_one()
        return webhook_secrets(self.sudo(), now=now)

    def action_generate_webhook_secret(self):
        """Create a new signing secret and show it once, in a dialog with a
        copy button; the dialog is never saved, so the secret is written
        nowhere but encrypted on the backend."""
        self.ensure_one()
        first = not self.sudo().webhook_secret_encrypted
        secret = standard_webhooks.generate_secret()
        self._set_secret("webhook_secret", secret)
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("New signing secret for %s", self.name),
            "res_model": "fih.secret.reveal.wizard",
            "view_mode": "form",
            "views": [[False, "form"]],
            "target": "new",
            "context": {
                "default_backend_id": self.id,
                "default_secret": secret,
                "default_first_secret": first,
                "default_grace_hours": self.secret_grace_hours,
                "default_previous_valid_until": fields.Datetime.to_string(
                    self.webhook_secret_previous_valid_until
                )
                if not first
                else False,
                "dialog_size": "medium",
            },
        }

    def action_end_secret_grace(self):
        """Stop accepting the previous signing secret now."""
        self.check_access("write")
        self.sudo().write(
            {
                "webhook_secret_previous_encrypted": False,
                "webhook_secret_previous_valid_until": False,
            }
        )
        for backend in self:
            backend.message_post(
                body=self.env._("The previous signing secret was revoked.")
            )

    @api.model
    def _cron_credential_reminders(self):
        """Remind owners of credentials that expire soon (once per backend)."""
        today = fields.Date.context_today(self)
        activity_type = self.env.ref("mail.mail_activity_data_warning")
        for backend in self.sudo().search([("credential_expiry_date", "!=", False)]):
            remind_from = backend.credential_expiry_date - timedelta(
                days=backend.credential_reminder_days
            )
            if today < remind_from:
                continue
            already = backend.activity_ids.filtered(
                lambda a, b=backend: a.activity_type_id == activity_type
                and a.date_deadline == b.credential_expiry_date
            )
            if already:
                continue
            backend.activity_schedule(
                activity_type_id=activity_type.id,
                date_deadline=backend.credential_expiry_date,
                summary=self.env._("Credentials of %s expire soon", backend.name),
                note=self.env._(
                    "The credentials agreed with %(backend)s expire on %(date)s. "
                    "Agree new ones with its administrator, enter them here and "
                    "move the expiry date.",
                    backend=backend.name,
                    date=backend.credential_expiry_date,
                ),
                user_id=(backend.owner_id or self.env.ref("base.user_admin")).id,
            )
