"""The cockpit's cost against the size of the exchange log's history.

Builds a history of ``--messages`` settled messages in a benchmark database
with SQL ``generate_series`` (``--per-day`` messages a day over several
backends, payloads purged after 90 days, a few failures and dead letters,
a small backlog in the last minutes), then times what a finance admin and
Prometheus read: the dashboard's health figures, a metrics scrape, the
exchange log's pivot as it opens, and the count and first page of the
messages needing attention.

The history is built once and reused while the database holds the same
size (the build time is reported then); ``--rebuild`` starts over.
The messages are inserted with the log's indexes dropped (and the counter
triggers on), then the indexes are rebuilt and the table vacuumed, as
autovacuum would have done on a live system.
"""

import argparse
import json
import os
import statistics
import sys
import time
from datetime import timedelta
from pathlib import Path

import psycopg2

import odoo
from odoo import SUPERUSER_ID, api, fields

REPO = Path(__file__).resolve().parent.parent
CHUNK = 1_000_000
EVENT_TYPES = (
    "supplier.upsert",
    "purchase_order.upsert",
    "goods_receipt.upsert",
    "invoice.upsert",
    "payment.upsert",
)
PAYLOAD_DAYS = 90


def log(text):
    print(f"[history] {text}", file=sys.stderr, flush=True)


def arguments():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--conf", required=True, help="Odoo configuration file")
    parser.add_argument("--db", required=True)
    parser.add_argument("--messages", type=int, default=2_000_000)
    parser.add_argument("--per-day", type=int, default=33_000)
    parser.add_argument("--backends", type=int, default=4)
    parser.add_argument("--repeat", type=int, default=9)
    parser.add_argument("--rebuild", action="store_true")
    parser.add_argument("--output", type=Path)
    return parser.parse_args()


def autocommit(db, statements):
    connection = psycopg2.connect(dbname=db)
    connection.autocommit = True
    try:
        with connection.cursor() as cr:
            for statement in statements:
                cr.execute(statement)
    finally:
        connection.close()


def built_history(cr):
    cr.execute(
        """
        CREATE TABLE IF NOT EXISTS fih_bench_history (
            messages bigint, per_day int, backends int, build_seconds float,
            built_at timestamp)
        """
    )
    cr.execute(
        "SELECT messages, per_day, backends, build_seconds FROM fih_bench_history"
    )
    return cr.fetchone()


def bench_backends(env, count):
    Backend = env["fih.backend"].with_context(tracking_disable=True)
    backends = Backend.browse()
    for number in range(1, count + 1):
        code = f"history-{number}"
        backend = Backend.search([("code", "=", code)])
        if not backend:
            backend = Backend.create(
                {
                    "name": f"History benchmark {number}",
                    "code": code,
                    "kind": "procurement",
                }
            )
        backends |= backend
    return backends


def drop_indexes(cr):
    """Drop the log's unique constraints and secondary indexes; return the
    statements that recreate them."""
    cr.execute(
        """
        SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint
         WHERE conrelid = 'fih_message'::regclass AND contype = 'u'
        """
    )
    constraints = cr.fetchall()
    for name, _definition in constraints:
        cr.execute(f'ALTER TABLE fih_message DROP CONSTRAINT "{name}"')
    cr.execute(
        """
        SELECT i.indexname, i.indexdef FROM pg_indexes i
         WHERE i.tablename = 'fih_message'
           AND i.indexname NOT IN (SELECT conname FROM pg_constraint
                                    WHERE conrelid = 'fih_message'::regclass)
        """
    )
    indexes = cr.fetchall()
    for name, _definition in indexes:
        cr.execute(f'DROP INDEX "{name}"')
    return [definition for _name, definition in indexes] + [
        f'ALTER TABLE fih_message ADD CONSTRAINT "{name}" {definition}'
        for name, definition in constraints
    ]


