from odoo import fields, models
from odoo.exceptions import UserError


class FihInvoicePosting(models.AbstractModel):
    """What happens to a bill that passed every check: the posting policy of
    the supplier and the backend, the document's own due date, and the date
    Odoo books a late invoice on."""

    _inherit = "fih.invoice.handler"

    # -- posting policy --------------------------------------------------------------

    def _posting_policy(self, backend, partner):
        """``matched``, ``post`` or ``draft``, and who decided it: the
        supplier's own setting wins over the backend's."""
        supplier = partner.commercial_partner_id
        if supplier.fih_bill_posting != "backend":
            return supplier.fih_bill_posting, supplier.display_name
        return backend.bill_posting, backend.name

    def _may_post(self, backend, bill, order, partner):
        """Whether a bill that passed every check is posted, as the posting
        policy says; a bill kept in draft for approval gets a note why."""
        policy, decided_by = self._posting_policy(backend, partner)
        if policy == "draft":
            bill.message_post(
                body=self.env._(
                    "Kept in draft for approval: the bill passed every check, and "
                    "the integration bill posting of %s keeps every bill in draft.",
                    decided_by,
                )
            )
            return False
        if policy == "matched" and not order:
            bill.message_post(
                body=self.env._(
                    "Kept in draft for approval: the bill passed every check but "
                    "refers to no purchase order, and the integration bill posting "
                    "of %s only posts bills with a matching order.",
                    decided_by,
                )
            )
            return False
        return True

    def _post_bills(self, bills):
        """Post ``bills`` together; if Odoo refuses, post them one by one so
        that only the refused ones stay in draft. Returns the findings of
        each refused bill, ``{bill id: [sentence]}``."""
        if not bills:
            return {}
        locked = {
            bill.id: bill._get_violated_lock_dates(
                bill.invoice_date, bill._affect_tax_report()
            )
            for bill in bills
        }
        refused = {}
        # the lines of a checked bill are final (taxes booked as stated, the
        # payable line synchronised when they were written): posting them
        # need not compute every bill's tax and payment lines again for each
        # field Odoo sets on it, as Odoo's point of sale posts its own
        # invoices. A bill booked on another date than its own (a locked
        # period) is posted with the full synchronisation.
        unlocked = bills.filtered(lambda bill: not locked[bill.id])
        in_lock = bills - unlocked

        def post(moves):
            (moves & unlocked).with_context(skip_invoice_sync=True).action_post()
            (moves & in_lock).action_post()

        try:
            # Odoo may refuse after it has set the state: undo it all
            with self.env.cr.savepoint():
                post(bills)
        except UserError:
            bills.invalidate_recordset()
            for bill in bills:
                try:
                    with self.env.cr.savepoint():
                        post(bill)
                except UserError as exc:
                    bill.invalidate_recordset()
                    refused[bill.id] = [
                        self.env._("Odoo refused to post the bill: %s", exc.args[0])
                    ]
        for bill in bills:
            if locked[bill.id] and bill.id not in refused:
                bill.message_post(
                    body=self.env._(
                        "The invoice date %(date)s falls in a locked period (locked "
                        "up to %(lock)s): the bill is booked on %(booked)s, the "
                        "first open date, and keeps its invoice date.",
                        date=bill.invoice_date,
                        lock=locked[bill.id][-1][0],
                        booked=bill.date,
                    )
                )
        return refused

    # -- due date ----------------------------------------------------------------------

    def _agreed_payment_term(self, bill, order):
        """The orders' payment term when they agree on one, else the
        supplier's."""
        terms = order.payment_term_id
        return (
            terms
            if len(terms) == 1 and len(order) == len(order.filtered("payment_term_id"))
            else bill.partner_id.commercial_partner_id.property_supplier_payment_term_id
        )

    def _term_due_date(self, term, invoice_date):
        """The last date ``term`` makes a bill of ``invoice_date`` due, or None."""
        if not term or not invoice_date:
            return None
        return max(
            (line._get_due_date(invoice_date) for line in term.line_ids),
            default=None,
        )

    def _keep_due_date(self, bill, order, data):
        """The payment term and due date of ``bill``; returns the findings
        that hold it (empty: nothing to decide).

        Without a due date on the document, the agreed payment term (the
        order's, else the supplier's) decides. A document's due date that
        the agreed term also gives keeps the term, and with it any early
        payment discount. A due date the term does not give is kept as the
        supplier asks (the bill then carries no payment term, or the term
        would compute the date again), with a note naming both dates; when
        the term grants an early payment discount that the document's date
        would lose, the bill is held so that someone decides."""
        term = self._agreed_payment_term(bill, order)
        if not data.get("due_date"):
            # Odoo fills in the supplier's term when the bill is created: the
            # order's, when it has one, is the agreed one
            if term and bill.invoice_payment_term_id != term:
                bill.invoice_payment_term_id = term
            return []
        due = fields.Date.to_date(data["due_date"])
        agreed = self._term_due_date(term, bill.invoice_date)
        if agreed and agreed == due:
            if bill.invoice_payment_term_id != term:
                bill.invoice_payment_term_id = term
            return []
        # together, or the payment term computes the due date again
        bill.write({"invoice_payment_term_id": False, "invoice_date_due": due})
        if not term:
            return []
        if agreed:
            note = self.env._(
                "Due date %(due)s kept as the supplier's document states it; the "
                "agreed payment term %(term)s would make the bill due on "
                "%(agreed)s, so the bill carries no payment term.",
                due=due,
                term=term.display_name,
                agreed=agreed,
            )
        else:
            note = self.env._(
                "Due date %(due)s kept as the supplier's document states it, in "
                "place of the agreed payment term %(term)s (the bill has no "
                "invoice date to compute the term's date from).",
                due=due,
                term=term.display_name,
            )
        bill.message_post(body=note)
        if not term.early_discount:
            return []
        return [
            self.env._(
                "The supplier's document asks payment by %(due)s, but the agreed "
                "payment term %(term)s makes the bill due on %(agreed)s with a "
                "%(percent)s%% early payment discount for payment within %(days)s "
                "days. Kept in draft so that the discount is not lost unnoticed: "
                "to keep the discount, set the payment term %(term)s on the bill "
                "and post it; to pay on the document's date, post it as it is.",
                due=due,
                term=term.display_name,
                agreed=agreed or self.env._("a date computed from the invoice date"),
                percent=f"{term.discount_percentage:g}",
                days=term.discount_days,
            )
        ]
