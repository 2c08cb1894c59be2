from odoo import fields, models


class ResConfigSettings(models.TransientModel):
    _inherit = "res.config.settings"

    fih_match_quantity_tolerance = fields.Float(
        related="company_id.fih_match_quantity_tolerance", readonly=False
    )
    fih_match_price_tolerance_percent = fields.Float(
        related="company_id.fih_match_price_tolerance_percent", readonly=False
    )
    fih_match_price_tolerance_amount = fields.Float(
        related="company_id.fih_match_price_tolerance_amount", readonly=False
    )
    fih_tax_tolerance = fields.Float(
        related="company_id.fih_tax_tolerance", readonly=False
    )
    fih_over_receipt_tolerance = fields.Float(
        related="company_id.fih_over_receipt_tolerance", readonly=False
    )
    fih_match_price_lower_check = fields.Boolean(
        related="company_id.fih_match_price_lower_check", readonly=False
    )
    fih_match_price_lower_tolerance_percent = fields.Float(
        related="company_id.fih_match_price_lower_tolerance_percent", readonly=False
    )
    fih_match_price_lower_tolerance_amount = fields.Float(
        related="company_id.fih_match_price_lower_tolerance_amount", readonly=False
    )
    fih_near_duplicate_check = fields.Boolean(
        related="company_id.fih_near_duplicate_check", readonly=False
    )
    fih_near_duplicate_days = fields.Integer(
        related="company_id.fih_near_duplicate_days", readonly=False
    )
    fih_tax_rounding_units = fields.Float(
        related="company_id.fih_tax_rounding_units", readonly=False
    )
    fih_charges_product_id = fields.Many2one(
        related="company_id.fih_charges_product_id", readonly=False
    )
    fih_charges_account_id = fields.Many2one(
        related="company_id.fih_charges_account_id", readonly=False
    )
    fih_charges_tolerance_amount = fields.Float(
        related="company_id.fih_charges_tolerance_amount", readonly=False
    )
    fih_charges_tolerance_percent = fields.Float(
        related="company_id.fih_charges_tolerance_percent", readonly=False
    )
