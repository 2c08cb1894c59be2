"""Red-team review of the issue #13 fixes: attacks that still work.

Every test here plays one attack as the lower-privileged user and asserts
the secure outcome; it FAILS while the hole is open (that failure is the
proof). Each docstring says the attack and the expected secure behaviour.
"""

import contextlib
import json
from unittest.mock import patch

from odoo import Command
from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tests import tagged

from .common import FihTransactionCase, supplier_event

CLOCK = "odoo.addons.finance_integration_hub.models.fih_rate_counter._now"
IBAN = "BE71096123456769"
VAT = "BE0477472701"
SENDER = "198.51.100.7"
T0 = 1_800_000_000.0


def _user(env, login, companies, group_xmlid):
    return env["res.users"].create(
        {
            "name": f"Red team {login}",
            "login": login,
            "email": f"{login}@example.com",
            "company_id": companies[0].id,
            "company_ids": [Command.set(companies.ids)],
            "groups_id": [Command.set([env.ref(group_xmlid).id])],
        }
    )


@tagged("post_install", "-at_install")
class TestRedteamMaskingOracles(FihTransactionCase):
    """Finding 12 masked what a clerk READS (``_read_format``), but the same
    columns stay raw for grouping, searching and exporting."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.clerk = _user(
            cls.env,
            "fih_rt_clerk",
            cls.backend.company_id,
            "finance_integration_hub.group_fih_user",
        )

    def setUp(self):
        super().setUp()
        self.assertEqual(self.backend.data_classification, "confidential")
        self.receive(supplier_event(1))
        self.message = self.messages()
        self.message.sudo().write(
            {
                "state": "failed",
                "error_kind": "permanent",
                "error_message": f"The bank account {IBAN} of supplier {VAT} "
                "is blocked.",
                "idempotency_key": f"supplier/{VAT}/1",
            }
        )
        self.env.flush_all()
        self.as_clerk = self.env["fih.message"].with_user(self.clerk)
        # the fix holds for plain reads: this is what the clerk should see
        (values,) = self.as_clerk.browse(self.message.id).read(
            ["error_message", "idempotency_key"]
        )
        self.assertNotIn(IBAN, values["error_message"])
        self.assertNotIn(VAT, values["idempotency_key"])

    def test_a_clerk_reads_the_masked_iban_by_grouping_messages_by_problem(self):
        """Attack: an Integration User calls ``read_group`` (the list view's
        Group By, or JSON-RPC ``web_read_group``) on ``error_message`` and
        ``idempotency_key``: the group labels are the raw column values.
        Secure: group labels are masked like reads, or grouping on masked
        fields is refused."""
        leaked = []
        for field in ("error_message", "idempotency_key"):
            try:
                groups = self.as_clerk.read_group(
                    [("id", "=", self.message.id)], [field], [field]
                )
            except (AccessError, UserError) as refusal:
                # refused for the masking, not for another reason
                self.assertIn("masked", str(refusal))
                continue
            leaked.append(json.dumps(groups, default=str))
        for text in leaked:
            self.assertNotIn(IBAN, text)
            self.assertNotIn(VAT, text)

    def test_a_clerk_recovers_the_masked_iban_by_searching_the_problem_text(self):
        """Attack: a search domain on a masked text is an oracle; guessing
        the IBAN digit by digit with ``ilike`` tells right from wrong
        (``idempotency_key`` and ``error_message`` alike).
        Secure: a search on a masked field never distinguishes a right guess
        from a wrong one for someone who sees it masked (refused, or matched
        against the masked text)."""
        wrong_iban = IBAN[:-1] + ("0" if IBAN[-1] != "0" else "1")
        wrong_vat = VAT[:-1] + ("0" if VAT[-1] != "0" else "1")
        for field, right, wrong in (
            ("error_message", IBAN, wrong_iban),
            ("idempotency_key", VAT, wrong_vat),
        ):
            counts = []
            for guess in (right, wrong):
                try:
                    counts.append(
                        self.as_clerk.search_count(
                            [("id", "=", self.message.id), (field, "ilike", guess)]
                        )
                    )
                except (AccessError, UserError):
                    counts.append("refused")
            self.assertEqual(counts[0], counts[1], f"{field} is a search oracle")

    def test_a_clerk_exports_problems_and_keys_unmasked(self):
        """Attack: Export (``export_data`` over JSON-RPC) reads the fields
        with ``record[field]``, not ``_read_format``: the IBAN and VAT number
        come out raw (the clerk has Odoo's usual *Access to export feature*
        right). Secure: exports are masked like reads."""
        self.clerk.groups_id = [
            Command.link(self.env.ref("base.group_allow_export").id)
        ]
        rows = self.as_clerk.browse(self.message.id).export_data(
            ["error_message", "idempotency_key", "display_name"]
        )["datas"]
        text = json.dumps(rows)
        self.assertNotIn(IBAN, text)
        self.assertNotIn(VAT, text)


@tagged("post_install", "-at_install")
class TestRedteamCompanyConfinement(FihTransactionCase):
    """Finding 2 asked that every read a run makes be confined to the run's
    own company, whoever presses the button."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.company_a = cls.backend.company_id
        cls.company_b = cls.env["res.company"].create({"name": "Company B"})
        # the administrator allows the service user in company B too, as the
        # README asks before a backend is made there
        cls.backend.service_user_id.company_ids = [Command.link(cls.company_b.id)]
        cls.backend_b = cls.env["fih.backend"].create(
            {"name": "B's platform", "code": "rt-b", "company_id": cls.company_b.id}
        )
        cls.partner_b = cls.env["res.partner"].create(
            {"name": "Secret supplier of B", "company_id": cls.company_b.id}
        )
        cls.handler_both = _user(
            cls.env,
            "fih_rt_handler_both",
            cls.company_a + cls.company_b,
            "finance_integration_hub.group_fih_exception_handler",
        )
        cls.manager_a = _user(
            cls.env,
            "fih_rt_manager_a",
            cls.company_a,
            "finance_integration_hub.group_fih_manager",
        )

    def test_a_retry_by_a_user_of_both_companies_runs_the_job_in_both(self):
        """Attack: an Exception Handler with companies A and B enabled (the
        company switcher sends ``allowed_company_ids=[B, A]``) retries a
        message of company A's backend. ``with_company(A)`` only moves A to
        the front; queue_job stores ``allowed_company_ids=[A, B]`` with the
        job, so the service user processes A's message seeing company B's
        records (partners, orders, products) through the record rules.
        Secure: the job's environment holds the backend's company only."""
        self.receive(supplier_event(1))
        message = self.messages()
        message.sudo().write({"state": "failed", "error_kind": "permanent"})
        self.env["queue.job"].search(
            [("identity_key", "=", f"fih-inbound-{self.backend.id}-now")]
        ).unlink()
        as_handler = message.with_user(self.handler_both).with_context(
            allowed_company_ids=[self.company_b.id, self.company_a.id]
        )
        as_handler.action_retry(reason="supplier fixed the data")
        job = self.env["queue.job"].search(
            [("identity_key", "=", f"fih-inbound-{self.backend.id}-now")], limit=1
        )
        self.assertTrue(job)
        job_env = job.records.env
        self.assertEqual(job_env.user, self.backend.service_user_id)
        self.assertFalse(
            job_env["res.partner"].search([("id", "=", self.partner_b.id)]),
            "the job of company A's backend reads company B's supplier",
        )
        self.assertEqual(job_env.companies, self.company_a)

    def test_a_manager_of_company_a_rewrites_the_table_company_b_uses(self):
        """Attack: an Integration Manager of company A only creates (or edits)
        a shared cross-reference table (no backend, so no company) with the
        code a mapping of company B looks up; company B's backend has no own
        table, so its messages now take company A's manager's values.
        Secure: shared tables (used by every company) are changed only by an
        administrator, or by a manager of all the companies they affect."""
        refused = False
        try:
            with self.env.cr.savepoint():
                table = (
                    self.env["fih.value.map"]
                    .with_user(self.manager_a)
                    .create({"name": "Payment terms", "code": "rt_payment_terms"})
                )
                self.env["fih.value.map.entry"].with_user(self.manager_a).create(
                    {
                        "map_id": table.id,
                        "external_value": "NET30",
                        "canonical_value": "immediate",
                    }
                )
                self.env.flush_all()
        except (AccessError, UserError, ValidationError):
            refused = True
        # what company B's flows would read
        used_by_b = (
            self.env["fih.value.map"]
            ._find("rt_payment_terms", self.backend_b)
            .entry_ids[:1]
            .canonical_value
        )
        self.assertNotEqual(used_by_b, "immediate", "B's lookups take A's values")
        self.assertTrue(refused, "a manager of company A alone wrote a shared table")


