from odoo import api, models

BANK_FIELDS = {"acc_number", "acc_holder_name", "bank_id", "partner_id", "active"}


class SavedWithPartner:
    """Bank changes made within a partner's own create or write: the
    suppliers concerned are collected here, and the partner's save announces
    them once, after its own event. Only the hub's code creates it; a remote
    caller's context (JSON) cannot carry it, so no one can silence a bank
    change."""

    __slots__ = ("supplier_ids",)

    def __init__(self):
        self.supplier_ids = set()


class ResPartnerBank(models.Model):
    """A supplier's bank details changed on their own record are a supplier
    change for the systems that pay or check suppliers."""

    _inherit = "res.partner.bank"

    def _emit_supplier_changed(self, partners):
        suppliers = partners.commercial_partner_id.filtered(
            lambda p: p.supplier_rank > 0
        )
        if not suppliers:
            return
        saved_with = self.env.context.get("fih_partner_write")
        if isinstance(saved_with, SavedWithPartner):
            # the partner's own create or write announces the change, once
            saved_with.supplier_ids.update(suppliers.ids)
            return
        self.env["fih.outbox"]._emit("supplier.changed", suppliers)

    @api.model_create_multi
    def create(self, vals_list):
        accounts = super().create(vals_list)
        self._emit_supplier_changed(accounts.partner_id)
        return accounts

    def write(self, vals):
        partners = self.partner_id
        result = super().write(vals)
        if BANK_FIELDS & set(vals):
            self._emit_supplier_changed(partners | self.partner_id)
        return result

    def unlink(self):
        partners = self.partner_id
        result = super().unlink()
        self._emit_supplier_changed(partners)
        return result
