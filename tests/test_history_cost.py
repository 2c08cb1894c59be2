from collections import Counter
from datetime import timedelta
from unittest.mock import patch

import psycopg2

from odoo import SUPERUSER_ID, api, fields
from odoo.sql_db import db_connect
from odoo.tests import BaseCase, tagged
from odoo.tests.common import get_db_name

from .common import FihTransactionCase, MasterKeyMixin, supplier_event

HANDLER_PROCESS = (
    "odoo.addons.finance_integration_hub.models.fih_supplier_handler."
    "FihSupplierHandler._fih_process"
)


@tagged("post_install", "-at_install")
class TestHistoryCost(FihTransactionCase):
    """The cockpit's figures come from counters the database keeps in the
    same transaction as every change of the log; they must always equal a
    full count of the messages."""

    def counters(self, column):
        """{(backend, direction, type, state): figure} from the counters."""
        figures = Counter()
        for row in self.env["fih.message.stat"]._sums([self.backend.id]):
            value = row[5] if column == "current" else row[6]
            figures[row[:4]] += value
        return +figures  # without the keys at zero

    def full_count(self):
        self.env.flush_all()
        self.env.cr.execute(
            """
            SELECT backend_id, direction, event_type, state, count(*)
              FROM fih_message WHERE backend_id = %s
             GROUP BY 1, 2, 3, 4
            """,
            (self.backend.id,),
        )
        return Counter({tuple(row[:4]): row[4] for row in self.env.cr.fetchall()})

    def key(self, state):
        return (self.backend.id, "inbound", "supplier.upsert", state)

    def mixed_workload(self):
        """Intake with a redelivery, a temporary failure and its retry,
        invalid data, an operator retry, a replay, a cancel, a worker that
        died (sweeper), a dead letter and a raw SQL change."""
        self.receive({"events": [supplier_event(n) for n in range(1, 7)]})
        self.receive(supplier_event(1))  # redelivered: stored once
        self.receive(supplier_event(20, address={"country_code": "ZZ"}))
        self.receive(supplier_event(21, address={"country_code": "ZZ"}))
        busy = psycopg2.errors.SerializationFailure("concurrent update")
        with patch(HANDLER_PROCESS, side_effect=busy), self.trapped_jobs():
            self.process()  # all handed back for a later retry
        self.env.cr.execute(
            "UPDATE fih_message SET next_attempt_at = NULL WHERE backend_id = %s",
            (self.backend.id,),
        )
        self.env.invalidate_all()
        self.process()
        failed = self.messages(state="failed")
        failed.action_retry(reason="country fixed upstream")
        self.process()  # fail again
        failed[0].action_cancel(reason="supplier withdrawn")
        done = self.messages(state="done").sorted("id")
        done[0].action_replay(reason="re-sync")
        self.process()
        self.receive(supplier_event(30))
        self.receive(supplier_event(31))
        claimed = self.Message._claim_inbound(self.backend, 10)
        claimed.write({"lease_until": fields.Datetime.now() - timedelta(minutes=1)})
        self.Message._cron_recover()  # back to received
        claimed[:1].write(
            {
                "state": "processing",
                "attempts": 3,
                "lease_until": fields.Datetime.now() - timedelta(minutes=1),
            }
        )
        self.Message._cron_recover()  # interrupted too often: dead letter
        self.env.cr.execute(
            "UPDATE fih_message SET latency_ms = 40, processing_ms = 40"
            " WHERE backend_id = %s"
            " AND state = 'done'",
            (self.backend.id,),
        )
        self.env.invalidate_all()

    def test_counters_equal_a_full_count_after_a_mixed_workload(self):
        self.mixed_workload()
        expected = self.full_count()
        self.assertEqual(
            expected,
            Counter(
                {
                    self.key("done"): 7,  # 6 suppliers and one replay
                    self.key("failed"): 1,
                    self.key("cancelled"): 1,
                    self.key("received"): 1,
                    self.key("dead"): 1,
                }
            ),
        )
        self.assertEqual(self.counters("current"), expected)
        entered = self.counters("entered")
        self.assertEqual(entered[self.key("done")], 7)
        self.assertEqual(entered[self.key("failed")], 4)  # 2, retried, 2 again
        self.assertEqual(entered[self.key("cancelled")], 1)
        self.assertEqual(entered[self.key("dead")], 1)
        # folding the rows changes no figure, and leaves one row per key
        Stat = self.env["fih.message.stat"]
        Stat._cron_compact()
        self.assertEqual(self.counters("current"), expected)
        self.assertEqual(self.counters("entered"), entered)
        self.env.cr.execute(
            "SELECT count(*), count(DISTINCT (backend_id, direction, event_type,"
            " state, latency_bucket, received_hour)) FROM fih_message_stat"
            " WHERE backend_id = %s",
            (self.backend.id,),
        )
        rows, keys = self.env.cr.fetchone()
        self.assertEqual(rows, keys)

    def test_dashboard_figures_come_from_the_counters_and_the_recent_window(self):
        self.mixed_workload()
        # history older than the window counts in the backlog, not in the rates
        self.receive(supplier_event(40))
        self.env.cr.execute(
            "UPDATE fih_message SET received_at = %s WHERE idempotency_key = %s",
            (fields.Datetime.now() - timedelta(days=3), "evt-sup-000040-v1"),
        )
        figures = self.env["fih.health"]._figures([self.backend.id])[self.backend.id]
        self.assertEqual(figures["backlog"], 2)
        self.assertEqual(figures["dead_letters"], 1)
        self.assertEqual(figures["needing_attention"], 1)
        self.assertEqual(figures["messages_24h"], 11)
        self.assertEqual(figures["success_rate"], 77.8)  # 7 of 9: cancelled aside
        # estimated inside the bucket of 30 to 40 ms
        self.assertEqual(figures["latency_p95_ms"], 39)
        self.assertTrue(figures["last_success_at"])

    def test_metrics_counters_never_decrease_when_messages_leave_the_log(self):
        self.receive({"events": [supplier_event(n) for n in range(1, 4)]})
        self.process()
        self.env.cr.execute(
            "UPDATE fih_message SET received_at = %s WHERE backend_id = %s",
            (fields.Datetime.now() - timedelta(days=400), self.backend.id),
        )
        self.env.invalidate_all()
        labels = (
            f'backend="{self.backend.code}",direction="inbound",'
            'event_type="supplier.upsert"'
        )
        before = self.env["fih.metrics"]._render().decode()
        self.assertIn(f'fih_messages_total{{{labels},state="done"}} 3.0', before)
        self.assertIn(
            f'fih_message_state_changes_total{{{labels},state="done"}} 3.0', before
        )
        self.Message._cron_purge_payloads()
        self.assertEqual(self.env["fih.message.archive"]._cron_archive_messages(), 3)
        self.assertFalse(self.messages())
        after = self.env["fih.metrics"]._render().decode()
        self.assertIn(f'fih_messages_total{{{labels},state="done"}} 0.0', after)
        self.assertIn(
            f'fih_message_state_changes_total{{{labels},state="done"}} 3.0', after
        )
        self.assertIn(f'fih_message_latency_ms_bucket{{{labels},le="+Inf"}} 3.0', after)
        self.assertIn(f"fih_message_latency_ms_count{{{labels}}} 3.0", after)
        self.assertIn(f'fih_backlog{{backend="{self.backend.code}"}} 0.0', after)


