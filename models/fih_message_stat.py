from datetime import timedelta

from odoo import api, fields, models

from ..lib import prometheus

# rows folded per run of the compaction cron (the cron runs again at once when
# more are left)
COMPACT_CHUNK = 50000
# counters keep the hour of receipt this long (the dashboard's windows);
# older ones are folded into one all-time row per key
HOURLY_FOR = timedelta(hours=49)

# the latency bucket of a row: the index of the first bound it is at or
# below (bounds of prometheus.LATENCY_BUCKETS_MS; the last index is +Inf),
# only for processed messages
_BOUNDS = ",".join(str(bound) for bound in prometheus.LATENCY_BUCKETS_MS)
_BUCKET = (
    "CASE WHEN {t}.state = 'done' AND {t}.latency_ms IS NOT NULL"
    f" THEN width_bucket({{t}}.latency_ms - 1, ARRAY[{_BOUNDS}]) END"
)
_KEY = (
    "{t}.backend_id, {t}.direction, {t}.event_type, {t}.state, "
    + _BUCKET
    + ", date_trunc('hour', {t}.received_at)"
)
_COLUMNS = (
    "backend_id, direction, event_type, state, latency_bucket, received_hour,"
    " current_count, entered_count, latency_sum, last_done_at"
)

# One statement-level trigger per event (PostgreSQL allows transition tables
# only on single-event triggers). Each appends aggregated delta rows: no
# shared row is updated, so concurrent workers never wait on each other or
# deadlock here; the compaction cron folds the deltas.
_TRIGGER_SQL = f"""
CREATE OR REPLACE FUNCTION fih_message_stat_on_insert() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO fih_message_stat ({_COLUMNS})
    SELECT {_KEY.format(t="n")}, count(*), count(*),
           coalesce(sum(n.latency_ms) FILTER (WHERE n.state = 'done'), 0),
           max(n.done_at) FILTER (WHERE n.state = 'done')
      FROM fih_message_new n
     GROUP BY 1, 2, 3, 4, 5, 6;
    RETURN NULL;
END $$;

CREATE OR REPLACE FUNCTION fih_message_stat_on_update() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO fih_message_stat ({_COLUMNS})
    SELECT backend_id, direction, event_type, state, latency_bucket,
           received_hour, sum(current_delta), sum(entered), sum(latency),
           max(done_at)
      FROM (
            SELECT {_KEY.format(t="o")}, -1 AS current_delta, 0 AS entered,
                   0 AS latency, NULL::timestamp AS done_at
              FROM fih_message_old o JOIN fih_message_new n ON n.id = o.id
             WHERE ({_KEY.format(t="o")}) IS DISTINCT FROM ({_KEY.format(t="n")})
             UNION ALL
            SELECT {_KEY.format(t="n")}, 1,
                   (o.state IS DISTINCT FROM n.state)::int,
                   CASE WHEN o.state IS DISTINCT FROM n.state AND n.state = 'done'
                        THEN coalesce(n.latency_ms, 0) ELSE 0 END,
                   CASE WHEN n.state = 'done' THEN n.done_at END
              FROM fih_message_old o JOIN fih_message_new n ON n.id = o.id
             WHERE ({_KEY.format(t="o")}) IS DISTINCT FROM ({_KEY.format(t="n")})
           ) AS deltas (backend_id, direction, event_type, state,
                        latency_bucket, received_hour, current_delta, entered,
                        latency, done_at)
     GROUP BY 1, 2, 3, 4, 5, 6;
    RETURN NULL;
END $$;

CREATE OR REPLACE FUNCTION fih_message_stat_on_delete() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO fih_message_stat ({_COLUMNS})
    SELECT {_KEY.format(t="o")}, -count(*), 0, 0, NULL
      FROM fih_message_old o
     GROUP BY 1, 2, 3, 4, 5, 6;
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

_SEED_SQL = f"""
INSERT INTO fih_message_stat ({_COLUMNS})
SELECT {_KEY.format(t="m")}, count(*), count(*),
       coalesce(sum(m.latency_ms) FILTER (WHERE m.state = 'done'), 0),
       max(m.done_at) FILTER (WHERE m.state = 'done')
  FROM fih_message m
 GROUP BY 1, 2, 3, 4, 5, 6
"""  # noqa: S608 - built from constants only

_SUMS = """
    SELECT backend_id, direction, event_type, state, latency_bucket,
           sum(current_count), sum(entered_count), sum(latency_sum),
           max(last_done_at)
      FROM fih_message_stat
     WHERE backend_id = ANY(%(backends)s) OR %(all)s
     GROUP BY 1, 2, 3, 4, 5
"""
_RECENT = """
    SELECT backend_id, state, latency_bucket,
           sum(current_count) FILTER (WHERE received_hour >= %(hour)s),
           sum(current_count)
      FROM fih_message_stat
     WHERE backend_id = ANY(%(backends)s) AND received_hour >= %(since)s
     GROUP BY 1, 2, 3
"""
# counter rows to fold: several rows of one key, or an hour past the
# dashboard's windows
_FOLDABLE = """
    SELECT id FROM (
        SELECT id, received_hour,
               count(*) OVER (PARTITION BY backend_id, direction, event_type,
                                           state, latency_bucket, received_hour)
                   AS rows_of_key
          FROM fih_message_stat) AS s
     WHERE rows_of_key > 1 OR received_hour < %(hourly_since)s
     ORDER BY id
     LIMIT %(chunk)s
"""
_COMPACT_SQL = f"""
WITH gone AS (
    DELETE FROM fih_message_stat WHERE id IN ({_FOLDABLE})
 RETURNING *
), folded AS (
    INSERT INTO fih_message_stat ({_COLUMNS})
    SELECT backend_id, direction, event_type, state, latency_bucket,
           CASE WHEN received_hour >= %(hourly_since)s THEN received_hour END,
           sum(current_count), sum(entered_count), sum(latency_sum),
           max(last_done_at)
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
    """

    _name = "fih.message.stat"
    _description = "Exchange Log Counters"
    _log_access = False
    _order = "id"

    backend_id = fields.Many2one(
        "fih.backend", required=True, readonly=True, ondelete="cascade"
    )
    direction = fields.Char(required=True, readonly=True)
    event_type = fields.Char(required=True, readonly=True)
    state = fields.Char(required=True, readonly=True)
    latency_bucket = fields.Integer(
        readonly=True,
        help="Processed messages only: index of the latency bound they are at "
        "or below.",
    )
    current_count = fields.Integer(readonly=True)
    entered_count = fields.Integer(readonly=True)
    # a float column: the sum of years of latencies exceeds a 32-bit integer
    latency_sum = fields.Float(readonly=True)
    received_hour = fields.Datetime(
        readonly=True,
        help="Hour the messages were received, for the last two days; empty "
        "for older ones.",
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
        """Fold up to ``chunk`` counter rows into one row per key (and per
        hour of receipt for the last two days). Returns how many rows were
        folded; a full chunk asks the scheduler to run again at once.

        One statement deletes the rows and inserts their sums, so a reader
        sees the figures either before or after, never half; rows written
        meanwhile by running transactions are not touched.
        """
        cr = self.env.cr
        hourly_since = fields.Datetime.now() - HOURLY_FOR
        cr.execute(_COMPACT_SQL, {"hourly_since": hourly_since, "chunk": chunk})
        folded = cr.fetchone()[0]
        self.invalidate_model()
        self.env["ir.cron"]._notify_progress(
            done=folded, remaining=1 if folded >= chunk else 0
        )
        return folded
