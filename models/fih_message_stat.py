from datetime import timedelta

from odoo import api, fields, models

from ..lib import prometheus

# rows folded per run of the compaction cron (the cron runs again at once when
# more are left)
COMPACT_CHUNK = 50000

# counters keep the hour of receipt this long (the dashboard's windows)
HOURLY_FOR = timedelta(hours=26)


def _bucket(alias, bounds):
    """SQL: index of the first bound a processed message's latency is at or
    below (``len(bounds)`` above them all); NULL for other messages."""
    listed = ",".join(str(bound) for bound in bounds)
    return (
        f"CASE WHEN {alias}.state = 'done' AND {alias}.latency_ms IS NOT NULL"
        f" THEN width_bucket({alias}.latency_ms - 1, ARRAY[{listed}]) END"
    )


def _row(alias):
    """SQL: what a message counts under, in the order of ``_DELTAS``."""
    return (
        f"{alias}.backend_id, {alias}.direction, {alias}.event_type, "
        f"{alias}.state, {_bucket(alias, prometheus.LATENCY_BUCKETS_MS)}, "
        f"{_bucket(alias, prometheus.FINE_LATENCY_BUCKETS_MS)}, "
        f"date_trunc('hour', {alias}.received_at)"
    )


_DELTAS = (
    "backend_id, direction, event_type, state, coarse, fine, hour, "
    "current_delta, entered, latency, done_at"
)
_COLUMNS = (
    "backend_id, direction, event_type, state, latency_bucket, received_hour,"
    " current_count, entered_count, latency_sum, last_done_at"
)


def _append(deltas):
    """SQL: sum per-message deltas into counter rows, two ways at once:
    all-time rows (no hour) per backend, direction, event type, state and
    Prometheus latency bucket; hourly rows per backend, state and fine
    latency bucket, for the dashboard's windows."""
    return f"""
    INSERT INTO fih_message_stat ({_COLUMNS})
    SELECT backend_id, direction, event_type, state,
           CASE WHEN GROUPING(hour) = 1 THEN coarse ELSE fine END, hour,
           sum(current_delta), sum(entered), sum(latency), max(done_at)
      FROM ({deltas}) AS deltas ({_DELTAS})
     GROUP BY GROUPING SETS ((backend_id, direction, event_type, state, coarse),
                             (backend_id, state, fine, hour))
    HAVING sum(current_delta) <> 0 OR sum(entered) <> 0
    """  # noqa: S608 - built from constants only


def _entering(alias):
    """SQL: entered, latency and done time of a message that enters its state."""
    return (
        f"1, CASE WHEN {alias}.state = 'done' THEN coalesce({alias}.latency_ms, 0)"
        f" ELSE 0 END, CASE WHEN {alias}.state = 'done' THEN {alias}.done_at END"
    )


_INSERTED = f"SELECT {_row('n')}, 1, {_entering('n')} FROM fih_message_new n"  # noqa: S608
_DELETED = f"SELECT {_row('o')}, -1, 0, 0, NULL::timestamp FROM fih_message_old o"  # noqa: S608
_CHANGED = (
    "FROM fih_message_old o JOIN fih_message_new n ON n.id = o.id"
    " WHERE (o.backend_id, o.direction, o.event_type, o.state,"
    f" {_bucket('o', prometheus.FINE_LATENCY_BUCKETS_MS)},"
    " date_trunc('hour', o.received_at))"
    " IS DISTINCT FROM (n.backend_id, n.direction, n.event_type, n.state,"
    f" {_bucket('n', prometheus.FINE_LATENCY_BUCKETS_MS)},"
    " date_trunc('hour', n.received_at))"
)
_UPDATED = f"""
    SELECT {_row('o')}, -1, 0, 0, NULL::timestamp {_CHANGED}
     UNION ALL
    SELECT {_row('n')}, 1,
           CASE WHEN o.state IS DISTINCT FROM n.state THEN 1 ELSE 0 END,
           CASE WHEN o.state IS DISTINCT FROM n.state AND n.state = 'done'
                THEN coalesce(n.latency_ms, 0) ELSE 0 END,
           CASE WHEN o.state IS DISTINCT FROM n.state AND n.state = 'done'
                THEN n.done_at END
      {_CHANGED}
"""  # noqa: S608 - built from constants only

# One statement-level trigger per event (PostgreSQL allows transition tables
# only on single-event triggers). Each appends aggregated delta rows: no
# shared row is updated, so concurrent workers never wait on each other or
# deadlock here; the compaction cron folds the deltas.
_TRIGGER_SQL = f"""
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
           sum(latency_sum), max(last_done_at)
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
    and Prometheus latency bucket; hourly rows count per backend, state and
    a finer latency bucket, by hour of receipt, for the dashboard's windows.
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
        help="Processed messages only: index of the latency bound they are at "
        "or below (Prometheus' bounds on all-time rows, finer ones on hourly "
        "rows).",
    )
    current_count = fields.Integer(readonly=True)
    entered_count = fields.Integer(readonly=True)
    # a float column: the sum of years of latencies exceeds a 32-bit integer
    latency_sum = fields.Float(readonly=True)
    received_hour = fields.Datetime(
        readonly=True,
        help="Hourly rows: the hour the messages were received (kept for a "
        "day). Empty on the all-time rows.",
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
