from odoo import Command
from odoo.exceptions import UserError, ValidationError
from odoo.tests import tagged

from .bi_common import BiPublicationCase


@tagged("post_install", "-at_install")
class TestBiPublicationGovernance(BiPublicationCase):
    """Who may schedule publications, and within which company."""

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
