import contextlib
import json
import logging
import time
import uuid

import psycopg2

from odoo import api, fields, models
from odoo.tools import SQL

from ..lib import bi_encoding
from ..lib.bi_datasets import DATASETS
from ..tools import read_committed_cursor

_logger = logging.getLogger(__name__)

CHUNK_ATTEMPTS = 3  # per chunk within one run; then the load waits and resumes
CHUNK_PAUSE_SECONDS = (0.5, 2.0)
MAX_RUNS = 8  # automatic resumes before the owner has to decide
STATES = [
    ("queued", "Queued"),
    ("running", "Loading"),
    ("failed", "Interrupted (will resume)"),
    ("awaiting_ack", "Sent, awaiting acknowledgement"),
    ("reconciled", "Reconciled"),
    ("mismatch", "Totals do not match"),
    ("refused", "Stopped"),
]
ACTIVE_STATES = ("queued", "running", "failed")
LOCK_NAMESPACE = 0x0F1B  # advisory locks of running loads: (namespace, load id)


class LoadStopped(Exception):
    """The load cannot go on now; ``retry`` says whether it resumes alone."""

    def __init__(self, reason, retry, retry_after=None):
        super().__init__(reason)
        self.retry = retry
        self.retry_after = retry_after


class FihBiLoad(models.Model):
    _name = "fih.bi.load"
    _description = "Load of a publication to a reporting platform"
    _inherit = ["fih.governed.mixin"]
    _order = "id desc"
    _rec_name = "uid"

    publication_id = fields.Many2one(
        "fih.bi.publication", required=True, ondelete="cascade", index=True
    )
    company_id = fields.Many2one(related="publication_id.company_id", store=True)
    backend_id = fields.Many2one(related="publication_id.backend_id", store=True)
    dataset = fields.Selection(related="publication_id.dataset", store=True)
    uid = fields.Char(
        string="Load id",
        required=True,
        readonly=True,
        default=lambda self: str(uuid.uuid4()),
        copy=False,
        help="Sent with every chunk and the manifest; the reporting platform "
        "deduplicates re-sent chunks on it.",
    )
    mode = fields.Selection(
        [
            ("incremental", "Incremental"),
            ("full", "Full reload"),
            ("period", "Period"),
        ],
        required=True,
        readonly=True,
    )
    state = fields.Selection(STATES, default="queued", required=True, readonly=True)
    period_start = fields.Date(readonly=True)
    period_end = fields.Date(readonly=True)
    period_locked = fields.Boolean(
        readonly=True,
        help="The period was locked when the load started: its content is "
        "immutable and publishing it again sends the same bytes.",
    )
    reference_load_id = fields.Many2one(
        "fih.bi.load",
        readonly=True,
        help="The first publication of this locked period; every chunk must "
        "be identical to it.",
    )
    as_of = fields.Date(readonly=True, help="Day the snapshot datasets are aged on.")
    chunk_size = fields.Integer(readonly=True)
    started_at = fields.Datetime(readonly=True)
    finished_at = fields.Datetime(readonly=True)
    duration_seconds = fields.Float(
        readonly=True, digits=(16, 1), string="Duration (s)"
    )
    runs = fields.Integer(
        readonly=True, help="How many times the load was started or resumed."
    )
    watermark_from_at = fields.Datetime(readonly=True, string="Changes after")
    watermark_from_key = fields.Integer(readonly=True)
    bound_at = fields.Datetime(
        readonly=True,
        string="Snapshot taken",
        help="Changes up to this moment are included; later ones go to the next "
        "load. It is held back while older transactions are still open, so "
        "none of their changes can be skipped.",
    )
    last_changed_at = fields.Datetime(readonly=True)
    last_key = fields.Integer(readonly=True)
    rows = fields.Integer(readonly=True)
    tombstones = fields.Integer(readonly=True, string="Deletions")
    bytes_sent = fields.Integer(readonly=True, string="Bytes sent (gzip)")
    chunk_ids = fields.One2many("fih.bi.load.chunk", "load_id", readonly=True)
    totals_json = fields.Text(readonly=True)
    totals_display = fields.Text(
        compute="_compute_totals_display", string="Control totals"
    )
    content_sha256 = fields.Char(readonly=True, string="Content hash")
    manifest = fields.Text(readonly=True)
    acknowledgement = fields.Text(readonly=True)
    acknowledged_at = fields.Datetime(readonly=True)
    differences = fields.Text(readonly=True)
    error_message = fields.Text(readonly=True)
    next_run_at = fields.Datetime(readonly=True)
    sla_breached = fields.Boolean(readonly=True)

    _sql_constraints = [
        ("uid_unique", "unique(uid)", "A load id is unique."),
    ]

    def init(self):
        # one load at a time per publication, enforced by the database
        self.env.cr.execute(
            """
            CREATE UNIQUE INDEX IF NOT EXISTS fih_bi_load_one_active
                ON fih_bi_load (publication_id)
             WHERE state IN ('queued', 'running', 'failed')
            """
        )

    @api.depends("totals_json")
    def _compute_totals_display(self):
        for load in self:
            totals = json.loads(load.totals_json or "[]")
            load.totals_display = "\n".join(
                f"{item['amount']} {item['currency']} ({item['company']}): "
                f"{item['total']} over {item['rows']} rows"
                for item in totals
            )

    # -- queueing -------------------------------------------------------------

    def _enqueue(self, eta=None):
        for load in self:
            backend = load.publication_id.backend_id
            load.with_user(backend.service_user_id).with_context(
                allowed_company_ids=load.company_id.ids
            ).with_delay(
                channel=backend._channel_name(),
                eta=eta,
                identity_key=f"fih-bi-load-{load.id}-{eta or 'now'}",
                description=self.env._(
                    "Publish %(publication)s (%(mode)s)",
                    publication=load.publication_id.name,
                    mode=dict(self._fields["mode"].selection)[load.mode],
                ),
            )._run()

    # -- the run ----------------------------------------------------------------

    def _run(self):
        """Job: send the remaining chunks, then the manifest.

        Progress is committed chunk by chunk on its own cursor, so a worker
        killed mid-load, or a platform outage, resumes after the last chunk
        that was accepted. The rows are read from one snapshot (a repeatable
        read transaction) through a server-side cursor: memory stays at one
        chunk whatever the size of the dataset.
        """
        self.ensure_one()
        # whatever context the job kept: the load's company only
        self = self.with_context(  # noqa: PLW0642
            allowed_company_ids=self.sudo().company_id.ids
        )
        self.env.flush_all()
        registry = self.env.registry
        # the bound is fixed and committed before the reading snapshot starts:
        # a transaction committing in between is then either visible or after it
        self._fix_bounds()
        with registry.cursor() as stream_cr:
            try:
                # a second job for the same load (a redelivered job) stops here
                if not _try_lock(stream_cr, self.id):
                    return self.env._("Load %s is already running elsewhere.", self.uid)
                # rows on the replica when it is current (fih_bi_load_replica)
                with (
                    self._reading_cursor(stream_cr) as (read_cr, source),
                    registry.cursor() as progress_cr,
                ):
                    load = self.with_env(self.env(cr=progress_cr))
                    load._note_read_source(source)
                    outcome = load._run_on(read_cr)
                    progress_cr.commit()
            finally:
                # it only read; ending it releases the lock and the snapshot
                stream_cr.commit()
        self.env.invalidate_all()
        return outcome

    def _checkpoint(self):
        """Commit the progress cursor that ``_run`` opened for this load.

        Never the caller's transaction: the load's own cursor exists so that
        accepted chunks survive a failure later in the run.
        """
        self.env.cr.commit()  # pylint: disable=invalid-commit

    def _run_on(self, stream_cr):
        if self.state not in ACTIVE_STATES:
            return self.env._("Nothing to do: the load is %s.", self.state)
        started = time.monotonic()
        self.write(
            {
                "state": "running",
                "runs": self.runs + 1,
                "started_at": self.started_at or fields.Datetime.now(),
                "error_message": False,
                "next_run_at": False,
            }
        )
        self._checkpoint()
        try:
            if not self.manifest:
                self._stream_chunks(stream_cr)
                self._build_manifest()
                self._checkpoint()
            self._send_manifest()
        except LoadStopped as stop:
            self._stopped(stop)
        except Exception as exc:
            # what was committed (accepted chunks) stays; the rest is redone
            _logger.exception(
                "Load %s of publication %s failed", self.uid, self.publication_id.id
            )
            self.env.cr.rollback()
            self._stopped(
                LoadStopped(
                    self.env._(
                        "Unexpected error (%s); give the technical detail in the "
                        "server log to your integration team",
                        type(exc).__name__,
                    ),
                    retry=True,
                )
            )
        finally:
            self.duration_seconds += time.monotonic() - started
            self._progress_finish()  # progress: the run ended
            self._checkpoint()
        return self.env._(
            "%(rows)s rows, state %(state)s", rows=self.rows, state=self.state
        )

    def _fix_bounds(self):
        """Fix what this load covers, once, in a committed transaction of its
        own: the watermark it starts from and the snapshot bound it stops at."""
        with read_committed_cursor(self.env.registry) as cr:
            load = self.with_env(self.env(cr=cr))
            if load.bound_at or load.state not in ACTIVE_STATES:
                return
            publication = load.publication_id
            values = {"bound_at": load._snapshot_bound()}
            if load.mode == "incremental":
                values.update(
                    watermark_from_at=publication.watermark_changed_at,
                    watermark_from_key=publication.watermark_key,
                    last_changed_at=publication.watermark_changed_at,
                    last_key=publication.watermark_key,
                )
            load.write(values)
        self.invalidate_recordset()

    def _snapshot_bound(self):
        """The moment before which every change is committed and visible.

        Odoo stamps write_date with the start of the writing transaction; a
        transaction still open may commit rows stamped earlier than now, so
        the bound is held back to the oldest open transaction's start.
        """
        with read_committed_cursor(self.env.registry) as cr:
            cr.execute(
                """
                SELECT least(clock_timestamp(), min(xact_start)) AT TIME ZONE 'UTC'
                  FROM pg_stat_activity
                 WHERE datname = current_database()
                   AND pid <> pg_backend_pid()
                   AND xact_start IS NOT NULL
                """
            )
            return cr.fetchone()[0]

    # -- reading -------------------------------------------------------------

    def _query(self):
        """The ordered rows still to send, as one SQL statement."""
        dataset = DATASETS[self.dataset]
        technical = SQL("_changed_at, _key, _live, _date")
        columns = SQL(", ".join(f"src.{name}" for name in dataset.column_names))
        company = SQL(
            "(src._company_id IS NULL OR src._company_id = %s)", self.company_id.id
        )
        if self.mode == "period":
            where = SQL(
                "src._live AND src._date BETWEEN %s AND %s AND src._key > %s",
                self.period_start,
                self.period_end,
                self.last_key or 0,
            )
            order = SQL("_key")
        elif self.mode == "full":
            where = SQL("src._live AND src._key > %s", self.last_key or 0)
            order = SQL("_key")
        else:
            after = self._after_clause("src._changed_at", "src._key")
            where = SQL(
                "(src._live OR src._was_published) AND %s AND src._changed_at < %s",
                after,
                self.bound_at,
            )
            order = SQL("_changed_at, _key")
        query = SQL(
            "WITH fih_params AS (SELECT %s::date AS as_of), src AS (%s) "
            "SELECT %s, %s FROM src WHERE %s AND %s",
            self.as_of or fields.Date.context_today(self),
            SQL(dataset.select),
            technical,
            columns,
            company,
            where,
        )
        if self.mode == "incremental" and dataset.deletion_model:
            nulls = SQL(", ".join(["NULL"] * (len(dataset.column_names) - 1)))
            query = SQL(
                "%s UNION ALL SELECT d.deleted_at, d.res_id, false, NULL::date, "
                "d.res_id, %s "
                "FROM fih_bi_deletion d WHERE d.res_model = %s "
                "AND (d.company_id IS NULL OR d.company_id = %s) "
                "AND %s AND d.deleted_at < %s",
                query,
                nulls,
                dataset.deletion_model,
                self.company_id.id,
                self._after_clause("d.deleted_at", "d.res_id"),
                self.bound_at,
            )
        # the change time is only a resume point for incremental loads: other
        # modes do not fetch it (one timestamp less to parse per row)
        changed = SQL(
            "feed._changed_at" if self.mode == "incremental" else "NULL::timestamp"
        )
        return SQL(
            "SELECT %s, feed._key, feed._live, %s FROM (%s) feed ORDER BY %s",
            changed,
            SQL(", ".join(self._query_outputs(dataset))),
            query,
            order,
        )

    def _query_outputs(self, dataset):
        """What each fetched row carries after the technical columns: the
        encoded line and the totals' columns, or every typed column."""
        if self.publication_id.data_format == "ndjson":
            return [dataset.ndjson_sql("feed")] + [
                f"feed.{name}" for name in dataset.total_columns
            ]
        return [f"feed.{name}" for name in dataset.column_names]

    def _after_clause(self, changed_column, key_column):
        if not self.last_changed_at:
            return SQL("TRUE")
        return SQL(
            "(%s, %s) > (%s, %s)",
            SQL(changed_column),
            SQL(key_column),
            self.last_changed_at,
            self.last_key or 0,
        )

    def _stream_chunks(self, stream_cr):
        sequence = len(self.chunk_ids)
        reference_chunks = {
            chunk.sequence: chunk.sha256 for chunk in self.reference_load_id.chunk_ids
        }
        stream = SQL.identifier(f"fih_bi_stream_{self.id}_{self.runs}")
        # the whole result is read: plan for all rows, sort a chunk-sized
        # feed in memory, and do not spend longer compiling (JIT) than running
        stream_cr.execute(
            "SET LOCAL cursor_tuple_fraction = 1.0; SET LOCAL jit = off; "
            "SET LOCAL work_mem = '64MB'"
        )
        # SCROLL: the progress counts the rows by running the cursor to its
        # end and back (the ordered result is kept by the sort), instead of a
        # second pass over the dataset
        stream_cr.execute(SQL("DECLARE %s SCROLL CURSOR FOR %s", stream, self._query()))
        try:
            self._progress_begin(stream_cr, stream)  # progress: what this run sends
            self._send_chunks(stream_cr, stream, sequence, reference_chunks)
        finally:
            with contextlib.suppress(psycopg2.Error):
                stream_cr.execute(SQL("CLOSE %s", stream))

    def _send_chunks(self, stream_cr, stream, sequence, reference_chunks):
        while True:
            stream_cr.execute(SQL("FETCH FORWARD %s FROM %s", self.chunk_size, stream))
            fetched = stream_cr.fetchall()
            if not fetched:
                break
            sequence += 1
            live = [row[2] for row in fetched]
            raw, rows, totals = self._encode_chunk(fetched, live)
            first, last = fetched[0], fetched[-1]
            self._send_chunk(
                sequence,
                reference_chunks,
                (raw, rows, live, totals),
                (first[1], last[1], last[0]),
            )
            # let it go before the next one is fetched: one chunk in memory
            del fetched, live, raw, rows, totals
        self._check_reference_count(sequence, reference_chunks)

    def _send_chunk(self, sequence, reference_chunks, encoded, keys):
        """Deliver one encoded chunk (raw, rows, live flags, totals) and record
        it; ``keys`` are its first key, last key and last change time."""
        raw, rows, live, totals = encoded
        first_key, last_key, last_changed_at = keys
        digest = bi_encoding.sha256(raw)
        if self.reference_load_id and reference_chunks.get(sequence) != digest:
            raise self._reference_stop(sequence)
        tombstones = live.count(False)
        status, seconds, sent = self._deliver_chunk(sequence, raw, rows, live, digest)
        self._record_chunk(
            sequence,
            bi_encoding.Delivered(
                rows=len(rows) - tombstones,
                tombstones=tombstones,
                raw_bytes=len(raw),
                sent=sent,
                sha256=digest,
                totals=totals.as_list(),
                status=status,
                seconds=seconds,
                first_key=first_key,
                last_key=last_key,
                last_changed_at=last_changed_at,
            ),
        )

    def _reference_stop(self, sequence):
        return LoadStopped(
            self.env._(
                "Chunk %(sequence)s of locked period %(start)s to %(end)s "
                "differs from its earlier publication (load %(reference)s). "
                "A locked period is immutable: this chunk and the rest were "
                "not sent, and no manifest either. Check whether the "
                "period was unlocked and changed.",
                sequence=sequence,
                start=self.period_start,
                end=self.period_end,
                reference=self.reference_load_id.uid,
            ),
            retry=False,
        )

    def _record_chunk(self, sequence, delivered):
        """Remember a delivered chunk (a bi_encoding.Delivered) and where the
        load resumes, committed at once."""
        self.env["fih.bi.load.chunk"].create(
            {
                "load_id": self.id,
                "sequence": sequence,
                "rows": delivered.rows,
                "tombstones": delivered.tombstones,
                "raw_bytes": delivered.raw_bytes,
                "bytes_sent": delivered.sent,
                "sha256": delivered.sha256,
                "totals_json": json.dumps(delivered.totals),
                "http_status": delivered.status,
                "duration_ms": int(delivered.seconds * 1000),
                "first_key": delivered.first_key,
                "last_key": delivered.last_key,
            }
        )
        self.write(
            {
                "last_changed_at": delivered.last_changed_at
                if self.mode == "incremental"
                else False,
                "last_key": delivered.last_key,
                "rows": self.rows + delivered.rows,
                "tombstones": self.tombstones + delivered.tombstones,
                "bytes_sent": self.bytes_sent + delivered.sent,
            }
        )
        # progress: one more chunk
        self._progress_advance(delivered.rows + delivered.tombstones)
        # the chunk is accepted: remember it before anything else can fail
        self._checkpoint()

    def _check_reference_count(self, sequence, reference_chunks):
        if self.reference_load_id and len(reference_chunks) != sequence:
            raise LoadStopped(
                self.env._(
                    "Locked period %(start)s to %(end)s now has %(now)s chunks, its "
                    "first publication had %(then)s. A locked period is immutable.",
                    start=self.period_start,
                    end=self.period_end,
                    now=sequence,
                    then=len(reference_chunks),
                ),
                retry=False,
            )

    def _totals_for(self, columns, rows, live):
        """Control totals of the live ``rows`` (tuples of ``columns``)."""
        dataset = DATASETS[self.dataset]
        spec = [(t.amount, t.currency, t.company) for t in dataset.totals]
        totals = bi_encoding.ControlTotals(spec, columns)
        totals.add_live(rows, live)
        return totals

    def _encode_chunk(self, fetched, live):
        """(bytes as delivered, rows, control totals of the live rows) of one
        fetched chunk; each destination encodes its own way."""
        dataset = DATASETS[self.dataset]
        if self.publication_id.data_format == "ndjson":
            raw = "".join(row[3] + "\n" for row in fetched).encode()
            rows = [row[4:] for row in fetched]
            columns = dataset.total_columns
        else:
            rows = [row[3:] for row in fetched]
            raw = bi_encoding.encode_csv(dataset.column_names, rows, live)
            columns = dataset.column_names
        return raw, rows, self._totals_for(columns, rows, live)


def _try_lock(cr, load_id):
    cr.execute("SELECT pg_try_advisory_xact_lock(%s, %s)", (LOCK_NAMESPACE, load_id))
    return cr.fetchone()[0]
