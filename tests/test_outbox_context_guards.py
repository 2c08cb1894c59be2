"""A commit always leaves its outbound events, whatever context a caller
sends; a subscription's filter sees only what the backend's service user
sees in the backend's company. Each attack is played as the lower-privileged
user: a context sent with a JSON-RPC call is plain data (numbers, strings,
booleans), which is what these tests send."""

from odoo import Command, fields
from odoo.exceptions import AccessError, ValidationError
from odoo.tests import HttpCase, tagged

from .common import BackendMixin, FihTransactionCase


@tagged("post_install", "-at_install")
class TestOutboxContextGuards(FihTransactionCase):
    """No context key a person can send silences an outbound event."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.receiver, _secret = cls._setup_other_backend(
            code="ap-receiver",
            kind="ap_automation",
            base_url="https://ap.example",
        )
        cls.env["fih.subscription"].create(
            [
                {
                    "backend_id": cls.receiver.id,
                    "event_code": code,
                    "endpoint_path": "/events",
                }
                for code in (
                    "supplier.created",
                    "supplier.changed",
                    "invoice.posted",
                    "invoice.cancelled",
                )
            ]
        )
        cls.clerk = cls.env["res.users"].create(
            {
                "name": "AP clerk",
                "login": "fxctx_ap_clerk",
                "groups_id": [
                    Command.set(
                        [
                            cls.env.ref("base.group_user").id,
                            cls.env.ref("base.group_partner_manager").id,
                            cls.env.ref("account.group_account_invoice").id,
                        ]
                    )
                ],
            }
        )
        cls.supplier = cls.env["res.partner"].create(
            {"name": "Guarded Supplier NV", "supplier_rank": 1}
        )

    def outbox(self, event_type):
        return self.Message.search(
            [
                ("backend_id", "=", self.receiver.id),
                ("direction", "=", "outbound"),
                ("event_type", "=", event_type),
            ]
        )

    def test_a_new_supplier_iban_sent_with_the_partner_marker_is_announced(self):
        Bank = self.env["res.partner.bank"].with_user(self.clerk)
        before = len(self.outbox("supplier.changed"))
        account = Bank.with_context(fih_partner_write=True).create(
            {"partner_id": self.supplier.id, "acc_number": "BE71096123456769"}
        )
        self.assertEqual(len(self.outbox("supplier.changed")), before + 1)
        account.with_context(fih_partner_write=1).write(
            {"acc_number": "BE68539007547034"}
        )
        changed = self.outbox("supplier.changed")
        self.assertEqual(len(changed), before + 2)
        self.assertEqual(set(changed.mapped("record_id")), {self.supplier.id})

    def test_a_bank_account_saved_with_its_supplier_is_announced_once(self):
        partner = (
            self.env["res.partner"]
            .with_user(self.clerk)
            .create(
                {
                    "name": "Banked Supplier BV",
                    "supplier_rank": 1,
                    "bank_ids": [Command.create({"acc_number": "BE71096123456769"})],
                }
            )
        )
        events = self.outbox("supplier.created") | self.outbox("supplier.changed")
        self.assertEqual(
            events.filtered(lambda m: m.record_id == partner.id).mapped("event_type"),
            ["supplier.created"],
        )

    def test_an_iban_changed_through_another_partners_save_is_announced(self):
        account = self.env["res.partner.bank"].create(
            {"partner_id": self.supplier.id, "acc_number": "BE71096123456769"}
        )
        Partner = self.env["res.partner"].with_user(self.clerk)
        contact = Partner.create(
            {"name": "Accounts desk", "parent_id": self.supplier.id}
        )
        unrelated = Partner.create({"name": "Not a supplier"})
        before = len(self.outbox("supplier.changed"))
        # an account added on the supplier's contact is the supplier's
        contact.write(
            {"bank_ids": [Command.create({"acc_number": "BE68539007547034"})]}
        )
        self.assertEqual(len(self.outbox("supplier.changed")), before + 1)
        # the supplier's account changed through another partner's save
        unrelated.write(
            {
                "bank_ids": [
                    Command.update(account.id, {"acc_number": "DE89370400440532013000"})
                ]
            }
        )
        changed = self.outbox("supplier.changed")
        self.assertEqual(len(changed), before + 2)
        self.assertEqual(set(changed[:2].mapped("record_id")), {self.supplier.id})

    def test_a_supplier_created_with_a_no_outbox_flag_is_still_announced(self):
        before = len(self.outbox("supplier.created"))
        shadow = (
            self.env["res.partner"]
            .with_user(self.clerk)
            .with_context(fih_no_outbox=True)
            .create({"name": "Shadow Supplier BV", "supplier_rank": 1})
        )
        created = self.outbox("supplier.created")
        self.assertEqual(len(created), before + 1)
        self.assertIn(shadow.id, created.mapped("record_id"))

    def new_posted_bill(self):
        bill = self.env["account.move"].create(
            {
                "move_type": "in_invoice",
                "partner_id": self.supplier.id,
                "invoice_date": fields.Date.today(),
                "invoice_line_ids": [
                    Command.create(
                        {"name": "Consulting", "quantity": 1, "price_unit": 1000.0}
                    )
                ],
            }
        )
        bill.action_post()
        return bill

    def test_a_bill_cancelled_claiming_to_come_from_the_ap_tool_is_announced(self):
        for forged in (
            {"fih_origin_backend_id": self.receiver.id},
            {"fih_inbound_origin": self.receiver.id},
            {"fih_inbound_origin": {"backend_id": self.receiver.id}},
        ):
            with self.subTest(context=forged):
                bill = self.new_posted_bill().with_user(self.clerk)
                bill = bill.with_context(**forged)
                bill.button_draft()
                bill.button_cancel()
                self.assertEqual(bill.state, "cancel")
                cancelled = self.outbox("invoice.cancelled")
                self.assertIn(bill.id, cancelled.mapped("record_id"))


@tagged("post_install", "-at_install")
class TestSubscriptionFilterCompanyGuard(FihTransactionCase):
    """A subscription's filter is evaluated as the backend's service user in
    the backend's company: it cannot look into another company's records."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.company_a = cls.env.company
        cls.company_b = cls.env["res.company"].create({"name": "Guarded Company B"})
        cls.env["account.chart.template"].try_loading(
            "generic_coa", company=cls.company_b, install_demo=False
        )
        cls.receiver, _secret = cls._setup_other_backend(
            code="fxctx-filter-receiver",
            kind="ap_automation",
            base_url="https://ap.example",
        )
        cls.manager = cls.env["res.users"].create(
            {
                "name": "Integration manager A",
                "login": "fxctx_manager_a",
                "company_id": cls.company_a.id,
                "company_ids": [Command.set(cls.company_a.ids)],
                "groups_id": [
                    Command.set(
                        [cls.env.ref("finance_integration_hub.group_fih_manager").id]
                    )
                ],
            }
        )
        cls.shared = cls.env["res.partner"].create(
            {"name": "Shared Supplier SA", "supplier_rank": 1, "company_id": False}
        )
        cls.bill_of_b = cls.new_bill(cls.company_b, cls.shared, 9000)
        cls.own = cls.env["res.partner"].create(
            {"name": "Own Supplier SA", "supplier_rank": 1, "company_id": False}
        )
        cls.bill_of_a = cls.new_bill(cls.company_a, cls.own, 6000)

    @classmethod
    def new_bill(cls, company, partner, amount):
        return (
            cls.env["account.move"]
            .with_company(company)
            .create(
                {
                    "move_type": "in_invoice",
                    "company_id": company.id,
                    "partner_id": partner.id,
                    "invoice_date": fields.Date.today(),
                    "invoice_line_ids": [
                        Command.create(
                            {"name": "Deal", "quantity": 1, "price_unit": amount}
                        )
                    ],
                }
            )
        )

    def subscribe(self, domain):
        return (
            self.env["fih.subscription"]
            .with_user(self.manager)
            .create(
                {
                    "backend_id": self.receiver.id,
                    "event_code": "supplier.changed",
                    "endpoint_path": "/suppliers",
                    "domain": domain,
                }
            )
        )

    def events_of(self, partner):
        return (
            self.env["fih.message"]
            .with_user(self.manager)
            .search(
                [
                    ("backend_id", "=", self.receiver.id),
                    ("event_type", "=", "supplier.changed"),
                    ("record_id", "=", partner.id),
                ]
            )
        )

    def test_a_manager_cannot_learn_another_companys_bills_through_a_filter(self):
        with self.assertRaises(AccessError):
            self.bill_of_b.with_user(self.manager).read(["amount_total"])
        self.subscribe("[('invoice_ids.amount_total', '>', 5000)]")
        self.shared.phone = "+32 2 000 00 01"
        self.own.phone = "+32 2 000 00 02"
        self.assertFalse(
            self.events_of(self.shared),
            "company B's bill must not decide whether company A's event is sent",
        )
        # the filter still works on the backend's own company's bills
        self.assertEqual(len(self.events_of(self.own)), 1)

    def test_a_filter_the_service_user_cannot_evaluate_never_fails_a_save(self):
        subscription = self.subscribe("[('supplier_rank', '>', 0)]")
        # a filter gone wrong since it was saved (a field removed by an upgrade)
        self.env.cr.execute(
            "UPDATE fih_subscription SET domain = %s WHERE id = %s",
            ("[('no_such_field', '=', 1)]", subscription.id),
        )
        subscription.invalidate_recordset(["domain"])
        with self.assertLogs(
            "odoo.addons.finance_integration_hub.models.fih_subscription", "WARNING"
        ):
            self.own.phone = "+32 2 000 00 03"
            self.own.flush_recordset()
        self.assertEqual(self.own.phone, "+32 2 000 00 03")
        self.assertFalse(self.events_of(self.own))

    def test_a_filter_naming_an_unknown_field_is_refused_with_what_to_do(self):
        with self.assertRaises(ValidationError) as refused:
            self.subscribe("[('no_such_field', '=', 1)]")
        self.assertIn("Correct the filter", refused.exception.args[0])
        self.assertFalse(
            self.env["fih.subscription"].search([("backend_id", "=", self.receiver.id)])
        )


