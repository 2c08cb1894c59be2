from unittest.mock import patch

from odoo.tests import tagged

from ..models.fih_bi_load_replica import FihBiLoadReplica
from ..models.fih_read_replica import FihReadReplica
from .bi_common import BiPublicationCase
from .test_read_replica import _replica


@tagged("post_install", "-at_install")
class TestBiLoadsReadOnTheReplica(BiPublicationCase):
    """A load reads its rows on the replica when it is current and has
    replayed the load's bound; otherwise on the primary, and it says why."""

    def setUp(self):
        super().setUp()
        self.bill([(2, 100.0), (1, 50.5)])
        self.bill([(1, 80.0)])
        self.publication_record = self.publication()

    def test_without_replica_the_load_reads_on_the_primary_and_says_so(self):
        load = self.run_load(self.publication_record, "full")
        self.assertEqual(load.state, "reconciled", load.error_message)
        self.assertEqual(load.rows, 3)
        self.assertIn("No read replica is configured", load.read_from)

    def test_a_current_replica_gives_the_rows(self):
        # the test's replica is another connection to the same server: it
        # cannot see this test's uncommitted bills, so no row proves that the
        # rows were read there (and the load still reconciles what it sent)
        with _replica():
            load = self.run_load(self.publication_record, "full")
        self.assertEqual(load.state, "reconciled", load.error_message)
        self.assertEqual(load.rows, 0)
        self.assertIn("Read from the replica", load.read_from)

    def test_a_lagging_replica_falls_back_to_the_primary_and_says_so(self):
        with (
            _replica(),
            patch.object(FihReadReplica, "_replica_lag", return_value=95.0),
        ):
            load = self.run_load(self.publication_record, "full")
        self.assertEqual(load.state, "reconciled", load.error_message)
        self.assertEqual(load.rows, 3)
        self.assertIn("95.0 s behind the primary", load.read_from)

    def test_a_replica_that_has_not_replayed_the_bound_is_not_read(self):
        with (
            _replica(),
            patch.object(FihBiLoadReplica, "_replica_replayed", return_value=False),
        ):
            load = self.run_load(self.publication_record, "full")
        self.assertEqual(load.state, "reconciled", load.error_message)
        self.assertEqual(load.rows, 3)
        self.assertIn("has not yet replayed", load.read_from)
