from odoo import api, fields, models

from ..lib import progress as progress_lib
from ..tools import read_committed_cursor

BUS_TYPE = "fih.progress"  # the notification the web client listens to
PROGRESS_FIELDS = frozenset(
    {
        "progress_done",
        "progress_total",
        "progress_total_known",
        "progress_chunks_done",
        "progress_chunks_total",
        "progress_done_before",
        "progress_started_at",
        "progress_updated_at",
        "progress_running",
        "progress_user_id",
    }
)


class FihProgressMixin(models.AbstractModel):
    """Long work that shows how far it has come while it runs.

    The work calls :meth:`_progress_start` once, :meth:`_progress_advance`
    after each chunk it has made durable, and :meth:`_progress_finish` at the
    end. Each call writes the figures and tells the user who started the work
    on the bus (their partner channel, as Odoo's own modules do).

    Progress written in a transaction is invisible to everyone else until it
    commits: the figures are written in the transaction that commits the
    chunk (``own_cursor=False``, for work that commits per chunk), or through
    a short cursor of their own committed at once (``own_cursor=True``, for
    work whose transaction stays open while it runs).
    """

    _name = "fih.progress.mixin"
    _description = "Integration Work With Progress"

    # what the work counts: a key of lib.progress.UNITS
    _fih_progress_unit = "rows"

    progress_done = fields.Integer(string="Done", readonly=True, copy=False)
    progress_total = fields.Integer(string="To do", readonly=True, copy=False)
    progress_total_known = fields.Boolean(readonly=True, copy=False)
    progress_chunks_done = fields.Integer(
        string="Chunks done", readonly=True, copy=False
    )
    progress_chunks_total = fields.Integer(
        string="Chunks to do", readonly=True, copy=False
    )
    progress_done_before = fields.Integer(
        readonly=True,
        copy=False,
        help="Done by earlier runs; the estimate uses the current run's pace.",
    )
    progress_started_at = fields.Datetime(
        string="Run started", readonly=True, copy=False
    )
    progress_updated_at = fields.Datetime(
        string="Progress updated", readonly=True, copy=False
    )
    progress_running = fields.Boolean(string="Running", readonly=True, copy=False)
    progress_user_id = fields.Many2one(
        "res.users",
        string="Started by",
        readonly=True,
        copy=False,
        help="Receives the progress notifications in the web client.",
    )
    progress_percent = fields.Float(
        string="Progress", compute="_compute_progress", digits=(16, 1)
    )
    progress_text = fields.Char(string="Progress details", compute="_compute_progress")

    @api.depends(
        "progress_done",
        "progress_total",
        "progress_total_known",
        "progress_chunks_done",
        "progress_chunks_total",
        "progress_done_before",
        "progress_started_at",
        "progress_updated_at",
        "progress_running",
    )
    def _compute_progress(self):
        for record in self:
            figures = record._progress_figures()
            record.progress_percent = figures.percent if figures else 0.0
            record.progress_text = (
                progress_lib.sentence(figures, record._fih_progress_unit)
                if figures
                else False
            )

    def _progress_figures(self):
        """The :class:`lib.progress.Progress` of the record now; None before
        its first run."""
        self.ensure_one()
        if not self.progress_started_at:
            return None
        until = (
            fields.Datetime.now()
            if self.progress_running
            else self.progress_updated_at or fields.Datetime.now()
        )
        known = self.progress_total_known
        return progress_lib.measure(
            done=self.progress_done,
            total=self.progress_total if known else None,
            elapsed=(until - self.progress_started_at).total_seconds(),
            chunks_done=self.progress_chunks_done,
            chunks_total=self.progress_chunks_total or None,
            done_before=self.progress_done_before,
        )

    # -- the three calls of the work ------------------------------------------

    def _progress_start(
        self,
        total=None,
        chunks_total=None,
        done=0,
        chunks_done=0,
        user=None,
        own_cursor=False,
    ):
        """A run starts: ``done`` and ``chunks_done`` by earlier runs of the
        same work; ``total`` None while unknown. ``user`` (by default the
        record's creator) receives the notifications."""
        now = fields.Datetime.now()
        self._progress_write(
            {
                "progress_done": done,
                "progress_total": total or 0,
                "progress_total_known": total is not None,
                "progress_chunks_done": chunks_done,
                "progress_chunks_total": chunks_total or 0,
                "progress_done_before": done,
                "progress_started_at": now,
                "progress_updated_at": now,
                "progress_running": True,
                "progress_user_id": (user or self.create_uid).id,
            },
            own_cursor,
        )

    def _progress_advance(self, done, chunks=1, total=None, own_cursor=False):
        """``done`` more items in ``chunks`` more chunks are durable; ``total``
        when it became known on the way."""
        self.ensure_one()

        def advanced(record):
            # read where it is written: a short cursor sees the latest figures
            values = {
                "progress_done": record.progress_done + done,
                "progress_chunks_done": record.progress_chunks_done + chunks,
                "progress_updated_at": fields.Datetime.now(),
            }
            if total is not None:
                values.update(progress_total=total, progress_total_known=True)
            return values

        self._progress_write(advanced, own_cursor)

    def _progress_finish(self, own_cursor=False, summary=None, stopped=False):
        """The run ended (done, stopped or failed); ``summary`` is what the
        notification says the work did, or why it stopped (``stopped``)."""
        self._progress_write(
            {"progress_running": False, "progress_updated_at": fields.Datetime.now()},
            own_cursor,
            summary=summary,
            stopped=stopped,
        )

    # -- writing and telling ---------------------------------------------------

    def _progress_write(self, values, own_cursor, summary=None, stopped=False):
        """Write ``values`` (or ``values(record)``) and notify."""
        if not own_cursor:
            self._progress_apply(values, summary, stopped)
            return
        with read_committed_cursor(self.env.registry) as cr:
            records = self.with_env(self.env(cr=cr))
            records._progress_apply(values, summary, stopped)
            records.env.flush_all()  # before commit: nothing else keeps the env
        self.invalidate_recordset(list(PROGRESS_FIELDS))

    def _progress_apply(self, values, summary, stopped=False):
        for record in self.sudo():
            record.write(values(record) if callable(values) else values)
        self._progress_notify(summary, stopped)

    def _progress_notify(self, summary=None, stopped=False):
        """Tell the user who started the work (nobody for scheduled work)."""
        for record in self.sudo():
            user = record.progress_user_id
            if not user or not user.active or user.share or user._is_superuser():
                continue
            figures = record._progress_figures()
            user.partner_id._bus_send(
                BUS_TYPE,
                {
                    "model": record._name,
                    "id": record.id,
                    "running": record.progress_running,
                    "percent": figures.percent if figures else 0.0,
                    "text": record.progress_text or "",
                    "summary": summary or "",
                    # the work stopped before its end: the summary says why
                    "stopped": stopped,
                },
            )
