from odoo import fields, models

from ..lib.tax_check import CATEGORIES


class AccountTax(models.Model):
    """Taxes know the UNCL5305 category that suppliers' documents state, so
    that a 0 % line is booked by why it has no tax (reverse charge, exempt,
    zero rated...) and not by its rate alone."""

    _inherit = "account.tax"

    fih_tax_category = fields.Selection(
        [
            (code, f"{code} - {meaning.capitalize()}")
            for code, meaning in CATEGORIES.items()
        ],
        string="Tax category (UNCL5305)",
        help="The category suppliers' e-invoices (UBL, cXML) state for this tax. "
        "Incoming bills take the purchase tax of the stated category and rate; "
        "for AE (reverse charge) and K (intra-community), the tax must "
        "self-assess: a +100 % and a -100 % tax line in its distribution. "
        "Empty: a standard-rate tax, found by its rate.",
    )
