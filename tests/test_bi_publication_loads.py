from unittest.mock import patch

import psycopg2

from odoo import Command
from odoo.tests import tagged
from odoo.tools import mute_logger

from .bi_common import BiPublicationCase


@tagged("post_install", "-at_install")
class TestBiPublicationLoads(BiPublicationCase):
    """Full and incremental loads, resumed after failures, one at a time."""

    def test_full_load_sends_every_posted_line_with_the_ledgers_totals(self):
        self.bill([(2, 100.0), (1, 50.5)])
        self.bill([(1, 80.0)], partner=self.other_supplier, currency_id=self.usd.id)
        self.bill([(1, 30.0)], move_type="in_refund")
        self.bill([(120, 1.0)] * 1 + [(1, 1.0)] * 119)  # one bill of 120 lines
        self.bill([(1, 999.0)], post=False)  # drafts are not spend
        plan = self.env["account.analytic.plan"].create({"name": "Cost centres"})
        marketing = self.env["account.analytic.account"].create(
            {"name": "Marketing", "code": "CC100", "plan_id": plan.id}
        )
        analytic = self.bill([(1, 60.0)], post=False)
        analytic.invoice_line_ids.analytic_distribution = {str(marketing.id): 100}
        analytic.action_post()
        publication = self.publication()
        load = self.run_load(publication, "full")
        self.assertEqual(
            load.state, "reconciled", load.error_message or load.differences
        )
        posted_lines = 2 + 1 + 1 + 120 + 1
        self.assertEqual(load.rows, posted_lines)
        self.assertEqual(len(load.chunk_ids), 2)  # 100 rows per chunk
        self.assertGreaterEqual(len(self.warehouse.tables["spend"]), posted_lines)
        (ledger,) = self.ledger_spend()
        balance, _amount_currency, _count = ledger
        company_total = self.totals(load, "amount_company")[
            self.company.currency_id.name
        ]
        self.assertAlmostEqual(float(company_total), balance, places=2)
        by_currency = {
            currency.name: amount
            for currency, _balance, amount, _count in self.ledger_spend(False)
        }
        for currency, total in self.totals(load, "amount_currency").items():
            self.assertAlmostEqual(float(total), by_currency[currency], places=2)
        self.assertIn("USD", self.totals(load, "amount_currency"))
        refund = [
            row
            for row in self.warehouse.tables["spend"].values()
            if row["document_type"] == "credit_note"
        ]
        self.assertEqual(len(refund), 1)
        self.assertLess(refund[0]["amount_company"], 0)
        row = self.warehouse.tables["spend"][str(analytic.invoice_line_ids.id)]
        self.assertEqual(
            (row["cost_centers"], row["supplier"], row["document_type"]),
            ("CC100=100.0", "Acme Supplies", "invoice"),
        )
        self.assertEqual(publication.last_success_id, load)
        self.assertEqual(publication.status, "ok")

    def test_incremental_sends_only_changes_and_tombstones(self):
        kept = self.bill([(1, 10.0), (1, 20.0)])
        reset = self.bill([(1, 30.0), (1, 40.0)])
        self.stamp(kept | reset, minutes_ago=60)
        publication = self.publication()
        first = self.run_load(publication)
        self.assertEqual((first.rows, first.tombstones), (4, 0))
        # later: a new bill, a bill reset to draft and one of its lines deleted
        new = self.bill([(3, 5.0)])
        reset.button_draft()
        reset.write(
            {"invoice_line_ids": [Command.delete(reset.invoice_line_ids[0].id)]}
        )
        self.stamp(new | reset, minutes_ago=30)
        self.stamp(None, minutes_ago=30)
        second = self.run_load(publication)
        self.assertEqual(second.state, "reconciled", second.error_message)
        self.assertEqual(second.rows, 1)  # only the new bill's line
        # the remaining line of the draft bill, and the deleted one
        self.assertEqual(second.tombstones, 2)
        table = self.warehouse.tables["spend"]
        self.assertEqual(
            sorted(table),
            sorted(
                str(line.id) for line in kept.invoice_line_ids | new.invoice_line_ids
            ),
        )
        # nothing changed since: the next load sends nothing
        third = self.run_load(publication)
        self.assertEqual(
            (third.state, third.rows, third.tombstones), ("reconciled", 0, 0)
        )

    def test_a_failure_mid_load_resumes_after_the_last_accepted_chunk(self):
        self.bill([(1, 1.0)] * 250)
        publication = self.publication()
        # chunk 2 fails on every quick retry: the load stops after chunk 1
        chunk_2 = "/chunks/2"
        original = self.warehouse.handle

        def flaky(request):
            if request.path.endswith(chunk_2) and flaky.failures < 3:
                flaky.failures += 1
                return 503, {}, {"error": "warehouse is restarting"}
            return original(request)

        flaky.failures = 0
        self.sim.add_route("POST", "/publications/", flaky)
        with self.trapped_jobs() as trap:
            load = publication._start_load("full")
            self.perform_jobs(trap)
        self.assertEqual(load.state, "failed")
        self.assertEqual(len(load.chunk_ids), 1)
        self.assertIn("resumes after chunk 1", load.error_message)
        self.assertTrue(load.next_run_at)
        # the automatic resume is queued; the warehouse is back
        with self.trapped_jobs() as trap:
            load._enqueue()
            self.perform_jobs(trap)
        self.assertEqual(load.state, "reconciled", load.error_message)
        self.assertEqual(load.rows, 250)
        self.assertEqual(load.chunk_ids.mapped("sequence"), [1, 2, 3])
        chunk_1_posts = [r for r in self.sim.requests() if r.path.endswith("/chunks/1")]
        self.assertEqual(len(chunk_1_posts), 1)  # never sent again
        self.assertEqual(len(self.warehouse.tables["spend"]), 250)

    def test_a_worker_killed_mid_load_is_recovered_and_completed_once(self):
        self.bill([(1, 1.0)] * 250)
        publication = self.publication()

        class WorkerKilled(BaseException):
            pass

        original = type(self.env["fih.bi.load"])._post_with_retries
        calls = []

        def dies_on_second_chunk(load, url, *args, **kwargs):
            calls.append(url)
            if len(calls) == 2:
                raise WorkerKilled()
            return original(load, url, *args, **kwargs)

        with (
            patch.object(
                type(self.env["fih.bi.load"]),
                "_post_with_retries",
                dies_on_second_chunk,
            ),
            self.trapped_jobs() as trap,
        ):
            load = publication._start_load("full")
            # not assertRaises: Odoo's rolls back to a savepoint, this must not
            killed = False
            try:
                self.perform_jobs(trap)
            except WorkerKilled:
                killed = True
            self.assertTrue(killed)
        self.env.invalidate_all()
        self.assertEqual(load.state, "running")
        self.assertEqual(len(load.chunk_ids), 1)
        self.env.cr.execute(
            "UPDATE fih_bi_load SET create_date = create_date - interval '10 minutes' "
            "WHERE id = %s",
            (load.id,),
        )
        self.env.invalidate_all()
        with self.trapped_jobs() as trap:
            recovered = self.env["fih.bi.load"]._cron_recover()
            self.perform_jobs(trap)
        self.assertEqual(recovered, load)
        self.assertEqual(load.state, "reconciled")
        self.assertEqual(load.rows, 250)
        self.assertEqual(len(self.warehouse.tables["spend"]), 250)

    def test_one_load_at_a_time_per_publication_is_enforced_by_the_database(self):
        publication = self.publication()
        with self.trapped_jobs():
            load = publication._start_load("full")
            self.assertFalse(publication._start_load("full"))
        self.assertEqual(load.state, "queued")
        with mute_logger("odoo.sql_db"), self.assertRaises(psycopg2.IntegrityError):
            with self.env.cr.savepoint():
                self.env["fih.bi.load"].create(
                    {"publication_id": publication.id, "mode": "full"}
                )
