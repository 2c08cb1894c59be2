import calendar
from datetime import timedelta

from odoo import api, fields, models
from odoo.exceptions import AccessError, UserError, ValidationError

from ..lib.bi_datasets import DATASETS

HTTP_CHUNK_SIZE = 5000
# a warehouse or Parquet chunk costs a transaction or a file and a checkpoint,
# not an HTTP request: larger chunks, still one chunk in memory at a time
SINK_CHUNK_SIZE = 25_000
DIRECT_SINKS = ("postgres", "parquet")
SCHEDULES = [
    ("manual", "On demand only"),
    ("hourly", "Every hour"),
    ("nightly", "Every night"),
    ("period_locked", "When an accounting period is locked"),
]
CRON_INTERVALS = {
    "hourly": (1, "hours"),
    "nightly": (1, "days"),
    "period_locked": (1, "hours"),
}
# how long a schedule may go without a successful load before the owner is told
SCHEDULE_PERIODS = {"hourly": timedelta(hours=1), "nightly": timedelta(days=1)}


class FihBiPublication(models.Model):
    _name = "fih.bi.publication"
    _description = "Publication to a reporting platform"
    _inherit = [
        "mail.thread",
        "mail.activity.mixin",
        "fih.own.cron.mixin",
        "fih.company.locked.mixin",
        "fih.governed.mixin",
    ]
    # incremental loads start from the watermark: only a load moves it
    _fih_action_fields = frozenset({"watermark_changed_at", "watermark_key"})
    _cron_fields = frozenset({"schedule", "active", "name"})
    _order = "name"

    name = fields.Char(required=True, tracking=True)
    code = fields.Char(
        required=True,
        tracking=True,
        help="Short identifier used in the publication's URL on the reporting "
        "platform (letters, digits, dashes and underscores).",
    )
    active = fields.Boolean(default=True, tracking=True)
    company_id = fields.Many2one(
        "res.company",
        required=True,
        default=lambda self: self.env.company,
        tracking=True,
        help="Only this company's data is published.",
    )
    backend_id = fields.Many2one(
        "fih.backend",
        string="Reporting platform",
        required=True,
        ondelete="restrict",
        domain="[('kind', '=', 'bi'), ('company_id', '=', company_id)]",
        tracking=True,
        help="The BI backend that receives the data: its base URL, credentials "
        "and network settings are used.",
    )
    endpoint_path = fields.Char(
        default="/publications",
        required=True,
        help="Path under the backend's base URL; chunks go to "
        "<path>/<code>/loads/<load id>/chunks/<n>, the manifest to "
        "<path>/<code>/loads/<load id>/manifest.",
    )
    dataset = fields.Selection(
        [(code, dataset.label) for code, dataset in DATASETS.items()],
        required=True,
        tracking=True,
        help="What is published; the columns are documented on the Dataset tab.",
    )
    dataset_documentation = fields.Html(
        compute="_compute_dataset_documentation", sanitize=False
    )
    sink = fields.Selection(
        [
            ("http", "Reporting platform (HTTP)"),
            ("postgres", "PostgreSQL warehouse"),
            ("parquet", "Parquet files"),
        ],
        string="Destination",
        default="http",
        required=True,
        tracking=True,
        help="Where the rows go: the reporting platform's HTTP endpoint, a "
        "PostgreSQL database that BI tools read directly (one schema per "
        "publication, a table per dataset), or Parquet files in a folder of "
        "the server.",
    )
    data_format = fields.Selection(
        [("ndjson", "NDJSON (one JSON object per line)"), ("csv", "CSV")],
        string="Format",
        default="ndjson",
        required=True,
        help="Every chunk is gzip-compressed.",
    )
    chunk_size = fields.Integer(
        default=HTTP_CHUNK_SIZE,
        required=True,
        help="Rows per chunk. Each chunk is sent and retried on its own; a "
        "failed load resumes after the last chunk that was accepted.",
    )
    schedule = fields.Selection(
        SCHEDULES,
        default="nightly",
        required=True,
        tracking=True,
        help="Hourly and nightly loads are incremental; 'when a period is "
        "locked' publishes each newly locked month once, as an immutable "
        "period publication.",
    )
    first_period = fields.Date(
        help="For 'when a period is locked': the first month to publish. "
        "Earlier locked months are not published automatically."
    )
    owner_id = fields.Many2one(
        "res.users",
        default=lambda self: self.env.user,
        tracking=True,
        help="Receives an activity when a load fails, does not reconcile, or "
        "misses its SLA.",
    )
    sla_minutes = fields.Integer(
        string="SLA (minutes)",
        default=60,
        help="A load must be complete (and acknowledged, when the reporting "
        "platform acknowledges) this many minutes after it started; a "
        "scheduled publication must also have succeeded within its schedule "
        "plus this margin.",
    )
    watermark_changed_at = fields.Datetime(
        readonly=True,
        copy=False,
        help="Incremental loads send what changed after this moment (and key).",
    )
    watermark_key = fields.Integer(readonly=True, copy=False)
    load_ids = fields.One2many("fih.bi.load", "publication_id", readonly=True)
    load_count = fields.Integer(compute="_compute_last_load")
    last_success_id = fields.Many2one(
        "fih.bi.load", compute="_compute_last_load", string="Last successful load"
    )
    last_success_at = fields.Datetime(compute="_compute_last_load")
    last_rows = fields.Integer(compute="_compute_last_load", string="Rows")
    last_duration = fields.Float(
        compute="_compute_last_load", string="Duration (s)", digits=(16, 1)
    )
    last_totals = fields.Text(compute="_compute_last_load", string="Control totals")
    lag_minutes = fields.Integer(
        compute="_compute_last_load",
        string="Lag (minutes)",
        help="How old the newest published data is: minutes since the last "
        "successful load took its snapshot.",
    )
    status = fields.Selection(
        [
            ("never", "Never published"),
            ("ok", "Up to date"),
            ("running", "Loading"),
            ("attention", "Needs attention"),
        ],
        compute="_compute_last_load",
    )

    is_fih_system = fields.Boolean(compute="_compute_is_fih_system")
    # where the data goes and how the connection is secured: a system
    # administrator's decision, like the backend's allowed private hosts.
    # The shown warehouse is part of the connection's binding: only the
    # connection's own inverse (as superuser) writes it.
    _fih_destination_fields = frozenset(
        {
            "warehouse_dsn",
            "warehouse_sslmode",
            "warehouse_root_cert",
            "warehouse_destination",
            "parquet_folder",
        }
    )
    # fih.default.guard.mixin: neither a context default nor a personal
    # default (ir.default) of someone else fills them in
    _fih_admin_only_fields = _fih_destination_fields

    _sql_constraints = [
        (
            "code_backend_unique",
            "unique(backend_id, code)",
            "Another publication to this reporting platform uses the same code.",
        ),
    ]

    def _compute_is_fih_system(self):
        self.is_fih_system = self.env.user.has_group("base.group_system")

    def _check_destination_rights(self, vals_list):
        if self.env.su or self.env.user.has_group("base.group_system"):
            return
        named = {
            name
            for vals in vals_list
            for name in vals
            if name in self._fih_destination_fields and vals[name]
        }
        if named:
            raise AccessError(
                self.env._(
                    "Only a system administrator can set where a publication "
                    "writes (%s). Ask one to set it.",
                    ", ".join(sorted(self._fields[name].string for name in named)),
                )
            )

    @api.model_create_multi
    def create(self, vals_list):
        self._check_destination_rights(vals_list)
        return super().create(
            [
                dict(vals, chunk_size=SINK_CHUNK_SIZE)
                if vals.get("sink") in DIRECT_SINKS and not vals.get("chunk_size")
                else vals
                for vals in vals_list
            ]
        )

    @api.onchange("sink")
    def _onchange_sink_chunk_size(self):
        """Warehouse and Parquet chunks are larger: each chunk costs a
        transaction (or a file) and a checkpoint, not an HTTP round trip."""
        if self.chunk_size in (HTTP_CHUNK_SIZE, SINK_CHUNK_SIZE):
            self.chunk_size = (
                SINK_CHUNK_SIZE if self.sink in DIRECT_SINKS else HTTP_CHUNK_SIZE
            )

    def write(self, vals):
        if self._fih_destination_fields & set(vals):
            if not (self.env.su or self.env.user.has_group("base.group_system")):
                self._check_destination_rights([dict.fromkeys(vals, True)])
        return super().write(vals)

    @api.constrains("code")
    def _check_code(self):
        for publication in self:
            code = publication.code or ""
            if not code.replace("-", "").replace("_", "").isalnum():
                raise ValidationError(
                    self.env._(
                        "The code %s may only contain letters, digits, dashes "
                        "and underscores.",
                        code,
                    )
                )

    @api.constrains("company_id", "backend_id")
    def _check_backend_company(self):
        for publication in self.sudo():
            if publication.backend_id.company_id != publication.company_id:
                raise ValidationError(
                    self.env._(
                        "%(publication)s publishes %(company)s's data, so its "
                        "reporting platform must be a backend of %(company)s.",
                        publication=publication.name,
                        company=publication.company_id.name,
                    )
                )

    @api.constrains("chunk_size")
    def _check_chunk_size(self):
        for publication in self:
            if not 100 <= publication.chunk_size <= 100_000:
                raise ValidationError(
                    self.env._("Rows per chunk must be between 100 and 100,000.")
                )

    @api.constrains("schedule", "dataset", "first_period")
    def _check_schedule(self):
        for publication in self:
            dataset = DATASETS[publication.dataset]
            if publication.schedule == "period_locked" and not publication.first_period:
                raise ValidationError(
                    self.env._(
                        "Give the first month to publish when publishing each "
                        "locked period."
                    )
                )
            if publication.schedule == "period_locked" and not dataset.incremental:
                raise ValidationError(
                    self.env._(
                        "%s is a snapshot of today; it cannot be published per "
                        "locked period.",
                        dataset.label,
                    )
                )

    @api.depends("dataset")
    def _compute_dataset_documentation(self):
        for publication in self:
            dataset = DATASETS.get(publication.dataset)
            if not dataset:
                publication.dataset_documentation = False
                continue
            rows = "".join(
                f"<tr><td><code>{column.name}</code></td><td>{column.type}</td>"
                f"<td>{column.description}</td></tr>"
                for column in dataset.columns
            )
            totals = ", ".join(
                f"{total.amount} per {total.currency} and {total.company}"
                for total in dataset.totals
            )
            loads = (
                "incremental with tombstones"
                if dataset.incremental
                else "snapshot (each load replaces the last)"
            )
            publication.dataset_documentation = (
                f"<p>{dataset.description}</p>"
                f"<p><b>Key:</b> <code>{dataset.key_column}</code>. "
                f"<b>Control totals:</b> {totals or 'row counts only'}. "
                f"<b>Loads:</b> {loads}."
                "</p><table class='table table-sm'><thead><tr><th>Column</th>"
                f"<th>Type</th><th>Meaning</th></tr></thead><tbody>{rows}</tbody>"
                "</table>"
            )

    @api.depends("load_ids.state", "load_ids.finished_at")
    def _compute_last_load(self):
        now = fields.Datetime.now()
        for publication in self:
            loads = publication.load_ids
            publication.load_count = len(loads)
            success = loads.filtered(lambda load: load.state == "reconciled")[:1]
            publication.last_success_id = success
            publication.last_success_at = success.finished_at
            publication.last_rows = success.rows
            publication.last_duration = success.duration_seconds
            publication.last_totals = success.totals_display
            publication.lag_minutes = (
                int((now - success.bound_at).total_seconds() // 60)
                if success.bound_at
                else 0
            )
            latest = loads[:1]
            if not latest:
                publication.status = "never"
            elif latest.state in ("queued", "running", "awaiting_ack"):
                publication.status = "running"
            elif latest.state == "reconciled":
                publication.status = "ok"
            else:
                publication.status = "attention"

    # -- schedule ---------------------------------------------------------

    def _cron_schedule(self):
        interval = CRON_INTERVALS.get(self.schedule)
        if not interval:
            return None
        name = self.env._("BI publication: %s", self.name)
        return (name, "_run_scheduled", *interval)

    def _run_scheduled(self):
        for publication in self.filtered("active"):
            if publication.schedule == "period_locked":
                for start, end in publication._newly_locked_periods():
                    publication._start_load("period", period=(start, end))
            else:
                publication._start_load(publication._usual_mode())

    def _lock_date(self):
        company = self.company_id
        dates = [
            company.fiscalyear_lock_date,
            company.purchase_lock_date,
            company.hard_lock_date,
        ]
        return max((day for day in dates if day), default=None)

    def _newly_locked_periods(self):
        """Months that ended on or before the lock date and were never
        published successfully, oldest first."""
        self.ensure_one()
        lock_date = self._lock_date()
        if not lock_date or not self.first_period:
            return []
        # a period whose load failed its checks needs a person, not a retry
        published = {
            load.period_start
            for load in self.load_ids
            if load.mode == "period"
            and load.state in ("reconciled", "awaiting_ack", "mismatch", "refused")
        }
        running = {
            load.period_start
            for load in self.load_ids
            if load.mode == "period" and load.state in ("queued", "running", "failed")
        }
        periods = []
        start = self.first_period.replace(day=1)
        while True:
            end = start.replace(day=calendar.monthrange(start.year, start.month)[1])
            if end > lock_date:
                break
            if start not in published and start not in running:
                periods.append((start, end))
            start = end + timedelta(days=1)
        return periods

    def _is_locked(self, period_end):
        lock_date = self._lock_date()
        return bool(lock_date and period_end <= lock_date)

    # -- loads ----------------------------------------------------------------

    def _start_load(self, mode, period=None):
        """Create the load and queue it; a publication runs one load at a time
        (a database constraint), so a second start while one runs is refused."""
        self.ensure_one()
        self.check_access("write")
        # whoever presses the button, the run is the publication's company's
        self = self.with_company(self.company_id).with_context(  # noqa: PLW0642
            allowed_company_ids=self.company_id.ids
        )
        Load = self.env["fih.bi.load"]
        if Load.sudo().search_count(
            [
                ("publication_id", "=", self.id),
                ("state", "in", ("queued", "running", "failed")),
            ]
        ):
            return Load
        values = {
            "publication_id": self.id,
            "mode": mode,
            "chunk_size": self.chunk_size,
            "as_of": fields.Date.context_today(self),
        }
        if period:
            start, end = period
            values.update(
                period_start=start,
                period_end=end,
                period_locked=self._is_locked(end),
            )
            previous = Load.sudo().search(
                [
                    ("publication_id", "=", self.id),
                    ("mode", "=", "period"),
                    ("period_start", "=", start),
                    ("period_end", "=", end),
                    ("period_locked", "=", True),
                    ("state", "in", ("reconciled", "awaiting_ack", "mismatch")),
                ],
                # the latest: a period unlocked, corrected and locked again
                # is compared with its corrected publication
                order="id desc",
                limit=1,
            )
            if previous and values["period_locked"]:
                # the same chunking, so the same bytes
                values.update(
                    chunk_size=previous.chunk_size, reference_load_id=previous.id
                )
        load = Load.sudo().create(values)
        load._enqueue()
        return load

    def action_publish_now(self):
        return self._publish(None, self.env._("The load was queued."))

    def action_full_reload(self):
        return self._publish("full", self.env._("A full reload was queued."))

    def _publish(self, mode, done_text):
        """Queue a load of each publication (``mode``, else its usual one);
        say so, or why not."""
        for publication in self:
            if not publication._start_load(mode or publication._usual_mode()):
                raise UserError(publication._busy_text())
        return self._notify(done_text)

    def _usual_mode(self):
        """Incremental where the dataset allows it; snapshots are reloaded."""
        return "incremental" if DATASETS[self.dataset].incremental else "full"

    def _busy_text(self):
        return self.env._(
            "A load of %s is still in progress or waiting to resume; open its "
            "loads to follow, resume or cancel it.",
            self.name,
        )

    def action_publish_period(self):
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "res_model": "fih.bi.period.wizard",
            "view_mode": "form",
            "target": "new",
            "context": {"default_publication_id": self.id},
        }

    def action_open_loads(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "finance_integration_hub.fih_bi_load_action"
        )
        action["domain"] = [("publication_id", "=", self.id)]
        return action

    def _notify(self, text):
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {"message": text, "type": "success", "sticky": False},
        }

    # -- watermark -------------------------------------------------------------

    def _advance_watermark(self, changed_at, key):
        self.ensure_one()
        self.sudo().write({"watermark_changed_at": changed_at, "watermark_key": key})

    # -- alerts ------------------------------------------------------------------

    def _alert(self, summary, text):
        """One open activity per publication and subject for its owner."""
        self.ensure_one()
        activity_type = self.env.ref("mail.mail_activity_data_warning")
        publication = self.sudo()
        if publication.activity_ids.filtered(
            lambda activity: activity.summary == summary
            and activity.activity_type_id == activity_type
        ):
            return
        publication.activity_schedule(
            activity_type_id=activity_type.id,
            summary=summary,
            note=text,
            user_id=(self.owner_id or self.env.ref("base.user_admin")).id,
        )

    @api.model
    def _cron_check_sla(self):
        """Alert owners about loads past their SLA and schedules that stopped
        producing successful loads."""
        now = fields.Datetime.now()
        Load = self.env["fih.bi.load"].sudo()
        Load._cron_recover()
        for publication in self.sudo().search([]):
            sla = timedelta(minutes=publication.sla_minutes or 60)
            late = Load.search(
                [
                    ("publication_id", "=", publication.id),
                    ("state", "in", ("queued", "running", "failed", "awaiting_ack")),
                    ("create_date", "<", now - sla),
                ],
                limit=1,
            )
            if late:
                publication._alert(
                    self.env._("Load past its SLA: %s", publication.name),
                    self.env._(
                        "Load %(load)s of %(publication)s started %(start)s and is "
                        "still %(state)s after the %(minutes)s minutes of its SLA.",
                        load=late.display_name,
                        publication=publication.name,
                        start=late.create_date,
                        state=dict(late._fields["state"].selection)[late.state],
                        minutes=publication.sla_minutes,
                    ),
                )
                late.sla_breached = True
            period = SCHEDULE_PERIODS.get(publication.schedule)
            if period and publication.create_date < now - period - sla:
                last = publication.last_success_at
                if not last or last < now - period - sla:
                    publication._alert(
                        self.env._("Publication overdue: %s", publication.name),
                        self.env._(
                            "%(publication)s has had no successful load since "
                            "%(last)s, although it runs %(schedule)s.",
                            publication=publication.name,
                            last=last or self.env._("it was created"),
                            schedule=dict(SCHEDULES)[publication.schedule].lower(),
                        ),
                    )

    def _manifest_identity(self):
        self.ensure_one()
        return {
            "publication": self.code,
            "dataset": self.dataset,
            "company": self.company_id.name,
            "format": self.data_format,
        }

    def _dataset(self):
        self.ensure_one()
        return DATASETS[self.dataset]

    def _columns_manifest(self):
        dataset = self._dataset()
        return [
            {
                "name": column.name,
                "type": column.type,
                "description": column.description,
            }
            for column in dataset.columns
        ]
