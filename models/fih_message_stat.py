from datetime import timedelta

from odoo import api, fields, models

from ..lib import prometheus

# rows folded per run of the compaction cron (the cron runs again at once when
# more are left)
COMPACT_CHUNK = 50000

# counters keep the hour of receipt this long (the dashboard's 24-hour and
# 7-day windows, with a margin for the user's time zone)
HOURLY_FOR = timedelta(days=8, hours=2)


def _bucket(alias, bounds, column):
    """SQL: index of the first bound a processed message's ``column`` (age
    or processing time) is at or below (``len(bounds)`` above them all);
    NULL for other messages."""
    listed = ",".join(str(bound) for bound in bounds)
    return (
        f"CASE WHEN {alias}.state = 'done' AND {alias}.{column} IS NOT NULL"
        f" THEN width_bucket({alias}.{column} - 1, ARRAY[{listed}]) END"
    )


def _fine(alias):
    """SQL: the hourly rows' bucket: processing time, finely."""
    return _bucket(alias, prometheus.FINE_LATENCY_BUCKETS_MS, "processing_ms")


def _row(alias):
    """SQL: what a message counts under, in the order of ``_DELTAS``."""
    return (
        f"{alias}.backend_id, {alias}.direction, {alias}.event_type, "
        f"{alias}.state, "
        f"{_bucket(alias, prometheus.LATENCY_BUCKETS_MS, 'latency_ms')}, "
        f"{_fine(alias)}, date_trunc('hour', {alias}.received_at)"
    )


_DELTAS = (
    "backend_id, direction, event_type, state, coarse, fine, hour, "
    "current_delta, entered, latency, processing, done_at"
)
_COLUMNS = (
    "backend_id, direction, event_type, state, latency_bucket, received_hour,"
    " current_count, entered_count, latency_sum, processing_sum, last_done_at"
)


def _append(deltas):
    """SQL: sum per-message deltas into counter rows, two ways at once:
    all-time rows (no hour) per backend, direction, event type, state and
    Prometheus bucket of their age at result; hourly rows per backend, state
    and fine bucket of their processing time, for the dashboard."""
    return f"""
    INSERT INTO fih_message_stat ({_COLUMNS})
    SELECT backend_id, direction, event_type, state,
           CASE WHEN GROUPING(hour) = 1 THEN coarse ELSE fine END, hour,
           sum(current_delta), sum(entered), sum(latency), sum(processing),
           max(done_at)
      FROM ({deltas}) AS deltas ({_DELTAS})
     GROUP BY GROUPING SETS ((backend_id, direction, event_type, state, coarse),
                             (backend_id, state, fine, hour))
    HAVING sum(current_delta) <> 0 OR sum(entered) <> 0
    """  # noqa: S608 - built from constants only


def _entering(alias):
    """SQL: entered, age, processing time and done time of a message that
    enters its state."""
    return (
        f"1, CASE WHEN {alias}.state = 'done' THEN coalesce({alias}.latency_ms, 0)"
        f" ELSE 0 END, CASE WHEN {alias}.state = 'done'"
        f" THEN coalesce({alias}.processing_ms, 0) ELSE 0 END,"
        f" CASE WHEN {alias}.state = 'done' THEN {alias}.done_at END"
    )


