import glob
import json
import os
import shutil
import tempfile
from decimal import Decimal
from unittest.mock import patch

import duckdb

from odoo.tests import tagged
from odoo.tools import config

from ..lib import bi_parquet
from .bi_common import BiPublicationCase, WorkerKilled

OCTOBER = ("2026-10-01", "2026-10-31")
NOVEMBER = ("2026-11-01", "2026-11-30")


@tagged("post_install", "-at_install")
class TestBiSinkParquet(BiPublicationCase):
    """Publications into Parquet files, read back with DuckDB and compared
    with the ledger; files appear whole or not at all."""

    def setUp(self):
        super().setUp()
        self.root = tempfile.mkdtemp(prefix="fih-parquet-")
        self.addCleanup(shutil.rmtree, self.root, True)
        root = patch.dict(config.options, {"fih_bi_parquet_root": self.root})
        root.start()
        self.addCleanup(root.stop)
        self.folder = os.path.join(os.path.realpath(self.root), "finance")

    def parquet_publication(self, **values):
        return self.publication(sink="parquet", parquet_folder="finance", **values)

    def ledger_by_month(self):
        groups = self.env["account.move.line"]._read_group(
            [
                ("move_id.move_type", "in", ("in_invoice", "in_refund")),
                ("parent_state", "=", "posted"),
                ("display_type", "=", "product"),
                ("company_id", "=", self.company.id),
            ],
            ["date:month"],
            ["balance:sum", "__count"],
        )
        return {
            month.strftime("%Y-%m"): (count, Decimal(str(round(balance, 2))))
            for month, balance, count in groups
        }

    def files(self):
        return sorted(
            os.path.relpath(path, self.folder)
            for path in glob.glob(os.path.join(self.folder, "**", "*"), recursive=True)
            if os.path.isfile(path)
        )

    def test_period_files_read_back_by_duckdb_equal_the_ledger_per_period(self):
        self.bill(
            [(2, 100.0), (1, 50.55)], date="2026-10-10", invoice_date="2026-10-10"
        )
        self.bill(
            [(1, 80.0)],
            partner=self.other_supplier,
            currency_id=self.usd.id,
            date="2026-10-20",
            invoice_date="2026-10-20",
        )
        self.bill([(1, 30.0)], move_type="in_refund", date="2026-11-05")
        self.bill([(1, 0.01)] * 130, date="2026-11-06", invoice_date="2026-11-06")
        publication = self.parquet_publication()
        for period in (OCTOBER, NOVEMBER):
            load = self.run_load(publication, "period", period=period)
            self.assertEqual(
                load.state, "reconciled", load.error_message or load.differences
            )
        pattern = os.path.join(self.folder, "spend", "*.parquet")
        landed = {
            month: (count, total)
            for month, count, total in duckdb.sql(
                "SELECT strftime(accounting_date, '%Y-%m'), count(*), "
                f"sum(amount_company) FROM read_parquet('{pattern}') GROUP BY 1"
            ).fetchall()
        }
        self.assertEqual(landed, self.ledger_by_month())
        types = {
            row[0]: row[1]
            for row in duckdb.sql(
                f"DESCRIBE SELECT * FROM read_parquet('{pattern}')"
            ).fetchall()
        }
        self.assertEqual(types["amount_company"], "DECIMAL(38,2)")
        self.assertEqual(types["accounting_date"], "DATE")
        self.assertEqual(
            self.files(),
            [
                "spend/spend_2026-10-01_2026-10-31.parquet",
                "spend/spend_2026-10-01_2026-10-31.parquet.manifest.json",
                "spend/spend_2026-11-01_2026-11-30.parquet",
                "spend/spend_2026-11-01_2026-11-30.parquet.manifest.json",
            ],
        )
        with open(
            os.path.join(
                self.folder,
                "spend",
                "spend_2026-11-01_2026-11-30.parquet.manifest.json",
            )
        ) as handle:
            beside = json.load(handle)
        self.assertEqual((beside["rows"], beside["load_id"]), (131, load.uid))
        self.assertEqual(
            beside["file_sha256"],
            bi_parquet.file_sha256(
                os.path.join(
                    self.folder, "spend", "spend_2026-11-01_2026-11-30.parquet"
                )
            ),
        )

    def test_publishing_a_period_again_replaces_its_file_without_duplicates(self):
        self.bill([(1, 10.0), (2, 7.5)], date="2026-10-10", invoice_date="2026-10-10")
        publication = self.parquet_publication()
        for _attempt in range(2):
            load = self.run_load(publication, "period", period=OCTOBER)
            self.assertEqual(load.state, "reconciled", load.error_message)
        path = os.path.join(self.folder, "spend", "spend_2026-10-01_2026-10-31.parquet")
        self.assertEqual(
            duckdb.sql(
                f"SELECT count(*), sum(amount_company) FROM read_parquet('{path}')"
            ).fetchall()[0],
            (2, Decimal("25.00")),
        )
        self.assertEqual(len(self.files()), 2)  # the file and its manifest

    def kill_on(self, suffix):
        """Stop the worker dead when the file ending with ``suffix`` is about
        to get its final name (its temporary file is written)."""
        original = bi_parquet.publish

        def publish(scratch, path):
            if path.endswith(suffix) and not publish.killed:
                publish.killed = True
                raise WorkerKilled()
            return original(scratch, path)

        publish.killed = False
        return patch.object(bi_parquet, "publish", publish)

    def resume_after_kill(self, publication, suffix):
        with self.kill_on(suffix), self.trapped_jobs() as trap:
            load = publication._start_load("period", period=OCTOBER)
            killed = False
            try:
                self.perform_jobs(trap)
            except WorkerKilled:
                killed = True
        self.assertTrue(killed)
        self.env.invalidate_all()
        self.assertEqual(load.state, "running")
        final = os.path.join(
            self.folder, "spend", "spend_2026-10-01_2026-10-31.parquet"
        )
        self.assertFalse(os.path.exists(final), "no half file under the final name")
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
        self.assertEqual(
            duckdb.sql(
                "SELECT count(*), count(DISTINCT line_id), sum(amount_company) "
                f"FROM read_parquet('{final}')"
            ).fetchall()[0],
            (250, 250, Decimal("312.50")),
        )
        self.assertFalse(
            os.path.exists(os.path.join(self.folder, ".fih-staging", load.uid))
        )
        return load

    def test_a_load_killed_after_a_chunk_file_was_written_resumes_exactly(self):
        self.bill([(1, 1.25)] * 250, date="2026-10-10", invoice_date="2026-10-10")
        load = self.resume_after_kill(
            self.parquet_publication(), "chunk-000002.parquet"
        )
        self.assertEqual(load.chunk_ids.mapped("sequence"), [1, 2, 3])

    def test_a_load_killed_while_joining_its_file_resumes_exactly(self):
        self.bill([(1, 1.25)] * 250, date="2026-10-10", invoice_date="2026-10-10")
        self.resume_after_kill(self.parquet_publication(), "2026-10-31.parquet")

    def test_incremental_files_carry_deletions_as_tombstones(self):
        kept = self.bill([(1, 10.0)])
        reset = self.bill([(1, 30.0), (1, 40.0)])
        self.stamp(kept | reset, minutes_ago=60)
        publication = self.parquet_publication()
        first = self.run_load(publication)
        reset.button_draft()
        self.stamp(reset, minutes_ago=30)
        second = self.run_load(publication)
        for load in (first, second):
            self.assertEqual(load.state, "reconciled", load.error_message)
        files = glob.glob(
            os.path.join(self.folder, "spend", "incremental", "*.parquet")
        )
        self.assertEqual(len(files), 2)
        latest = [path for path in files if second.uid in path][0]
        self.assertEqual(
            sorted(
                duckdb.sql(
                    f"SELECT _fih_op, line_id FROM read_parquet('{latest}')"
                ).fetchall()
            ),
            [("delete", line.id) for line in reset.invoice_line_ids.sorted("id")],
        )