@tagged("post_install", "-at_install")
class TestOutboxContextOverJsonRpc(BackendMixin, HttpCase):
    """The same attack as a remote caller makes it: the context keys sent
    with a JSON-RPC call silence no event."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.receiver = cls._setup_backend(
            code="rpc-ap-receiver", kind="ap_automation", base_url="https://ap.example"
        )
        cls.env["fih.subscription"].create(
            [
                {
                    "backend_id": cls.receiver.id,
                    "event_code": code,
                    "endpoint_path": "/events",
                }
                for code in ("supplier.created", "supplier.changed")
            ]
        )
        cls.env["res.users"].create(
            {
                "name": "RPC clerk",
                "login": "fxctx_rpc_clerk",
                "password": "fxctx_rpc_clerk_pw",
                "groups_id": [
                    Command.set(
                        [
                            cls.env.ref("base.group_user").id,
                            cls.env.ref("base.group_partner_manager").id,
                            cls.env.ref("account.group_account_invoice").id,
                        ]
                    )
                ],
            }
        )

    def call(self, model, method, args, context):
        return self.make_jsonrpc_request(
            f"/web/dataset/call_kw/{model}/{method}",
            {
                "model": model,
                "method": method,
                "args": args,
                "kwargs": {"context": context},
            },
        )

    def events(self, partner_id):
        return (
            self.env["fih.message"]
            .search(
                [
                    ("backend_id", "=", self.receiver.id),
                    ("direction", "=", "outbound"),
                    ("record_id", "=", partner_id),
                ],
                order="id",
            )
            .mapped("event_type")
        )

    def test_forged_context_keys_do_not_silence_supplier_events(self):
        self.authenticate("fxctx_rpc_clerk", "fxctx_rpc_clerk_pw")
        forged = {
            "fih_no_outbox": True,
            "fih_partner_write": True,
            "fih_inbound_origin": self.receiver.id,
            "fih_origin_backend_id": self.receiver.id,
        }
        partner_id = self.call(
            "res.partner",
            "create",
            [{"name": "Remote Supplier BV", "supplier_rank": 1}],
            forged,
        )
        self.call(
            "res.partner.bank",
            "create",
            [{"partner_id": partner_id, "acc_number": "BE71096123456769"}],
            forged,
        )
        self.assertEqual(
            self.events(partner_id), ["supplier.created", "supplier.changed"]
        )
