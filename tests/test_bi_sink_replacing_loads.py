import errno
import os
import shutil
import tempfile
from decimal import Decimal
from unittest.mock import patch

import duckdb

from odoo.tests import tagged
from odoo.tools import config

from .bi_common import BiPublicationCase, WarehouseCase

COPY = "odoo.addons.finance_integration_hub.models.fih_bi_load_copy"
OCTOBER = ("2026-10-01", "2026-10-31")
NOVEMBER = ("2026-11-01", "2026-11-30")
AWKWARD_TEXTS = (
    "N/A",
    "NULL",
    'say "hi", then\nsay bye',
    "tab\there; back\\slash \\N",
    "Müller & Søn, 5,5%",
)


@tagged("post_install", "-at_install")
class TestWarehouseReplacingLoads(WarehouseCase):
    """A full reload or a period published again replaces what the warehouse
    holds: rows that did not change are left alone, changed rows are
    rewritten, rows that left are removed; the figures still equal the
    ledger's."""

    def rows(self):
        return dict(
            self.query(
                "SELECT line_id, _fih_load_id FROM fih_spend.spend "
                "WHERE NOT _fih_deleted"
            )
        )

    def figures(self, where="NOT _fih_deleted"):
        ((count, total),) = self.query(
            f"SELECT count(*), coalesce(sum(amount_company), 0)::text "  # noqa: S608
            f"FROM fih_spend.spend WHERE {where}"
        )
        return count, Decimal(total)

    def test_a_full_reload_rewrites_only_changed_rows_and_removes_rows_that_left(self):
        kept = self.bill([(1, 10.0)] * 120)
        changed = self.bill([(2, 20.0)])
        leaving = self.bill([(1, 33.33), (3, 1.11)])
        publication = self.warehouse_publication()
        first = self.run_load(publication, "full")
        self.assertEqual(first.state, "reconciled", first.error_message)
        self.assertEqual(self.figures(), (123, Decimal("1276.66")))
        self.env.cr.execute(
            "UPDATE account_move_line SET name = 'renamed by the buyer' WHERE id = %s",
            (changed.invoice_line_ids.id,),
        )
        leaving.button_draft()
        second = self.run_load(publication, "full")
        self.assertEqual(
            second.state, "reconciled", second.error_message or second.differences
        )
        rows = self.rows()
        self.assertEqual(len(rows), 121)
        self.assertNotIn(leaving.invoice_line_ids[0].id, rows)
        self.assertEqual(rows[changed.invoice_line_ids.id], second.uid)
        # unchanged rows keep the load that last wrote them
        self.assertEqual({rows[line.id] for line in kept.invoice_line_ids}, {first.uid})
        self.assertEqual(self.figures(), (121, Decimal("1240.00")))
        self.assertEqual(second.rows, 121)

    def test_soft_tombstones_keep_the_rows_that_left_marked_deleted(self):
        self.bill([(1, 5.0)] * 3)
        leaving = self.bill([(1, 7.0)])
        publication = self.warehouse_publication(warehouse_tombstones="soft")
        self.run_load(publication, "full")
        leaving.button_draft()
        load = self.run_load(publication, "full")
        self.assertEqual(load.state, "reconciled", load.error_message)
        self.assertEqual(self.figures(), (3, Decimal("15.00")))
        self.assertEqual(self.figures("_fih_deleted"), (1, Decimal("7.00")))

    def test_a_full_reload_of_a_dataset_left_empty_empties_the_table(self):
        bill = self.bill([(1, 12.0)] * 3)
        publication = self.warehouse_publication()
        self.run_load(publication, "full")
        bill.button_draft()
        load = self.run_load(publication, "full")
        self.assertEqual(load.state, "reconciled", load.error_message)
        self.assertEqual((load.rows, self.figures()), (0, (0, Decimal(0))))

    def test_publishing_a_period_again_removes_its_rows_that_left_it(self):
        staying = self.bill([(1, 10.0)], date="2026-10-10", invoice_date="2026-10-10")
        leaving = self.bill([(2, 4.5)], date="2026-10-20", invoice_date="2026-10-20")
        november = self.bill([(1, 99.0)], date="2026-11-03", invoice_date="2026-11-03")
        publication = self.warehouse_publication()
        self.run_load(publication, "period", period=OCTOBER)
        self.run_load(publication, "period", period=NOVEMBER)
        self.assertEqual(self.figures(), (3, Decimal("118.00")))
        leaving.button_draft()
        load = self.run_load(publication, "period", period=OCTOBER)
        self.assertEqual(
            load.state, "reconciled", load.error_message or load.differences
        )
        rows = self.rows()
        self.assertEqual(
            sorted(rows),
            sorted([staying.invoice_line_ids.id, november.invoice_line_ids.id]),
        )
        self.assertEqual(self.figures(), (2, Decimal("109.00")))

    def test_a_full_temporary_folder_stops_the_load_until_it_resumes(self):
        self.bill([(1, 2.5)] * 4)
        publication = self.warehouse_publication()

        class FullDisk:
            def __init__(self, *args, **kwargs):
                pass

            def __enter__(self):
                return self

            def __exit__(self, *exc):
                return False

            def write(self, data):  # pylint: disable=method-required-super
                raise OSError(errno.ENOSPC, "No space left on device")

        with patch(f"{COPY}.tempfile.TemporaryFile", FullDisk):
            load = self.run_load(publication, "full")
        self.assertEqual(load.state, "failed")
        self.assertIn("No space left on device", load.error_message)
        self.assertIn("resumes later", load.error_message)
        self.assertEqual((len(load.chunk_ids), load.rows), (0, 0))
        with self.trapped_jobs() as trap:
            load._enqueue()
            self.perform_jobs(trap)
        self.assertEqual(load.state, "reconciled", load.error_message)
        self.assertEqual(self.figures(), (4, Decimal("10.00")))

    def test_text_written_by_copy_lands_exactly(self):
        bill = self.bill([(1, 1.0)] * len(AWKWARD_TEXTS))
        for line, text in zip(bill.invoice_line_ids, AWKWARD_TEXTS, strict=True):
            line.name = text
        load = self.run_load(self.warehouse_publication(), "full")
        self.assertEqual(load.state, "reconciled", load.error_message)
        landed = dict(self.query("SELECT line_id, description FROM fih_spend.spend"))
        self.assertEqual(
            [landed[line.id] for line in bill.invoice_line_ids], list(AWKWARD_TEXTS)
        )


