from datetime import date

from odoo.tests import tagged
from odoo.tools import mute_logger

from .bi_common import MAIL, BiPublicationCase


@tagged("post_install", "-at_install")
class TestBiPublicationPeriods(BiPublicationCase):
    """Locked periods: published once, with the same bytes."""

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