_INSERTED = f"SELECT {_row('n')}, 1, {_entering('n')} FROM fih_message_new n"  # noqa: S608
_DELETED = f"SELECT {_row('o')}, -1, 0, 0, 0, NULL::timestamp FROM fih_message_old o"  # noqa: S608
_CHANGED = (
    "FROM fih_message_old o JOIN fih_message_new n ON n.id = o.id"
    " WHERE (o.backend_id, o.direction, o.event_type, o.state,"
    f" {_bucket('o', prometheus.LATENCY_BUCKETS_MS, 'latency_ms')}, {_fine('o')},"
    " date_trunc('hour', o.received_at))"
    " IS DISTINCT FROM (n.backend_id, n.direction, n.event_type, n.state,"
    f" {_bucket('n', prometheus.LATENCY_BUCKETS_MS, 'latency_ms')}, {_fine('n')},"
    " date_trunc('hour', n.received_at))"
)
_UPDATED = f"""
    SELECT {_row('o')}, -1, 0, 0, 0, NULL::timestamp {_CHANGED}
     UNION ALL
    SELECT {_row('n')}, 1,
           CASE WHEN o.state IS DISTINCT FROM n.state THEN 1 ELSE 0 END,
           CASE WHEN o.state IS DISTINCT FROM n.state AND n.state = 'done'
                THEN coalesce(n.latency_ms, 0) ELSE 0 END,
           CASE WHEN o.state IS DISTINCT FROM n.state AND n.state = 'done'
                THEN coalesce(n.processing_ms, 0) ELSE 0 END,
           CASE WHEN o.state IS DISTINCT FROM n.state AND n.state = 'done'
                THEN n.done_at END
      {_CHANGED}
"""  # noqa: S608 - built from constants only

# One statement-level trigger per event (PostgreSQL allows transition tables
# only on single-event triggers). Each appends aggregated delta rows: no
# shared row is updated, so concurrent workers never wait on each other or
# deadlock here; the compaction cron folds the deltas.
_TRIGGER_SQL = f"""
-- processing time: from the start of the last attempt to its result, set on
-- the row as it leaves processing (every code path, raw SQL included)
CREATE OR REPLACE FUNCTION fih_message_processing_time() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    NEW.processing_ms := greatest(0, round(1000 * EXTRACT(EPOCH FROM
        clock_timestamp() AT TIME ZONE 'UTC' - NEW.started_at)))::int;
    RETURN NEW;
END $$;

DROP TRIGGER IF EXISTS fih_message_processing_time ON fih_message;
CREATE TRIGGER fih_message_processing_time BEFORE UPDATE OF state ON fih_message
    FOR EACH ROW
    WHEN (OLD.state = 'processing' AND NEW.state IN ('done', 'failed', 'dead',
          'skipped') AND NEW.started_at IS NOT NULL)
    EXECUTE FUNCTION fih_message_processing_time();

CREATE OR REPLACE FUNCTION fih_message_stat_on_insert() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    {_append(_INSERTED)};
    RETURN NULL;
END $$;

CREATE OR REPLACE FUNCTION fih_message_stat_on_update() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    {_append(_UPDATED)};
    RETURN NULL;
END $$;

CREATE OR REPLACE FUNCTION fih_message_stat_on_delete() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    {_append(_DELETED)};
    RETURN NULL;
END $$;

DROP TRIGGER IF EXISTS fih_message_stat_insert ON fih_message;
CREATE TRIGGER fih_message_stat_insert AFTER INSERT ON fih_message
    REFERENCING NEW TABLE AS fih_message_new
    FOR EACH STATEMENT EXECUTE FUNCTION fih_message_stat_on_insert();
DROP TRIGGER IF EXISTS fih_message_stat_update ON fih_message;
CREATE TRIGGER fih_message_stat_update AFTER UPDATE ON fih_message
    REFERENCING OLD TABLE AS fih_message_old NEW TABLE AS fih_message_new
    FOR EACH STATEMENT EXECUTE FUNCTION fih_message_stat_on_update();
DROP TRIGGER IF EXISTS fih_message_stat_delete ON fih_message;
CREATE TRIGGER fih_message_stat_delete AFTER DELETE ON fih_message
    REFERENCING OLD TABLE AS fih_message_old
    FOR EACH STATEMENT EXECUTE FUNCTION fih_message_stat_on_delete();
"""  # noqa: S608 - built from constants only

# first install on an existing log: its messages are the baseline
_SEED_SQL = _append(
    f"SELECT {_row('m')}, 1, {_entering('m')} FROM fih_message m"  # noqa: S608
)

