from odoo import api, fields, models

from ..lib.document_numbers import normalise

VENDOR_DOCUMENTS = ("in_invoice", "in_refund")


class AccountMove(models.Model):
    _name = "account.move"
    _inherit = ["account.move", "fih.synced.mixin"]

    fih_hold_reason = fields.Text(
        string="Held by the integration",
        readonly=True,
        copy=False,
        help="Why the bill received from the AP tool was not posted: the "
        "three-way match, tax, currency or period checks that failed, with the "
        "figures compared. Fix the cause, then post it by hand.",
    )
    fih_external_total = fields.Monetary(
        string="Total stated by the AP tool",
        readonly=True,
        copy=False,
        currency_field="currency_id",
    )

    fih_ref_key = fields.Char(
        string="Normalised Reference",
        compute="_compute_fih_ref_key",
        store=True,
        index="btree_not_null",
        help="The supplier's document number without case, spaces, punctuation "
        "or leading zeros: how duplicates and remittances find a bill.",
    )

    @api.depends("ref")
    def _compute_fih_ref_key(self):
        for move in self:
            move.fih_ref_key = normalise(move.ref) or False

    def _vendor_documents(self):
        return self.filtered(lambda m: m.move_type in VENDOR_DOCUMENTS)

    def _post(self, soft=True):
        posted = super()._post(soft=soft)
        self.env["fih.outbox"]._emit(
            "invoice.posted",
            posted._vendor_documents().filtered(lambda m: m.state == "posted"),
        )
        return posted

    def button_cancel(self):
        result = super().button_cancel()
        self.env["fih.outbox"]._emit(
            "invoice.cancelled",
            self._vendor_documents().filtered(lambda m: m.state == "cancel"),
        )
        return result

    def _reverse_moves(self, default_values_list=None, cancel=False):
        reversals = super()._reverse_moves(
            default_values_list=default_values_list, cancel=cancel
        )
        self.env["fih.outbox"]._emit("invoice.reversed", self._vendor_documents())
        return reversals
