import json
from decimal import Decimal
from unittest.mock import patch

from odoo.tests import tagged

from .bi_common import WarehouseCase, WorkerKilled

SINK = "odoo.addons.finance_integration_hub.models.fih_bi_sink_postgres"


@tagged("post_install", "-at_install")
class TestBiSinkPostgres(WarehouseCase):
    """Publications into a real PostgreSQL warehouse: typed tables, merged
    chunk by chunk, reconciled against the ledger, resumed after a kill."""

    def ledger_company_total(self, **domain):
        lines = self.env["account.move.line"].search(
            [
                ("move_id.move_type", "in", ("in_invoice", "in_refund")),
                ("parent_state", "=", "posted"),
                ("display_type", "=", "product"),
                ("company_id", "=", self.company.id),
                *[(key, "=", value) for key, value in domain.items()],
            ]
        )
        return len(lines), Decimal(str(round(sum(lines.mapped("balance")), 2)))

    def landed(self, schema="fih_spend"):
        ((count, total, distinct),) = self.query(
            f"SELECT count(*), coalesce(sum(amount_company), 0)::text, "  # noqa: S608
            f"count(DISTINCT line_id) FROM {schema}.spend WHERE NOT _fih_deleted"
        )
        return count, Decimal(total), distinct

    def test_a_full_load_lands_typed_rows_equal_to_the_ledger_to_the_cent(self):
        self.bill([(2, 100.0), (1, 50.55)])
        self.bill([(1, 80.0)], partner=self.other_supplier, currency_id=self.usd.id)
        self.bill([(1, 30.0)], move_type="in_refund")
        tricky = self.bill([(1, 1.0)] * 150)
        tricky.invoice_line_ids[0].name = "tab\there, new\nline, back\\slash \\N"
        publication = self.warehouse_publication()
        load = self.run_load(publication, "full")
        self.assertEqual(
            load.state, "reconciled", load.error_message or load.differences
        )
        self.assertEqual(len(load.chunk_ids), 2)
        count, total = self.ledger_company_total()
        landed_count, landed_total, distinct = self.landed()
        self.assertEqual((landed_count, distinct), (count, count))
        self.assertEqual(landed_total, total)
        types = dict(
            self.query(
                "SELECT column_name, data_type FROM information_schema.columns "
                "WHERE table_schema = 'fih_spend' AND table_name = 'spend'"
            )
        )
        self.assertEqual(types["amount_company"], "numeric")
        self.assertEqual(types["accounting_date"], "date")
        self.assertEqual(types["line_id"], "bigint")
        ((description,),) = self.query(
            "SELECT description FROM fih_spend.spend WHERE line_id = %s",
            (tricky.invoice_line_ids[0].id,),
        )
        self.assertEqual(description, "tab\there, new\nline, back\\slash \\N")
        ((rows, content_hash, manifest),) = self.query(
            "SELECT rows, content_sha256, manifest FROM fih_spend.fih_manifest "
            "WHERE load_id = %s",
            (load.uid,),
        )
        self.assertEqual((rows, content_hash), (count, load.content_sha256))
        self.assertEqual(manifest["load_id"], load.uid)
        self.assertEqual(publication.status, "ok")
        self.assertFalse(publication.attention_reason)

    def test_a_load_killed_after_a_committed_chunk_resumes_without_duplicates(self):
        self.bill([(1, 1.25)] * 250)
        self.bill([(3, 10.10)], currency_id=self.usd.id)
        publication = self.warehouse_publication()
        model = type(self.env["fih.bi.load"])
        original = model._warehouse_commit

        def killed_after_chunk_2(load, connection, sequence):
            original(load, connection, sequence)
            if sequence == 2:
                raise WorkerKilled()

        with (
            patch.object(model, "_warehouse_commit", killed_after_chunk_2),
            self.trapped_jobs() as trap,
        ):
            load = publication._start_load("full")
            killed = False
            try:
                self.perform_jobs(trap)
            except WorkerKilled:
                killed = True
        self.assertTrue(killed)
        self.env.invalidate_all()
        # the warehouse holds two chunks, the hub remembers one
        self.assertEqual((load.state, len(load.chunk_ids)), ("running", 1))
        self.assertEqual(self.landed()[0], 200)
        self.env.cr.execute(
            "UPDATE fih_bi_load SET create_date = create_date - interval '10 minutes' "
            "WHERE id = %s",
            (load.id,),
        )
        self.env.invalidate_all()
        with self.trapped_jobs() as trap:
            self.assertEqual(self.env["fih.bi.load"]._cron_recover(), load)
            self.perform_jobs(trap)
        self.assertEqual(
            load.state, "reconciled", load.error_message or load.differences
        )
        count, total = self.ledger_company_total()
        self.assertEqual(self.landed(), (count, total, count))
        self.assertEqual(load.rows, count)
        chunks = self.query(
            "SELECT sequence FROM fih_spend.fih_chunk WHERE load_id = %s "
            "ORDER BY sequence",
            (load.uid,),
        )
        self.assertEqual([row[0] for row in chunks], [1, 2, 3])

    def test_publishing_a_period_again_adds_no_duplicates(self):
        self.bill([(1, 10.0), (2, 7.5)], date="2026-10-10", invoice_date="2026-10-10")
        self.bill([(1, 99.0)], date="2026-11-03", invoice_date="2026-11-03")
        publication = self.warehouse_publication()
        october = ("2026-10-01", "2026-10-31")
        first = self.run_load(publication, "period", period=october)
        second = self.run_load(publication, "period", period=october)
        for load in (first, second):
            self.assertEqual(load.state, "reconciled", load.error_message)
        count, total = self.ledger_company_total()
        self.assertEqual(count, 3)
        self.assertEqual(self.landed(), (2, Decimal("25.00"), 2))
        manifests = self.query(
            "SELECT load_id, period_start::text, rows FROM fih_spend.fih_manifest "
            "ORDER BY loaded_at"
        )
        self.assertEqual(
            manifests,
            [(first.uid, "2026-10-01", 2), (second.uid, "2026-10-01", 2)],
        )

    def test_tombstones_delete_the_row_or_mark_it_deleted_as_chosen(self):
        kept = self.bill([(1, 10.0)])
        reset = self.bill([(1, 30.0), (1, 40.0)])
        self.stamp(kept | reset, minutes_ago=60)
        hard = self.warehouse_publication(code="spend-hard")
        soft = self.warehouse_publication(
            code="spend-soft", warehouse_tombstones="soft"
        )
        for publication in (hard, soft):
            self.assertEqual(self.run_load(publication).rows, 3)
        reset.button_draft()
        self.stamp(reset, minutes_ago=30)
        for publication in (hard, soft):
            load = self.run_load(publication)
            self.assertEqual(
                (load.state, load.rows, load.tombstones), ("reconciled", 0, 2)
            )
        self.assertEqual(
            self.query("SELECT line_id FROM fih_spend_hard.spend"),
            [(kept.invoice_line_ids.id,)],
        )
        flagged = self.query(
            "SELECT line_id, _fih_deleted FROM fih_spend_soft.spend ORDER BY line_id"
        )
        self.assertEqual(
            flagged,
            [(kept.invoice_line_ids.id, False)]
            + [(line.id, True) for line in reset.invoice_line_ids.sorted("id")],
        )
        self.assertEqual(self.landed("fih_spend_soft")[:2], (1, Decimal("10.00")))

    def test_a_full_reload_replaces_what_the_warehouse_had(self):
        bills = self.bill([(1, 10.0)]) | self.bill([(1, 20.0)])
        publication = self.warehouse_publication()
        self.run_load(publication, "full")
        bills[0].button_draft()
        load = self.run_load(publication, "full")
        self.assertEqual(load.state, "reconciled", load.error_message)
        self.assertEqual(self.landed()[:2], (1, Decimal("20.00")))

    def test_a_schema_of_another_publication_is_never_written(self):
        self.bill([(1, 10.0)])
        self.wh.cursor().execute(
            "CREATE SCHEMA fih_spend; CREATE TABLE fih_spend.fih_owner "
            "(owner text PRIMARY KEY, since timestamptz DEFAULT now()); "
            "INSERT INTO fih_spend.fih_owner VALUES ('another-database:7')"
        )
        load = self.run_load(self.warehouse_publication(), "full")
        self.assertEqual(load.state, "refused")
        self.assertIn("belongs to another publication", load.error_message)
        self.assertFalse(
            self.query(
                "SELECT 1 FROM pg_tables WHERE schemaname = 'fih_spend' "
                "AND tablename = 'spend' AND false"
            )
        )
        publication = load.publication_id
        self.assertEqual(publication.status, "attention")
        self.assertIn("The last load stopped", publication.attention_reason)

    def test_the_loads_figures_come_from_the_warehouse_itself(self):
        self.bill([(1, 10.0)] * 3)
        publication = self.warehouse_publication()
        model = type(self.env["fih.bi.load"])
        original = model._warehouse_commit

        def tampered(load, connection, sequence):
            # someone changes an amount between the merge and the manifest
            with connection.cursor() as cr:
                cr.execute("UPDATE fih_spend.spend SET amount_company = 1")
            original(load, connection, sequence)

        with patch.object(model, "_warehouse_commit", tampered):
            load = self.run_load(publication, "full")
        self.assertEqual(load.state, "mismatch")
        self.assertIn("amount_company", load.differences)
        self.assertIn("do not match", publication.attention_reason)
        ack = json.loads(load.acknowledgement)
        self.assertEqual(ack["rows"], 3)
