from odoo import fields, models

from ..exceptions import FihBusinessException, FihTransientError

MOVE = "account.move"


class FihPaymentHandler(models.AbstractModel):
    """``payment.upsert``: a remittance pays one or several bills, fully or in
    part; each allocation is registered and reconciled with its bill."""

    _name = "fih.payment.handler"
    _inherit = ["fih.procure.to.pay.handler"]
    _description = "Payment Flow"
    _fih_event_type = "payment.upsert"
    _fih_object_type = "payment"

    def _apply(self, backend, message, data, company, cache):
        binding = self._binding(backend, "payment", data["external_id"])
        if binding:
            self._already_applied(binding, data, self.env._("Payment"))
        partner = (
            self._supplier(backend, data["supplier_external_id"])
            if data.get("supplier_external_id")
            else self.env["res.partner"]
        )
        currency = self._currency(data["currency"])
        allocations = data.get("allocations") or []
        if not allocations:
            raise FihBusinessException(
                self.env._(
                    "Payment %s names no bill; register it in Odoo, where it can "
                    "be matched by hand.",
                    data["external_id"],
                )
            )
        allocated = round(sum(item["amount"] for item in allocations), 2)
        if abs(allocated - data["amount"]) > 0.005:
            raise FihBusinessException(
                self.env._(
                    "Payment %(payment)s of %(amount)s %(currency)s allocates "
                    "%(allocated)s to bills; the figures must agree.",
                    payment=data["external_id"],
                    amount=data["amount"],
                    currency=currency.name,
                    allocated=allocated,
                )
            )
        bills = [
            (self._bill(backend, company, partner, item), item["amount"])
            for item in allocations
        ]
        for bill, amount in bills:
            self._check_allocation(bill, amount, partner, currency)
        links, payments = [], self.env["account.payment"]
        for bill, amount in bills:
            payment = self._register_payment(bill, amount, currency, data)
            payments |= payment
            links += [
                ("account.payment", payment.id, "created"),
                (MOVE, bill.id, "paid"),
            ]
        self._bind(backend, message, "payment", data["external_id"], payments[:1], data)
        return links

    def _check_allocation(self, bill, amount, partner, currency):
        if partner and bill.commercial_partner_id != partner.commercial_partner_id:
            raise FihBusinessException(
                self.env._(
                    "The remittance of %(supplier)s pays %(bill)s, a bill of "
                    "%(other)s; nothing of this payment was registered.",
                    supplier=partner.display_name,
                    bill=bill.display_name,
                    other=bill.partner_id.display_name,
                )
            )
        if bill.move_type != "in_invoice":
            raise FihBusinessException(
                self.env._(
                    "The remittance allocates to %s, a credit note; settle credit "
                    "notes in Odoo. Nothing of this payment was registered.",
                    bill.display_name,
                )
            )
        if currency == bill.currency_id and amount > bill.amount_residual + 0.005:
            raise FihBusinessException(
                self.env._(
                    "The remittance pays %(amount)s on %(bill)s, which has only "
                    "%(residual)s left to pay; nothing of this payment was "
                    "registered.",
                    amount=amount,
                    bill=bill.display_name,
                    residual=bill.amount_residual,
                )
            )

    def _bill(self, backend, company, partner, item):
        bill = self.env[MOVE]
        if item.get("invoice_external_id"):
            bill = self._bound(backend, "invoice", item["invoice_external_id"], MOVE)
        elif item.get("invoice_number") and not partner:
            raise FihBusinessException(
                self.env._(
                    "The remittance names bill %s by its number but not its "
                    "supplier; nothing of this payment was registered.",
                    item["invoice_number"],
                )
            )
        elif item.get("invoice_number"):
            bill = self.env[MOVE].search(
                [
                    ("company_id", "=", company.id),
                    ("move_type", "in", ("in_invoice", "in_refund")),
                    ("commercial_partner_id", "=", partner.commercial_partner_id.id),
                    ("ref", "=ilike", self._like_literal(item["invoice_number"])),
                    ("state", "!=", "cancel"),
                ],
                limit=1,
            )
        reference = item.get("invoice_external_id") or item.get("invoice_number")
        if not bill and not reference:
            raise FihBusinessException(
                self.env._(
                    "An allocation of the remittance names no bill; nothing of "
                    "this payment was registered."
                )
            )
        if not bill:
            # the bill may still be on its way: wait for it, then give up
            # (dead letter, with an activity) after the backend's retries
            raise FihTransientError(
                self.env._(
                    "The remittance pays bill %s, which Odoo does not know (yet); "
                    "nothing of this payment was registered. It is retried "
                    "automatically until the bill arrives.",
                    reference,
                )
            )
        if bill.state != "posted":
            raise FihBusinessException(
                self.env._(
                    "The remittance pays %(bill)s, which is not posted (%(reason)s); "
                    "nothing of this payment was registered.",
                    bill=bill.display_name,
                    reason=bill.fih_hold_reason or bill.state,
                )
            )
        if bill.payment_state in ("paid", "reversed"):
            raise FihBusinessException(
                self.env._(
                    "The remittance pays %s, which is already paid; nothing of "
                    "this payment was registered.",
                    bill.display_name,
                )
            )
        return bill

    def _register_payment(self, bill, amount, currency, data):
        wizard = (
            self.env["account.payment.register"]
            .with_context(active_model=MOVE, active_ids=bill.ids)
            .create(
                {
                    "payment_date": data["payment_date"],
                    "amount": amount,
                    "currency_id": currency.id,
                    "communication": data.get("reference") or data["external_id"],
                    # a partial payment leaves the rest of the bill open
                    "payment_difference_handling": "open",
                }
            )
        )
        payment = wizard._create_payments()
        payment.fih_external_reference = data["external_id"]
        if not payment.date:
            payment.date = fields.Date.to_date(data["payment_date"])
        return payment
