import json
from datetime import date, timedelta
from unittest.mock import patch

import psycopg2

from odoo import Command, fields
from odoo.exceptions import UserError, ValidationError
from odoo.tests import tagged
from odoo.tools import mute_logger

from ..simulator import BiWarehouse, SimulatorServer
from .common import FihTransactionCase

LOAD = "odoo.addons.finance_integration_hub.models.fih_bi_load"
MAIL = "odoo.addons.mail.models.mail_mail"  # activity e-mails: no SMTP in tests


@tagged("post_install", "-at_install")
class TestBiPublication(FihTransactionCase):
    """Publications to the simulated reporting platform on 127.0.0.1."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.sim = SimulatorServer()
        cls.sim.start()
        cls.addClassCleanup(cls.sim.stop)
        backend_secret = cls.secret
        cls.bi = cls._setup_backend(
            code="test-bi",
            kind="bi",
            base_url=cls.sim.url,
            allow_private_network=True,
            retry_base_seconds=1,
        )
        cls.bi_secret, cls.secret = cls.secret, backend_secret
        cls.company = cls.env.company
        cls.supplier = cls.Partner.create({"name": "Acme Supplies", "supplier_rank": 1})
        cls.other_supplier = cls.Partner.create(
            {"name": "Globex", "supplier_rank": 1, "vat": "BE0477472701"}
        )
        cls.usd = cls.env.ref("base.USD")
        cls.usd.active = True
        cls.env["res.currency.rate"].create(
            {
                "currency_id": cls.usd.id,
                "name": "2026-01-01",
                "rate": 1.25,
                "company_id": cls.company.id,
            }
        )

    def setUp(self):
        super().setUp()
        self.sim.reset()
        self.warehouse = BiWarehouse().attach(self.sim)
        self.pause = patch(f"{LOAD}.CHUNK_PAUSE_SECONDS", (0, 0))
        self.pause.start()
        self.addCleanup(self.pause.stop)

    # -- helpers ------------------------------------------------------------

    def publication(self, **values):
        return self.env["fih.bi.publication"].create(
            {
                "name": "Spend to the warehouse",
                "code": "spend",
                "backend_id": self.bi.id,
                "dataset": "spend",
                "schedule": "manual",
                "chunk_size": 100,
                **values,
            }
        )

    def bill(self, lines, partner=None, move_type="in_invoice", post=True, **values):
        move = self.env["account.move"].create(
            {
                "move_type": move_type,
                "partner_id": (partner or self.supplier).id,
                "invoice_date": values.pop("invoice_date", "2026-10-15"),
                "date": values.pop("date", "2026-10-15"),
                "invoice_line_ids": [
                    Command.create(
                        {"name": f"Line {n}", "quantity": qty, "price_unit": price}
                    )
                    for n, (qty, price) in enumerate(lines)
                ],
                **values,
            }
        )
        if post:
            move.action_post()
        return move

    def stamp(self, moves, minutes_ago):
        """Give changes the time they would have had.

        Odoo stamps a change with the start of its transaction, and a test is
        one transaction: this moves the stamps of ``moves`` (and lines), or of
        recorded deletions when ``moves`` is None, to ``minutes_ago``.
        """
        self.env.flush_all()
        stamp = fields.Datetime.now() - timedelta(minutes=minutes_ago)
        if moves is None:
            self.env.cr.execute("UPDATE fih_bi_deletion SET deleted_at = %s", (stamp,))
            return
        ids = tuple(moves.ids)
        self.env.cr.execute(
            "UPDATE account_move SET write_date = %s WHERE id IN %s", (stamp, ids)
        )
        self.env.cr.execute(
            "UPDATE account_move_line SET write_date = %s WHERE move_id IN %s",
            (stamp, ids),
        )
        self.env.invalidate_all()

    def ago(self, **delta):
        return fields.Datetime.now() - timedelta(**delta)

    def run_load(self, publication, mode=None, period=None):
        """Start a load and run its job the way the queue would."""
        with self.trapped_jobs() as trap:
            if mode:
                load = publication._start_load(mode, period=period)
            else:
                publication.action_publish_now()
                load = publication.load_ids[:1]
            self.perform_jobs(trap)
        return load

    def ledger_spend(self, company_currency=True):
        """The ledger's own figures for posted vendor bill product lines."""
        groups = self.env["account.move.line"]._read_group(
            [
                ("move_id.move_type", "in", ("in_invoice", "in_refund")),
                ("parent_state", "=", "posted"),
                ("display_type", "=", "product"),
                ("company_id", "=", self.company.id),
            ],
            ["currency_id"] if not company_currency else [],
            ["balance:sum", "amount_currency:sum", "__count"],
        )
        return groups

    def totals(self, load, amount):
        return {
            item["currency"]: item["total"]
            for item in json.loads(load.totals_json)
            if item["amount"] == amount
        }

    # -- loads ----------------------------------------------------------------

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

    @mute_logger(MAIL)
    def test_a_locked_period_is_published_with_the_same_bytes_and_never_changed(self):
        for day in ("2026-09-03", "2026-09-17"):
            self.bill([(1, 10.0), (2, 7.5)], invoice_date=day, date=day)
        self.bill([(1, 99.0)], invoice_date="2026-10-01", date="2026-10-01")
        self.company.fiscalyear_lock_date = date(2026, 9, 30)
        publication = self.publication()
        period = (date(2026, 9, 1), date(2026, 9, 30))
        first = self.run_load(publication, "period", period)
        second = self.run_load(publication, "period", period)
        self.assertEqual((first.state, second.state), ("reconciled", "reconciled"))
        self.assertTrue(first.period_locked)
        self.assertEqual(first.rows, 4)
        self.assertEqual(second.reference_load_id, first)
        self.assertEqual(first.content_sha256, second.content_sha256)
        self.assertEqual(
            self.warehouse.bodies(first.uid), self.warehouse.bodies(second.uid)
        )
        # a locked period that changes anyway is refused, not sent
        self.env.cr.execute(
            "UPDATE account_move_line SET amount_currency = amount_currency + 1 "
            "WHERE date = '2026-09-03' AND display_type = 'product'"
        )
        third = self.run_load(publication, "period", period)
        self.assertEqual(third.state, "refused")
        self.assertIn("immutable", third.error_message)
        self.assertFalse(self.warehouse.bodies(third.uid))
        self.assertTrue(
            publication.activity_ids.filtered(lambda a: "stopped" in a.summary)
        )

    def test_the_locked_period_schedule_publishes_each_new_month_once(self):
        self.bill([(1, 10.0)], invoice_date="2026-08-10", date="2026-08-10")
        self.bill([(1, 20.0)], invoice_date="2026-09-10", date="2026-09-10")
        publication = self.publication(
            schedule="period_locked", first_period=date(2026, 8, 1)
        )
        self.assertTrue(publication.cron_id.active)
        self.company.fiscalyear_lock_date = date(2026, 8, 31)
        with self.trapped_jobs() as trap:
            publication._run_scheduled()
            self.perform_jobs(trap)
        self.assertEqual(
            publication.load_ids.mapped("period_start"), [date(2026, 8, 1)]
        )
        with self.trapped_jobs() as trap:
            publication._run_scheduled()  # nothing newly locked
            self.assertFalse(trap.enqueued_jobs)
        self.company.fiscalyear_lock_date = date(2026, 9, 30)
        with self.trapped_jobs() as trap:
            publication._run_scheduled()
            self.perform_jobs(trap)
        self.assertEqual(
            sorted(publication.load_ids.mapped("period_start")),
            [date(2026, 8, 1), date(2026, 9, 1)],
        )
        self.assertEqual(set(publication.load_ids.mapped("state")), {"reconciled"})

    # -- reconciliation checkpoints ----------------------------------------------

    @mute_logger(MAIL)
    def test_a_mismatch_reported_by_the_platform_alerts_the_owner(self):
        self.bill([(1, 10.0), (1, 20.0)])
        publication = self.publication(owner_id=self.env.ref("base.user_admin").id)
        self.warehouse.lose_rows = 1
        load = self.run_load(publication, "full")
        self.assertEqual(load.state, "mismatch")
        self.assertIn(
            "Rows: sent 2, the reporting platform counted 1.", load.differences
        )
        activity = publication.activity_ids
        self.assertEqual(len(activity), 1)
        self.assertEqual(activity.user_id, self.env.ref("base.user_admin"))
        self.assertEqual(publication.status, "attention")

    def test_a_later_signed_acknowledgement_reconciles_the_load(self):
        self.bill([(1, 10.0)])
        publication = self.publication()
        self.warehouse.acknowledge = "async"
        load = self.run_load(publication, "full")
        self.assertEqual(load.state, "awaiting_ack")
        acknowledgement = self.warehouse.acknowledgements[load.uid]
        intake = self.env["fih.bi.acknowledgement.intake"]

        def send(payload, secret=None):
            body, headers = self.signed(payload, secret=secret)
            return intake._receive(
                self.bi.code,
                headers,
                lambda limit: body[:limit],
                headers["content-type"],
                len(body),
            )

        self.assertEqual(send(acknowledgement, secret="whsec_" + "A" * 32).status, 401)
        self.assertEqual(
            send({"load_id": "no-such-load"}, secret=self.bi_secret).status, 409
        )
        # an acknowledgement without figures proves nothing
        bare = send({"load_id": load.uid}, secret=self.bi_secret)
        self.assertEqual(bare.payload["state"], "mismatch")
        self.assertIn("does not state the rows", " ".join(bare.payload["differences"]))
        result = send(acknowledgement, secret=self.bi_secret)
        self.assertEqual(result.status, 200)
        self.assertEqual(result.payload["state"], "reconciled")
        self.assertEqual(load.state, "reconciled")
        tampered = dict(acknowledgement, totals=[])
        result = send(tampered, secret=self.bi_secret)
        self.assertEqual(result.payload["state"], "mismatch")
        self.assertTrue(result.payload["differences"])

    @mute_logger(MAIL)
    def test_a_load_past_its_sla_and_an_overdue_schedule_alert_the_owner(self):
        publication = self.publication(schedule="nightly", sla_minutes=30)
        self.sim.add_fault(kind="status", status=503)
        with self.trapped_jobs():
            load = publication._start_load("full")
        self.env.cr.execute(
            "UPDATE fih_bi_load SET create_date = %s", (self.ago(hours=2),)
        )
        self.env.cr.execute(
            "UPDATE fih_bi_publication SET create_date = %s", (self.ago(days=3),)
        )
        self.env.invalidate_all()
        with self.trapped_jobs():
            self.env["fih.bi.publication"]._cron_check_sla()
        summaries = publication.activity_ids.mapped("summary")
        self.assertIn("Load past its SLA: Spend to the warehouse", summaries)
        self.assertIn("Publication overdue: Spend to the warehouse", summaries)
        self.assertTrue(load.sla_breached)
        with self.trapped_jobs():
            self.env["fih.bi.publication"]._cron_check_sla()
        self.assertEqual(len(publication.activity_ids), 2)  # not repeated

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

    # -- the other datasets ---------------------------------------------------------

    def test_open_commitments_and_ap_aging_are_snapshots(self):
        product = self.env["product.product"].create(
            {"name": "Paper", "type": "consu", "is_storable": True}
        )
        order = self.env["purchase.order"].create(
            {
                "partner_id": self.supplier.id,
                "order_line": [
                    Command.create(
                        {"product_id": product.id, "product_qty": 10, "price_unit": 4.0}
                    )
                ],
            }
        )
        order.button_confirm()
        picking = order.picking_ids
        picking.move_ids.quantity = 4
        picking.with_context(
            skip_backorder=True, picking_ids_not_to_backorder=picking.ids
        ).button_validate()
        overdue = self.bill(
            [(1, 100.0)],
            invoice_date=fields.Date.today() - timedelta(days=75),
            date=fields.Date.today() - timedelta(days=75),
            invoice_date_due=fields.Date.today() - timedelta(days=45),
        )
        commitments = self.run_load(
            self.publication(code="commitments", dataset="open_commitments")
        )
        self.assertEqual(commitments.mode, "full")
        (row,) = [
            row
            for row in self.warehouse.tables["commitments"].values()
            if row["purchase_order"] == order.name
        ]
        self.assertEqual(
            (row["ordered_qty"], row["received_qty"], row["open_to_receive_qty"]),
            (10.0, 4.0, 6.0),
        )
        self.assertEqual(row["open_amount"], 40)
        aging = self.run_load(self.publication(code="aging", dataset="ap_aging"))
        self.assertEqual(aging.state, "reconciled")
        row = self.warehouse.tables["aging"][str(overdue.id)]
        self.assertEqual((row["bucket"], row["days_overdue"]), ("31-60", 45))
        self.assertEqual(row["open_amount"], overdue.amount_residual)

    def test_payments_and_archived_suppliers_reach_the_platform(self):
        bill = self.bill([(1, 200.0)])
        payment = (
            self.env["account.payment.register"]
            .with_context(active_model="account.move", active_ids=bill.ids)
            .create({"payment_date": "2026-10-20"})
            ._create_payments()
        )
        payments = self.run_load(self.publication(code="payments", dataset="payments"))
        self.assertEqual(payments.state, "reconciled")
        row = self.warehouse.tables["payments"][str(payment.id)]
        self.assertEqual((row["bills"], row["amount"]), (bill.name, payment.amount))
        # cash out is positive in both currencies, whatever the journal entry
        self.assertEqual(row["amount_company"], payment.amount)
        suppliers = self.publication(
            code="suppliers", dataset="suppliers", data_format="csv"
        )
        self.env.cr.execute(
            "UPDATE res_partner SET write_date = %s", (self.ago(hours=1),)
        )
        first = self.run_load(suppliers)
        self.assertIn(str(self.other_supplier.id), self.warehouse.tables["suppliers"])
        self.other_supplier.active = False
        self.env.flush_all()
        self.env.cr.execute(
            "UPDATE res_partner SET write_date = %s WHERE id = %s",
            (self.ago(minutes=30), self.other_supplier.id),
        )
        second = self.run_load(suppliers)
        self.assertEqual((first.state, second.state), ("reconciled", "reconciled"))
        self.assertEqual(second.tombstones, 1)
        self.assertNotIn(
            str(self.other_supplier.id), self.warehouse.tables["suppliers"]
        )

    def test_each_scheduled_publication_has_its_own_cron(self):
        publication = self.publication(schedule="hourly")
        cron = publication.cron_id
        self.assertEqual((cron.interval_number, cron.interval_type), (1, "hours"))
        self.assertTrue(cron.active)
        publication.schedule = "manual"
        self.assertFalse(cron.active)
        with self.assertRaises(ValidationError):
            self.publication(
                code="aging-period", dataset="ap_aging", schedule="period_locked"
            )

    def test_publications_and_loads_stay_within_their_company(self):
        publication = self.publication()
        load = self.run_load(publication, "full")
        self.assertEqual(self.bi.publication_count, 1)
        self.assertEqual(
            self.bi.action_open_publications()["domain"],
            [("backend_id", "=", self.bi.id)],
        )
        other = self.env["res.company"].create({"name": "Other Company BV"})
        controller = self.env["res.users"].create(
            {
                "name": "Other controller",
                "login": "other-controller",
                "company_id": other.id,
                "company_ids": [Command.set(other.ids)],
                "groups_id": [
                    Command.link(
                        self.env.ref("finance_integration_hub.group_fih_manager").id
                    )
                ],
            }
        )
        as_other = self.env(user=controller)
        self.assertFalse(as_other["fih.bi.publication"].search([]))
        self.assertFalse(as_other["fih.bi.load"].search([("id", "=", load.id)]))
        self.assertFalse(as_other["fih.bi.load.chunk"].search([]))

    def test_an_integration_manager_schedules_a_publication_without_admin_rights(self):
        manager = self.env["res.users"].create(
            {
                "name": "Integration manager",
                "login": "fih-manager",
                "groups_id": [
                    Command.link(
                        self.env.ref("finance_integration_hub.group_fih_manager").id
                    )
                ],
            }
        )
        self.assertFalse(manager.has_group("base.group_system"))
        publication = (
            self.env["fih.bi.publication"]
            .with_user(manager)
            .create(
                {
                    "name": "Nightly spend",
                    "code": "nightly",
                    "backend_id": self.bi.id,
                    "dataset": "spend",
                    "schedule": "nightly",
                }
            )
        )
        self.assertTrue(publication.sudo().cron_id.active)
        with self.trapped_jobs():
            publication.action_publish_now()
            with self.assertRaises(UserError):
                publication.action_publish_now()  # one load at a time, said so

    def test_a_contact_that_becomes_a_supplier_through_a_bill_is_published(self):
        contact = self.Partner.create({"name": "Newly used contact"})
        suppliers = self.publication(code="suppliers", dataset="suppliers")
        self.env.flush_all()  # else a pending write would stamp it after this
        self.env.cr.execute(
            "UPDATE res_partner SET write_date = %s", (self.ago(hours=2),)
        )
        self.run_load(suppliers)
        self.assertNotIn(str(contact.id), self.warehouse.tables["suppliers"])
        # what posting its first bill does: the rank is raised in SQL (a bill
        # would also write the contact through the ORM and hide the point)
        contact._increase_rank("supplier_rank")
        self.env.flush_all()
        self.env.cr.execute(
            "UPDATE res_partner SET write_date = %s WHERE id = %s "
            "AND write_date > %s",
            (self.ago(minutes=30), contact.id, self.ago(hours=1)),
        )
        self.assertEqual(self.env.cr.rowcount, 1)
        self.run_load(suppliers)
        self.assertIn(str(contact.id), self.warehouse.tables["suppliers"])
