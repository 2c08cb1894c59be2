from odoo import api, fields, models

from ..lib.remittance import WriteOffPolicy


class FihPaymentDifferencePolicy(models.Model):
    """How small a difference between a remittance and a bill's open amount
    is written off rather than left open, per company and currency."""

    _name = "fih.payment.difference.policy"
    _description = "Payment Difference Write-off Policy"
    _inherit = ["mail.thread", "fih.audited.mixin"]
    _order = "company_id, currency_id"
    _check_company_auto = True

    company_id = fields.Many2one(
        "res.company",
        required=True,
        default=lambda self: self.env.company,
        tracking=True,
    )
    currency_id = fields.Many2one(
        "res.currency",
        required=True,
        tracking=True,
        help="Currency of the remittances this policy applies to; the limits "
        "are in this currency.",
    )
    max_amount = fields.Monetary(
        string="Maximum difference",
        currency_field="currency_id",
        required=True,
        tracking=True,
        help="A remittance that differs from a bill's open amount by at most "
        "this amount (less or more) settles the bill, the difference written "
        "off.",
    )
    max_percent = fields.Float(
        string="Maximum share of the open amount (%)",
        tracking=True,
        help="The difference must also be at most this percentage of the "
        "bill's open amount. 0: only the maximum difference applies.",
    )
    account_id = fields.Many2one(
        "account.account",
        string="Write-off account",
        required=True,
        check_company=True,
        tracking=True,
        domain="[('account_type', 'not in', ('asset_receivable', "
        "'liability_payable', 'off_balance'))]",
        help="Account of the journal item that settles the difference.",
    )
    label = fields.Char(
        string="Reason",
        required=True,
        tracking=True,
        default=lambda self: self.env._("Payment difference"),
        help="Label of the write-off journal item, the reason an auditor reads.",
    )

    _sql_constraints = [
        (
            "company_currency_uniq",
            "unique(company_id, currency_id)",
            "One write-off policy per company and currency.",
        ),
        (
            "max_amount_positive",
            "CHECK(max_amount > 0)",
            "The maximum difference must be more than zero; without a policy "
            "no difference is written off.",
        ),
        (
            "max_percent_range",
            "CHECK(max_percent >= 0 AND max_percent < 100)",
            "The maximum share of the open amount is a percentage from 0 to " "100.",
        ),
    ]

    @api.model
    def _for(self, company, currency):
        """The policy of ``company`` for remittances in ``currency``."""
        return self.sudo().search(
            [("company_id", "=", company.id), ("currency_id", "=", currency.id)],
            limit=1,
        )

    def _limits(self):
        """The limits as the remittance engine reads them."""
        self.ensure_one()
        return WriteOffPolicy(
            max_amount=self.currency_id.round(self.max_amount),
            max_percent=str(self.max_percent),
        )
