import re
from typing import NamedTuple

from odoo import api, fields, models, tools
from odoo.exceptions import AccessError, ValidationError

from ..lib import circuit_breaker, outbound_formats, url_guard
from ..lib.retry_policy import RetryPolicy

CODE_PATTERN = re.compile(r"^[a-z0-9][a-z0-9_-]{1,63}$")


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
    kind: str


class FihBackend(models.Model):
    _name = "fih.backend"
    _description = "Integration Backend"
    _inherit = [
        "mail.thread",
        "mail.activity.mixin",
        "fih.audited.mixin",
        "fih.company.locked.mixin",
        "fih.default.guard.mixin",
    ]
    _fih_admin_only_fields = frozenset({"private_host_allowlist"})
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
        "Only a user an administrator marked as an integration service user, "
        "allowed in this backend's company, can be chosen. Give it only the "
        "rights its flows need; it never logs in.",
    )
    bill_posting = fields.Selection(
        [
            ("matched", "Post bills with a matching order, keep others in draft"),
            ("post", "Post every bill that passes the checks"),
            ("draft", "Keep every bill in draft"),
        ],
        default="matched",
        required=True,
        tracking=True,
        help="Bills and credit notes from this backend that pass the three-way "
        "match, tax, currency, price and duplicate checks: post those with a "
        "purchase order and leave the others in draft for approval (default), "
        "post them all, or leave them all in draft. A supplier's own 'Integration "
        "bill posting' setting wins over this one. A bill that fails a check is "
        "never posted.",
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
    cxml_enabled = fields.Boolean(
        string="Exchanges cXML",
        compute="_compute_cxml_enabled",
        store=True,
        readonly=False,
        precompute=True,
        help="The system sends or receives cXML documents: its cXML identities "
        "and shared secret are shown. Set for procurement platforms.",
    )
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
    private_host_allowlist = fields.Text(
        string="Allowed Private Hosts",
        groups="base.group_system",
        copy=False,
        tracking=True,
        help="Set by a system administrator only. Hosts of your own network this "
        "backend may call (test systems, simulators): one host name, IP address "
        "or network (such as 10.1.0.0/16) a line, a host or address optionally "
        "with its port (127.0.0.1:8071 is the simulator, not every service of "
        "this machine). Plain http:// is only "
        "accepted for them. Cloud metadata and link-local addresses are never "
        "reachable, whatever is listed.",
    )
    outbound_rate_limit_per_minute = fields.Integer(
        default=600,
        tracking=True,
        help="Most calls per minute to this system, across all Odoo workers. "
        "0 = no limit.",
    )
    outbound_concurrency = fields.Integer(
        string="Parallel Deliveries",
        default=4,
        tracking=True,
        help="How many deliveries to this system may be under way at once "
        "(events of different records; a record's events always go in order).",
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
    webhook_url = fields.Char(
        string="Webhook URL",
        compute="_compute_webhook_url",
        help="Address to give the external system for its webhooks.",
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
    cxml_version = fields.Char(
        string="cXML Version",
        default=outbound_formats.CXML_VERSION,
        required=True,
        tracking=True,
        help="cXML version the orders sent to this system declare (their DOCTYPE "
        "names its cXML.dtd), such as 1.2.050 or 1.2.063. Use the version the "
        "receiving network supports.",
    )

    _sql_constraints = [
        ("code_uniq", "unique(code)", "Another backend already uses this code."),
        (
            "limits_positive",
            "CHECK(max_batch_events > 0 AND max_body_kb > 0 "
            "AND processing_batch_size > 0 AND retry_max_attempts > 0 "
            "AND rate_limit_per_minute >= 0)",
            "Batch sizes, body size and attempts must be positive.",
        ),
        (
            "outbound_concurrency_range",
            "CHECK(outbound_concurrency BETWEEN 1 AND 32)",
            "Parallel deliveries must be between 1 and 32.",
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

    @api.constrains("private_host_allowlist")
    def _check_private_host_allowlist(self):
        for backend in self.sudo():
            try:
                url_guard.Allowlist.parse(backend.private_host_allowlist)
            except ValueError as exc:
                raise ValidationError(
                    self.env._(
                        "The allowed private hosts of %(backend)s cannot be read: "
                        "%(reason)s. Write one host name, IP address or network "
                        "a line.",
                        backend=backend.name,
                        reason=exc,
                    )
                ) from None

    def _allowlist(self):
        """The private hosts this backend may call (an administrator's list)."""
        self.ensure_one()
        return url_guard.Allowlist.parse(self.sudo().private_host_allowlist)

    @api.constrains("service_user_id", "company_id")
    def _check_service_user(self):
        for backend in self.sudo():
            user = backend.service_user_id
            problem = user._fih_service_user_problem()
            if problem:
                raise ValidationError(
                    self.env._(
                        "%(user)s cannot be the service user of %(backend)s: "
                        "%(problem)s Choose the integration service user, or ask "
                        "an administrator to create a dedicated one.",
                        user=user.name,
                        backend=backend.name,
                        problem=problem,
                    )
                )
            if backend.company_id not in user.company_ids:
                raise ValidationError(
                    self.env._(
                        "The service user %(user)s may not work in %(company)s, "
                        "the company of %(backend)s. Ask an administrator to allow "
                        "it in that company, then choose it again.",
                        user=user.name,
                        company=backend.company_id.name,
                        backend=backend.name,
                    )
                )

    @api.depends("code")
    def _compute_webhook_url(self):
        base_url = self.env["ir.config_parameter"].sudo().get_param("web.base.url")
        for backend in self:
            backend.webhook_url = (
                f"{base_url}/finance_hub/webhook/{backend.code}" if backend.code else ""
            )

    def _compute_health(self):
        # on the replica when one is current (see fih.read.replica)
        with self.env["fih.read.replica"]._reading() as (read_env, _source):
            figures = read_env["fih.health"]._figures(self.ids)
        Health = self.env["fih.health"]
        empty = Health._empty()
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

    def _check_allowlist_rights(self, vals_list):
        """Opening the internal network is a system administrator's decision
        (create does not check field groups by itself)."""
        if self.env.su or self.env.user.has_group("base.group_system"):
            return
        if any(vals.get("private_host_allowlist") for vals in vals_list):
            raise AccessError(
                self.env._(
                    "Only a system administrator can allow calls to hosts of the "
                    "internal network. Ask one to add the host to the backend's "
                    "allowed private hosts."
                )
            )

    @api.model_create_multi
    def create(self, vals_list):
        self._check_allowlist_rights(vals_list)
        backends = super().create(vals_list)
        backends._ensure_channel()
        self.env.registry.clear_cache()  # _webhook_config
        return backends

    def write(self, vals):
        if "private_host_allowlist" in vals:
            self._check_allowlist_rights([{"private_host_allowlist": True}])
        result = super().write(vals)
        if "code" in vals:
            self._ensure_channel()
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
        self.flush_model()  # a change not yet written is read as well
        self.env.cr.execute(
            """
            SELECT id, company_id, max_body_kb, max_batch_events,
                   rate_limit_per_minute, webhook_secret_encrypted,
                   webhook_secret_previous_encrypted,
                   webhook_secret_previous_valid_until, kind
              FROM fih_backend
             WHERE code = %s AND active
            """,
            (code,),
        )
        row = self.env.cr.fetchone()
        return WebhookConfig(*row) if row else None

    @api.depends("kind")
    def _compute_cxml_enabled(self):
        for backend in self:
            backend.cxml_enabled = backend.cxml_enabled or backend.kind == "procurement"

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

    def _enqueue_work(self, direction, eta=None):
        """Wake the drain job of ``direction`` (inbound or outbound)."""
        self.env["fih.message"]._enqueue_work(self, direction, eta=eta)

    # -- outbound -----------------------------------------------------------

    def action_reset_breaker(self):
        self.check_access("write")
        self.env["fih.delivery"].sudo()._store_breaker_state(
            self, circuit_breaker.BreakerState()
        )

    @api.constrains("cxml_version")
    def _check_cxml_version(self):
        for backend in self:
            try:
                outbound_formats.cxml_doctype(backend.cxml_version)
            except ValueError:
                raise ValidationError(
                    self.env._(
                        "The cXML version '%s' is not valid: write it as the cXML "
                        "standard numbers its versions, such as 1.2.063.",
                        backend.cxml_version,
                    )
                ) from None
