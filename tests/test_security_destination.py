"""Attacks of an Integration Manager on where data and secrets go.

Each test plays the attack as a user of the module's manager group against
real HTTP listeners on 127.0.0.1: the reporting platform the administrator
set up, and a second server the attacker controls (same machine, another
port: an allow-listed address, so only the fixes below stop the attack).
"""

import base64
import json
from contextlib import contextmanager

from odoo import Command
from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tests import tagged

from ..simulator import SimulatorServer
from .bi_common import BiPublicationCase
from .common import run_drain_job

ADMIN_KEY = "admin-entered-api-key-7f3a"
ADMIN_CLIENT_SECRET = "admin-entered-client-secret-91b2"


def _manager(env, login, companies):
    return env["res.users"].create(
        {
            "name": f"Manager {login}",
            "login": login,
            "email": f"{login}@example.com",
            "company_id": companies[0].id,
            "company_ids": [Command.set(companies.ids)],
            "groups_id": [
                Command.link(env.ref("finance_integration_hub.group_fih_manager").id)
            ],
        }
    )


class DestinationCase(BiPublicationCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.attacker = SimulatorServer()
        cls.attacker.start()
        cls.addClassCleanup(cls.attacker.stop)
        cls.company_b = cls.env["res.company"].create({"name": "Company B"})
        cls.manager = _manager(cls.env, "fih-dest-manager", cls.company)

    def setUp(self):
        super().setUp()
        self.attacker.reset()
        self.attacker.add_response("/", status=200, body={"ok": True})

    @contextmanager
    def refused(self, exception, text):
        """Like assertRaisesRegex, and rolled back like Odoo's assertRaises."""
        with self.assertRaises(exception) as caught:
            yield
        self.assertIn(text, str(caught.exception))

    def as_manager(self, records, user=None):
        return records.with_user(user or self.manager)

    def attacker_saw(self, text):
        """Whether ``text`` reached the attacker's server in any form."""
        for request in self.attacker.requests():
            seen = json.dumps(dict(request.headers)) + request.raw_body.decode(
                "latin-1"
            )
            for value in request.headers.values():
                if value.startswith("Basic "):
                    seen += base64.b64decode(value[6:]).decode("latin-1")
            if text in seen:
                return True
        return False


@tagged("post_install", "-at_install")
class TestSecretsBoundToDestination(DestinationCase):
    """Finding 1: a stored secret only goes where it was entered for."""

    def setUp(self):
        super().setUp()
        self.bi.write({"auth_type": "bearer", "api_key": ADMIN_KEY})

    def test_a_manager_pointing_the_base_url_elsewhere_never_receives_the_key(self):
        publication = self.publication(dataset="suppliers", schedule="manual")
        self.as_manager(self.bi).write({"base_url": self.attacker.url})
        load = self.run_load(self.as_manager(publication))
        self.assertFalse(self.attacker_saw(ADMIN_KEY))
        self.assertFalse(self.bi.has_api_key)
        self.assertEqual(load.state, "refused")
        self.assertIn("enter the secret again", load.error_message)
        audit = self.env["fih.audit.log"].search(
            [
                ("res_model", "=", "fih.backend"),
                ("res_id", "=", self.bi.id),
                ("action", "=", "secret"),
            ]
        )
        self.assertTrue(
            any("secrets_cleared" in (row.changes or "") for row in audit),
            "clearing the secrets is in the audit trail",
        )

    def test_the_key_still_reaches_the_address_it_was_entered_for(self):
        publication = self.publication(dataset="suppliers", schedule="manual")
        load = self.run_load(self.as_manager(publication))
        self.assertEqual(load.state, "reconciled")
        headers = [r.headers.get("authorization") for r in self.sim.requests()]
        self.assertIn(f"Bearer {ADMIN_KEY}", headers)

    def test_changing_the_authentication_method_clears_the_key(self):
        self.as_manager(self.bi).write(
            {"auth_type": "api_key", "api_key_header": "X-Forwarded-Key"}
        )
        self.assertFalse(self.bi.has_api_key)

    def test_a_manager_moving_the_token_url_never_receives_the_client_secret(
        self,
    ):
        self.bi.write(
            {
                "auth_type": "oauth2",
                "oauth_client_id": "hub",
                "oauth_token_url": f"{self.sim.url}/oauth/token",
                "oauth_client_secret": ADMIN_CLIENT_SECRET,
            }
        )
        self.assertTrue(self.bi.has_oauth_client_secret)
        self.as_manager(self.bi).write(
            {"oauth_token_url": f"{self.attacker.url}/oauth/token"}
        )
        publication = self.publication(dataset="suppliers", schedule="manual")
        load = self.run_load(self.as_manager(publication))
        self.assertFalse(self.attacker_saw(ADMIN_CLIENT_SECRET))
        self.assertFalse(self.attacker.requests())
        self.assertFalse(self.bi.has_oauth_client_secret)
        self.assertEqual(load.state, "refused")

    def test_a_secret_whose_destination_changed_behind_the_orm_is_not_sent(self):
        # defence in depth: the address changes without write() (raw SQL,
        # a data import bypassing the model...): the bound secret refuses
        self.env.flush_all()
        self.env.cr.execute(
            "UPDATE fih_backend SET base_url = %s WHERE id = %s",
            (self.attacker.url, self.bi.id),
        )
        self.env.invalidate_all()
        self.assertTrue(self.bi.has_api_key)
        publication = self.publication(dataset="suppliers", schedule="manual")
        load = self.run_load(self.as_manager(publication))
        self.assertFalse(self.attacker_saw(ADMIN_KEY))
        self.assertFalse(self.attacker.requests())
        self.assertEqual(load.state, "refused")
        self.assertIn("re-enter the secret", load.error_message)

    def test_a_copied_backend_has_no_secrets(self):
        copy = self.as_manager(self.bi).copy(
            {"code": "bi-copy", "base_url": self.attacker.url}
        )
        self.assertFalse(copy.has_api_key)
        self.assertFalse(copy.has_webhook_secret)

    def test_a_ciphertext_copied_to_another_backend_is_not_usable(self):
        other = self.env["fih.backend"].create(
            {
                "name": "Look-alike",
                "code": "look-alike",
                "kind": "bi",
                "base_url": self.sim.url,
                "auth_type": "bearer",
                "api_key_encrypted": self.bi.sudo().api_key_encrypted,
            }
        )
        with self.refused(UserError, "re-enter the secret"):
            other._get_secret("api_key")

    def test_a_new_address_and_its_new_key_entered_together_are_kept(self):
        self.as_manager(self.bi).write(
            {"base_url": f"{self.sim.url}/v2", "api_key": "new-key"}
        )
        self.assertEqual(self.bi._get_secret("api_key"), "new-key")
        self.as_manager(self.bi).write(
            {"base_url": self.attacker.url, "api_key": "attacker-typed-key"}
        )
        self.assertEqual(self.bi._get_secret("api_key"), "attacker-typed-key")


@tagged("post_install", "-at_install")
class TestCompanyConfinement(DestinationCase):
    """Finding 2: another company's data never goes where company A sends."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.both = _manager(cls.env, "fih-dest-both", cls.company_b + cls.company)
        cls.partner_a = cls.Partner.create(
            {
                "name": "Supplier of A",
                "supplier_rank": 1,
                "company_id": cls.company.id,
            }
        )
        cls.partner_b = cls.Partner.create(
            {
                "name": "Secret supplier of B",
                "supplier_rank": 1,
                "company_id": cls.company_b.id,
            }
        )

    def published_names(self, load):
        return {row.get("name") for _op, row in self.warehouse.rows_of(load.uid)}

    def test_publish_now_by_a_user_of_both_companies_sends_only_company_a(self):
        publication = self.publication(dataset="suppliers", schedule="manual")
        as_both = publication.with_user(self.both).with_context(
            allowed_company_ids=[self.company_b.id, self.company.id]
        )
        load = self.run_load(as_both)
        self.assertEqual(load.state, "reconciled")
        names = self.published_names(load)
        self.assertIn("Supplier of A", names)
        self.assertNotIn("Secret supplier of B", names)

    def test_backends_and_publications_cannot_be_moved_to_another_company(self):
        publication = self.publication(dataset="suppliers", schedule="manual")
        with self.refused(UserError, "cannot be moved"):
            self.as_manager(publication, self.both).write(
                {"company_id": self.company_b.id}
            )
        with self.refused(UserError, "cannot be moved"):
            self.as_manager(self.bi, self.both).write({"company_id": self.company_b.id})
        self.assertEqual(publication.company_id, self.company)
        self.assertEqual(self.bi.company_id, self.company)
        load = self.run_load(publication.with_user(self.both))
        self.assertNotIn("Secret supplier of B", self.published_names(load))

    def test_subscriptions_pulls_and_bindings_cannot_change_company(self):
        self.env.ref("finance_integration_hub.user_fih_service").company_ids = [
            Command.link(self.company_b.id)
        ]
        backend_b = self.env["fih.backend"].create(
            {
                "name": "B's platform",
                "code": "b-platform",
                "company_id": self.company_b.id,
            }
        )
        subscription = self.env["fih.subscription"].create(
            {"backend_id": self.bi.id, "event_code": "supplier.created"}
        )
        pull = self.env["fih.pull"].create(
            {
                "backend_id": self.bi.id,
                "object_type": "supplier",
                "list_path": "/list",
                "ack_path": "/ack",
            }
        )
        binding = self.env["fih.binding"].create(
            {
                "backend_id": self.bi.id,
                "object_type": "supplier",
                "external_id": "SUP-A",
                "res_model": "res.partner",
                "res_id": self.partner_a.id,
            }
        )
        for record in (subscription, pull, binding):
            as_manager = self.as_manager(record, self.both)
            with self.refused(UserError, "cannot be moved"):
                as_manager.write({"company_id": self.company_b.id})
            with self.refused(UserError, "cannot be moved"):
                as_manager.write({"backend_id": backend_b.id})
            self.assertEqual(record.company_id, self.company)

    def test_a_publication_sends_only_through_a_backend_of_its_own_company(self):
        self.env.ref("finance_integration_hub.user_fih_service").company_ids = [
            Command.link(self.company_b.id)
        ]
        with self.refused(ValidationError, "must be a backend of"):
            self.publication(dataset="suppliers", company_id=self.company_b.id)


@tagged("post_install", "-at_install")
class TestPrivateHostsAllowList(DestinationCase):
    """Finding 3: only an administrator opens the internal network."""

    def test_a_manager_cannot_allow_private_hosts(self):
        backend = self.as_manager(self.backend)
        with self.assertRaises(AccessError):
            backend.write({"private_host_allowlist": "127.0.0.1"})
        with self.assertRaises(AccessError):
            self.as_manager(self.env["fih.backend"]).create(
                {
                    "name": "Sneaky",
                    "code": "sneaky",
                    "base_url": self.attacker.url,
                    "private_host_allowlist": "127.0.0.0/8",
                }
            )
        self.assertFalse(self.backend.sudo().private_host_allowlist)

    def test_a_private_address_not_allow_listed_is_never_called(self):
        self.backend.write({"base_url": self.attacker.url})
        reply = self.env["fih.http.client"]._call(
            self.backend, "GET", f"{self.attacker.url}/web/webclient/version_info"
        )
        self.assertEqual(reply.outcome.kind, "permanent")
        self.assertIn("allow-listed", reply.outcome.reason)
        self.assertFalse(self.attacker.requests())

    def test_an_allow_listed_port_does_not_open_the_other_services_of_the_host(self):
        # the administrator allowed the reporting platform's port only: the
        # manager pointing the backend at another local service gets nothing
        self.bi.write({"private_host_allowlist": f"127.0.0.1:{self.sim.port}"})
        self.as_manager(self.bi).write({"base_url": self.attacker.url})
        publication = self.publication(dataset="suppliers", schedule="manual")
        load = self.run_load(self.as_manager(publication))
        self.assertEqual(load.state, "refused")
        self.assertIn("allow-listed", load.error_message)
        self.assertFalse(self.attacker.requests())

    def test_metadata_addresses_are_refused_even_when_allow_listed(self):
        self.bi.write(
            {
                "base_url": "http://169.254.170.2/v2/credentials",
                "private_host_allowlist": "127.0.0.1\n169.254.0.0/16\n100.64.0.0/10",
            }
        )
        publication = self.publication(dataset="suppliers", schedule="manual")
        load = self.run_load(publication)
        self.assertEqual(load.state, "refused")
        self.assertIn("never allowed", load.error_message)

    def test_an_unreadable_allow_list_is_refused(self):
        with self.refused(ValidationError, "allowed private hosts"):
            self.bi.write({"private_host_allowlist": "http://127.0.0.1:8069/"})

    def test_an_unexpected_answer_is_stored_as_its_status_line_only(self):
        self.env["fih.subscription"].create(
            {
                "backend_id": self.bi.id,
                "event_code": "supplier.created",
                "endpoint_path": "/internal",
            }
        )
        cases = [
            (500, "application/json", '{"server_version": "18.0", "db": "prod"}'),
            (200, "text/html", "<html>internal admin console</html>"),
        ]
        for number, (status, content_type, body) in enumerate(cases):
            self.sim.add_response(
                "/internal", status=status, body=body, content_type=content_type
            )
            self.Partner.create({"name": f"New supplier {number}", "supplier_rank": 1})
            run_drain_job(self.bi, "outbound")
            self.env.invalidate_all()
            message = self.env["fih.message"].search(
                [("backend_id", "=", self.bi.id), ("direction", "=", "outbound")],
                order="id desc",
                limit=1,
            )
            self.assertTrue(self.sim.requests("/internal"))
            self.assertTrue(message.response_excerpt.startswith(f"HTTP {status}"))
            self.assertNotIn("18.0", message.response_excerpt)
            self.assertNotIn("admin console", message.response_excerpt)


@tagged("post_install", "-at_install")
class TestServiceUsers(DestinationCase):
    """Finding 6: choosing a service user never grants anyone a company."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.clerk = cls.env["res.users"].create(
            {
                "name": "AP clerk",
                "login": "fih-dest-clerk",
                "company_id": cls.company.id,
                "company_ids": [Command.set(cls.company.ids)],
                "groups_id": [Command.link(cls.env.ref("base.group_user").id)],
            }
        )
        cls.manager_both = _manager(
            cls.env, "fih-dest-service-both", cls.company + cls.company_b
        )

    def test_an_ordinary_user_cannot_become_a_service_user(self):
        with self.refused(ValidationError, "not marked"):
            self.as_manager(self.backend).write({"service_user_id": self.clerk.id})
        self.assertEqual(self.backend.service_user_id.login, "fih_service")

    def test_an_administrator_cannot_become_a_service_user(self):
        for admin in (self.env.ref("base.user_admin"), self.env.ref("base.user_root")):
            with self.refused(ValidationError, "administrator"):
                self.as_manager(self.backend).write({"service_user_id": admin.id})

    def test_a_backend_in_another_company_never_widens_the_service_users_companies(
        self,
    ):
        service = self.env.ref("finance_integration_hub.user_fih_service")
        # the manager may create a backend in B only with a service user an
        # administrator allowed there
        backends = self.as_manager(self.env["fih.backend"], self.manager_both)
        with self.refused(ValidationError, "Ask an administrator"):
            backends.with_company(self.company_b).create(
                {"name": "B", "code": "b-side", "company_id": self.company_b.id}
            )
        self.assertNotIn(self.company_b, service.company_ids)
        # an administrator allows the service user in B; the manager then
        # picks another (marked) service user that only works in A
        service.company_ids = [Command.link(self.company_b.id)]
        backend_b = backends.with_company(self.company_b).create(
            {"name": "B", "code": "b-side", "company_id": self.company_b.id}
        )
        self.clerk.write({"fih_is_service_user": True})
        with self.refused(ValidationError, "Ask an administrator"):
            backend_b.write({"service_user_id": self.clerk.id})
        self.assertEqual(self.clerk.company_ids, self.company)
        self.assertEqual(backend_b.service_user_id, service)

    def test_only_an_administrator_marks_service_users(self):
        with self.assertRaises(AccessError):
            self.clerk.with_user(self.manager).write({"fih_is_service_user": True})
        with self.refused(ValidationError, "cannot be an administrator"):
            self.env.ref("finance_integration_hub.user_fih_service").groups_id = [
                Command.link(self.env.ref("base.group_system").id)
            ]

    def test_a_group_edited_from_its_side_never_makes_a_service_user_admin(self):
        service = self.env.ref("finance_integration_hub.user_fih_service")
        system = self.env.ref("base.group_system")
        with self.refused(ValidationError, "cannot be an administrator"):
            system.write({"users": [Command.link(service.id)]})
        # nor through a group that implies the administrators' group
        helpers = self.env["res.groups"].create(
            {"name": "Helpers", "users": [Command.link(service.id)]}
        )
        with self.refused(ValidationError, "cannot be an administrator"):
            helpers.write({"implied_ids": [Command.link(system.id)]})
        self.env.invalidate_all()
        self.assertNotIn(service, system.users)
        self.assertNotIn(system, helpers.implied_ids)
