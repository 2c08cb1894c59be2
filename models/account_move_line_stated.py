from odoo import fields, models


class AccountMoveLine(models.Model):
    """What a supplier's document states about a bill line: the tax codes it
    was given, and whether it is a document-level charge or allowance."""

    _inherit = "account.move.line"

    fih_tax_codes = fields.Json(
        string="Stated tax codes",
        readonly=True,
        copy=False,
        help="The tax codes the supplier's document gives this line, each with "
        "the Odoo tax it was booked with ({code: tax id}); the tax check "
        "compares the taxes per code with these.",
    )
    fih_charge_kind = fields.Selection(
        [("charge", "Charge"), ("allowance", "Allowance")],
        string="Document charge",
        readonly=True,
        copy=False,
        help="Set on the lines made from the document's header charges "
        "(freight, handling, surcharges) and allowances (header discounts): "
        "they are not matched against the order.",
    )
