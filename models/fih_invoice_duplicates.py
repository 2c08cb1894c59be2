from datetime import timedelta

from odoo import models

from ..exceptions import FihBusinessException
from ..lib.document_numbers import normalise

MOVE = "account.move"


class FihInvoiceDuplicates(models.AbstractModel):
    """Duplicate detection for incoming bills: the same supplier's number
    however it is written is refused; the same amount about the same date is
    held for a person to decide."""

    _inherit = "fih.invoice.handler"

    def _same_supplier_domain(self, company, partner, move_type, exclude):
        return [
            ("company_id", "=", company.id),
            ("move_type", "=", move_type),
            ("commercial_partner_id", "=", partner.commercial_partner_id.id),
            ("state", "!=", "cancel"),
            ("id", "not in", exclude.ids if exclude else []),
        ]

    def _check_duplicate_number(self, company, partner, move_type, data, exclude=None):
        """Refuse a document whose number the supplier already used, compared
        without case, spaces, punctuation or leading zeros."""
        key = normalise(data["invoice_number"])
        if not key:
            return
        same_number = self.env[MOVE].search(
            self._same_supplier_domain(company, partner, move_type, exclude)
            + [("fih_ref_key", "=", key)],
            limit=1,
        )
        if same_number:
            raise FihBusinessException(
                self.env._(
                    "Duplicate invoice: %(supplier)s's number %(number)s is already "
                    "recorded as %(bill)s (number %(other)s; numbers are compared "
                    "without case, spaces, punctuation or leading zeros). The "
                    "document was not created.",
                    supplier=partner.display_name,
                    number=data["invoice_number"],
                    bill=same_number.display_name,
                    other=same_number.ref,
                ),
                cause="bill.duplicate",
            )

    def _check_duplicate_in_batch(self, company, partner, move_type, data, cache):
        """The same number twice in one batch: the later one is refused, as it
        would be once the first is recorded."""
        key = normalise(data["invoice_number"])
        if not key:
            return
        seen = cache.setdefault("invoice_numbers", set())
        identity = (company.id, partner.commercial_partner_id.id, move_type, key)
        if identity in seen:
            raise FihBusinessException(
                self.env._(
                    "Duplicate invoice: %(supplier)s's number %(number)s arrived "
                    "twice in the same batch; the first is recorded, this one was "
                    "not created (numbers are compared without case, spaces, "
                    "punctuation or leading zeros).",
                    supplier=partner.display_name,
                    number=data["invoice_number"],
                ),
                cause="bill.duplicate",
            )
        seen.add(identity)

    def _near_duplicate_findings(self, bill):
        """A bill of the same supplier for the same amount, invoiced within the
        company's number of days, unless a person said it is not a duplicate."""
        company = bill.company_id
        if (
            not company.fih_near_duplicate_check
            or bill.fih_duplicate_reviewed
            or not bill.invoice_date
        ):
            bill.fih_duplicate_of_id = False
            return []
        days = timedelta(days=max(company.fih_near_duplicate_days, 0))
        other = self.env[MOVE].search(
            self._same_supplier_domain(company, bill.partner_id, bill.move_type, bill)
            + [
                ("currency_id", "=", bill.currency_id.id),
                ("amount_total", "=", bill.currency_id.round(bill.amount_total)),
                ("invoice_date", ">=", bill.invoice_date - days),
                ("invoice_date", "<=", bill.invoice_date + days),
                # a bill a person reviewed is still a candidate for the bills
                # after it (it is genuine, and so may be duplicated), never
                # for those before it (it was found not to duplicate them)
                "|",
                ("fih_duplicate_reviewed", "=", False),
                ("id", "<", bill.id),
                # bills created with this one (same batch, same transaction):
                # only the earlier ones count, as if they came one by one
                "|",
                ("id", "<", bill.id),
                ("create_date", "!=", bill.create_date),
            ],
            order="invoice_date, id",
            limit=1,
        )
        if bill.fih_duplicate_of_id != other:
            bill.fih_duplicate_of_id = other
        return [bill._fih_duplicate_finding(other)] if other else []