def build(registry, args):
    started = time.perf_counter()
    with registry.cursor() as cr:
        env = api.Environment(cr, SUPERUSER_ID, {})
        backends = bench_backends(env, args.backends)
        company_id = backends[0].company_id.id
        log("emptying the log")
        cr.execute(
            "TRUNCATE fih_message, fih_message_stat, fih_message_archive CASCADE"
        )
        recreate = drop_indexes(cr)
        cr.commit()
        now = fields.Datetime.now()
        seconds_apart = 86400.0 / args.per_day
        for low in range(1, args.messages + 1, CHUNK):
            high = min(args.messages, low + CHUNK - 1)
            cr.execute(
                """
                INSERT INTO fih_message (
                    backend_id, company_id, direction, event_type,
                    idempotency_key, state, attempts, received_at, started_at,
                    done_at, latency_ms, payload, payload_sha256,
                    payload_purged_at, error_kind, error_message,
                    create_uid, create_date, write_uid, write_date)
                SELECT (%(backends)s::int[])[1 + i %% %(nb)s], %(company)s,
                       CASE WHEN i %% 10 = 0 THEN 'outbound' ELSE 'inbound' END,
                       (%(types)s::varchar[])[1 + (i / 7) %% 5],
                       'hist-' || i, s.state, 1, s.at, s.at,
                       CASE WHEN s.state IN ('done', 'skipped', 'cancelled')
                            THEN s.at + s.latency * interval '1 millisecond' END,
                       CASE WHEN s.state <> 'received' THEN s.latency END,
                       CASE WHEN s.at >= %(payload_since)s THEN '{"data": {}}' END,
                       'bench',
                       CASE WHEN s.at < %(payload_since)s THEN %(now)s END,
                       CASE WHEN s.state IN ('failed', 'dead') THEN 'permanent' END,
                       CASE WHEN s.state IN ('failed', 'dead')
                            THEN 'Benchmark failure' END,
                       1, s.at, 1, s.at
                  FROM generate_series(%(low)s::bigint, %(high)s::bigint) AS i,
                       LATERAL (
                        SELECT %(now)s - (%(total)s - i) * %(apart)s
                                   * interval '1 second' AS at,
                               20 + (i * 7919 %% 3000)::int AS latency,
                               CASE WHEN i > %(total)s - 300 AND i %% 3 = 0
                                        THEN 'received'
                                    WHEN i * 104729 %% 10000 < 9800 THEN 'done'
                                    WHEN i * 104729 %% 10000 < 9900 THEN 'skipped'
                                    WHEN i * 104729 %% 10000 < 9994 THEN 'cancelled'
                                    WHEN i * 104729 %% 10000 < 9999 THEN 'failed'
                                    ELSE 'dead' END AS state
                       ) AS s
                """,
                {
                    "backends": backends.ids,
                    "nb": len(backends),
                    "company": company_id,
                    "types": list(EVENT_TYPES),
                    "payload_since": now - timedelta(days=PAYLOAD_DAYS),
                    "now": now,
                    "total": args.messages,
                    "apart": seconds_apart,
                    "low": low,
                    "high": high,
                },
            )
            cr.commit()
            log(f"{high:,} messages ({time.perf_counter() - started:.0f} s)")
        cr.execute("SET maintenance_work_mem = '512MB'")
        for statement in recreate:
            cr.execute(statement)
            cr.commit()
        log(f"indexes rebuilt ({time.perf_counter() - started:.0f} s)")
        Stat = env["fih.message.stat"]
        while Stat._cron_compact(chunk=CHUNK):
            cr.commit()
        cr.commit()
    # the counters' steady state: the build's millions of delta rows are
    # gone, as the minutely compaction and autovacuum keep them on a live hub
    autocommit(
        registry.db_name,
        ["VACUUM ANALYZE fih_message", "VACUUM FULL ANALYZE fih_message_stat"],
    )
    seconds = time.perf_counter() - started
    with registry.cursor() as cr:
        built_history(cr)
        cr.execute("DELETE FROM fih_bench_history")
        cr.execute(
            "INSERT INTO fih_bench_history VALUES (%s, %s, %s, %s, now())",
            (args.messages, args.per_day, args.backends, seconds),
        )
    log(f"history built in {seconds:.0f} s")
    return seconds


