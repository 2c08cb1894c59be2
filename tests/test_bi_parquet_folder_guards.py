import os
import shutil
import tempfile
from unittest.mock import patch

from odoo.tests import tagged
from odoo.tools import config

from .bi_common import BiPublicationCase


@tagged("post_install", "-at_install")
class TestParquetFolderGuards(BiPublicationCase):
    """Whoever may write in the export folder cannot send a publication's
    files elsewhere, and two publications never overwrite each other."""

    def setUp(self):
        super().setUp()
        self.root = tempfile.mkdtemp(prefix="fih-parquet-")
        self.outside = tempfile.mkdtemp(prefix="fih-outside-")
        for folder in (self.root, self.outside):
            self.addCleanup(shutil.rmtree, folder, True)
        root = patch.dict(config.options, {"fih_bi_parquet_root": self.root})
        root.start()
        self.addCleanup(root.stop)
        self.finance = os.path.join(os.path.realpath(self.root), "finance")
        os.makedirs(self.finance)
        self.bill([(1, 10.0)])

    def parquet_publication(self, code="files"):
        return self.publication(code=code, sink="parquet", parquet_folder="finance")

    def test_a_dataset_folder_linked_elsewhere_stops_the_load(self):
        os.symlink(self.outside, os.path.join(self.finance, "spend"))
        load = self.run_load(self.parquet_publication(), "full")
        self.assertEqual(load.state, "refused")
        self.assertIn("spend is a symbolic link", load.error_message)
        self.assertEqual(os.listdir(self.outside), [])

    def test_a_staging_folder_linked_elsewhere_stops_the_load(self):
        os.symlink(self.outside, os.path.join(self.finance, ".fih-staging"))
        load = self.run_load(self.parquet_publication(), "full")
        self.assertEqual(load.state, "refused")
        self.assertEqual(os.listdir(self.outside), [])

    def test_a_link_left_at_the_temporary_name_is_never_written_through(self):
        victim = os.path.join(self.outside, "victim.txt")
        with open(victim, "w", encoding="utf-8") as handle:
            handle.write("keep me")
        os.makedirs(os.path.join(self.finance, "spend"))
        os.symlink(
            victim, os.path.join(self.finance, "spend", ".spend_full.parquet.tmp")
        )
        load = self.run_load(self.parquet_publication(), "full")
        self.assertEqual(load.state, "reconciled", load.error_message)
        with open(victim, encoding="utf-8") as handle:
            self.assertEqual(handle.read(), "keep me")
        self.assertTrue(
            os.path.isfile(os.path.join(self.finance, "spend", "spend_full.parquet"))
        )

    def test_a_second_publication_in_the_same_folder_is_refused(self):
        first = self.run_load(self.parquet_publication("files"), "full")
        self.assertEqual(first.state, "reconciled", first.error_message)
        path = os.path.join(self.finance, "spend", "spend_full.parquet")
        before = os.path.getmtime(path), os.path.getsize(path)
        self.bill([(1, 99.0)])
        second = self.run_load(self.parquet_publication("files-b"), "full")
        self.assertEqual(second.state, "refused")
        self.assertIn("another publication's files", second.error_message)
        self.assertEqual((os.path.getmtime(path), os.path.getsize(path)), before)
