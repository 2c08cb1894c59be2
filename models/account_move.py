from odoo import api, fields, models
from odoo.exceptions import AccessError

from ..lib.document_numbers import normalise

VENDOR_DOCUMENTS = ("in_invoice", "in_refund")
# written by the integration and by 'Not a duplicate' only (with its trace)
HOLD_FIELDS = {"fih_hold_reason", "fih_duplicate_of_id", "fih_duplicate_reviewed"}


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

    fih_duplicate_of_id = fields.Many2one(
        "account.move",
        string="Possible duplicate of",
        readonly=True,
        copy=False,
        index="btree_not_null",
        help="The bill of the same supplier, for the same amount and about the "
        "same date, that the integration found when this one arrived.",
    )
    fih_duplicate_reviewed = fields.Boolean(
        string="Reviewed: not a duplicate",
        readonly=True,
        copy=False,
        help="A person checked that this bill is a genuine second invoice: the "
        "integration no longer holds it as a possible duplicate.",
    )

    @api.depends("ref")
    def _compute_fih_ref_key(self):
        for move in self:
            move.fih_ref_key = normalise(move.ref) or False

    def _compute_fih_sync(self):
        """A draft bill the integration held needs attention, whatever its
        messages say: the exchange went well, the bill did not pass."""
        result = super()._compute_fih_sync()
        for move in self:
            if move.state == "draft" and move.fih_hold_reason:
                move.fih_sync_state = "attention"
        return result

    def _fih_duplicate_finding(self, other):
        """The hold reason of a possible duplicate of ``other``."""
        self.ensure_one()
        amount = f"{other.amount_total:.{other.currency_id.decimal_places}f}"
        return self.env._(
            "%(prefix)s %(bill)s (number %(number)s): the same supplier and the same "
            "amount %(amount)s %(currency)s, invoiced on %(date)s. If this is a "
            "genuine second invoice, press 'Not a duplicate' and post it.",
            prefix=self._fih_duplicate_prefix(),
            bill=other.name if other.name and other.name != "/" else other.display_name,
            number=other.ref or "-",
            amount=amount,
            currency=other.currency_id.name,
            date=other.invoice_date,
        )

    def _fih_duplicate_prefix(self):
        return self.env._("Possible duplicate of")

    def action_fih_not_a_duplicate(self):
        """A person confirms the bill is a genuine second invoice: the
        possible-duplicate hold is lifted, and stays lifted when the document
        is processed again. The bill is then posted as usual. It is a
        posting decision: only who may post bills (Accounting: Billing) may
        take it."""
        if not self.env.user.has_group("account.group_account_invoice"):
            raise AccessError(
                self.env._(
                    "Only a user who may post bills (Accounting: Billing) can say "
                    "a bill is not a duplicate; ask your accountant."
                )
            )
        self.check_access("write")
        prefix = self._fih_duplicate_prefix()
        activity_type = self.env.ref(
            "finance_integration_hub.mail_activity_type_integration_exception"
        )
        for move in self.filtered(lambda m: m.state == "draft"):
            other = move.fih_duplicate_of_id
            reasons = [
                line
                for line in (move.fih_hold_reason or "").split("\n")
                if line and not line.startswith(prefix)
            ]
            move.sudo().write(
                {
                    "fih_duplicate_reviewed": True,
                    "fih_duplicate_of_id": False,
                    "fih_hold_reason": "\n".join(reasons) or False,
                }
            )
            move.message_post(
                body=self.env._(
                    "Reviewed by %(user)s: not a duplicate of %(bill)s.",
                    user=self.env.user.name,
                    bill=other.display_name or "-",
                )
            )
            if not reasons:
                move.activity_ids.filtered(
                    lambda activity: activity.activity_type_id == activity_type
                ).action_feedback(self.env._("Reviewed: not a duplicate."))
        return True

    def write(self, vals):
        if HOLD_FIELDS.intersection(vals) and not (
            self.env.su
            or self.env.user.has_group("finance_integration_hub.group_fih_service")
        ):
            raise AccessError(
                self.env._(
                    "The integration's hold of a bill is lifted with 'Not a "
                    "duplicate' or by fixing its cause, not by editing it."
                )
            )
        return super().write(vals)

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