def timed(function, repeat, env):
    function()  # warm the caches, as a cockpit that is in use has them
    samples = []
    for _ in range(repeat):
        env.invalidate_all()
        started = time.perf_counter()
        function()
        samples.append((time.perf_counter() - started) * 1000)
    return {
        "median_ms": round(statistics.median(samples), 1),
        "max_ms": round(max(samples), 1),
    }


def measure(registry, args):
    with registry.cursor() as cr:
        env = api.Environment(cr, SUPERUSER_ID, {})
        Message = env["fih.message"]
        backends = env["fih.backend"].search([("code", "like", "history-")])
        attention = [("state", "in", ("failed", "dead"))]
        week_ago = fields.Date.context_today(Message) - timedelta(days=7)
        recent = [("received_at", ">=", fields.Date.to_string(week_ago))]
        list_fields = [
            "received_at",
            "backend_id",
            "direction",
            "event_type",
            "idempotency_key",
            "state",
            "attempts",
            "error_message",
        ]
        checks = {
            "dashboard figures (fih.health._figures)": lambda: env[
                "fih.health"
            ]._figures(backends.ids),
            "metrics scrape (fih.metrics._render)": lambda: env[
                "fih.metrics"
            ]._render(),
            "exchange log pivot as it opens (last 7 days)": lambda: Message.read_group(
                recent, ["latency_ms:sum"], ["backend_id", "state"], lazy=False
            ),
            "failed/dead count": lambda: Message.search_count(attention),
            "failed/dead list, first page": lambda: Message.search_fetch(
                attention, list_fields, limit=80
            ),
            "pivot over the whole history (filter removed)": lambda: Message.read_group(
                [], ["latency_ms:sum"], ["backend_id", "state"], lazy=False
            ),
        }
        results = {
            name: timed(check, args.repeat, env) for name, check in checks.items()
        }
        # one run of the archive job (its first chunk), undone afterwards
        started = time.perf_counter()
        archived = env["fih.message.archive"]._cron_archive_messages()
        results[f"archive job, one chunk ({archived:,} messages, undone)"] = {
            "median_ms": round((time.perf_counter() - started) * 1000, 1),
            "max_ms": round((time.perf_counter() - started) * 1000, 1),
        }
        cr.rollback()
        cr.execute("SELECT count(*) FROM fih_message_stat")
        stat_rows = cr.fetchone()[0]
        cr.execute("SELECT pg_total_relation_size('fih_message')")
        table_bytes = cr.fetchone()[0]
        cr.rollback()
    return results, stat_rows, table_bytes


def main():
    args = arguments()
    odoo.tools.config.parse_config(["-c", args.conf, "--log-level=warn", "--logfile="])
    registry = odoo.modules.registry.Registry(args.db)
    with registry.cursor() as cr:
        existing = built_history(cr)
    wanted = (args.messages, args.per_day, args.backends)
    if args.rebuild or not existing or tuple(existing[:3]) != wanted:
        build_seconds = build(registry, args)
        reused = False
    else:
        build_seconds = existing[3]
        reused = True
        log(f"reusing the history of {args.messages:,} messages")
    results, stat_rows, table_bytes = measure(registry, args)
    load = os.getloadavg()
    report = {
        "messages": args.messages,
        "per_day": args.per_day,
        "backends": args.backends,
        "days": round(args.messages / args.per_day),
        "build_seconds": round(build_seconds),
        "history_reused": reused,
        "log_size_mb": round(table_bytes / 2**20),
        "counter_rows": stat_rows,
        "load_average": [round(value, 2) for value in load],
        "results": results,
    }
    print(
        f"History of {args.messages:,} messages ({report['days']} days at "
        f"{args.per_day:,} a day, {args.backends} backends; "
        f"log {report['log_size_mb']:,} MB; built in {report['build_seconds']} s"
        f"{', reused' if reused else ''}); load average "
        f"{load[0]:.2f} {load[1]:.2f} {load[2]:.2f}"
    )
    for name, figures in results.items():
        median, worst = figures["median_ms"], figures["max_ms"]
        print(f"  {name:<48} {median:>9.1f} ms  (max {worst} ms)")
    if args.output:
        args.output.write_text(json.dumps(report, indent=2) + "\n")


if __name__ == "__main__":
    main()