@tagged("post_install", "-at_install")
class TestParquetTextAndAmounts(BiPublicationCase):
    """Parquet files hold text and amounts exactly as Odoo has them."""

    def setUp(self):
        super().setUp()
        self.root = tempfile.mkdtemp(prefix="fih-parquet-")
        self.addCleanup(shutil.rmtree, self.root, True)
        root = patch.dict(config.options, {"fih_bi_parquet_root": self.root})
        root.start()
        self.addCleanup(root.stop)

    def test_awkward_text_and_empty_text_are_kept_apart_from_missing_values(self):
        bill = self.bill([(1, 1.0)] * len(AWKWARD_TEXTS) + [(3, 0.335)])
        for line, text in zip(bill.invoice_line_ids, AWKWARD_TEXTS, strict=False):
            line.name = text
        publication = self.publication(sink="parquet", parquet_folder="finance")
        load = self.run_load(publication, "full")
        self.assertEqual(load.state, "reconciled", load.error_message)
        path = os.path.join(
            os.path.realpath(self.root), "finance", "spend", "spend_full.parquet"
        )
        rows = dict(
            duckdb.sql(
                f"SELECT line_id, description FROM read_parquet('{path}')"  # noqa: S608
            ).fetchall()
        )
        lines = bill.invoice_line_ids
        self.assertEqual(
            [rows[line.id] for line in lines[: len(AWKWARD_TEXTS)]],
            list(AWKWARD_TEXTS),
        )
        ((total, quantity),) = duckdb.sql(
            f"SELECT sum(amount_company)::VARCHAR, max(quantity)::VARCHAR "  # noqa: S608
            f"FROM read_parquet('{path}')"
        ).fetchall()
        ledger = Decimal(str(round(sum(lines.mapped("balance")), 2)))
        self.assertEqual(Decimal(total), ledger)
        self.assertEqual(Decimal(quantity), Decimal(3))