@tagged("post_install", "-at_install")
class TestRedteamLockout(FihTransactionCase):
    """Finding 10's lockout: ``the backend's own sender is never locked out
    by others' failures``."""

    def setUp(self):
        super().setUp()
        self.now = T0
        self.startPatcher(patch(CLOCK, side_effect=lambda: self.now))

    def webhook(self, payload, code=None, secret=None, sender=SENDER):
        body, headers = self.signed(payload, secret=secret)
        self.env.flush_all()
        result = self.env["fih.webhook.intake"]._receive(
            code or self.backend.code,
            headers,
            lambda limit: body[:limit],
            headers["content-type"],
            len(body),
            sender,
        )
        self.env.invalidate_all()
        return result

    def test_failures_on_unknown_codes_lock_out_the_trusted_sender(self):
        """Attack: the legitimate platform sends from shared egress addresses
        (a SaaS, a NAT, or Odoo behind a proxy without proxy_mode, where
        every sender is the proxy's address). Another tenant of the same
        addresses posts 10 junk requests to ``/finance_hub/webhook/<any
        unknown code>``: the per-address block then answers 429 to the
        backend's own, recently authenticated sender, although it never
        failed against its backend. Secure: an address that authenticated to
        this backend recently is still heard by it (failures elsewhere are
        counted, but do not silence the trusted sender of this backend)."""
        self.assertEqual(self.webhook(supplier_event(1)).status, 202)
        self.now += 60
        for n in range(12):
            self.webhook(supplier_event(100 + n), code=f"no-such-backend-{n}")
            self.now += 1
        self.assertEqual(self.webhook(supplier_event(2)).status, 202)

    def test_the_failures_of_one_ipv6_network_are_counted_together(self):
        """Attack: an IPv6 sender holds a whole /64 and takes a new address
        for every guess, so a per-address count never blocks it.
        Secure: failures are counted per /64 network."""
        for n in range(12):
            self.webhook(
                supplier_event(200 + n),
                secret="whsec_" + "A" * 32,
                sender=f"2001:db8:7:1::{n + 1:x}",
            )
            self.now += 1
        refused = self.webhook(supplier_event(300), sender="2001:db8:7:1::ffff")
        self.assertEqual(refused.status, 429)
        other_network = self.webhook(supplier_event(301), sender="2001:db8:7:2::1")
        self.assertEqual(other_network.status, 202)


