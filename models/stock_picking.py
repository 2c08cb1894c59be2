from odoo import models


class StockPicking(models.Model):
    _inherit = "stock.picking"

    def _action_done(self):
        result = super()._action_done()
        receipts = self.filtered(
            lambda p: p.state == "done"
            and p.picking_type_code == "incoming"
            and p.purchase_id
        )
        self.env["fih.outbox"]._emit("goods_receipt.validated", receipts)
        return result
