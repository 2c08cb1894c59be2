import logging
import os
import re
import time
from datetime import timedelta
from functools import lru_cache
from typing import NamedTuple

from odoo import api, fields, models, tools
from odoo.exceptions import UserError, ValidationError
from odoo.tools import SQL, config

from ..lib import circuit_breaker, standard_webhooks
from ..lib.retry_policy import RetryPolicy
from ..lib.secret_box import MasterKeyError, SecretBox
from .fih_message import read_committed_cursor

_logger = logging.getLogger(__name__)

# the job that drains each direction's messages of a backend
DRAIN_JOBS = {
    "inbound": "_process_inbound_messages",
    "outbound": "_deliver_outbound_messages",
}
# seconds a drain job works before handing over (worker time limits are ~120 s)
DRAIN_TIME_BUDGET = 60
CODE_PATTERN = re.compile(r"^[a-z0-9][a-z0-9_-]{1,63}$")
# name of the secret input field -> column holding its ciphertext
SECRET_FIELDS = {
    "webhook_secret": "webhook_secret_encrypted",
    "api_key": "api_key_encrypted",
    "oauth_client_secret": "oauth_client_secret_encrypted",
    "cxml_shared_secret": "cxml_shared_secret_encrypted",
}


class WebhookConfig(NamedTuple):
    """What the webhook intake needs of a backend; immutable, so cacheable."""

    id: int
    company_id: int
    max_body_kb: int
    max_batch_events: int
    rate_limit_per_minute: int
    webhook_secret_encrypted: str | None
    webhook_secret_previous_encrypted: str | None
    webhook_secret_previous_valid_until: object


@lru_cache(maxsize=4)
def _secret_box_for(keys):
    return SecretBox(keys)


def secret_box():
    """The encryption box of this server; raises :class:`UserError` if unset."""
    keys = config.get("fih_master_key") or os.environ.get("FIH_MASTER_KEY") or ""
    try:
        return _secret_box_for(keys)
    except MasterKeyError as exc:
        raise UserError(str(exc)) from exc


def decrypt(token):
    """Plaintext of a stored secret; a wrong key is a :class:`UserError`."""
    try:
        return secret_box().decrypt(token)
    except MasterKeyError as exc:
        raise UserError(str(exc)) from exc


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