@tagged("post_install", "-at_install")
class TestRedteamGovernanceDefaults(FihTransactionCase):
    """Finding 4: workflow fields are written only by the actions. The
    governed mixin drops ``default_*`` context keys, but Odoo also fills
    missing values from ``ir.default``, where every internal user may store
    personal defaults (``ir.default.set(..., user_id=True)`` over JSON-RPC,
    or *Set Defaults* in the debug menu)."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        group = "finance_integration_hub.group_fih_manager"
        company = cls.backend.company_id
        cls.manager = _user(cls.env, "fih_rt_gov_manager", company, group)
        cls.colleague = _user(cls.env, "fih_rt_gov_colleague", company, group)

    def test_a_manager_creates_an_approved_mapping_through_personal_defaults(self):
        """Attack: the Manager stores personal defaults ``state=active``,
        ``author_id``/``approver_id`` = a colleague, then creates a mapping
        without those keys: the governed ``create`` checks only the values
        sent, so the mapping is born active, 'approved' by the colleague,
        and is used for the backend's messages without four-eyes.
        Secure: the new mapping is a draft without author or approver (or
        the create is refused)."""
        Default = self.env["ir.default"].with_user(self.manager)
        Default.set("fih.mapping", "state", "active", user_id=True)
        Default.set("fih.mapping", "author_id", self.colleague.id, user_id=True)
        Default.set("fih.mapping", "approver_id", self.colleague.id, user_id=True)
        try:
            with self.env.cr.savepoint():
                mapping = (
                    self.env["fih.mapping"]
                    .with_user(self.manager)
                    .create(
                        {
                            "name": "Suppliers, my way",
                            "backend_id": self.backend.id,
                            "object_type": "cost_center",
                            "direction": "inbound",
                            "api_version": "rt-1",
                        }
                    )
                )
                mapping.flush_recordset()
        except AccessError:
            return  # refused by the guard: secure
        self.assertEqual(mapping.state, "draft")
        self.assertFalse(mapping.approver_id)
        self.assertFalse(
            self.env["fih.mapping"]._find_active(self.backend, "cost_center"),
            "an unapproved mapping is used for the backend's messages",
        )

    def test_a_manager_sets_a_pulls_cursor_through_personal_defaults(self):
        """Attack: same path for a scheduled pull's cursor (only its runs may
        move it): a personal default ``cursor`` makes the new pull start
        where the Manager wants (skip or re-import documents).
        Secure: a new pull starts without a cursor (or the create is
        refused)."""
        self.env["ir.default"].with_user(self.manager).set(
            "fih.pull", "cursor", "skip-everything-before-this", user_id=True
        )
        try:
            with self.env.cr.savepoint():
                pull = (
                    self.env["fih.pull"]
                    .with_user(self.manager)
                    .create(
                        {
                            "backend_id": self.backend.id,
                            "object_type": "supplier",
                            "list_path": "/list",
                            "ack_path": "/ack",
                        }
                    )
                )
                pull.flush_recordset()
        except AccessError:
            return  # refused by the guard: secure
        self.assertFalse(pull.cursor)

    def test_a_pull_born_with_a_cursor_by_any_path_is_refused(self):
        """Second line of defence: whatever filled a workflow field when a
        person created the record, the record is refused unless the field
        is at its own default."""
        pull = (
            self.env["fih.pull"]
            .sudo()
            .create(
                {
                    "backend_id": self.backend.id,
                    "object_type": "supplier",
                    "list_path": "/list",
                    "ack_path": "/ack",
                    "cursor": "somewhere",
                }
            )
        )
        with self.assertRaises(AccessError):
            pull.with_user(self.manager)._fih_check_born_at_defaults()
        pull.cursor = False
        pull.with_user(self.manager)._fih_check_born_at_defaults()


@tagged("post_install", "-at_install")
class TestRedteamPrivateHostsByDefault(FihTransactionCase):
    """Finding 3: only a system administrator opens the internal network.
    ``create`` refuses ``private_host_allowlist`` in the values sent, but
    Odoo fills missing values from ``default_*`` context keys and personal
    ``ir.default`` entries after that check, and neither checks field
    groups."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.manager = _user(
            cls.env,
            "fih_rt_net_manager",
            cls.backend.company_id,
            "finance_integration_hub.group_fih_manager",
        )

    def _create_backend(self, code, context=None):
        Backend = self.env["fih.backend"].with_user(self.manager)
        try:
            with self.env.cr.savepoint():
                backend = Backend.with_context(**(context or {})).create(
                    {"name": f"Reporting {code}", "code": code, "kind": "bi"}
                )
                backend.flush_recordset()
        except AccessError:
            return None  # refused by the guard: secure
        return backend.sudo()

    def test_a_manager_opens_the_internal_network_with_a_context_default(self):
        """Attack: JSON-RPC ``create`` of a backend with
        ``context={'default_private_host_allowlist': '10.0.0.0/8\\n127.0.0.1'}``
        and no such key in the values: the backend may call the internal
        network and this Odoo server. Secure: refused, or created with an
        empty allow-list."""
        backend = self._create_backend(
            "rt-ctx",
            {"default_private_host_allowlist": "10.0.0.0/8\n127.0.0.1"},
        )
        if backend is None:
            return  # refused by the guard: secure
        self.assertFalse(backend.private_host_allowlist)
        self.assertFalse(backend._allowlist())

    def test_a_manager_opens_the_internal_network_with_a_personal_default(self):
        """Attack: ``ir.default.set('fih.backend', 'private_host_allowlist',
        '10.0.0.0/8', user_id=True)`` (allowed to every internal user for
        their own defaults), then create a backend: it inherits the list.
        Secure: refused, or created with an empty allow-list."""
        self.env["ir.default"].with_user(self.manager).set(
            "fih.backend", "private_host_allowlist", "10.0.0.0/8", user_id=True
        )
        backend = self._create_backend("rt-default")
        if backend is None:
            return  # refused by the guard: secure
        self.assertFalse(backend.private_host_allowlist)
        self.assertFalse(backend._allowlist())