_SUMS = """
    SELECT backend_id, direction, event_type, state, latency_bucket,
           sum(current_count), sum(entered_count), sum(latency_sum),
           max(last_done_at)
      FROM fih_message_stat
     WHERE received_hour IS NULL AND (backend_id = ANY(%(backends)s) OR %(all)s)
     GROUP BY 1, 2, 3, 4, 5
"""
_RECENT = """
    SELECT backend_id, state, latency_bucket,
           sum(current_count) FILTER (WHERE received_hour >= %(hour)s),
           sum(current_count)
      FROM fih_message_stat
     WHERE received_hour >= %(since)s AND backend_id = ANY(%(backends)s)
     GROUP BY 1, 2, 3
"""
_HOURLY = """
    SELECT backend_id, received_hour, state, sum(current_count)
      FROM fih_message_stat
     WHERE received_hour >= %(since)s AND backend_id = ANY(%(backends)s)
     GROUP BY 1, 2, 3
    HAVING sum(current_count) <> 0
"""
# hourly rows past the dashboard's windows (the all-time rows count them)
_EXPIRED_SQL = """
DELETE FROM fih_message_stat
 WHERE id IN (SELECT id FROM fih_message_stat
               WHERE received_hour < %(hourly_since)s
               LIMIT %(chunk)s)
"""
# several rows of one key become one
_COMPACT_SQL = f"""
WITH gone AS (
    DELETE FROM fih_message_stat WHERE id IN (
        SELECT id FROM (
            SELECT id, count(*) OVER (
                       PARTITION BY backend_id, direction, event_type, state,
                                    latency_bucket, received_hour) AS rows_of_key
              FROM fih_message_stat) AS s
         WHERE rows_of_key > 1
         ORDER BY id
         LIMIT %(chunk)s)
 RETURNING *
), folded AS (
    INSERT INTO fih_message_stat ({_COLUMNS})
    SELECT backend_id, direction, event_type, state, latency_bucket,
           received_hour, sum(current_count), sum(entered_count),
           sum(latency_sum), sum(processing_sum), max(last_done_at)
      FROM gone
     GROUP BY 1, 2, 3, 4, 5, 6
 RETURNING 1
)
SELECT count(*) FROM gone
"""  # noqa: S608 - built from constants only


