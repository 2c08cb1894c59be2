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
        "stated on the invoice and those Odoo computes, on top of the rounding "
        "allowance; accepted differences are booked as the supplier states "
        "them.",
    )
    fih_over_receipt_tolerance = fields.Float(
        string="Over-receipt tolerance (%)",
        help="Goods receipts from an integrated platform may exceed the "
        "ordered quantity by this percentage; beyond it they are refused.",
    )
    fih_tax_rounding_units = fields.Float(
        string="Tax rounding allowance (per line)",
        default=1.0,
        help="Taxes stated on an incoming bill that differ from Odoo's by no "
        "more than this many of the currency's smallest amounts (a cent, a "
        "yen, a fils) per line carrying the tax, plus the tax tolerance, are "
        "booked as the supplier states them; a larger difference holds the "
        "bill. Rounding per line or per rate explains one unit per line.",
    )
    fih_charges_product_id = fields.Many2one(
        "product.product",
        string="Charges product",
        domain=[("purchase_ok", "=", True)],
        help="Product of the bill lines made from a document's header charges "
        "(freight, handling, surcharges) and allowances (header discounts). "
        "Empty: the hub's 'Document charges' product.",
    )
    fih_charges_account_id = fields.Many2one(
        "account.account",
        string="Charges account",
        help="Account of the charge and allowance lines; empty: the expense "
        "account of the charges product.",
    )
    fih_charges_tolerance_amount = fields.Float(
        string="Charges tolerance (amount)",
        help="Header charges a bill may add without review, in the bill's "
        "currency. When both limits are set, both must hold; with neither, "
        "every bill with charges is held for review.",
    )
    fih_charges_tolerance_percent = fields.Float(
        string="Charges tolerance (% of the goods)",
        help="Header charges a bill may add without review, in percent of "
        "its untaxed lines before charges and allowances.",
    )
