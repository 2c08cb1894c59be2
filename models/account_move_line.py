from odoo import fields, models

from .account_move import VENDOR_DOCUMENTS


class AccountMoveLine(models.Model):
    _inherit = "account.move.line"

    fih_external_line_id = fields.Char(
        string="External line id",
        readonly=True,
        copy=False,
        help="Line number of the invoice in the AP tool.",
    )
    fih_price_adjusted_line_id = fields.Many2one(
        "purchase.order.line",
        string="Price adjustment of",
        readonly=True,
        copy=False,
        index="btree_not_null",
        help="The purchase order line whose price this credit note line lowers "
        "(a rebate). It is not linked as an invoiced quantity, so the quantity "
        "billed on the order stays as it is.",
    )

    def unlink(self):
        # lines of a bill that was posted once may be in a BI publication
        self.env["fih.bi.deletion"]._record(
            self.filtered(
                lambda line: line.move_id.move_type in VENDOR_DOCUMENTS
                and line.move_id.posted_before
                and line.display_type == "product"
            )
        )
        return super().unlink()
