import json
import re
from datetime import timedelta
from unittest.mock import patch

import psycopg2

from odoo import fields
from odoo.exceptions import AccessError
from odoo.tests import new_test_user, tagged

from ..lib import traffic_chart
from .common import FihTransactionCase, supplier_event

HANDLER_PROCESS = (
    "odoo.addons.finance_integration_hub.models.fih_supplier_handler."
    "FihSupplierHandler._fih_process"
)
# a statement reading the exchange log itself (its counters are fih_message_stat)
READS_THE_LOG = re.compile(r"\bfih_message\b(?!_)")


@tagged("post_install", "-at_install")
class TestDashboard(FihTransactionCase):
    """The integration dashboard read at a glance: problems first, counts
    that open exactly what they count, charts from the counters."""

    def make(self, backend, state, count, hours_ago=0):
        """``count`` messages of ``backend`` in ``state``, received
        ``hours_ago`` hours ago."""
        received = fields.Datetime.now() - timedelta(hours=hours_ago)
        start = self.Message.search_count([]) + 1
        return self.Message.create(
            [
                {
                    "backend_id": backend.id,
                    "event_type": "supplier.upsert",
                    "idempotency_key": f"dash-{backend.code}-{start + n}",
                    "state": state,
                    "received_at": received,
                }
                for n in range(count)
            ]
        )

    def new_backend(self, name, code, **values):
        return self.env["fih.backend"].create(
            {"name": name, "code": code, "kind": "procurement", **values}
        )

    def dashboard(self, backends, user=None):
        """The dashboard's cards as the web client loads them."""
        Backend = self.env["fih.backend"].with_context(fih_health_first=True)
        if user:
            Backend = Backend.with_user(user)
        return Backend.web_search_read(
            [("id", "in", backends.ids)],
            {
                "name": {},
                "health_status": {},
                "dashboard_to_fix": {},
                "dashboard_waiting": {},
                "dashboard_received_24h": {},
                "processing_time": {},
                "traffic_chart": {},
            },
            limit=80,
        )

    # -- problems first ------------------------------------------------------

    def test_problems_come_first_down_then_degraded_then_ok_then_no_traffic(self):
        idle = self.new_backend("A quiet platform", "dash-idle")
        ok = self.new_backend("B healthy platform", "dash-ok")
        degraded = self.new_backend("C platform with a dead letter", "dash-degraded")
        down = self.new_backend("D failing platform", "dash-down")
        self.make(ok, "done", 5)
        self.make(degraded, "done", 10)
        self.make(degraded, "dead", 1)
        self.make(down, "failed", 4)
        answer = self.dashboard(idle | ok | degraded | down)
        self.assertEqual(answer["length"], 4)
        self.assertEqual(
            [(card["name"], card["health_status"]) for card in answer["records"]],
            [
                ("D failing platform", "down"),
                ("C platform with a dead letter", "degraded"),
                ("B healthy platform", "ok"),
                ("A quiet platform", "idle"),
            ],
        )
        labels = dict(self.env["fih.backend"]._fields["health_status"].selection)
        self.assertEqual(labels["idle"], "No traffic yet")
        self.assertEqual(idle.health_reason, "No message was received or sent yet.")
        self.assertNotIn("All good", ok.health_reason)
        # without the dashboard's context, the usual order (by name)
        plain = self.env["fih.backend"].web_search_read(
            [("id", "in", (idle | down).ids)], {"name": {}}
        )
        self.assertEqual(plain["records"][0]["name"], "A quiet platform")

    def test_a_backend_with_old_messages_to_fix_is_degraded_not_ok(self):
        backend = self.new_backend("Old failures", "dash-old-failures")
        self.make(backend, "failed", 3, hours_ago=30)
        backend.invalidate_recordset()
        self.assertEqual(backend.dashboard_to_fix, 3)
        self.assertEqual(
            (backend.health_status, backend.health_reason),
            ("degraded", "3 messages need attention."),
        )

    def test_a_busy_backend_with_messages_to_fix_comes_before_the_ok_ones(self):
        ok = self.new_backend("A healthy platform", "dash-busy-ok")
        busy = self.new_backend("B busy platform", "dash-busy")
        self.make(ok, "done", 5)
        self.make(busy, "done", 60)
        self.make(busy, "failed", 1)
        answer = self.dashboard(ok | busy)
        self.assertEqual(
            [(card["name"], card["health_status"]) for card in answer["records"]],
            [("B busy platform", "degraded"), ("A healthy platform", "ok")],
        )
        self.assertEqual(busy.health_reason, "1 message needs attention.")

    def test_paused_deliveries_are_shown_in_business_words(self):
        self.backend.sudo().breaker_status = "open"
        self.assertEqual(self.backend.deliveries_label, "Deliveries paused")
        self.assertEqual(self.backend.health_status, "down")
        self.backend.sudo().breaker_status = "closed"
        self.backend.invalidate_recordset()
        self.assertFalse(self.backend.deliveries_label)

    # -- counts are links ----------------------------------------------------

    def test_each_count_opens_exactly_the_messages_it_counts(self):
        other = self.new_backend("Other platform", "dash-other")
        self.make(other, "failed", 2)  # never counted for self.backend
        self.make(self.backend, "failed", 2)
        self.make(self.backend, "dead", 1, hours_ago=72)
        self.make(self.backend, "received", 3)
        self.make(self.backend, "processing", 1, hours_ago=30)
        self.make(self.backend, "done", 4)
        self.make(self.backend, "cancelled", 1)
        backend = self.backend
        for method, field, expected, states in (
            ("action_open_failed_messages", "dashboard_to_fix", 3, {"failed", "dead"}),
            (
                "action_open_waiting_messages",
                "dashboard_waiting",
                4,
                {"received", "processing"},
            ),
            (
                "action_open_recent_messages",
                "dashboard_received_24h",
                10,
                {"failed", "received", "done", "cancelled"},
            ),
        ):
            with self.subTest(figure=field):
                action = getattr(backend, method)()
                self.assertEqual(action["res_model"], "fih.message")
                opened = self.Message.search(action["domain"])
                self.assertEqual(backend[field], expected)
                self.assertEqual(len(opened), expected)
                self.assertEqual(opened.backend_id, backend)
                self.assertEqual(set(opened.mapped("state")), states)
                self.assertIn(backend.name, action["name"])

    def test_a_chart_bar_opens_the_messages_it_counts(self):
        self.make(self.backend, "done", 3, hours_ago=2)
        self.make(self.backend, "failed", 2, hours_ago=2)
        charts = json.loads(self.backend.traffic_chart)
        day = charts["24h"]
        index = len(day["labels"]) - 3  # two hours before the current hour
        self.assertEqual((day["ok"][index], day["attention"][index]), (3, 2))
        start, end = day["bounds"][index]
        failed = self.Message.search(
            self.backend.action_open_traffic(start, end, attention=True)["domain"]
        )
        self.assertEqual(set(failed.mapped("state")), {"failed"})
        self.assertEqual(len(failed), 2)
        others = self.Message.search(
            self.backend.action_open_traffic(start, end)["domain"]
        )
        self.assertEqual(len(others), 3)

    # -- charts --------------------------------------------------------------

    def test_the_charts_count_the_messages_received_in_each_hour_and_day(self):
        for hours_ago, state, count in (
            (0, "done", 2),
            (0, "failed", 1),
            (5, "done", 4),
            (5, "dead", 2),
            (30, "received", 3),  # yesterday: on the 7-day chart only
            (3 * 24, "done", 5),
            (10 * 24, "done", 7),  # older than both charts
        ):
            self.make(self.backend, state, count, hours_ago=hours_ago)
        charts = json.loads(self.backend.traffic_chart)
        day, week = charts["24h"], charts["7d"]
        self.assertEqual(len(day["labels"]), 24)
        self.assertEqual(len(week["labels"]), 7)
        self.assertEqual((day["ok"][-1], day["attention"][-1]), (2, 1))
        self.assertEqual((day["ok"][-6], day["attention"][-6]), (4, 2))
        self.assertEqual(sum(day["ok"]) + sum(day["attention"]), 9)
        self.assertEqual(sum(week["ok"]) + sum(week["attention"]), 17)
        # every bar equals the messages received in its period
        for chart in (day, week):
            for (start, end), ok, attention in zip(
                chart["bounds"], chart["ok"], chart["attention"], strict=True
            ):
                received = self.Message.search(
                    [
                        ("backend_id", "=", self.backend.id),
                        ("received_at", ">=", start),
                        ("received_at", "<", end),
                    ]
                )
                failing = received.filtered(
                    lambda m: m.state in traffic_chart.ATTENTION_STATES
                )
                self.assertEqual(
                    (ok, attention), (len(received - failing), len(failing)), start
                )

    # -- processing time and age ---------------------------------------------

    def test_a_retried_message_shows_its_processing_time_not_its_age(self):
        self.receive(supplier_event(1))
        busy = psycopg2.errors.SerializationFailure("concurrent update")
        with patch(HANDLER_PROCESS, side_effect=busy), self.trapped_jobs():
            self.process()  # a temporary failure: retried later
        message = self.messages()
        self.assertEqual(message.state, "received")
        # the retry comes five hours after receipt
        self.env.cr.execute(
            "UPDATE fih_message SET next_attempt_at = NULL, received_at = %s"
            " WHERE id = %s",
            (fields.Datetime.now() - timedelta(hours=5), message.id),
        )
        self.env.invalidate_all()
        self.process()
        message.invalidate_recordset()
        self.assertEqual(message.state, "done")
        self.assertGreaterEqual(message.latency_ms, 5 * 3600 * 1000 - 1000)
        self.assertLess(message.processing_ms, 60 * 1000)
        self.assertGreaterEqual(message.processing_ms, 0)
        # the counters keep both; the dashboard shows the processing time
        self.env.cr.execute(
            "SELECT sum(latency_sum), sum(processing_sum) FROM fih_message_stat"
            " WHERE backend_id = %s AND received_hour IS NULL AND state = 'done'",
            (self.backend.id,),
        )
        age_sum, processing_sum = self.env.cr.fetchone()
        self.assertEqual(age_sum, message.latency_ms)
        self.assertEqual(processing_sum, message.processing_ms)
        backend = self.backend
        self.assertLess(backend.latency_p95_ms, 60 * 1000)
        self.assertRegex(backend.processing_time, r"^\d+(\.\d+)? s$")

    def test_processing_time_is_shown_in_seconds(self):
        message = self.make(self.backend, "processing", 1)
        self.env.cr.execute(
            "UPDATE fih_message SET started_at ="
            " (clock_timestamp() AT TIME ZONE 'UTC') - interval '1.4 seconds'"
            " WHERE id = %s",
            (message.id,),
        )
        self.env.cr.execute(
            "UPDATE fih_message SET state = 'done' WHERE id = %s", (message.id,)
        )
        self.env.invalidate_all()
        self.assertGreaterEqual(message.processing_ms, 1400)
        self.assertLess(message.processing_ms, 1500)
        # estimated inside its bucket (1250 to 1500 ms): 1375 ms
        self.assertEqual(self.backend.processing_time, "1.4 s")

    # -- cost ----------------------------------------------------------------

    def read_dashboard_logging_queries(self):
        queries = []
        execute = self.env.cr.execute

        def spy(query, params=None, log_exceptions=True):
            queries.append(str(query))
            return execute(query, params, log_exceptions)

        self.env.invalidate_all()
        with patch.object(self.env.cr, "execute", spy):
            self.dashboard(self.backend)
        return queries

    def test_the_dashboard_never_reads_the_log_and_its_cost_stays_flat(self):
        self.make(self.backend, "done", 2)
        self.make(self.backend, "failed", 1)
        few = self.read_dashboard_logging_queries()
        self.assertTrue([q for q in few if "fih_message_stat" in q])
        self.assertFalse([q for q in few if READS_THE_LOG.search(q)])
        for hours_ago in (1, 20, 50, 100, 200, 500):
            self.make(self.backend, "done", 40, hours_ago=hours_ago)
            self.make(self.backend, "failed", 5, hours_ago=hours_ago)
        many = self.read_dashboard_logging_queries()
        self.assertFalse([q for q in many if READS_THE_LOG.search(q)])
        self.assertEqual(len(many), len(few))

    # -- the attacker's side -------------------------------------------------

    def test_a_user_of_company_a_sees_nothing_of_company_b(self):
        company_b = self.env["res.company"].create({"name": "Dashboard Company B"})
        self.backend.service_user_id.company_ids = [(4, company_b.id)]
        backend_b = self.new_backend(
            "Company B platform", "dash-company-b", company_id=company_b.id
        )
        self.make(backend_b, "failed", 6)
        self.make(self.backend, "failed", 1)
        user_a = new_test_user(
            self.env,
            login="dashboard-user-a",
            groups="base.group_user,finance_integration_hub.group_fih_user",
            company_id=self.backend.company_id.id,
            company_ids=[(6, 0, self.backend.company_id.ids)],
        )
        answer = self.dashboard(self.backend | backend_b, user=user_a)
        self.assertEqual(
            [card["name"] for card in answer["records"]], [self.backend.name]
        )
        self.assertEqual(answer["records"][0]["dashboard_to_fix"], 1)
        everything = (
            self.env["fih.backend"]
            .with_user(user_a)
            .with_context(fih_health_first=True)
            .web_search_read([], {"name": {}})
        )
        self.assertNotIn(
            "Company B platform", [card["name"] for card in everything["records"]]
        )
        with self.assertRaises(AccessError):
            backend_b.with_user(user_a).action_open_failed_messages()
        with self.assertRaises(AccessError):
            backend_b.with_user(user_a).action_open_traffic(
                "2026-01-01 10:00:00", "2026-01-01 11:00:00"
            )

    def test_a_user_without_the_hub_group_gets_a_readable_refusal(self):
        outsider = new_test_user(
            self.env, login="dashboard-outsider", groups="base.group_user"
        )
        with self.assertRaises(AccessError) as refused:
            self.dashboard(self.backend, user=outsider)
        self.assertIn("Integration Backend", str(refused.exception))
        with self.assertRaises(AccessError):
            self.backend.with_user(outsider).action_open_failed_messages()
