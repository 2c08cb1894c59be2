from odoo import fields, models


class ResCompany(models.Model):
    _inherit = "res.company"

    fih_match_quantity_tolerance = fields.Float(
        string="Quantity tolerance (%)",
        help="Three-way match: how much more than received (and ordered) may "
        "be invoiced, in percent. 0: not a unit more.",
    )
    fih_match_price_tolerance_percent = fields.Float(
        string="Unit price tolerance (%)",
        help="Three-way match: how much the invoiced unit price may exceed the "
        "ordered one, in percent. Empty with no amount either: exact prices.",
    )
    fih_match_price_tolerance_amount = fields.Float(
        string="Line price tolerance (amount)",
        help="Three-way match: how much more a line may cost than ordered, in "
        "the invoice currency. When both limits are set, both must hold.",
    )
    fih_tax_tolerance = fields.Float(
        string="Tax tolerance (amount)",
        help="Tax validation: accepted difference per tax between the taxes "
        "stated on the invoice and those Odoo computes, on top of one cent "
        "of rounding.",
    )
    fih_over_receipt_tolerance = fields.Float(
        string="Over-receipt tolerance (%)",
        help="Goods receipts from an integrated platform may exceed the "
        "ordered quantity by this percentage; beyond it they are refused.",
    )