@tagged("post_install", "-at_install")
class TestCountersUnderConcurrency(MasterKeyMixin, BaseCase):
    """Real, committing transactions: a worker whose transaction is still
    open never holds up another worker's counters (no shared counter row is
    locked), and both end up counted."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls._setup_master_key()
        cls.db = db_connect(get_db_name())
        with cls.db.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            backend = env["fih.backend"].create(
                {"name": "Counter race", "code": "counter-race", "kind": "other"}
            )
            cls.backend_id = backend.id
            cls.channel_id = backend.channel_id.id
            cls.message_ids = (
                env["fih.message"]
                .create(
                    [
                        {
                            "backend_id": backend.id,
                            "event_type": "supplier.upsert",
                            "idempotency_key": f"counter-race-{n}",
                        }
                        for n in (1, 2)
                    ]
                )
                .ids
            )
        cls.addClassCleanup(cls._cleanup)

    @classmethod
    def _cleanup(cls):
        with cls.db.cursor() as cr:
            backend = (cls.backend_id,)
            cr.execute("DELETE FROM fih_message WHERE backend_id = %s", backend)
            cr.execute("DELETE FROM fih_message_stat WHERE backend_id = %s", backend)
            messages = (tuple(cls.message_ids),)
            cr.execute(
                "DELETE FROM mail_followers WHERE res_model = 'fih.message' "
                "AND res_id IN %s",
                messages,
            )
            cr.execute(
                "DELETE FROM mail_message WHERE model = 'fih.message' AND res_id IN %s",
                messages,
            )
            cr.execute(
                "DELETE FROM mail_followers WHERE res_model = 'fih.backend' "
                "AND res_id = %s",
                backend,
            )
            cr.execute(
                "DELETE FROM mail_message WHERE model = 'fih.backend' AND res_id = %s",
                backend,
            )
            cr.execute("DELETE FROM fih_backend WHERE id = %s", backend)
            cr.execute("DELETE FROM queue_job_channel WHERE id = %s", (cls.channel_id,))

    def test_an_open_transaction_does_not_hold_up_another_workers_counters(self):
        first, second = self.message_ids
        with self.db.cursor() as slow, self.db.cursor() as fast:
            slow.execute(
                "UPDATE fih_message SET state = 'done', latency_ms = 80,"
                " done_at = now() AT TIME ZONE 'UTC' WHERE id = %s",
                (first,),
            )
            # a hot counter row locked by "slow" would make this wait, then fail
            fast.execute("SET LOCAL lock_timeout = '2s'")
            fast.execute(
                "UPDATE fih_message SET state = 'failed' WHERE id = %s", (second,)
            )
            fast.commit()
            slow.commit()
        with self.db.cursor() as cr:
            cr.execute(
                """
                SELECT state, sum(current_count), sum(entered_count)
                  FROM fih_message_stat
                 WHERE backend_id = %s AND received_hour IS NULL
                 GROUP BY state HAVING sum(current_count) <> 0
                 ORDER BY state
                """,
                (self.backend_id,),
            )
            self.assertEqual(cr.fetchall(), [("done", 1, 1), ("failed", 1, 1)])