@tagged("post_install", "-at_install")
class TestRedteamSupplierPostingPolicy(FihTransactionCase):
    """A supplier's *Integration bill posting* wins over the backend's
    policy; ``post`` posts every integration bill of that supplier that
    passes the checks, also without a purchase order."""

    def test_a_contact_editor_makes_a_suppliers_bills_post_themselves(self):
        """Attack: an internal user with only *Contact Creation* (no
        accounting, no integration group: e.g. a sales person) writes
        ``fih_bill_posting='post'`` on a supplier over JSON-RPC (the field is
        a plain partner field): the backend's 'keep bills without an order in
        draft' control is bypassed for that supplier.
        Secure: only who may post bills (Accounting: Billing) or an
        Integration Manager changes it."""
        supplier = self.env["res.partner"].create(
            {"name": "Supplier with a friend in sales", "supplier_rank": 1}
        )
        editor = _user(
            self.env,
            "fih_rt_contact_editor",
            self.backend.company_id,
            "base.group_partner_manager",
        )
        editor.groups_id = [Command.link(self.env.ref("base.group_user").id)]
        self.assertFalse(editor.has_group("account.group_account_invoice"))
        # refused (secure) or silently ignored: either way the policy stays
        with contextlib.suppress(AccessError, UserError, ValidationError):
            with self.env.cr.savepoint():
                supplier.with_user(editor).write({"fih_bill_posting": "post"})
                supplier.flush_recordset()
        self.assertEqual(supplier.fih_bill_posting, "backend")


