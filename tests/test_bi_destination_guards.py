import glob
import json
import os
import shutil
import tempfile
from unittest.mock import patch

import pyarrow.parquet as pq

from odoo import Command
from odoo.exceptions import AccessError
from odoo.tests import tagged
from odoo.tools import config

from .bi_common import WarehouseCase
from .test_read_replica import _replica

REPLICA_LOGGER = "odoo.addons.finance_integration_hub.models.fih_read_replica"


@tagged("post_install", "-at_install")
class TestBiDestinationGuards(WarehouseCase):
    """Where a publication writes, and who may confirm what it wrote, seen
    from the attacker's side: an integration manager's defaults, a shown
    warehouse rewritten, a platform acknowledging loads it never received,
    and the replica's address in what integration users read."""

    def setUp(self):
        super().setUp()
        self.root = tempfile.mkdtemp(prefix="fih-parquet-")
        self.addCleanup(shutil.rmtree, self.root, True)
        root = patch.dict(config.options, {"fih_bi_parquet_root": self.root})
        root.start()
        self.addCleanup(root.stop)
        self.manager_group = self.env.ref("finance_integration_hub.group_fih_manager")
        self.manager = self.env["res.users"].create(
            {
                "name": "Integration manager",
                "login": "guard-bi-manager",
                "groups_id": [Command.link(self.manager_group.id)],
            }
        )
        self.admin = self.env.ref("base.user_admin")

    def create_as(self, user, context=None, **values):
        Publication = self.env["fih.bi.publication"].with_user(user)
        if context:
            Publication = Publication.with_context(**context)
        return Publication.create(
            {
                "name": "Seeded destination",
                "code": "seeded",
                "backend_id": self.bi.id,
                "dataset": "spend",
                "schedule": "manual",
                **values,
            }
        )

    # -- F1: defaults do not choose the destination ----------------------------

    def test_a_managers_context_default_does_not_choose_the_folder(self):
        publication = self.create_as(
            self.manager, {"default_parquet_folder": "finance"}, sink="parquet"
        )
        self.assertFalse(publication.sudo().parquet_folder)
        # a load of it writes nowhere: it has no folder
        self.bill([(1, 10.0)])
        load = self.run_load(publication.sudo(), "full")
        self.assertEqual(load.state, "refused")
        self.assertIn("Ask a system administrator", load.error_message)
        self.assertEqual(os.listdir(self.root), [])

    def test_a_managers_personal_default_does_not_choose_the_folder(self):
        self.env["ir.default"].with_user(self.manager).set(
            "fih.bi.publication", "parquet_folder", "finance", user_id=True
        )
        publication = self.create_as(self.manager, sink="parquet")
        self.assertFalse(publication.sudo().parquet_folder)

    def test_a_managers_defaults_do_not_set_the_warehouse_connection(self):
        self.env["ir.default"].with_user(self.manager).set(
            "fih.bi.publication", "warehouse_root_cert", "-----BEGIN", user_id=True
        )
        publication = self.create_as(
            self.manager,
            {
                "default_warehouse_dsn": self.dsn(),
                "default_warehouse_sslmode": "disable",
                "default_warehouse_destination": "bi@warehouse.example:5432/dwh",
            },
            sink="postgres",
        )
        stored = publication.sudo()
        self.assertFalse(stored.warehouse_dsn_encrypted)
        self.assertFalse(stored.warehouse_sslmode)
        self.assertFalse(stored.warehouse_root_cert)
        self.assertFalse(stored.warehouse_destination)
        # and nothing reaches the warehouse
        self.bill([(1, 10.0)])
        load = self.run_load(stored, "full")
        self.assertEqual(load.state, "refused")
        self.assertIn("No warehouse connection is set", load.error_message)
        self.assertFalse(
            self.query("SELECT 1 FROM pg_namespace WHERE nspname = 'fih_seeded'")
        )

    def test_a_managers_personal_default_does_not_set_the_warehouse_dsn(self):
        self.env["ir.default"].with_user(self.manager).set(
            "fih.bi.publication", "warehouse_dsn", self.dsn(), user_id=True
        )
        publication = self.create_as(self.manager, sink="postgres")
        self.assertFalse(publication.sudo().warehouse_dsn_encrypted)
        self.assertFalse(publication.sudo().warehouse_destination)

    def test_another_companys_manager_cannot_overwrite_our_parquet_file(self):
        other = self.env["res.company"].create({"name": "Other Company BV"})
        service = self.env.ref("finance_integration_hub.user_fih_service")
        service.company_ids = [Command.link(other.id)]
        other_bi, _secret = self._setup_other_backend(
            code="guard-other-bi",
            kind="bi",
            base_url=self.sim.url,
            company_id=other.id,
            private_host_allowlist="127.0.0.1",
        )
        other_manager = self.env["res.users"].create(
            {
                "name": "Other company manager",
                "login": "guard-other-manager",
                "company_id": other.id,
                "company_ids": [Command.set(other.ids)],
                "groups_id": [Command.link(self.manager_group.id)],
            }
        )
        self.bill([(1, 10.0)])
        ours = self.publication(sink="parquet", parquet_folder="finance")
        load = self.run_load(ours, "full")
        self.assertEqual(load.state, "reconciled", load.error_message)
        (path,) = glob.glob(os.path.join(self.root, "finance", "spend", "*.parquet"))
        theirs = self.create_as(
            other_manager,
            {"default_parquet_folder": "finance", "allowed_company_ids": other.ids},
            code="theirs",
            backend_id=other_bi.id,
            company_id=other.id,
            sink="parquet",
            chunk_size=100,
        )
        self.assertFalse(theirs.sudo().parquet_folder)
        their_load = self.run_load(theirs.sudo(), "full")
        self.assertEqual(their_load.state, "refused")
        self.assertEqual(pq.read_table(path).num_rows, 1)
        self.assertEqual(
            glob.glob(os.path.join(self.root, "finance", "spend", "*.parquet")),
            [path],
        )

    def test_an_administrators_defaults_still_choose_the_destination(self):
        by_context = self.create_as(
            self.admin, {"default_parquet_folder": "finance"}, sink="parquet"
        )
        self.assertEqual(by_context.parquet_folder, "finance")
        self.env["ir.default"].with_user(self.admin).set(
            "fih.bi.publication", "warehouse_sslmode", "disable", user_id=True
        )
        by_personal_default = self.create_as(
            self.admin,
            {"default_warehouse_dsn": self.dsn()},
            code="admin-wh",
            sink="postgres",
        )
        self.assertEqual(by_personal_default.warehouse_sslmode, "disable")
        self.assertEqual(
            by_personal_default.warehouse_destination,
            f"{self.wh_user}@127.0.0.1:{self.wh_port}/{self.wh_name}",
        )
        self.bill([(1, 10.0)])
        load = self.run_load(by_personal_default, "full")
        self.assertEqual(load.state, "reconciled", load.error_message)

    # -- F5: the shown warehouse is part of the connection ---------------------

    def test_a_manager_cannot_rewrite_the_shown_warehouse(self):
        publication = self.warehouse_publication()
        shown = publication.warehouse_destination
        with self.assertRaisesRegex(AccessError, "Only a system administrator"):
            publication.with_user(self.manager).write(
                {"warehouse_destination": "bi@warehouse.example:5432/dwh"}
            )
        with self.assertRaisesRegex(AccessError, "Only a system administrator"):
            self.create_as(
                self.manager,
                sink="postgres",
                warehouse_destination="bi@warehouse.example:5432/dwh",
            )
        self.assertEqual(publication.warehouse_destination, shown)
        # the connection itself still writes it, when an administrator sets it
        publication.warehouse_dsn = self.dsn(host="localhost")
        self.assertEqual(
            publication.warehouse_destination,
            f"{self.wh_user}@localhost:{self.wh_port}/{self.wh_name}",
        )

    def test_a_manager_duplicates_a_warehouse_publication_without_its_destination(
        self,
    ):
        publication = self.warehouse_publication()
        publication.warehouse_root_cert = "-----BEGIN CERTIFICATE-----"
        duplicate = publication.with_user(self.manager).copy({"code": "copy-of-wh"})
        duplicate = duplicate.sudo()
        self.assertEqual(
            (
                duplicate.warehouse_dsn_encrypted,
                duplicate.warehouse_destination,
                duplicate.warehouse_sslmode,
                duplicate.warehouse_root_cert,
            ),
            (False, False, False, False),
        )
        self.assertTrue(publication.warehouse_sslmode)

    def test_a_caller_without_the_inputs_group_cannot_set_the_secret(self):
        publication = self.warehouse_publication()
        stored = publication.warehouse_dsn_encrypted
        mine = publication.with_user(self.manager)
        with self.assertRaises(AccessError):
            mine._set_secret("warehouse_dsn", self.dsn(host="attacker.example"))
        self.assertEqual(publication.warehouse_dsn_encrypted, stored)
        self.assertEqual(
            publication.warehouse_destination,
            f"{self.wh_user}@127.0.0.1:{self.wh_port}/{self.wh_name}",
        )

    # -- F3: the platform acknowledges only what it received --------------------

    def acknowledge(self, load, acknowledgement):
        return self.receive_on(
            self.bi,
            dict(acknowledgement, load_id=load.uid),
            intake="fih.bi.acknowledgement.intake",
            secret=self.bi_secret,
        )

    def test_the_platform_cannot_clear_a_mismatch_of_a_file_or_warehouse_load(self):
        self.bill([(1, 10.0)])
        for sink, publication in (
            ("parquet", self.publication(sink="parquet", parquet_folder="finance")),
            ("postgres", self.warehouse_publication(code="wh")),
        ):
            with self.subTest(sink=sink):
                load = self.run_load(publication, "full")
                self.assertEqual(load.state, "reconciled", load.error_message)
                figures = json.loads(load.acknowledgement)
                # the destination's own read-back found a difference
                load.write({"state": "mismatch", "differences": "rows: 1 != 2"})
                result = self.acknowledge(load, figures)
                self.assertEqual(result.status, 409, result.payload)
                self.assertEqual(result.payload["error"], "not_acknowledgeable")
                self.assertIn("cannot acknowledge", result.payload["message"])
                self.assertEqual(load.state, "mismatch")
                self.assertEqual(load.differences, "rows: 1 != 2")
                self.assertEqual(json.loads(load.acknowledgement), figures)

    def test_the_platform_still_acknowledges_what_it_received(self):
        self.bill([(1, 10.0)])
        self.warehouse.acknowledge = "async"
        load = self.run_load(self.publication(), "full")
        self.assertEqual(load.state, "awaiting_ack")
        result = self.acknowledge(load, self.warehouse.acknowledgements[load.uid])
        self.assertEqual(result.status, 200, result.payload)
        self.assertEqual(load.state, "reconciled")

    # -- F4: the replica's address stays in the server log ----------------------

    def test_the_replica_note_does_not_name_the_server_to_a_user(self):
        user = self.env["res.users"].create(
            {
                "name": "Integration user",
                "login": "guard-fih-user",
                "groups_id": [
                    Command.link(
                        self.env.ref("finance_integration_hub.group_fih_user").id
                    )
                ],
            }
        )
        # nothing listens on port 1: the connection is refused
        with (
            _replica(host="127.0.0.1", port=1),
            self.assertLogs(REPLICA_LOGGER, "WARNING") as logged,
        ):
            (values,) = self.bi.with_user(user).read(["dashboard_read_note"])
            self.bill([(1, 10.0)])
            load = self.run_load(self.publication(), "full")
        note = values["dashboard_read_note"]
        self.assertIn("The replica could not be reached", note)
        self.assertIn("server log", note)
        (read_from,) = load.with_user(user).read(["read_from"])
        for shown in (note, read_from["read_from"]):
            self.assertNotIn("127.0.0.1", shown)
            self.assertNotIn("port", shown)
        # the administrator finds the detail in the server log
        self.assertIn("127.0.0.1", "\n".join(logged.output))
