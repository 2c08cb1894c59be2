from odoo import fields, models


class ResCompany(models.Model):
    _inherit = "res.company"

    fih_match_quantity_tolerance = fields.Float(
        string="Quantity tolerance (%)",
        help="Three-way match: how much more than received (and ordered) may "
        "be invoiced, in percent. 0: not a unit more.",
    )
    # the upper price tolerance: a price that costs the company more than
    # ordered (an invoice above the order price, a credit note below it)
    fih_match_price_tolerance_percent = fields.Float(
        string="Upper unit price tolerance (%)",
        help="Three-way match: how much the invoiced unit price may exceed the "
        "ordered one, in percent (on a credit note: how much lower the credited "
        "price may be). Empty with no amount either: not a cent more.",
    )
    fih_match_price_tolerance_amount = fields.Float(
        string="Upper line price tolerance (amount)",
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
    fih_match_price_lower_check = fields.Boolean(
        string="Check prices below the order",
        help="Three-way match: also hold a bill whose unit price is below the "
        "ordered one (a credit note: above it) by more than the lower "
        "tolerance. Off: a price in the company's favour is accepted.",
    )
    fih_match_price_lower_tolerance_percent = fields.Float(
        string="Lower unit price tolerance (%)",
        help="With the lower check on: how much the invoiced unit price may be "
        "below the ordered one, in percent. Empty with no amount either: not a "
        "cent less.",
    )
    fih_match_price_lower_tolerance_amount = fields.Float(
        string="Lower line price tolerance (amount)",
        help="With the lower check on: how much less a line may cost than "
        "ordered, in the invoice currency. When both limits are set, both must "
        "hold.",
    )
    fih_near_duplicate_check = fields.Boolean(
        string="Hold possible duplicate bills",
        default=True,
        help="A bill from the same supplier for the same amount, dated within "
        "the number of days set, is created in draft and held for a person, "
        "who marks it 'Not a duplicate' when it is a genuine second invoice.",
    )
    fih_near_duplicate_days = fields.Integer(
        string="Possible duplicates: days apart",
        default=0,
        help="How many days apart two invoice dates may be for the bills to be "
        "possible duplicates; 0: the same date.",
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
