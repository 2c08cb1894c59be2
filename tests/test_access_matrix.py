"""Who may press which button: every public method the module adds to a
model, called as every kind of user.

The table in ``access_matrix_table.py`` is the access model. A new public
method without a row fails :meth:`test_every_public_method_has_a_row`, so
nobody adds a button without deciding who may press it.
"""

from contextlib import closing

from odoo import Command, fields
from odoo.exceptions import AccessError
from odoo.tests import tagged

from .access_matrix_table import (
    ACT,
    MATRIX,
    MODULE,
    ODOO,
    OPEN,
    PERSONAS,
    module_public_methods,
)
from .common import FihTransactionCase


@tagged("post_install", "-at_install")
class TestAccessMatrix(FihTransactionCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.personas = {
            name: cls.env["res.users"].create(
                {
                    "name": f"Matrix {name}",
                    "login": f"fih_matrix_{name}",
                    "email": f"fih_matrix_{name}@example.com",
                    "company_id": cls.backend.company_id.id,
                    "company_ids": [Command.set(cls.backend.company_id.ids)],
                    "groups_id": [Command.set([cls.env.ref(g).id for g in groups])],
                }
            )
            for name, groups in PERSONAS.items()
        }
        cls.author = cls.env["res.users"].create(
            {
                "name": "Matrix author",
                "login": "fih_matrix_author",
                "groups_id": [
                    Command.set(
                        [cls.env.ref("finance_integration_hub.group_fih_manager").id]
                    )
                ],
            }
        )
        cls.bi_backend = cls.env["fih.backend"].create(
            {"name": "Matrix warehouse", "code": "matrix-bi", "kind": "bi"}
        )
        cls.fixture_publication = cls._publication("matrix")
        cls.other_publication = cls._publication("matrix-other")

    @classmethod
    def _publication(cls, code):
        return cls.env["fih.bi.publication"].create(
            {
                "name": f"Publication {code}",
                "code": code,
                "backend_id": cls.bi_backend.id,
                "dataset": "spend",
                "schedule": "manual",
            }
        )

    # -- the matrix ------------------------------------------------------------

    def test_every_public_method_has_a_row(self):
        listed = {(r.model, r.method) for r in MATRIX}
        found = module_public_methods(self.registry)
        self.assertFalse(
            found - listed,
            "Public methods without a row in the access matrix: say who may "
            "call them in tests/access_matrix_table.py",
        )
        self.assertFalse(listed - found, "Rows for methods that no longer exist")

    def test_odoo_buttons_the_hub_extends_are_odoos_own(self):
        for entry in (r for r in MATRIX if r.kind == ODOO):
            with self.subTest(model=entry.model, method=entry.method):
                owners = [
                    klass
                    for klass in type(self.env[entry.model]).__mro__
                    if entry.method in vars(klass)
                    and not klass.__module__.startswith(MODULE)
                ]
                self.assertTrue(owners)

    def test_every_action_is_allowed_exactly_to_its_groups(self):
        for entry in (r for r in MATRIX if r.kind == ACT):
            for persona, user in self.personas.items():
                with self.subTest(model=entry.model, method=entry.method, as_=persona):
                    outcome, detail = self.attempt(entry, user)
                    expected = "done" if persona in entry.allowed else "denied"
                    self.assertEqual(outcome, expected, detail)

    def test_opening_a_view_gives_nothing_but_the_view(self):
        for entry in (r for r in MATRIX if r.kind == OPEN):
            for persona, user in self.personas.items():
                with self.subTest(model=entry.model, method=entry.method, as_=persona):
                    outcome, detail = self.attempt(entry, user)
                    if persona in entry.allowed:
                        self.assertEqual(outcome, "done", detail)
                    else:
                        self.assertIn(outcome, ("done", "denied"), detail)
                    if outcome == "done":
                        self.assertTrue(
                            str(detail.get("type", "")).startswith("ir.actions."),
                            detail,
                        )

    def attempt(self, entry, user):
        """Call ``entry`` as ``user`` in a savepoint rolled back afterwards."""
        with closing(self.env.cr.savepoint()):
            target = self.fixture(entry.fixture).with_user(user)
            try:
                result = entry.call(self, target)
            except AccessError as exc:
                return "denied", str(exc)
            except Exception as exc:  # noqa: BLE001 - reported by the assertion
                return "error", f"{type(exc).__name__}: {exc}"
            finally:
                self.env.invalidate_all()
        return "done", result if isinstance(result, dict) else {}

    # -- fixtures: records on which each action is valid ---------------------

    def fixture(self, name):
        fixtures = {
            "backend": lambda: self.backend,
            "draft_mapping": self.draft_mapping,
            "submitted_mapping": self.submitted_mapping,
            "active_mapping": self.active_mapping,
            "template": self.template,
            "try_wizard": lambda: self.env["fih.mapping.try.wizard"],
            "failed_message": self.failed_message,
            "done_message": self.done_message,
            "message_wizard": lambda: self.env["fih.message.action.wizard"],
            "exception_group": self.exception_group,
            "exception_group_with_fix": self.exception_group_with_fix,
            "binding": self.binding,
            "message_link": self.message_link,
            "publication": lambda: self.fixture_publication,
            "period_wizard": lambda: self.env["fih.bi.period.wizard"],
            "stopped_load": lambda: self.load(self.fixture_publication, "refused"),
            "running_load": lambda: self.load(self.other_publication, "failed"),
            "pull": self.pull,
            "held_bill": self.held_bill,
            "payment": self.payment,
            "purchase_order": self.purchase_order,
            "partner": self.partner,
        }
        return fixtures[name]()

    def draft_mapping(self):
        return (
            self.env["fih.mapping"]
            .with_user(self.author)
            .create(
                {
                    "name": "Matrix mapping",
                    "backend_id": self.backend.id,
                    "object_type": "supplier",
                    "rule_ids": [
                        Command.create(
                            {"source_path": "ref", "target_path": "external_id"}
                        ),
                        Command.create({"source_path": "name", "target_path": "name"}),
                    ],
                }
            )
        )

    def submitted_mapping(self):
        mapping = self.draft_mapping()
        mapping.with_user(self.author).action_submit()
        return mapping

    def active_mapping(self):
        mapping = self.submitted_mapping()
        mapping._activate(approver=self.env.user)
        return mapping

    def template(self):
        return self.env["fih.mapping"].search([("backend_id", "=", False)], limit=1)

    def message(self, state, key):
        return self.Message.sudo().create(
            {
                "backend_id": self.backend.id,
                "event_type": "supplier.upsert",
                "idempotency_key": key,
                "payload": '{"data": {}}',
                "state": state,
            }
        )

    def failed_message(self):
        return self.message("failed", "matrix-failed")

    def done_message(self):
        return self.message("done", "matrix-done")

    def exception_group(self):
        message = self.failed_message()
        message._schedule_exception_activity("Matrix problem")
        return message.exception_group_id

    def exception_group_with_fix(self):
        partner = self.partner()
        message = self.failed_message()
        message._schedule_exception_activity(
            "Matrix VAT", "supplier.duplicate_vat", {"partner_id": partner.id}
        )
        return message.exception_group_id

    def binding(self):
        partner = self.partner()
        return self.env["fih.binding"].create(
            {
                "backend_id": self.backend.id,
                "object_type": "supplier",
                "external_id": "MATRIX-1",
                "res_model": "res.partner",
                "res_id": partner.id,
            }
        )

    def message_link(self):
        return self.env["fih.message.link"].create(
            {
                "message_id": self.done_message().id,
                "res_model": "res.partner",
                "res_id": self.partner().id,
                "operation": "created",
            }
        )

    def load(self, publication, state):
        return (
            self.env["fih.bi.load"]
            .sudo()
            .create({"publication_id": publication.id, "mode": "full", "state": state})
        )

    def pull(self):
        return self.env["fih.pull"].create(
            {
                "backend_id": self.backend.id,
                "object_type": "supplier",
                "list_path": "/suppliers",
                "ack_path": "/suppliers/ack",
            }
        )

    def partner(self):
        return self.Partner.create({"name": "Matrix Supplier", "supplier_rank": 1})

    def held_bill(self):
        return self.env["account.move"].create(
            {
                "move_type": "in_invoice",
                "partner_id": self.partner().id,
                "invoice_date": fields.Date.today(),
                "fih_hold_reason": "Possible duplicate of BILL/1",
            }
        )

    def payment(self):
        return self.env["account.payment"].create(
            {
                "payment_type": "outbound",
                "partner_type": "supplier",
                "partner_id": self.partner().id,
                "amount": 10.0,
            }
        )

    def purchase_order(self):
        return self.env["purchase.order"].create({"partner_id": self.partner().id})

    # -- the findings of issue 13, as their attacks ----------------------------

    def test_a_read_only_user_cannot_stop_or_resume_a_load(self):
        """Finding 8: an Integration User cancelled and resumed BI loads."""
        reader = self.personas["user"]
        running = self.load(self.other_publication, "failed")
        stopped = self.load(self.fixture_publication, "refused")
        with self.assertRaises(AccessError):
            running.with_user(reader).action_cancel()
        with self.assertRaises(AccessError):
            stopped.with_user(reader).action_resume()
        with self.assertRaises(AccessError):
            running.with_user(self.personas["manager"]).write({"state": "reconciled"})
        self.assertEqual((running.state, stopped.state), ("failed", "refused"))
        running.with_user(self.personas["manager"]).action_cancel()
        self.assertEqual(running.state, "refused")

    def test_a_manager_cannot_move_a_publication_watermark(self):
        """Moving the watermark forward would skip changes the reporting
        platform never receives; only a load moves it."""
        manager = self.personas["manager"]
        publication = self.fixture_publication.with_user(manager)
        with self.assertRaises(AccessError):
            publication.write({"watermark_changed_at": fields.Datetime.now()})
        with self.assertRaises(AccessError):
            publication.copy({"watermark_key": 10**6})
        self.assertFalse(self.fixture_publication.watermark_changed_at)
        publication.write({"sla_minutes": 90})  # the settings stay his
        self.assertEqual(self.fixture_publication.sla_minutes, 90)

    def test_a_manager_cannot_move_a_pull_cursor(self):
        """Moving the cursor forward would skip documents never pulled."""
        pull = self.pull().with_user(self.personas["manager"])
        with self.assertRaises(AccessError):
            pull.write({"cursor": "999999"})
        with self.assertRaises(AccessError):
            pull.write({"last_error": False})
        self.assertFalse(pull.sudo().cursor)
        pull.write({"page_size": 50})
        self.assertEqual(pull.page_size, 50)