@tagged("post_install", "-at_install")
class TestRedteamSuspicionsClosed(FihTransactionCase):
    """The red team's unproven suspicions, closed: the integration's hold of
    a bill, the Try-It preview and the message archive."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        company = cls.backend.company_id
        cls.clerk = _user(
            cls.env, "fih_rt_s_clerk", company, "finance_integration_hub.group_fih_user"
        )
        cls.billing = _user(
            cls.env, "fih_rt_s_billing", company, "account.group_account_invoice"
        )

    def test_a_billing_user_lifts_a_hold_only_with_not_a_duplicate(self):
        """Attack: a Billing user writes ``fih_duplicate_reviewed`` and an
        empty ``fih_hold_reason`` over JSON-RPC, leaving no trace.
        Secure: refused; 'Not a duplicate' lifts it and says who did."""
        supplier = self.env["res.partner"].create({"name": "Held supplier"})
        bill = self.env["account.move"].create(
            {
                "move_type": "in_invoice",
                "partner_id": supplier.id,
                "fih_hold_reason": "Possible duplicate of BILL/1",
            }
        )
        with self.assertRaises(AccessError):
            bill.with_user(self.billing).write(
                {"fih_duplicate_reviewed": True, "fih_hold_reason": False}
            )
        self.assertFalse(bill.fih_duplicate_reviewed)
        bill.with_user(self.billing).action_fih_not_a_duplicate()
        self.assertTrue(bill.fih_duplicate_reviewed)
        self.assertFalse(bill.fih_hold_reason)
        self.assertIn(
            "not a duplicate", bill.message_ids[:1].body.lower().replace("\xa0", " ")
        )

    def test_try_it_names_no_partner_to_a_clerk_who_sees_data_masked(self):
        """Attack: a clerk pastes a supplier with a guessed VAT number or IBAN
        into Try It: the preview named the partner it matched.
        Secure: the preview of matched records is for managers only."""
        self.receive(supplier_event(1))
        self.process()
        sample = json.dumps(supplier_event(1, version=2, phone="+32 9"))
        wizard = (
            self.env["fih.mapping.try.wizard"]
            .with_user(self.clerk)
            .create(
                {
                    "backend_id": self.backend.id,
                    "object_type": "supplier",
                    "sample_payload": sample,
                }
            )
        )
        wizard.action_try()
        self.assertTrue(wizard.preview)
        self.assertNotIn("Supplier 000001 Ltd", wizard.preview)
        self.assertIn("Integration Managers only", wizard.preview)

    def test_a_clerk_searches_and_exports_archived_messages_masked(self):
        """Attack: the same oracle and export on the message archive.
        Secure: the archive is searched and exported masked like the log."""
        archive = (
            self.env["fih.message.archive"]
            .sudo()
            .create(
                {
                    "message_id": 987654,
                    "backend_id": self.backend.id,
                    "company_id": self.backend.company_id.id,
                    "event_type": "supplier.upsert",
                    "idempotency_key": f"supplier/{VAT}/1",
                    "error_message": f"The bank account {IBAN} is blocked.",
                    "state": "cancelled",
                }
            )
        )
        self.env.flush_all()
        Archive = self.env["fih.message.archive"].with_user(self.clerk)
        domain = [("id", "=", archive.id)]
        self.assertEqual(
            Archive.search_count([*domain, ("error_message", "ilike", IBAN)]),
            Archive.search_count([*domain, ("error_message", "ilike", IBAN[:-1])]),
        )
        self.clerk.groups_id = [
            Command.link(self.env.ref("base.group_allow_export").id)
        ]
        rows = Archive.browse(archive.id).export_data(
            ["error_message", "idempotency_key"]
        )["datas"]
        self.assertNotIn(IBAN, json.dumps(rows))
        self.assertNotIn(VAT, json.dumps(rows))
        (values,) = Archive.browse(archive.id).read(["error_message", "display_name"])
        self.assertNotIn(IBAN, values["error_message"])
        self.assertNotIn(VAT, values["display_name"])

    def test_an_access_rights_admin_marks_no_service_user_by_default(self):
        """Attack: an *Access Rights* administrator (not a system
        administrator) creates a user with
        ``default_fih_is_service_user=True`` in the context.
        Secure: the new user is not a service user."""
        admin = _user(
            self.env,
            "fih_rt_s_rights",
            self.backend.company_id,
            "base.group_erp_manager",
        )
        try:
            with self.env.cr.savepoint():
                user = (
                    self.env["res.users"]
                    .with_user(admin)
                    .with_context(default_fih_is_service_user=True)
                    .create({"name": "Robot", "login": "fih_rt_s_robot"})
                )
        except AccessError:
            return  # refused: secure
        self.assertFalse(user.sudo().fih_is_service_user)
