from odoo import models


class AccountPayment(models.Model):
    _name = "account.payment"
    _inherit = ["account.payment", "fih.synced.mixin"]

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
