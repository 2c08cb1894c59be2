from odoo import api, fields, models

OBJECT_TYPES = [
    ("supplier", "Supplier"),
    ("purchase_order", "Purchase order"),
    ("goods_receipt", "Goods receipt"),
    ("invoice", "Invoice / credit note"),
    ("payment", "Payment"),
    ("cost_center", "Cost center"),
    ("order_confirmation", "Order confirmation"),
]


class FihSorRule(models.Model):
    """Which system owns an object: its changes win, others are refused."""

    _name = "fih.sor.rule"
    _description = "System-of-Record Rule"
    _inherit = ["mail.thread", "fih.audited.mixin"]
    _order = "company_id, object_type"

    company_id = fields.Many2one(
        "res.company",
        required=True,
        default=lambda self: self.env.company,
        tracking=True,
    )
    object_type = fields.Selection(OBJECT_TYPES, required=True, tracking=True)
    owner_backend_id = fields.Many2one(
        "fih.backend",
        string="Owner",
        tracking=True,
        help="External system that owns these objects. Empty: Odoo owns them, "
        "and no external system may change them.",
    )
    note = fields.Char(help="Why this system is the reference, for auditors.")

    _sql_constraints = [
        (
            "company_object_uniq",
            "unique(company_id, object_type)",
            "One system of record per company and object.",
        ),
    ]

    @api.model
    def _owner_refusal(self, company, object_type, backend):
        """Readable reason why ``backend`` may not change the object, or None."""
        rule = self.sudo().search(
            [("company_id", "=", company.id), ("object_type", "=", object_type)],
            limit=1,
        )
        if not rule or rule.owner_backend_id == backend:
            return None
        label = dict(OBJECT_TYPES)[object_type]
        owner = rule.owner_backend_id.name or "Odoo"
        return self.env._(
            "%(object)s records of %(company)s are owned by %(owner)s (system of "
            "record); the change sent by %(backend)s was not applied. Make the "
            "change in %(owner)s, or change the system-of-record rule.",
            object=label,
            company=company.name,
            owner=owner,
            backend=backend.name,
        )
