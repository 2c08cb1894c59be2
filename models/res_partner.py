from odoo import api, fields, models
from odoo.exceptions import AccessError

from .res_partner_bank import SavedWithPartner

# who decides that a supplier's integration bills post themselves
BILL_POSTING_GROUPS = (
    "account.group_account_invoice,finance_integration_hub.group_fih_manager"
)

# what other systems need to know of a supplier; other edits send nothing
SUPPLIER_FIELDS = {
    "name",
    "vat",
    "company_registry",
    "email",
    "phone",
    "street",
    "street2",
    "zip",
    "city",
    "country_id",
    "bank_ids",
    "property_supplier_payment_term_id",
    "property_purchase_currency_id",
    "supplier_rank",
}


class ResPartner(models.Model):
    _name = "res.partner"
    _inherit = ["res.partner", "fih.synced.mixin", "fih.default.guard.mixin"]

    fih_binding_ids = fields.One2many(
        "fih.binding",
        "res_id",
        string="External IDs",
        domain=[("res_model", "=", "res.partner")],
        readonly=True,
        help="Identifiers of this partner in the connected external systems.",
    )
    fih_binding_count = fields.Integer(
        string="Integrations", compute="_compute_fih_binding_count"
    )
    fih_bill_posting = fields.Selection(
        [
            ("backend", "Backend default"),
            ("draft", "Always draft"),
            ("post", "Post when checks pass"),
        ],
        string="Integration bill posting",
        default="backend",
        groups=BILL_POSTING_GROUPS,
        required=True,
        help="Bills and credit notes of this supplier received from an "
        "integration: follow the posting policy of the backend they come from, "
        "always leave them in draft for approval, or post them when every check "
        "passes (also without a purchase order). Set here, it wins over the "
        "backend's policy. A bill that fails a check is never posted.",
    )

    def init(self):
        # duplicate-supplier checks compare compacted VAT numbers
        self.env.cr.execute(
            r"""
            CREATE INDEX IF NOT EXISTS res_partner_fih_vat_compact_idx
                ON res_partner (upper(regexp_replace(coalesce(vat, ''),
                                                      '[\s.\-]', '', 'g')))
            """
        )

    def _fih_may_set_bill_posting(self):
        return self.env.su or self.env.user.has_groups(BILL_POSTING_GROUPS)

    def _fih_default_refused(self, names):
        refused = super()._fih_default_refused(names)
        if "fih_bill_posting" in names and not self._fih_may_set_bill_posting():
            refused.add("fih_bill_posting")
        return refused

    @api.model_create_multi
    def create(self, vals_list):
        # create does not check field groups: the posting policy is checked here
        if not self._fih_may_set_bill_posting() and any(
            vals.get("fih_bill_posting", "backend") != "backend" for vals in vals_list
        ):
            raise AccessError(
                self.env._(
                    "Only a user who posts bills (Accounting: Billing) or an "
                    "Integration Manager can choose how a supplier's integration "
                    "bills are posted."
                )
            )
        # bank accounts written with the partner are announced with it, once
        bank_changes = SavedWithPartner()
        partners = super(
            ResPartner, self.with_context(fih_partner_write=bank_changes)
        ).create(vals_list)
        partners = partners.with_env(self.env)
        suppliers = partners.filtered(lambda p: p.supplier_rank > 0 and not p.parent_id)
        if suppliers:
            self.env["fih.outbox"]._emit("supplier.created", suppliers)
        self._fih_announce_bank_changes(bank_changes, suppliers)
        return partners

    def _fih_announce_bank_changes(self, bank_changes, announced):
        """Announce the suppliers whose bank accounts changed within a
        partner's save and that its own event did not announce (a contact's
        account, or another supplier's account changed through this one)."""
        others = self.browse(bank_changes.supplier_ids).exists() - announced
        if others:
            self.env["fih.outbox"]._emit("supplier.changed", others)

    def unlink(self):
        self.env["fih.bi.deletion"]._record(
            self.filtered(lambda partner: partner.supplier_rank > 0)
        )
        return super().unlink()

    def write(self, vals):
        bank_changes = SavedWithPartner()
        result = super(
            ResPartner, self.with_context(fih_partner_write=bank_changes)
        ).write(vals)
        suppliers = self.browse()
        if SUPPLIER_FIELDS & set(vals):
            suppliers = self.filtered(lambda p: p.supplier_rank > 0 and not p.parent_id)
            if suppliers:
                self.env["fih.outbox"]._emit("supplier.changed", suppliers)
        self._fih_announce_bank_changes(bank_changes, suppliers)
        return result

    def _increase_rank(self, field, n=1):
        # Odoo raises supplier_rank in raw SQL on a first order or bill: a
        # partner becoming a supplier that way is announced too
        new_suppliers = (
            self.filtered(lambda p: not p.supplier_rank and not p.parent_id)
            if field == "supplier_rank"
            else self.browse()
        )
        result = super()._increase_rank(field, n=n)
        new_suppliers = new_suppliers.filtered(lambda p: p.supplier_rank > 0)
        if new_suppliers:
            self.env["fih.outbox"]._emit("supplier.created", new_suppliers)
            # the rank was raised in SQL: the supplier master feed of BI
            # publications follows write_date
            self.env.cr.execute(
                "UPDATE res_partner SET write_date = %s WHERE id IN %s",
                (self.env.cr.now(), tuple(new_suppliers.ids)),
            )
        return result

    def _compute_fih_binding_count(self):
        counts = dict(
            self.env["fih.binding"]._read_group(
                [("res_model", "=", "res.partner"), ("res_id", "in", self.ids)],
                ["res_id"],
                ["__count"],
            )
        )
        for partner in self:
            partner.fih_binding_count = counts.get(partner.id, 0)

    def action_open_fih_bindings(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "finance_integration_hub.fih_binding_action"
        )
        action["domain"] = [("res_model", "=", "res.partner"), ("res_id", "=", self.id)]
        action["context"] = {"create": False}
        return action
