import os
import shutil
import tempfile
from unittest.mock import patch

from cryptography.fernet import Fernet

from odoo import Command
from odoo.exceptions import AccessError, ValidationError
from odoo.tests import tagged
from odoo.tools import config, mute_logger

from .bi_common import WarehouseCase


@tagged("post_install", "-at_install")
class TestBiSinkSecurity(WarehouseCase):
    """Where a publication writes is a system administrator's decision: an
    integration manager can neither point it elsewhere nor read the
    warehouse password back; folders stay under the export root."""

    def setUp(self):
        super().setUp()
        self.root = tempfile.mkdtemp(prefix="fih-parquet-")
        self.addCleanup(shutil.rmtree, self.root, True)
        root = patch.dict(config.options, {"fih_bi_parquet_root": self.root})
        root.start()
        self.addCleanup(root.stop)
        self.manager = self.env["res.users"].create(
            {
                "name": "Integration manager",
                "login": "fih-bi-manager",
                "groups_id": [
                    Command.link(
                        self.env.ref("finance_integration_hub.group_fih_manager").id
                    )
                ],
            }
        )

    def as_manager(self, record):
        return record.with_user(self.manager)

    def test_a_manager_cannot_set_the_warehouse_connection_or_its_tls(self):
        publication = self.warehouse_publication()
        mine = self.as_manager(publication)
        attacker_dsn = self.dsn(host="attacker.example")
        for values in (
            {"warehouse_dsn": attacker_dsn},
            {"warehouse_sslmode": "disable"},
            {"warehouse_root_cert": "-----BEGIN CERTIFICATE-----"},
        ):
            with self.subTest(values=list(values)), self.assertRaises(AccessError):
                mine.write(values)
        with self.assertRaises(AccessError):
            self.as_manager(self.env["fih.bi.publication"]).create(
                {
                    "name": "Exfiltrate",
                    "code": "exfiltrate",
                    "backend_id": self.bi.id,
                    "dataset": "spend",
                    "sink": "postgres",
                    "warehouse_dsn": attacker_dsn,
                }
            )
        self.assertEqual(
            publication.warehouse_destination,
            f"{self.wh_user}@127.0.0.1:{self.wh_port}/{self.wh_name}",
        )

    def test_a_manager_cannot_read_the_warehouse_password_back(self):
        publication = self.warehouse_publication()
        mine = self.as_manager(publication)
        for field in ("warehouse_dsn", "warehouse_dsn_encrypted"):
            with self.subTest(field=field), self.assertRaises(AccessError):
                mine.read([field])
        # what a manager sees names the destination, never the password
        (values,) = mine.read(["warehouse_destination", "sink"])
        self.assertNotIn(self.wh_password, str(values))
        # an administrator neither: the input is write-only, the column encrypted
        self.assertFalse(publication.warehouse_dsn)
        self.assertNotIn(self.wh_password, publication.warehouse_dsn_encrypted)
        chatter = " ".join(publication.message_ids.mapped("body"))
        self.assertNotIn(self.wh_password, chatter)

    def test_a_manager_cannot_choose_the_folder(self):
        publication = self.publication(sink="parquet")
        with self.assertRaises(AccessError):
            self.as_manager(publication).write({"parquet_folder": "finance"})
        with self.assertRaises(AccessError):
            self.as_manager(publication).write({"parquet_folder": False})

    def test_an_administrator_cannot_leave_the_export_root_either(self):
        outside = tempfile.mkdtemp(prefix="fih-outside-")
        self.addCleanup(shutil.rmtree, outside, True)
        os.symlink(outside, os.path.join(self.root, "escape"))
        publication = self.publication(sink="parquet")
        for attack in ("../../etc", "/etc", "escape", "finance/../../x", "a\\..\\b"):
            with self.subTest(attack=attack), self.assertRaises(ValidationError):
                publication.parquet_folder = attack
        self.assertFalse(publication.parquet_folder)

    def test_a_connection_copied_to_another_publication_is_not_used(self):
        self.bill([(1, 10.0)])
        source = self.warehouse_publication()
        thief = self.publication(
            code="thief", sink="postgres", warehouse_sslmode="disable"
        )
        thief.sudo().write(
            {
                "warehouse_dsn_encrypted": source.warehouse_dsn_encrypted,
                "warehouse_destination": source.warehouse_destination,
            }
        )
        load = self.run_load(thief, "full")
        self.assertEqual(load.state, "refused")
        self.assertIn("is not used", load.error_message)
        self.assertFalse(
            self.query("SELECT 1 FROM pg_namespace WHERE nspname = 'fih_thief'")
        )

    def test_a_warehouse_on_the_private_network_needs_the_allow_list(self):
        self.bill([(1, 10.0)])
        publication = self.warehouse_publication()
        self.bi.private_host_allowlist = "10.9.9.9"
        with mute_logger("odoo.addons.finance_integration_hub.models.fih_bi_load"):
            load = self.run_load(publication, "full")
        self.assertEqual(load.state, "refused")
        self.assertIn("loopback", load.error_message)
        self.assertFalse(
            self.query("SELECT 1 FROM pg_namespace WHERE nspname = 'fih_spend'")
        )

    def test_a_connection_string_with_server_options_is_refused(self):
        publication = self.publication(sink="postgres")
        with self.assertRaises(ValidationError):
            publication.warehouse_dsn = self.dsn() + " options='-c log_statement=all'"
        with self.assertRaises(ValidationError):
            publication.warehouse_dsn = "host=/var/run/postgresql dbname=x user=y"
        self.assertFalse(publication.warehouse_dsn_encrypted)

    def test_a_master_key_rotation_keeps_the_warehouse_connection_usable(self):
        self.bill([(1, 10.0)])
        publication = self.warehouse_publication()
        old_key = os.environ["FIH_MASTER_KEY"]
        new_key = Fernet.generate_key().decode()
        with patch.dict(os.environ, {"FIH_MASTER_KEY": f"{new_key},{old_key}"}):
            count = self.env["fih.bi.publication"]._reencrypt_all_secrets()
        self.assertEqual(count, 1)
        with patch.dict(os.environ, {"FIH_MASTER_KEY": new_key}):
            load = self.run_load(publication, "full")
        self.assertEqual(load.state, "reconciled", load.error_message)
