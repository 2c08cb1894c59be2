from odoo import models

from ..exceptions import FihBusinessException

MOVE = "account.move"


class FihInvoiceDuplicates(models.AbstractModel):
    """Duplicate detection for incoming bills: the same supplier's number, or
    the same amount on the same date."""

    _inherit = "fih.invoice.handler"

    def _check_duplicates(self, company, partner, move_type, data, exclude=None):
        Move = self.env[MOVE]
        common = [
            ("company_id", "=", company.id),
            ("move_type", "=", move_type),
            ("commercial_partner_id", "=", partner.commercial_partner_id.id),
            ("state", "!=", "cancel"),
            ("id", "not in", exclude.ids if exclude else []),
        ]
        same_number = Move.search(
            common + [("ref", "=ilike", self._like_literal(data["invoice_number"]))],
            limit=1,
        )
        if same_number:
            raise FihBusinessException(
                self.env._(
                    "Duplicate invoice: %(supplier)s's number %(number)s is already "
                    "recorded as %(bill)s. The document was not created.",
                    supplier=partner.display_name,
                    number=data["invoice_number"],
                    bill=same_number.display_name,
                )
            )
        same_amount = Move.search(
            common
            + [
                ("invoice_date", "=", data["invoice_date"]),
                ("amount_total", "=", data["amount_total"]),
            ],
            limit=1,
        )
        if same_amount:
            raise FihBusinessException(
                self.env._(
                    "Possible duplicate invoice: %(supplier)s already has %(bill)s "
                    "(number %(other)s) for the same amount %(amount)s on the same "
                    "date %(date)s. The document was not created; if it is a "
                    "genuine second invoice, record it in Odoo by hand.",
                    supplier=partner.display_name,
                    bill=same_amount.display_name,
                    other=same_amount.ref or "-",
                    amount=data["amount_total"],
                    date=data["invoice_date"],
                )
            )
