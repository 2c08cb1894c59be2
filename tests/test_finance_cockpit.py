import json
import re
from pathlib import Path

from odoo import models
from odoo.exceptions import AccessError, UserError
from odoo.modules.module import get_module_path
from odoo.tests import tagged
from odoo.tools.safe_eval import safe_eval

from ..lib import safe_xml
from .common import FihTransactionCase, supplier_event

# what a record without a name would show: "fih.subscription,1"
TECHNICAL_NAME = re.compile(r"\bfih\.[a-z_.]+,\s*\d+")


def _user(env, login, *groups):
    return env["res.users"].create(
        {
            "name": login.replace("_", " ").title(),
            "login": login,
            "email": f"{login}@example.com",
            "groups_id": [(6, 0, [env.ref(group).id for group in groups])],
        }
    )


@tagged("post_install", "-at_install")
class TestFinanceCockpit(FihTransactionCase):
    """What finance users read: documents instead of event codes, indented
    payloads, no technical identifiers, readable audit and access errors."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.handler = _user(
            cls.env,
            "fih_cockpit_handler",
            "finance_integration_hub.group_fih_exception_handler",
        )
        cls.clerk = _user(
            cls.env, "fih_cockpit_clerk", "finance_integration_hub.group_fih_user"
        )
        cls.outsider = _user(cls.env, "fih_cockpit_outsider", "base.group_user")
        cls.manager = _user(
            cls.env, "fih_cockpit_manager", "finance_integration_hub.group_fih_manager"
        )

    def _message(self, event_type, data, backend=None, key="evt-1"):
        return (
            self.env["fih.message"]
            .sudo()
            .create(
                {
                    "backend_id": (backend or self.backend).id,
                    "event_type": event_type,
                    "idempotency_key": key,
                    "payload": json.dumps(
                        {"id": key, "type": event_type, "data": data}
                    ),
                }
            )
            .sudo(False)
        )

    def _arch(self, model, view_type, user, view_ref=None):
        Model = self.env[model].with_user(user)
        if view_ref:
            Model = Model.with_context(**{f"{view_type}_view_ref": view_ref})
        views = Model.get_views([(False, view_type)])
        return safe_xml.parse(views["views"][view_type]["arch"].encode())

    # -- messages titled by document -------------------------------------------

    def test_supplier_message_is_titled_by_the_supplier(self):
        result = self.receive(supplier_event(7, name="Duplicate Trading 101 SA"))
        message = self.Message.browse(result.payload["message_id"])
        self.assertEqual(
            message.with_user(self.handler).display_name,
            "Supplier Duplicate Trading 101 SA",
        )

    def test_bill_message_is_titled_by_its_number_and_supplier_name(self):
        acme = self.Partner.create({"name": "Acme"})
        self.env["fih.binding"].sudo().create(
            {
                "backend_id": self.backend.id,
                "object_type": "supplier",
                "external_id": "SUP-ACME",
                "res_model": "res.partner",
                "res_id": acme.id,
            }
        )
        bill = self._message(
            "invoice.upsert",
            {
                "document_type": "invoice",
                "invoice_number": "INV-7008",
                "supplier_external_id": "SUP-ACME",
            },
        )
        self.assertEqual(bill.display_name, "Bill INV-7008 from Acme")
        credit = self._message(
            "invoice.upsert",
            {"document_type": "credit_note", "invoice_number": "CN-1"},
            key="evt-2",
        )
        self.assertEqual(credit.display_name, "Credit note CN-1")

    def test_a_document_title_is_masked_for_who_sees_the_data_masked(self):
        self.backend.data_classification = "restricted"
        message = self._message(
            "supplier.upsert", {"name": "Trading BE0477472701", "external_id": "S9"}
        )
        self.assertIn("0477472701", message.with_user(self.manager).display_name)
        masked = message.with_user(self.handler).display_name
        self.assertTrue(masked.startswith("Supplier Trading"), masked)
        self.assertNotIn("0477472701", masked)

    def test_a_message_without_a_known_document_falls_back_to_its_event(self):
        message = self._message("ping", {"hello": "world"}, key="evt_2Xk9sQ7RAWKEY")
        self.assertTrue(
            message.display_name.startswith(f"Ping #{message.id} of "),
            message.display_name,
        )
        # the sender's idempotency key means nothing to a finance user
        self.assertNotIn("evt_2Xk9sQ7RAWKEY", message.display_name)
        self.assertNotRegex(message.display_name, TECHNICAL_NAME)

    # -- payloads and technical details ------------------------------------------

    def test_payload_is_shown_indented(self):
        message = self._message(
            "supplier.upsert", {"name": "Acme", "external_id": "S1"}
        )
        shown = message.with_user(self.manager)
        self.assertEqual(shown.payload_format, "json")
        self.assertIn('\n  "data": {\n    "name": "Acme"', shown.payload_display)

    def test_code_editors_use_modes_odoo_ships(self):
        ace = Path(get_module_path("web")) / "static" / "lib" / "ace"
        views = self.env["ir.ui.view"].search(
            [("model", "like", "fih.%")]
        ) | self.env.ref("finance_integration_hub.fih_mapping_try_wizard_form")
        modes = set()
        for view in views:
            for node in safe_xml.parse(view.arch_db.encode()).iter("field"):
                if node.get("widget") in ("ace", "code"):
                    options = node.get("options") or "{}"
                    mode = re.search(r"'mode':\s*'([a-z]+)'", options)
                    modes.add(mode.group(1) if mode else "qweb")
        self.assertTrue(modes)
        for mode in modes:
            # the field widget maps xml to the qweb mode
            file_mode = "qweb" if mode == "xml" else mode
            self.assertTrue(
                (ace / f"mode-{file_mode}.js").exists(), f"no ace mode {mode}"
            )

    def test_technical_details_are_hidden_from_finance_users(self):
        technical = {
            "idempotency_key",
            "correlation_id",
            "delivery_id",
            "error_detail",
            "payload_display",
            "payload_sha256",
            "canonical_display",
        }
        form = self._arch("fih.message", "form", self.handler)
        shown = {node.get("name") for node in form.iter("field")}
        self.assertFalse(technical & shown, technical & shown)
        listed = {
            node.get("name")
            for node in self._arch("fih.message", "list", self.handler).iter("field")
        }
        self.assertNotIn("idempotency_key", listed)
        self.assertIn("display_name", listed)
        # managers find them in the Technical tab
        form = self._arch("fih.message", "form", self.manager)
        page = form.find(".//page[@name='technical']")
        self.assertIsNotNone(page)
        in_page = {node.get("name") for node in page.iter("field")}
        self.assertTrue(
            {"idempotency_key", "correlation_id", "error_detail"} <= in_page
        )

    # -- record names, audit trail, access errors --------------------------------

    def test_no_hub_record_is_named_by_its_model_and_id(self):
        self.env["fih.subscription"].create(
            {"backend_id": self.backend.id, "event_code": self._first_event_code()}
        )
        self.backend.auth_type = "oauth2"
        self.receive(supplier_event(3))
        self.process()
        unnamed = []
        for name, Model in self.env.registry.items():
            if not name.startswith("fih.") or Model._abstract or Model._transient:
                continue
            named = Model._rec_name or (
                type(self.env[name])._compute_display_name
                is not models.BaseModel._compute_display_name
            )
            if not named:
                unnamed.append(name)
                continue
            for record in self.env[name].sudo().search([], limit=5):
                self.assertNotRegex(record.display_name or "", TECHNICAL_NAME, name)
        self.assertEqual(unnamed, [])
        subscription = self.env["fih.subscription"].search([], limit=1)
        self.assertIn(self.backend.name, subscription.display_name)

    def _first_event_code(self):
        field = self.env["fih.subscription"]._fields["event_code"]
        return field._description_selection(self.env)[0][0]

    def test_audit_entries_read_with_labels_and_value_names(self):
        self.backend.auth_type = "oauth2"
        entry = self.env["fih.audit.log"].search(
            [
                ("res_model", "=", "fih.backend"),
                ("res_id", "=", self.backend.id),
                ("action", "=", "write"),
            ],
            limit=1,
        )
        field = self.backend._fields["auth_type"]
        self.assertIn(
            f"{field.string}: None (signature only) → OAuth2 client credentials",
            entry.changes_display,
        )
        self.assertNotIn("auth_type", entry.changes_display)
        self.assertNotIn("{", entry.changes_display)
        self.assertEqual(
            entry.model_label, self.env["ir.model"]._get("fih.backend").name
        )

    def test_access_error_says_which_right_to_ask_for_and_whom(self):
        with self.assertRaises(AccessError) as refused:
            self.backend.with_user(self.clerk).write({"name": "Renamed"})
        text = str(refused.exception)
        self.assertIn("'Integration Manager' right", text)
        self.assertIn("Ask your Finance Integration administrator", text)
        self.assertNotIn("fih.backend", text)
        with self.assertRaises(AccessError) as refused:
            self.env["fih.message"].with_user(self.outsider).search([])
        self.assertIn("'Integration User' right", str(refused.exception))

    # -- flows ---------------------------------------------------------------------

    def _template(self):
        return self.env["fih.mapping"].search(
            [("backend_id", "=", False), ("object_type", "=", "supplier")], limit=1
        )

    def test_a_template_is_used_from_the_backend(self):
        action = self.backend.with_user(self.manager).action_open_mappings()
        template = self._template()
        listed = (
            self.env["fih.mapping"].with_user(self.manager).search(action["domain"])
        )
        self.assertIn(template, listed)
        result = (
            template.with_user(self.manager)
            .with_context(**action["context"])
            .action_use_for_backend()
        )
        draft = self.env["fih.mapping"].browse(result["res_id"])
        self.assertEqual(
            (draft.backend_id, draft.state, draft.template_id),
            (self.backend, "draft", template),
        )

    def test_a_template_is_used_from_the_template_by_choosing_a_backend(self):
        template = self._template().with_user(self.manager)
        action = template.action_use_for_backend()
        self.assertEqual(action["res_model"], "fih.mapping.use.wizard")
        wizard = (
            self.env["fih.mapping.use.wizard"]
            .with_user(self.manager)
            .with_context(**action["context"])
            .create({"backend_id": self.backend.id})
        )
        result = wizard.action_use()
        draft = self.env["fih.mapping"].browse(result["res_id"])
        self.assertEqual(
            (draft.backend_id, draft.template_id), (self.backend, template)
        )
        # a clerk cannot copy a template, from either side
        with self.assertRaises(AccessError):
            self.env["fih.mapping.use.wizard"].with_user(self.clerk).create(
                {"template_id": template.id, "backend_id": self.backend.id}
            )

    def test_approve_is_hidden_from_the_submitter_and_refused_to_them(self):
        reviewer = _user(
            self.env,
            "fih_cockpit_reviewer",
            "finance_integration_hub.group_fih_manager",
        )
        result = (
            self._template()
            .with_user(self.manager)
            .with_context(fih_backend_id=self.backend.id)
            .action_use_for_backend()
        )
        draft = self.env["fih.mapping"].browse(result["res_id"])
        draft.with_user(self.manager).action_submit()
        self.assertFalse(draft.with_user(self.manager).can_approve)
        self.assertTrue(draft.with_user(reviewer).can_approve)
        form = self._arch("fih.mapping", "form", self.manager)
        approve = form.find(".//button[@name='action_approve']")
        self.assertEqual(approve.get("invisible"), "not can_approve")
        with self.assertRaisesRegex(UserError, "four-eyes"):
            draft.with_user(self.manager).action_approve()
        self.assertEqual(draft.state, "to_approve")
        draft.with_user(reviewer).action_approve()
        self.assertEqual(draft.state, "active")

    def _dialog(self, action):
        """The dialog as the browser opens it: a new record with the defaults."""
        Wizard = self.env["fih.secret.reveal.wizard"].with_context(**action["context"])
        return Wizard.new(Wizard.default_get(list(Wizard._fields)))

    def test_first_signing_secret_and_rotation_are_worded_apart(self):
        backend = self.env["fih.backend"].create({"name": "Fresh", "code": "fresh"})
        Wizard = self.env["fih.secret.reveal.wizard"]
        first = backend.action_generate_webhook_secret()
        dialog = self._dialog(first)
        self.assertTrue(dialog.secret.startswith("whsec_"))
        self.assertIn("first signing secret", dialog.instructions)
        self.assertNotIn("previous", dialog.instructions)
        rotation = backend.action_generate_webhook_secret()
        dialog = self._dialog(rotation)
        self.assertIn(
            "previous secret is still accepted for 24 hours", dialog.instructions
        )
        self.assertNotEqual(dialog.secret, first["context"]["default_secret"])
        # the dialog shows the secret with a copy button, and is never saved
        form = self._arch("fih.secret.reveal.wizard", "form", self.manager)
        self.assertEqual(
            form.find(".//field[@name='secret']").get("widget"), "CopyClipboardChar"
        )
        with self.assertRaises(UserError):
            Wizard.with_context(**rotation["context"]).create({})
        self.assertFalse(Wizard.search([]))

    def test_credentials_show_only_the_chosen_authentication(self):
        form = self._arch("fih.backend", "form", self.manager)

        def invisible(name):
            return form.find(f".//field[@name='{name}']").get("invisible")

        self.assertEqual(invisible("oauth_client_secret"), "auth_type != 'oauth2'")
        self.assertEqual(invisible("oauth_token_url"), "auth_type != 'oauth2'")
        self.assertIn("auth_type not in", invisible("api_key"))
        self.assertEqual(
            form.find(".//group[@name='cxml']").get("invisible"), "not cxml_enabled"
        )
        self.assertTrue(self.backend.cxml_enabled)  # a procurement platform
        bi = self.env["fih.backend"].create(
            {"name": "BI", "code": "bi-x", "kind": "bi"}
        )
        self.assertFalse(bi.cxml_enabled)

    def test_subscription_filter_uses_the_domain_editor(self):
        form = self._arch("fih.subscription", "form", self.manager)
        domain = form.find(".//field[@name='domain']")
        self.assertEqual(domain.get("widget"), "domain")
        self.assertIn("record_model_name", domain.get("options"))
        subscription = self.env["fih.subscription"].create(
            {"backend_id": self.backend.id, "event_code": self._first_event_code()}
        )
        self.assertIn(subscription.record_model_name, self.env)

    # -- where finance works ---------------------------------------------------------

    def test_a_held_draft_bill_needs_attention_and_is_found_by_the_filter(self):
        vendor = self.Partner.create({"name": "Held Supplies"})
        held, clean = self.env["account.move"].create(
            [
                {"move_type": "in_invoice", "partner_id": vendor.id},
                {"move_type": "in_invoice", "partner_id": vendor.id},
            ]
        )
        held.sudo().write({"fih_hold_reason": "No purchase order matches."})
        self.assertEqual(held.fih_sync_state, "attention")
        self.assertFalse(clean.fih_sync_state)
        accountant = self.env.ref("base.user_admin")
        search = self._arch(
            "account.move", "search", accountant, "account.view_account_bill_filter"
        )
        held_filter = search.find(".//filter[@name='fih_held']")
        self.assertEqual(held_filter.get("string"), "Held by integration")
        found = self.env["account.move"].search(
            [("move_type", "=", "in_invoice"), ("partner_id", "=", vendor.id)]
            + safe_eval(held_filter.get("domain"))
        )
        self.assertEqual(found, held)
        bills = self._arch(
            "account.move", "list", accountant, "account.view_in_invoice_bill_tree"
        )
        self.assertIsNotNone(bills.find(".//field[@name='fih_sync_state']"))

    def test_supplier_integration_buttons_come_first(self):
        form = self._arch("res.partner", "form", self.manager)
        box = form.find(".//div[@name='button_box']")
        first = [node.get("name") for node in box if node.tag == "button"][:2]
        self.assertEqual(
            first, ["action_open_fih_bindings", "action_open_fih_messages"]
        )

    def test_a_reference_to_a_record_the_user_may_not_read_says_so(self):
        bill = self.env["account.move"].create(
            {
                "move_type": "in_invoice",
                "partner_id": self.Partner.create({"name": "V"}).id,
            }
        )
        binding = (
            self.env["fih.binding"]
            .sudo()
            .create(
                {
                    "backend_id": self.backend.id,
                    "object_type": "invoice",
                    "external_id": "BILL-1",
                    "res_model": "account.move",
                    "res_id": bill.id,
                }
            )
        )
        # a hub user without accounting rights: the list of references opens
        self.assertEqual(
            binding.with_user(self.clerk).record_name,
            "Journal Entry (not visible to you)",
        )
        self.assertEqual(binding.record_name, bill.display_name)
