from odoo import fields, models


class AccountPayment(models.Model):
    _name = "account.payment"
    _inherit = ["account.payment", "fih.synced.mixin"]

    fih_external_reference = fields.Char(
        string="Remittance reference",
        readonly=True,
        copy=False,
        index="btree_not_null",
        help="Payment or remittance id in the system that reported it.",
    )

    def action_post(self):
        result = super().action_post()
        self.env["fih.outbox"]._emit(
            "payment.posted",
            self.filtered(
                lambda p: p.partner_type == "supplier"
                and p.state in ("in_process", "paid", "posted")
            ),
        )
        return result

    def unlink(self):
        self.env["fih.bi.deletion"]._record(
            self.filtered(lambda payment: payment.partner_type == "supplier")
        )
        return super().unlink()
