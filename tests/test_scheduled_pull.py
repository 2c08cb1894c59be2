from unittest.mock import patch

from odoo import Command
from odoo.exceptions import AccessError
from odoo.tests import tagged

from ..simulator import PullSource
from .common import FihTransactionCase, supplier_data

PULL = "odoo.addons.finance_integration_hub.models.fih_pull.FihPull"


class PullCase(FihTransactionCase):
    """A platform that does not push: five suppliers to pull, two a page."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.sim = cls._start_simulator()
        cls.backend.write(
            {
                "base_url": cls.sim.url,
                "private_host_allowlist": "127.0.0.1",
                "outbound_rate_limit_per_minute": 0,
            }
        )
        cls.pull = cls.env["fih.pull"].create(
            {
                "backend_id": cls.backend.id,
                "object_type": "supplier",
                "list_path": "/export/suppliers",
                "ack_path": "/export/suppliers/ack",
                "page_size": 2,
            }
        )

    def setUp(self):
        super().setUp()
        self.sim.reset()
        self.source = PullSource().attach(self.sim, "/export/suppliers")
        for n in range(1, 6):
            self.source.add(f"S{n}", supplier_data(n))


@tagged("post_install", "-at_install")
class TestScheduledPull(PullCase):
    """Suppliers pulled from a platform that does not push."""

    def run_pull(self):
        with self.trapped_jobs():
            stored = self.pull._run()
        self.env.invalidate_all()
        return stored

    def test_a_pull_stores_every_page_then_acknowledges_and_keeps_its_cursor(self):
        self.assertEqual(self.run_pull(), 5)
        self.assertFalse(self.pull.last_error)
        self.assertEqual(self.source.list_calls, 3)  # pages of 2, 2 and 1
        self.assertEqual(self.source.ack_calls, [["S1", "S2"], ["S3", "S4"], ["S5"]])
        self.assertEqual(self.pull.cursor, "5")
        self.assertEqual(len(self.messages(event_type="supplier.upsert")), 5)
        self.process()
        self.assertEqual(set(self.messages().mapped("state")), {"done"})
        self.assertTrue(self.partners_by_external_id("SUP-000005"))
        self.assertTrue(self.pull.cron_id.active)
        # nothing new: nothing stored, nothing acknowledged
        self.assertEqual(self.run_pull(), 0)
        self.assertEqual(len(self.source.ack_calls), 3)

    def test_a_crash_between_storing_and_acknowledging_stores_nothing_twice(self):
        def crash(pull, backend, ids):
            raise RuntimeError("worker killed")

        # not assertRaises: Odoo's rolls back to a savepoint, a crash does not
        crashed = False
        with patch(f"{PULL}._acknowledge", crash):
            try:
                self.pull._run()
            except RuntimeError:
                crashed = True
        self.assertTrue(crashed)
        self.env.invalidate_all()
        self.assertEqual(len(self.messages()), 2)  # the first page is stored
        self.assertFalse(self.source.acknowledged)
        self.assertFalse(self.pull.cursor)
        self.assertEqual(self.run_pull(), 3)  # the first page again: duplicates
        self.assertEqual(len(self.messages()), 5)
        self.assertEqual(len(self.source.acknowledged), 5)

    def test_an_unreachable_platform_is_reported_and_moves_nothing(self):
        self.sim.add_fault(kind="status", status=503, path_prefix="/export")
        self.assertEqual(self.run_pull(), 0)
        self.assertIn("HTTP 503", self.pull.last_error)
        self.assertFalse(self.pull.cursor)
        self.sim.clear_faults()
        self.assertEqual(self.run_pull(), 5)
        self.assertFalse(self.pull.last_error)

    def test_the_backend_rate_limit_ends_the_run_early(self):
        self.backend.outbound_rate_limit_per_minute = 3  # list, ack, list
        self.run_pull()
        self.assertEqual(self.source.list_calls, 2)
        self.assertEqual(self.source.ack_calls, [["S1", "S2"]])
        self.assertEqual(len(self.messages()), 4)  # stored, acknowledged next time

    def test_only_managers_run_a_pull_by_hand(self):
        user = self.env["res.users"].create(
            {
                "name": "Integration user",
                "login": "fih-user",
                "groups_id": [
                    Command.link(
                        self.env.ref("finance_integration_hub.group_fih_user").id
                    )
                ],
            }
        )
        with self.assertRaises(AccessError):
            self.pull.with_user(user).action_run_now()
        self.assertEqual(self.source.list_calls, 0)
