from odoo import api, models

from ..exceptions import FihBusinessException
from ..lib import remittance
from ..lib.money import money, to_decimal

MOVE = "account.move"


class FihPaymentRegistration(models.AbstractModel):
    """Registering a decided remittance with Odoo's own tools: credit notes
    reconciled with the bills they are deducted from, payments through the
    payment registration wizard (which books write-offs and leaves exchange
    differences to Odoo), the rest on account; then Odoo's outcome is
    compared with the plan, to the cent."""

    _inherit = "fih.payment.handler"

    @api.model
    def _register_remittance(self, plan, company, partner, currency, policy, data):
        """Book ``plan``; return the payments created."""
        # what each bill in another currency than the remittance has open in
        # the company currency before it is paid: Odoo's outcome is checked
        # against it (see _check_outcome)
        home_open = tuple(
            (s.document.key, self._home_open(self.env[MOVE].browse(s.document.key)))
            for s in plan.settlements
            if not s.document.native
        )
        for netting in plan.nettings:
            self._net(netting)
        payments = self.env["account.payment"]
        if plan.bills_paid_in_full:
            payments |= self._pay_together(plan.bills_paid_in_full, currency, data)
        for settlement in plan.bills_paid_alone:
            payments |= self._pay_alone(settlement, currency, policy, data)
        if plan.on_account:
            payments |= self._pay_on_account(plan, company, partner, currency, data)
        payments.fih_external_reference = data["external_id"]
        self._check_paid(plan, payments, currency)
        self.with_context(fih_home_open=home_open)._check_outcome(
            plan, currency, company, data["payment_date"]
        )
        return payments

    @api.model
    def _home_open(self, move):
        """What ``move`` has open in the company currency."""
        return abs(sum(self._open_lines(move).mapped("amount_residual")))

    @api.model
    def _net(self, netting):
        """Set a credit note off against a bill: their open payable lines
        reconciled together, per account."""
        moves = self.env[MOVE].browse([netting.credit_note.key, netting.bill.key])
        lines = self._open_lines(moves[0]) | self._open_lines(moves[1])
        for account in lines.account_id:
            lines.filtered(lambda line, a=account: line.account_id == a).reconcile()

    @api.model
    def _wizard(self, moves, values, data):
        return (
            self.env["account.payment.register"]
            .with_context(active_model=MOVE, active_ids=moves.ids)
            .create(
                {
                    "payment_date": data["payment_date"],
                    "communication": data.get("reference") or data["external_id"],
                    **values,
                }
            )
        )

    @api.model
    def _pay_together(self, settlements, currency, data):
        """One payment for the bills settled exactly (one per batch of Odoo's:
        bills to different bank accounts of the supplier are paid apart)."""
        bills = self.env[MOVE].browse([s.document.key for s in settlements])
        wizard = self._wizard(
            bills,
            {
                "amount": float(sum(s.cash for s in settlements)),
                "currency_id": currency.id,
                "group_payment": True,
                "payment_difference_handling": "open",
            },
            data,
        )
        if wizard.can_edit_wizard:
            self._check_difference(wizard, 0, bills, currency)
        return wizard._create_payments()

    @api.model
    def _pay_alone(self, settlement, currency, policy, data):
        """A payment of its own: a write-off, a partial payment, or a bill in
        another currency than the remittance's."""
        bill = self.env[MOVE].browse(settlement.document.key)
        values = {
            "amount": float(settlement.cash),
            "currency_id": currency.id,
            "payment_difference_handling": "open",
        }
        if settlement.outcome == remittance.WRITE_OFF:
            values.update(
                payment_difference_handling="reconcile",
                writeoff_account_id=policy.account_id.id,
                writeoff_label=policy.label,
            )
        if settlement.outcome == remittance.EARLY_DISCOUNT:
            # Odoo books the payment term's discount itself, on its accounts
            del values["payment_difference_handling"]
        wizard = self._wizard(bill, values, data)
        self._check_difference(
            wizard, settlement.write_off or settlement.remaining, bill, currency
        )
        return wizard._create_payments()

    @api.model
    def _check_difference(self, wizard, expected, bills, currency):
        """Odoo must see the difference the plan sees (an early payment
        discount or an instalment plan would make it see another)."""
        if currency.compare_amounts(wizard.payment_difference, float(expected)):
            raise FihBusinessException(
                self.env._(
                    "Odoo would leave a difference of %(odoo)s %(currency)s on "
                    "%(bills)s where the remittance leaves %(expected)s; nothing "
                    "of this payment was registered. Check the payment terms of "
                    "the bills, then register the payment in Odoo.",
                    odoo=currency.round(wizard.payment_difference),
                    currency=currency.name,
                    bills=", ".join(bills.mapped(self._document_name)),
                    expected=expected,
                ),
                cause="payment.difference",
            )

    @api.model
    def _pay_on_account(self, plan, company, partner, currency, data):
        """The rest no bill takes: a posted outbound payment, open on the
        supplier as an outstanding debit until someone applies it."""
        payment = (
            self.env["account.payment"]
            .with_company(company)
            .create(
                {
                    "payment_type": "outbound",
                    "partner_type": "supplier",
                    "partner_id": partner.commercial_partner_id.id,
                    "amount": float(plan.on_account),
                    "currency_id": currency.id,
                    "date": data["payment_date"],
                    "memo": data.get("reference") or data["external_id"],
                }
            )
        )
        payment.action_post()
        return payment

    @api.model
    def _check_paid(self, plan, payments, currency):
        """The payments pay what the remittance paid: no discount taken by
        Odoo's payment registration (early payment), no amount lost."""
        planned = sum((s.cash for s in plan.of(remittance.BILL)), plan.on_account)
        paid = sum(payments.mapped("amount"))
        if payments.currency_id != currency or currency.compare_amounts(
            paid, float(planned)
        ):
            raise FihBusinessException(
                self.env._(
                    "Odoo would register %(paid)s %(odoo_currency)s where the "
                    "remittance paid %(planned)s %(currency)s; nothing of this "
                    "payment was registered. Check the payment terms (early "
                    "payment discounts) of the bills, then register the payment "
                    "in Odoo.",
                    paid=currency.round(paid),
                    odoo_currency=", ".join(payments.currency_id.mapped("name")),
                    planned=planned,
                    currency=currency.name,
                ),
                cause="payment.difference",
            )

    @api.model
    def _check_outcome(self, plan, currency, company, day):
        """Every document is left as the plan says, to the cent; otherwise
        nothing stays registered.

        A document in the remittance currency must have exactly the planned
        remainder open. For a document in another currency, Odoo values the
        payment in the company currency at the payment date ``day`` and
        settles each journal item at the rate it was booked at: what it
        leaves open in the company currency must be what the document had
        open before less what the remittance paid on it (the planned
        payment converted at ``day``), within the company currency's
        smallest unit. The company-currency figures open before come from
        the context key ``fih_home_open`` (pairs of document key, amount)."""
        home_open = dict(self.env.context.get("fih_home_open") or ())
        self.env.invalidate_all()
        home = company.currency_id
        for settlement in plan.settlements:
            move = self.env[MOVE].browse(settlement.document.key)
            own = move.currency_id
            residual = move.amount_residual
            shown = f"{money(to_decimal(residual), own.decimal_places)} {own.name}"
            if settlement.outcome != remittance.PARTIAL:
                wrong = not own.is_zero(residual)
                expected = self.env._("nothing")
            elif settlement.document.native:
                expected = f"{settlement.remaining} {currency.name}"
                wrong = own.compare_amounts(residual, float(settlement.remaining))
            else:
                paid = settlement.document.open_amount - settlement.remaining
                left = home_open[settlement.document.key] - currency._convert(
                    float(paid), home, company, day
                )
                residual_home = self._home_open(move)
                if own != home:
                    shown = self.env._(
                        "%(residual)s (%(home_residual)s %(home)s)",
                        residual=shown,
                        home_residual=money(
                            to_decimal(residual_home), home.decimal_places
                        ),
                        home=home.name,
                    )
                expected = self.env._(
                    "%(remaining)s %(currency)s (%(converted)s %(home)s at the "
                    "rate of %(date)s)",
                    remaining=money(settlement.remaining, currency.decimal_places),
                    currency=currency.name,
                    converted=money(to_decimal(left), home.decimal_places),
                    home=home.name,
                    date=day,
                )
                wrong = (
                    own.is_zero(residual)
                    or home.compare_amounts(abs(residual_home - left), home.rounding)
                    > 0
                )
            if wrong:
                raise FihBusinessException(
                    self.env._(
                        "Odoo left %(residual)s open on %(document)s where the "
                        "remittance leaves %(expected)s open; nothing of this "
                        "payment was registered. Check the document's journal "
                        "items (accounts, currency), then register the payment "
                        "in Odoo.",
                        residual=shown,
                        document=settlement.document.name,
                        expected=expected,
                    ),
                    cause="payment.difference",
                )
