from odoo import api, fields, models

from ..lib.mapping_engine import LookupMissing

# Odoo models a cross-reference entry may point to
TARGET_MODELS = [
    ("account.tax", "Tax"),
    ("account.analytic.account", "Analytic account (cost center)"),
    ("account.payment.term", "Payment term"),
    ("uom.uom", "Unit of measure"),
    ("res.currency", "Currency"),
    ("res.company", "Company"),
    ("product.product", "Product"),
    ("res.partner", "Partner"),
    ("product.category", "Product category"),
]


class FihValueMap(models.Model):
    """A cross-reference table: external codes and their Odoo meaning."""

    _name = "fih.value.map"
    _description = "Cross-Reference Table"
    _inherit = ["mail.thread", "fih.audited.mixin"]
    _order = "code, backend_id"

    name = fields.Char(required=True, tracking=True)
    code = fields.Char(
        required=True,
        tracking=True,
        help="Name used by mapping rules of type 'lookup', e.g. payment_terms.",
    )
    backend_id = fields.Many2one(
        "fih.backend",
        ondelete="cascade",
        tracking=True,
        help="Backend whose codes these are. Empty: shared by every backend.",
    )
    company_id = fields.Many2one(
        "res.company",
        compute="_compute_company_id",
        store=True,
        help="Company of the backend; empty for shared tables.",
    )
    target_model = fields.Selection(
        TARGET_MODELS,
        tracking=True,
        help="Kind of Odoo record the entries point to, if any.",
    )
    entry_ids = fields.One2many("fih.value.map.entry", "map_id", string="Entries")
    entry_count = fields.Integer(compute="_compute_entry_count")

    _sql_constraints = [
        (
            "code_backend_uniq",
            "unique(code, backend_id)",
            "This backend already has a cross-reference table with this code.",
        ),
    ]

    @api.depends("backend_id.company_id")
    def _compute_company_id(self):
        for value_map in self:
            value_map.company_id = value_map.backend_id.company_id

    def _compute_entry_count(self):
        for value_map in self:
            value_map.entry_count = len(value_map.entry_ids)

    @api.model
    def _find(self, code, backend):
        """The backend's own table, else the shared one."""
        tables = self.sudo().search(
            [("code", "=", code), ("backend_id", "in", (backend.id, False))]
        )
        return tables.filtered("backend_id")[:1] or tables[:1]

    def _entry(self, external_value):
        self.ensure_one()
        wanted = str(external_value).strip()
        return self.entry_ids.filtered(lambda e: e.external_value == wanted)[:1]

    @api.model
    def _lookup(self, code, external_value, backend):
        """Canonical value of an external code (mapping rules of type lookup)."""
        table = self._find(code, backend)
        if not table:
            raise LookupMissing(f"there is no cross-reference table '{code}'")
        entry = table._entry(external_value)
        if not entry:
            raise LookupMissing(
                f"no entry for '{external_value}' in cross-reference table '{code}'"
            )
        return entry._canonical()

    @api.model
    def _external_value_for(self, code, record, backend):
        """The external code of an Odoo ``record`` in table ``code`` (the
        entry pointing to it, or whose canonical value is its name), or None:
        what the hub writes for it in an outgoing document."""
        table = self._find(code, backend)
        for entry in table.entry_ids:
            ref = entry.record_ref
            if (ref and ref._name == record._name and ref.id == record.id) or (
                entry.canonical_value and entry.canonical_value == record.display_name
            ):
                return entry.external_value
        return None

    @api.model
    def _record_for(self, code, value, backend):
        """Odoo record a canonical or external value stands for, or None."""
        table = self._find(code, backend)
        for entry in table.entry_ids:
            if value in (entry.external_value, entry._canonical()) and entry.record_ref:
                return entry.record_ref
        return None