class FihMessageStat(models.Model):
    """Counters of the exchange log, kept by the database itself.

    Every statement that creates, changes the state of, or deletes messages
    appends delta rows here in the same transaction (a trigger, so no code
    path is forgotten: intake, claims, outcomes, retries, replays, operator
    actions, the sweeper, archiving). A figure is the sum of its rows; the
    compaction cron folds the rows of a key into one. ``current_count`` is
    how many messages are in that state now (a gauge); ``entered_count`` how
    many ever entered it (a counter: never decreases, archiving included).
    All-time rows (no hour) count per backend, direction, event type, state
    and Prometheus bucket of the age at result (receipt to result, retries
    included); hourly rows count per backend, state and a finer bucket of
    the processing time (start of the last attempt to its result), by hour
    of receipt, for the dashboard's windows and charts (kept eight days).
    """

    _name = "fih.message.stat"
    _description = "Exchange Log Counters"
    _log_access = False
    _order = "id"

    backend_id = fields.Many2one(
        "fih.backend", required=True, readonly=True, ondelete="cascade"
    )
    # empty on the hourly rows, which count per backend and state only
    direction = fields.Char(readonly=True)
    event_type = fields.Char(readonly=True)
    state = fields.Char(required=True, readonly=True)
    latency_bucket = fields.Integer(
        readonly=True,
        help="Processed messages only: index of the bound they are at or below: "
        "their age at result against Prometheus' bounds on all-time rows, their "
        "processing time against finer bounds on hourly rows.",
    )
    current_count = fields.Integer(readonly=True)
    entered_count = fields.Integer(readonly=True)
    # float columns: the sum of years of latencies exceeds a 32-bit integer
    latency_sum = fields.Float(
        readonly=True, help="Processed messages: sum of their age at result (ms)."
    )
    processing_sum = fields.Float(
        readonly=True, help="Processed messages: sum of their processing time (ms)."
    )
    received_hour = fields.Datetime(
        readonly=True,
        help="Hourly rows: the hour the messages were received (kept eight "
        "days). Empty on the all-time rows.",
    )
    last_done_at = fields.Datetime(readonly=True)

    def init(self):
        cr = self.env.cr
        cr.execute(
            "SELECT 1 FROM pg_trigger WHERE tgname = 'fih_message_stat_insert'"
            " AND tgrelid = 'fih_message'::regclass"
        )
        seed = not cr.fetchone()
        cr.execute(_TRIGGER_SQL)
        if seed:
            # first install on an existing log: the rows are the baseline
            cr.execute("DELETE FROM fih_message_stat")
            cr.execute(_SEED_SQL)
        # the cockpit's time-bounded reads: index-only over recent messages
        cr.execute(
            """
            CREATE INDEX IF NOT EXISTS fih_message_recent_idx
                ON fih_message (received_at)
               INCLUDE (backend_id, state, latency_ms)
            """
        )
        # the dashboard's windows and charts: a backend's recent hours
        cr.execute(
            """
            CREATE INDEX IF NOT EXISTS fih_message_stat_hourly_idx
                ON fih_message_stat (backend_id, received_hour)
             WHERE received_hour IS NOT NULL
            """
        )

    # -- reading -------------------------------------------------------------

    @api.model
    def _sums(self, backend_ids=None):
        """[(backend_id, direction, event_type, state, latency bucket,
        current, entered, latency sum, last done at)], one per key, all
        hours together."""
        self.env["fih.message"].flush_model()
        self.env.cr.execute(
            _SUMS, {"backends": list(backend_ids or []), "all": backend_ids is None}
        )
        return self.env.cr.fetchall()

    @api.model
    def _recent(self, backend_ids, hours):
        """[(backend_id, state, latency bucket, received in the last hour,
        received in the last ``hours`` hours)] of the messages by their state
        now, to the hour (the current hour counts in full)."""
        self.env["fih.message"].flush_model()
        now = fields.Datetime.now().replace(minute=0, second=0, microsecond=0)
        self.env.cr.execute(
            _RECENT,
            {
                "backends": list(backend_ids),
                "hour": now - timedelta(hours=1),
                "since": now - timedelta(hours=hours),
            },
        )
        return self.env.cr.fetchall()

    @api.model
    def _hourly(self, backend_ids, since):
        """[(backend_id, hour of receipt, state, messages)] of the messages
        received since ``since`` (an hour), by their state now."""
        self.env["fih.message"].flush_model()
        self.env.cr.execute(_HOURLY, {"backends": list(backend_ids), "since": since})
        return self.env.cr.fetchall()

    # -- compaction ----------------------------------------------------------

    @api.model
    def _cron_compact(self, chunk=COMPACT_CHUNK):
        """Delete hourly rows past the dashboard's windows and fold up to
        ``chunk`` counter rows into one row per key. Returns how many rows
        were deleted or folded; a full chunk asks the scheduler to run again
        at once.

        One statement deletes the rows and inserts their sums, so a reader
        sees the figures either before or after, never half; rows written
        meanwhile by running transactions are not touched.
        """
        cr = self.env.cr
        hourly_since = fields.Datetime.now() - HOURLY_FOR
        params = {"hourly_since": hourly_since, "chunk": chunk}
        cr.execute(_EXPIRED_SQL, params)
        folded = cr.rowcount
        cr.execute(_COMPACT_SQL, params)
        folded += cr.fetchone()[0]
        self.invalidate_model()
        self.env["ir.cron"]._notify_progress(
            done=folded, remaining=1 if folded >= chunk else 0
        )
        return folded
