from odoo import fields, models


class PurchaseOrderLine(models.Model):
    _inherit = "purchase.order.line"

    fih_external_line_id = fields.Char(
        string="External line id",
        index="btree_not_null",
        copy=False,
        readonly=True,
        help="Line number of the order in the procurement platform; receipts "
        "and invoices refer to it.",
    )
    fih_price_adjustment_line_ids = fields.One2many(
        "account.move.line",
        "fih_price_adjusted_line_id",
        string="Price adjustments",
        readonly=True,
        help="Credit note lines that lowered the price of this line (rebates) "
        "without crediting a quantity.",
    )