class FihBackend(models.Model):
    _name = "fih.backend"
    _description = "Integration Backend"
    _inherit = ["mail.thread", "mail.activity.mixin", "fih.audited.mixin"]
    _order = "name, id"

    name = fields.Char(
        required=True,
        tracking=True,
        help="Name of the external system as finance users know it, "
        "e.g. 'Coupa procurement (EU)'.",
    )
    code = fields.Char(
        required=True,
        tracking=True,
        copy=False,
        help="Short technical identifier (lower case letters, digits, '-' and "
        "'_'). It is part of the webhook address given to the external system, "
        "so changing it breaks their configuration.",
    )
    active = fields.Boolean(
        default=True,
        tracking=True,
        help="An archived backend refuses its webhooks (404) and sends nothing.",
    )
    kind = fields.Selection(
        [
            ("procurement", "Procurement platform"),
            ("ap_automation", "AP automation"),
            ("bi", "BI / reporting"),
            ("bank", "Bank"),
            ("tax", "Tax engine"),
            ("other", "Other"),
        ],
        required=True,
        default="procurement",
        tracking=True,
        help="What the external system does; decides which flows it can use.",
    )
    company_id = fields.Many2one(
        "res.company",
        required=True,
        default=lambda self: self.env.company,
        tracking=True,
        help="Company whose records this backend reads and writes.",
    )
    environment = fields.Selection(
        [("dev", "Development"), ("test", "Test"), ("prod", "Production")],
        required=True,
        default="test",
        tracking=True,
        help="Which instance of the external system this is. A database that is "
        "not production never calls a production backend.",
    )
    api_version = fields.Char(
        string="API Version",
        tracking=True,
        help="Version of the external system's API this backend speaks; only "
        "mappings written for it (or for no version) are used.",
    )
    base_url = fields.Char(
        string="Base URL",
        tracking=True,
        help="Root address of the external system's API, used for outbound calls.",
    )
    owner_id = fields.Many2one(
        "res.users",
        default=lambda self: self.env.user,
        tracking=True,
        help="Person accountable for this integration; receives its alerts and, "
        "unless an exception handler is set, its exceptions.",
    )
    service_user_id = fields.Many2one(
        "res.users",
        required=True,
        default=lambda self: self.env.ref(
            "finance_integration_hub.user_fih_service", raise_if_not_found=False
        ),
        tracking=True,
        help="Technical user under which this backend's messages are processed. "
        "Give it only the rights its flows need; it never logs in.",
    )
    bill_posting = fields.Selection(
        [("draft", "Keep in draft"), ("post", "Post when every check passes")],
        default="post",
        required=True,
        tracking=True,
        help="Bills and credit notes from this backend: post them when the "
        "three-way match, tax, currency and period checks pass, or always "
        "leave them in draft for review. A bill that fails a check is never "
        "posted.",
    )
    exception_user_id = fields.Many2one(
        "res.users",
        string="Exception Handler",
        tracking=True,
        help="Finance user who gets an activity when a message needs a decision "
        "(e.g. a supplier whose VAT number already exists). Defaults to the owner.",
    )
    data_classification = fields.Selection(
        [
            ("public", "Public"),
            ("internal", "Internal"),
            ("confidential", "Confidential"),
            ("restricted", "Restricted (bank, tax or personal data)"),
        ],
        required=True,
        default="confidential",
        tracking=True,
        help="Sensitivity of the data exchanged; drives masking and retention.",
    )
    connect_timeout = fields.Float(
        default=5.0,
        tracking=True,
        help="Seconds to wait for the external system to accept a connection.",
    )
    read_timeout = fields.Float(
        default=30.0,
        tracking=True,
        help="Seconds to wait for the external system's answer.",
    )
    rate_limit_per_minute = fields.Integer(
        default=1200,
        tracking=True,
        help="Most webhook requests accepted per minute from this system, across "
        "all Odoo workers; more are answered 429 with Retry-After. 0 = no limit.",
    )
    max_batch_events = fields.Integer(
        default=500,
        tracking=True,
        help="Most events accepted in one batch webhook request.",
    )
    max_body_kb = fields.Integer(
        string="Max Body Size (KB)",
        default=5120,
        tracking=True,
        help="Largest webhook body accepted; larger requests are answered 413.",
    )
    processing_batch_size = fields.Integer(
        default=200,
        tracking=True,
        help="How many received messages one background job processes together.",
    )
    retry_base_seconds = fields.Integer(
        default=30,
        tracking=True,
        help="First retry delay after a temporary failure; it doubles each time "
        "(with random jitter) up to six hours.",
    )
    retry_max_attempts = fields.Integer(
        default=8,
        tracking=True,
        help="After this many failed attempts a message goes to the dead letters.",
    )
    retry_max_age_hours = fields.Integer(
        default=72,
        tracking=True,
        help="A message still failing this many hours after receipt goes to the "
        "dead letters.",
    )
    supplier_duplicate_policy = fields.Selection(
        [
            ("exception", "Ask a finance user"),
            ("link", "Link to the existing supplier"),
        ],
        default="exception",
        required=True,
        tracking=True,
        help="What to do when an incoming supplier's VAT number or IBAN already "
        "belongs to another partner. Suppliers are never merged silently.",
    )
    # Secrets: ciphertext only in the database; the *_input fields are write-only.
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
    oauth_client_id = fields.Char(
        string="OAuth2 Client ID",
        tracking=True,
        help="Client identifier for OAuth2 client-credentials authentication.",
    )
    oauth_token_url = fields.Char(
        string="OAuth2 Token URL",
        tracking=True,
        help="Address where access tokens are requested.",
    )
    cxml_shared_secret_encrypted = fields.Char(copy=False, groups="base.group_system")
    cxml_shared_secret = fields.Char(
        string="cXML Shared Secret",
        compute="_compute_secret_inputs",
        inverse="_inverse_cxml_shared_secret",
        help="SharedSecret of the cXML Sender credential. Stored encrypted and "
        "never shown again.",
    )
    has_cxml_shared_secret = fields.Boolean(compute="_compute_has_secrets")
    cxml_from_domain = fields.Char(string="cXML From Domain", default="NetworkID")
    cxml_from_identity = fields.Char(
        string="cXML From Identity", help="Our identity on the supplier network."
    )
    cxml_to_domain = fields.Char(string="cXML To Domain", default="NetworkID")
    cxml_to_identity = fields.Char(
        string="cXML To Identity", help="The receiving platform's identity."
    )
    auth_type = fields.Selection(
        [
            ("none", "None (signature only)"),
            ("api_key", "API key header"),
            ("bearer", "Bearer token"),
            ("basic", "Basic (user and API key as password)"),
            ("oauth2", "OAuth2 client credentials"),
        ],
        default="none",
        required=True,
        tracking=True,
        help="How outbound calls authenticate. Whatever the choice, JSON messages "
        "are also signed (Standard Webhooks) when a signing secret is set.",
    )
    api_key_header = fields.Char(default="X-API-Key", tracking=True)
    basic_username = fields.Char(tracking=True)
    allow_private_network = fields.Boolean(
        tracking=True,
        help="Allow calls to private, loopback or link-local addresses. Only for "
        "test systems and simulators inside your network: it disables the "
        "protection against requests forged towards internal services.",
    )
    outbound_rate_limit_per_minute = fields.Integer(
        default=600,
        tracking=True,
        help="Most calls per minute to this system, across all Odoo workers. "
        "0 = no limit.",
    )
    breaker_threshold = fields.Integer(
        string="Failures Before Pausing",
        default=5,
        tracking=True,
        help="Consecutive failed deliveries after which deliveries pause "
        "(circuit open) and the owner is told.",
    )
    breaker_cooldown_seconds = fields.Integer(
        string="Pause (seconds)",
        default=60,
        tracking=True,
        help="How long deliveries pause before one probe message is tried.",
    )
    breaker_status = fields.Selection(
        [("closed", "Delivering"), ("open", "Paused"), ("half_open", "Probing")],
        string="Circuit",
        default="closed",
        readonly=True,
        copy=False,
    )
    breaker_failures = fields.Integer(readonly=True, copy=False)
    breaker_opened_at = fields.Float(readonly=True, copy=False)
    subscription_ids = fields.One2many(
        "fih.subscription", "backend_id", string="Subscriptions"
    )
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
    webhook_url = fields.Char(
        string="Webhook URL",
        compute="_compute_webhook_url",
        help="Address to give the external system for its webhooks.",
    )
    alert_failure_rate = fields.Integer(
        string="Alert Above Failure Rate (%)",
        default=20,
        tracking=True,
        help="The owner is alerted when more than this share of the last hour's "
        "messages (at least 10) failed.",
    )
    alert_interval_hours = fields.Integer(
        default=4,
        tracking=True,
        help="At most one alert of each kind per this many hours, however many "
        "messages fail.",
    )
    last_alert_failure_at = fields.Datetime(readonly=True, copy=False)
    last_alert_dead_at = fields.Datetime(readonly=True, copy=False)
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
    channel_id = fields.Many2one(
        "queue.job.channel",
        string="Job Channel",
        readonly=True,
        copy=False,
        help="Background-job channel of this backend, so one busy system does "
        "not delay the others.",
    )
    health_status = fields.Selection(
        [("ok", "OK"), ("degraded", "Degraded"), ("down", "Down")],
        compute="_compute_health",
        help="OK; Degraded: some failures or dead letters; Down: most messages "
        "fail or deliveries are paused.",
    )
    health_reason = fields.Char(compute="_compute_health")
    messages_last_hour = fields.Integer(compute="_compute_health")
    messages_24h = fields.Integer(string="Messages (24 h)", compute="_compute_health")
    success_rate = fields.Float(
        string="Success Rate (24 h, %)", compute="_compute_health", digits=(5, 1)
    )
    backlog_count = fields.Integer(
        string="Backlog", compute="_compute_health", help="Received, not yet processed."
    )
    dead_letter_count = fields.Integer(string="Dead Letters", compute="_compute_health")
    latency_p50_ms = fields.Integer(
        string="Latency p50 (ms)", compute="_compute_health"
    )
    latency_p95_ms = fields.Integer(
        string="Latency p95 (ms)", compute="_compute_health"
    )
    last_success_at = fields.Datetime(string="Last Success", compute="_compute_health")
    message_ids_count = fields.Integer(compute="_compute_message_counts")
    message_failed_count = fields.Integer(compute="_compute_message_counts")
    publication_count = fields.Integer(compute="_compute_publication_count")
    binding_count = fields.Integer(compute="_compute_binding_count")
    mapping_ids = fields.One2many("fih.mapping", "backend_id", string="Mappings")
    mapping_count = fields.Integer(compute="_compute_mapping_count")

    _sql_constraints = [
        ("code_uniq", "unique(code)", "Another backend already uses this code."),
        (
            "limits_positive",
            "CHECK(max_batch_events > 0 AND max_body_kb > 0 "
            "AND processing_batch_size > 0 AND retry_max_attempts > 0 "
            "AND rate_limit_per_minute >= 0)",
            "Batch sizes, body size and attempts must be positive.",
        ),
    ]

    @api.constrains("code")
    def _check_code(self):
        for backend in self:
            if not CODE_PATTERN.match(backend.code or ""):
                raise ValidationError(
                    self.env._(
                        "The code '%(code)s' is not valid: use 2 to 64 lower-case "
                        "letters, digits, '-' or '_'.",
                        code=backend.code,
                    )
                )

    def _compute_secret_inputs(self):
        for backend in self:
            backend.webhook_secret = False
            backend.api_key = False
            backend.oauth_client_secret = False
            backend.cxml_shared_secret = False

    def _compute_has_secrets(self):
        for backend in self.sudo():
            backend.has_webhook_secret = bool(backend.webhook_secret_encrypted)
            backend.has_api_key = bool(backend.api_key_encrypted)
            backend.has_oauth_client_secret = bool(
                backend.oauth_client_secret_encrypted
            )
            backend.has_cxml_shared_secret = bool(backend.cxml_shared_secret_encrypted)

    @api.depends("code")
    def _compute_webhook_url(self):
        base_url = self.env["ir.config_parameter"].sudo().get_param("web.base.url")
        for backend in self:
            backend.webhook_url = (
                f"{base_url}/finance_hub/webhook/{backend.code}" if backend.code else ""
            )

    def _compute_health(self):
        Health = self.env["fih.health"]
        figures = Health._figures(self.ids)
        empty = {
            "messages_last_hour": 0,
            "messages_24h": 0,
            "success_rate": 100.0,
            "failure_rate": 0.0,
            "backlog": 0,
            "dead_letters": 0,
            "needing_attention": 0,
            "latency_p50_ms": 0,
            "latency_p95_ms": 0,
            "last_success_at": False,
        }
        for backend in self:
            data = figures.get(backend.id, empty)
            backend.health_status, backend.health_reason = Health._status(backend, data)
            backend.messages_last_hour = data["messages_last_hour"]
            backend.messages_24h = data["messages_24h"]
            backend.success_rate = data["success_rate"]
            backend.backlog_count = data["backlog"]
            backend.dead_letter_count = data["dead_letters"]
            backend.latency_p50_ms = data["latency_p50_ms"]
            backend.latency_p95_ms = data["latency_p95_ms"]
            backend.last_success_at = data["last_success_at"]

    def _compute_message_counts(self):
        groups = self.env["fih.message"]._read_group(
            [("backend_id", "in", self.ids)], ["backend_id", "state"], ["__count"]
        )
        totals, failed = {}, {}
        for backend, state, count in groups:
            totals[backend.id] = totals.get(backend.id, 0) + count
            if state in ("failed", "dead"):
                failed[backend.id] = failed.get(backend.id, 0) + count
        for backend in self:
            backend.message_ids_count = totals.get(backend.id, 0)
            backend.message_failed_count = failed.get(backend.id, 0)

    def _compute_mapping_count(self):
        for backend in self:
            backend.mapping_count = len(
                backend.mapping_ids.filtered(lambda m: m.state != "superseded")
            )

    def action_open_mappings(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "finance_integration_hub.fih_mapping_action"
        )
        action["domain"] = [("backend_id", "=", self.id)]
        action["context"] = {"default_backend_id": self.id, "fih_backend_id": self.id}
        return action

    def _compute_binding_count(self):
        counts = dict(
            self.env["fih.binding"]._read_group(
                [("backend_id", "in", self.ids)], ["backend_id"], ["__count"]
            )
        )
        for backend in self:
            backend.binding_count = counts.get(backend, 0)

    # -- secrets ---------------------------------------------------------

    def _set_secret(self, field_name, plaintext):
        # the writes below are sudo (ciphertext fields are admin-only): the
        # caller must be allowed to change the backend itself
        self.check_access("write")
        column = SECRET_FIELDS[field_name]
        box = secret_box()
        for backend in self.sudo():
            if field_name == "webhook_secret":
                standard_webhooks.decode_secret(plaintext)  # refuse unusable secrets
                values = {
                    "webhook_secret_encrypted": box.encrypt(plaintext),
                    "webhook_secret_rotated_at": fields.Datetime.now(),
                }
                if backend.webhook_secret_encrypted:
                    values.update(
                        webhook_secret_previous_encrypted=backend.webhook_secret_encrypted,
                        webhook_secret_previous_valid_until=fields.Datetime.now()
                        + timedelta(hours=backend.secret_grace_hours),
                    )
                backend.write(values)
            else:
                backend.write({column: box.encrypt(plaintext)})
            backend.message_post(
                body=self.env._(
                    "%(label)s was changed.", label=self._fields[field_name].string
                )
            )

    def _inverse_secret(self, field_name):
        for backend in self:
            plaintext = backend[field_name]
            if plaintext:
                try:
                    backend._set_secret(field_name, plaintext.strip())
                except ValueError as exc:
                    raise ValidationError(
                        self.env._("The webhook signing secret is not usable: %s", exc)
                    ) from exc
        # the plaintext must not linger in the cache once it is encrypted
        self.invalidate_recordset([field_name])

    def _inverse_webhook_secret(self):
        self._inverse_secret("webhook_secret")

    def _inverse_api_key(self):
        self._inverse_secret("api_key")

    def _inverse_oauth_client_secret(self):
        self._inverse_secret("oauth_client_secret")

    def _inverse_cxml_shared_secret(self):
        self._inverse_secret("cxml_shared_secret")

    def _get_secret(self, field_name):
        """Decrypted secret, for the flows only; never log or display it."""
        self.ensure_one()
        token = self.sudo()[SECRET_FIELDS[field_name]]
        return decrypt(token) if token else None

    def _webhook_verification_secrets(self, now=None):
        """Current secret, plus the previous one during its grace period."""
        self.ensure_one()
        return webhook_secrets(self.sudo(), now=now)

    def action_generate_webhook_secret(self):
        """Create a new signing secret and show it once, in a notification only."""
        self.ensure_one()
        secret = standard_webhooks.generate_secret()
        self._set_secret("webhook_secret", secret)
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {
                "title": self.env._("New webhook signing secret for %s", self.name),
                "message": self.env._(
                    "Copy it now into %(system)s; it will not be shown again. "
                    "The previous secret stays valid for %(hours)s hours.\n%(secret)s",
                    system=self.name,
                    hours=self.secret_grace_hours,
                    secret=secret,
                ),
                "sticky": True,
                "type": "warning",
            },
        }

    @api.model
    def _reencrypt_all_secrets(self):
        """Re-encrypt every stored secret under the newest master key.

        Rotation: set ``fih_master_key = NEW,OLD``, restart, run this, then
        remove OLD. Returns the number of secrets re-encrypted.
        """
        self.env.flush_all()  # raw updates below must not be overwritten later
        box = secret_box()
        columns = [
            *SECRET_FIELDS.values(),
            "webhook_secret_previous_encrypted",
        ]
        backends = self.sudo().with_context(active_test=False).search([])
        count = 0
        for backend in backends:
            values = {}
            for column in columns:
                token = backend[column]
                if token:
                    try:
                        values[column] = box.rotate(token)
                    except MasterKeyError as exc:
                        raise UserError(
                            self.env._(
                                "The secrets of %(backend)s cannot be re-encrypted: "
                                "%(reason)s Add the old key after the new one in "
                                "fih_master_key and try again.",
                                backend=backend.name,
                                reason=exc,
                            )
                        ) from exc
            if values:
                # raw update: re-encrypting is not a change of the secret
                self.env.cr.execute(
                    SQL(
                        "UPDATE fih_backend SET %s WHERE id = %s",
                        SQL(", ").join(
                            SQL("%s = %s", SQL.identifier(column), token)
                            for column, token in values.items()
                        ),
                        backend.id,
                    )
                )
                count += len(values)
        self.invalidate_model()
        self.env.registry.clear_cache()
        self.browse()._audit_key_rotation(count)
        return count

    def _audit_key_rotation(self, count):
        self.env["fih.audit.log"].sudo().create(
            {
                "res_model": self._name,
                "record_name": self.env._("All backends"),
                "action": "key_rotation",
                "changes": f'{{"secrets_reencrypted": {count}}}',
            }
        )

    def action_reencrypt_secrets(self):
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

    @api.model
    def _cron_alerts(self):
        """Tell owners about failure rates and dead letters, rate-limited."""
        now = fields.Datetime.now()
        backends = self.sudo().search([])
        figures = self.env["fih.health"]._figures(backends.ids, hours=1)
        for backend in backends:
            quiet_since = now - timedelta(hours=backend.alert_interval_hours)
            data = figures.get(backend.id)
            if not data:
                continue
            finished = data["messages_24h"]  # window of the query: one hour
            rate = 100 * data["failure_rate"]
            if (
                finished >= 10
                and rate > backend.alert_failure_rate
                and (
                    not backend.last_alert_failure_at
                    or backend.last_alert_failure_at < quiet_since
                )
            ):
                backend._alert(
                    self.env._(
                        "%(rate)s%% of the last hour's messages from or to %(backend)s "
                        "failed (alert threshold %(threshold)s%%).",
                        rate=round(rate),
                        backend=backend.name,
                        threshold=backend.alert_failure_rate,
                    )
                )
                backend.last_alert_failure_at = now
            new_dead = (
                self.env["fih.message"]
                .sudo()
                .search_count(
                    [
                        ("backend_id", "=", backend.id),
                        ("state", "=", "dead"),
                        ("write_date", ">", backend.last_alert_dead_at or quiet_since),
                    ]
                )
            )
            if new_dead and (
                not backend.last_alert_dead_at
                or backend.last_alert_dead_at < quiet_since
            ):
                backend._alert(
                    self.env._(
                        "%(count)s messages of %(backend)s became dead letters: they "
                        "were retried until the limit and need a decision.",
                        count=new_dead,
                        backend=backend.name,
                    )
                )
                backend.last_alert_dead_at = now

    def _alert(self, text):
        """Activity and e-mail to the owner."""
        self.ensure_one()
        owner = self.owner_id or self.env.ref("base.user_admin")
        self.activity_schedule(
            "mail.mail_activity_data_warning",
            summary=self.env._("Integration alert: %s", self.name),
            note=text,
            user_id=owner.id,
        )
        # queued for the mail cron: a background check must not wait for SMTP
        self.with_context(mail_notify_force_send=False).message_post(
            body=text,
            subject=self.env._("Integration alert: %s", self.name),
            partner_ids=owner.partner_id.ids,
            message_type="notification",
            subtype_xmlid="mail.mt_comment",
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

    # -- channels and policy --------------------------------------------

    def _ensure_channel(self):
        parent = self.env.ref("finance_integration_hub.channel_finance_hub")
        Channel = self.env["queue.job.channel"].sudo()
        for backend in self:
            name = backend.code.replace(".", "_")
            channel = Channel.search(
                [("name", "=", name), ("parent_id", "=", parent.id)], limit=1
            ) or Channel.create({"name": name, "parent_id": parent.id})
            backend.sudo().channel_id = channel

    def _ensure_service_user_company(self):
        """The service user must be allowed in the company it processes for."""
        for backend in self.sudo():
            user = backend.service_user_id
            if user and backend.company_id not in user.company_ids:
                user.company_ids = [(4, backend.company_id.id)]

    @api.model_create_multi
    def create(self, vals_list):
        backends = super().create(vals_list)
        backends._ensure_channel()
        backends._ensure_service_user_company()
        self.env.registry.clear_cache()  # _webhook_config
        return backends

    def write(self, vals):
        result = super().write(vals)
        if "code" in vals:
            self._ensure_channel()
        if {"company_id", "service_user_id"} & set(vals):
            self._ensure_service_user_company()
        self.env.registry.clear_cache()  # _webhook_config, in every worker
        return result

    def unlink(self):
        result = super().unlink()
        self.env.registry.clear_cache()
        return result

    @api.model
    @tools.ormcache("code")
    def _webhook_config(self, code):
        """Intake settings of the active backend ``code`` (None if unknown).

        Cached per worker so that a webhook costs no query to authenticate;
        any change to a backend clears the cache in all workers.
        """
        self.env.cr.execute(
            """
            SELECT id, company_id, max_body_kb, max_batch_events,
                   rate_limit_per_minute, webhook_secret_encrypted,
                   webhook_secret_previous_encrypted,
                   webhook_secret_previous_valid_until
              FROM fih_backend
             WHERE code = %s AND active
            """,
            (code,),
        )
        row = self.env.cr.fetchone()
        return WebhookConfig(*row) if row else None

    def _channel_name(self):
        self.ensure_one()
        # service users have no access to job channels, and need none
        return self.sudo().channel_id.complete_name or "root.finance_hub"

    def _retry_policy(self):
        self.ensure_one()
        return RetryPolicy(
            base_seconds=self.retry_base_seconds,
            max_attempts=self.retry_max_attempts,
            max_age_seconds=self.retry_max_age_hours * 3600,
        )

    def _exception_user(self):
        self.ensure_one()
        return (
            self.exception_user_id or self.owner_id or self.env.ref("base.user_admin")
        )

    # -- processing -----------------------------------------------------

    def _enqueue_processing(self, eta=None):
        self._enqueue_work("inbound", eta=eta)

    def _enqueue_delivery(self, eta=None):
        self._enqueue_work("outbound", eta=eta)

    def _enqueue_work(self, direction, eta=None):
        """Queue one drain job per backend and direction; a job already
        waiting with the same identity takes the new messages too.

        The job runs as the backend's service user, in the backend's company.
        """
        for backend in self:
            identity_key = f"fih-{direction}-{backend.id}-{eta or 'now'}"
            if self._drain_job_waiting(identity_key):
                continue
            if direction == "outbound":
                description = self.env._(
                    "Deliver outbound messages to %s", backend.name
                )
            else:
                description = self.env._("Process inbound messages of %s", backend.name)
            delayable = (
                backend.with_user(backend.service_user_id)
                .with_company(backend.company_id)
                .with_delay(
                    channel=backend._channel_name(),
                    identity_key=identity_key,
                    eta=eta,
                    description=description,
                )
            )
            getattr(delayable, DRAIN_JOBS[direction])()

    # -- outbound -----------------------------------------------------------

    def _deliver_outbound_messages(self, time_budget=DRAIN_TIME_BUDGET):
        """Job: deliver due outbound messages, oldest first per record."""
        self.ensure_one()

        def deliver(messages, deadline):
            # a fresh transaction: this job's snapshot predates the claim
            self.env.flush_all()
            with self.env.registry.cursor() as cr:
                env = self.env(cr=cr)
                env["fih.delivery"]._deliver(
                    self.with_env(env), messages.with_env(env), deadline
                )

        delivered = self._drain("outbound", deliver, time_budget)
        return self.env._("%s messages handled", delivered)

    def _drain(self, direction, handle, time_budget):
        """Claim and handle due messages in micro-batches until none is left,
        or hand over to a new job when ``time_budget`` is spent (a backlog
        never runs into the worker's time limit). Returns the count."""
        claim = getattr(self.env["fih.message"], f"_claim_{direction}")
        handled = 0
        deadline = time.monotonic() + time_budget
        due_by = fields.Datetime.now()
        while True:
            if time.monotonic() > deadline:
                self._enqueue_work(direction)
                break
            messages = claim(self, self.processing_batch_size, due_by)
            if not messages:
                break
            handle(messages, deadline)
            handled += len(messages)
        return handled

    def _circuit_breaker(self):
        self.ensure_one()
        return circuit_breaker.CircuitBreaker(
            failure_threshold=max(self.breaker_threshold, 1),
            cooldown_seconds=self.breaker_cooldown_seconds,
        )

    def _breaker_state(self):
        """The breaker as committed now (not as this transaction saw it)."""
        self.ensure_one()
        self.env["fih.backend"].flush_model(
            ["breaker_status", "breaker_failures", "breaker_opened_at"]
        )
        with read_committed_cursor(self.env.registry) as cr:
            return self._read_breaker(cr)

    def _read_breaker(self, cr, lock=False):
        if lock:
            cr.execute(
                "SELECT breaker_status, breaker_failures, breaker_opened_at "
                "FROM fih_backend WHERE id = %s FOR UPDATE",
                (self.id,),
            )
        else:
            cr.execute(
                "SELECT breaker_status, breaker_failures, breaker_opened_at "
                "FROM fih_backend WHERE id = %s",
                (self.id,),
            )
        status, failures, opened_at = cr.fetchone()
        return circuit_breaker.BreakerState(
            status=status or "closed",
            consecutive_failures=failures or 0,
            opened_at=opened_at or None,
        )

    def _update_breaker(self, change):
        """Apply ``change(state) -> state`` atomically across workers, in a
        short transaction of its own; return ``(old, new)``."""
        self.ensure_one()
        with read_committed_cursor(self.env.registry) as cr:
            old = self._read_breaker(cr, lock=True)
            new = change(old)
            if new != old:
                # raw SQL: workers update it concurrently, tracking would be noise
                cr.execute(
                    "UPDATE fih_backend SET breaker_status = %s, breaker_failures = %s,"
                    " breaker_opened_at = %s WHERE id = %s",
                    (new.status, new.consecutive_failures, new.opened_at, self.id),
                )
        self.invalidate_recordset(
            ["breaker_status", "breaker_failures", "breaker_opened_at"]
        )
        return old, new

    def _store_breaker_state(self, state):
        self._update_breaker(lambda _old: state)

    def _notify_breaker_opened(self, reason):
        self.ensure_one()
        backend = self.sudo()
        backend.activity_schedule(
            "mail.mail_activity_data_warning",
            summary=self.env._("Deliveries to %s are paused", backend.name),
            note=self.env._(
                "%(count)s deliveries failed in a row; the last one: %(reason)s. "
                "Deliveries resume by themselves once a probe succeeds.",
                count=backend.breaker_threshold,
                reason=reason,
            ),
            user_id=(backend.owner_id or self.env.ref("base.user_admin")).id,
        )

    def _take_outbound_token(self):
        """One call against the outbound rate limit shared by every worker."""
        self.ensure_one()
        if not self.outbound_rate_limit_per_minute:
            return True
        with read_committed_cursor(self.env.registry) as cr:
            wait = self.env(cr=cr, su=True)["fih.rate.counter"]._hit(
                self.id, self.outbound_rate_limit_per_minute, direction="outbound"
            )
        return not wait

    def _cxml_sender(self):
        self.ensure_one()
        return {
            "from_domain": self.cxml_from_domain or "NetworkID",
            "from_identity": self.cxml_from_identity or self.company_id.name,
            "to_domain": self.cxml_to_domain or "NetworkID",
            "to_identity": self.cxml_to_identity or self.name,
            "sender_domain": self.cxml_from_domain or "NetworkID",
            "sender_identity": self.cxml_from_identity or self.company_id.name,
            "shared_secret": self._get_secret("cxml_shared_secret") or "",
            "deployment_mode": "production" if self.environment == "prod" else "test",
        }

    def action_reset_breaker(self):
        self.check_access("write")
        self.sudo()._store_breaker_state(circuit_breaker.BreakerState())

    @api.model
    def _drain_job_waiting(self, identity_key):
        """Cheap probe before queue_job's own identity check (hot path)."""
        self.env["queue.job"].flush_model(["identity_key", "state"])
        self.env.cr.execute(
            """
            SELECT 1 FROM queue_job
             WHERE identity_key = %s
               AND state IN ('pending', 'enqueued', 'wait_dependencies')
             LIMIT 1
            """,
            (identity_key,),
        )
        return bool(self.env.cr.fetchone())

    def _process_inbound_messages(self, time_budget=DRAIN_TIME_BUDGET):
        """Job: process received messages in micro-batches until none is left."""
        self.ensure_one()
        processed = self._drain(
            "inbound", lambda messages, _deadline: messages._process(), time_budget
        )
        return self.env._("%s messages processed", processed)

    # -- actions --------------------------------------------------------

    def _action_open_messages(self, domain):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "finance_integration_hub.fih_message_action"
        )
        action["domain"] = [("backend_id", "=", self.id), *domain]
        action["context"] = {"default_backend_id": self.id}
        return action

    def action_open_messages(self):
        return self._action_open_messages([])

    def _compute_publication_count(self):
        counts = dict(
            self.env["fih.bi.publication"]._read_group(
                [("backend_id", "in", self.ids)], ["backend_id"], ["__count"]
            )
        )
        for backend in self:
            backend.publication_count = counts.get(backend, 0)

    def action_open_publications(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "finance_integration_hub.fih_bi_publication_action"
        )
        action["domain"] = [("backend_id", "=", self.id)]
        action["context"] = {"default_backend_id": self.id}
        return action

    def action_open_failed_messages(self):
        return self._action_open_messages([("state", "in", ("failed", "dead"))])

    def action_open_bindings(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "finance_integration_hub.fih_binding_action"
        )
        action["domain"] = [("backend_id", "=", self.id)]
        return action
