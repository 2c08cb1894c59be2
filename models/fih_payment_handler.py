from odoo import api, fields, models

from ..exceptions import FihBusinessException, FihTransientError
from ..lib import remittance
from ..lib.document_numbers import normalise

MOVE = "account.move"
KIND_OF_MOVE = {"in_invoice": remittance.BILL, "in_refund": remittance.CREDIT_NOTE}
PAYABLE_TYPES = ("asset_receivable", "liability_payable")


class FihPaymentHandler(models.AbstractModel):
    """``payment.upsert``: a remittance pays bills, fully or in part, deducts
    credit notes and pays the rest on account.

    Every allocation is first resolved to its document, then the remittance
    is decided as a whole (``lib/remittance.py``); only a remittance valid as
    a whole is registered (``fih_payment_registration.py``)."""

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
            self._supplier(backend, data["supplier_external_id"], company)
            if data.get("supplier_external_id")
            else self.env["res.partner"]
        )
        currency = self._currency(data["currency"])
        date = fields.Date.to_date(data["payment_date"])
        self._check_rates(currency, company, date)
        documents = {}  # move id -> remittance.Document, one per document
        allocations = [
            self._allocation(backend, company, partner, item, currency, date, documents)
            for item in data.get("allocations") or []
        ]
        moves = self.env[MOVE].browse(list(documents))
        partner = partner or self._supplier_of(moves, data)
        policy = self.env["fih.payment.difference.policy"]._for(company, currency)
        try:
            plan = remittance.plan(
                data["amount"],
                allocations,
                policy._limits() if policy else None,
                currency.name,
                currency.decimal_places,
            )
        except remittance.Refused as refused:
            raise FihBusinessException(
                self.env._(
                    "%(reason)s Nothing of payment %(payment)s was registered.",
                    reason=str(refused),
                    payment=data["external_id"],
                ),
                cause="payment.unmatched",
            ) from None
        if plan.on_account and not partner:
            raise FihBusinessException(
                self.env._(
                    "Payment %(payment)s pays %(amount)s %(currency)s that no bill "
                    "takes, and names no supplier to pay it on account of; "
                    "nothing of this payment was registered. Send the supplier's "
                    "external id with the payment.",
                    payment=data["external_id"],
                    amount=plan.on_account,
                    currency=currency.name,
                ),
                cause="payment.unmatched",
            )
        payments = self._register_remittance(
            plan, company, partner, currency, policy, data
        )
        self._bind(backend, message, "payment", data["external_id"], payments[:1], data)
        return [("account.payment", payment.id, "created") for payment in payments] + [
            (MOVE, move.id, "paid") for move in moves
        ]

    # -- resolving allocations -----------------------------------------------------

    @api.model
    def _allocation(self, backend, company, partner, item, currency, date, documents):
        kind, amount = remittance.allocation_kind(item)
        move = self._document(backend, company, partner, item, kind)
        if move.id not in documents:
            self._check_document(move, company, partner)
            self._check_rates(move.currency_id | currency, company, date)
            documents[move.id] = remittance.Document(
                move.id,
                self._document_name(move),
                kind,
                str(self._open_amount(move, currency, date)),
                native=move.currency_id == currency,
                discounted_amount=self._discounted_amount(move, currency, date),
            )
        reference = item.get("invoice_external_id") or item.get("invoice_number")
        return remittance.Allocation(documents[move.id], amount, reference)

    @api.model
    def _check_rates(self, currencies, company, date):
        """Odoo would convert a currency without a rate 1:1: the remittance's
        and its documents' currencies need one on or before the payment date."""
        missing = self._currencies_without_rate(currencies, company, date)
        if missing:
            raise FihBusinessException(
                self.env._(
                    "No %(currency)s exchange rate is recorded on or before "
                    "%(date)s, the payment date, so the remittance cannot be "
                    "valued in %(company_currency)s; nothing of this payment was "
                    "registered. Add the rate in Accounting > Configuration > "
                    "Currencies, then process the payment again.",
                    currency=", ".join(missing.mapped("name")),
                    date=date,
                    company_currency=company.currency_id.name,
                ),
                cause="currency.no_rate",
                params={"code": missing[0].name},
            )

    @api.model
    def _document_name(self, move):
        if move.ref and move.ref != move.name:
            return f"{move.name} ({move.ref})"
        return move.name

    @api.model
    def _document(self, backend, company, partner, item, kind):
        """The bill or credit note an allocation names: by its external id,
        else by the supplier's number compared as normalised keys."""
        words = self._document_words()
        what = words[kind]
        reference = item.get("invoice_external_id") or item.get("invoice_number")
        if item.get("invoice_external_id"):
            moves = self._bound(backend, "invoice", item["invoice_external_id"], MOVE)
        elif not partner:
            raise FihBusinessException(
                self.env._(
                    "The remittance names %(what)s %(number)s by its number but "
                    "not its supplier; nothing of this payment was registered.",
                    what=what,
                    number=reference,
                ),
                cause="payment.unmatched",
            )
        elif not normalise(reference):
            raise FihBusinessException(
                self.env._(
                    "The remittance names %(what)s '%(number)s', a number without "
                    "letters or digits; nothing of this payment was registered.",
                    what=what,
                    number=reference,
                ),
                cause="payment.unmatched",
            )
        else:
            moves = self.env[MOVE].search(
                [
                    ("company_id", "=", company.id),
                    ("move_type", "in", tuple(KIND_OF_MOVE)),
                    ("commercial_partner_id", "=", partner.commercial_partner_id.id),
                    ("fih_ref_key", "=", normalise(reference)),
                    ("state", "!=", "cancel"),
                ]
            )
        if not moves:
            # the document may still be on its way: wait for it, then give up
            # (dead letter, with an activity) after the backend's retries
            raise FihTransientError(
                self.env._(
                    "The remittance pays %(what)s %(reference)s, which Odoo does "
                    "not know (yet); nothing of this payment was registered. It "
                    "is retried automatically until the document arrives.",
                    what=what,
                    reference=reference,
                ),
                cause="payment.unmatched",
            )
        matching = moves.filtered(lambda m: KIND_OF_MOVE.get(m.move_type) == kind)
        if not matching:
            raise FihBusinessException(
                self.env._(
                    "The remittance settles %(document)s as a %(what)s, but it is "
                    "a %(actual)s; nothing of this payment was registered. A "
                    "credit note is deducted with a negative amount or with "
                    "document_type credit_note.",
                    document=", ".join(moves.mapped(self._document_name)),
                    what=what,
                    actual=", ".join(
                        sorted(
                            {
                                words.get(KIND_OF_MOVE.get(m.move_type), m.move_type)
                                for m in moves
                            }
                        )
                    ),
                ),
                cause="payment.unmatched",
            )
        if len(matching) > 1:
            raise FihBusinessException(
                self.env._(
                    "The remittance names %(what)s %(reference)s, and several "
                    "documents of the supplier have that number (%(documents)s); "
                    "nothing of this payment was registered. Name it by its "
                    "external id, or register the payment in Odoo.",
                    what=what,
                    reference=reference,
                    documents=", ".join(matching.mapped(self._document_name)),
                ),
                cause="payment.unmatched",
            )
        return matching

    @api.model
    def _document_words(self):
        return {
            remittance.BILL: self.env._("bill"),
            remittance.CREDIT_NOTE: self.env._("credit note"),
        }

    @api.model
    def _check_document(self, move, company, partner):
        name = self._document_name(move)
        if move.company_id != company:
            raise FihBusinessException(
                self.env._(
                    "The remittance pays %(document)s, a document of %(other)s, "
                    "not of %(company)s; nothing of this payment was registered.",
                    document=name,
                    other=move.company_id.name,
                    company=company.name,
                ),
                cause="payment.unmatched",
            )
        if partner and move.commercial_partner_id != partner.commercial_partner_id:
            raise FihBusinessException(
                self.env._(
                    "The remittance of %(supplier)s pays %(bill)s, a bill of "
                    "%(other)s; nothing of this payment was registered.",
                    supplier=partner.display_name,
                    bill=name,
                    other=move.partner_id.display_name,
                ),
                cause="payment.unmatched",
            )
        if move.state != "posted":
            raise FihBusinessException(
                self.env._(
                    "The remittance pays %(bill)s, which is not posted (%(reason)s); "
                    "nothing of this payment was registered.",
                    bill=name,
                    reason=move.fih_hold_reason or move.state,
                ),
                cause="payment.unmatched",
            )
        if move.payment_state in ("paid", "in_payment", "reversed"):
            raise FihBusinessException(
                self.env._(
                    "The remittance settles %s, which is already settled; "
                    "nothing of this payment was registered.",
                    name,
                ),
                cause="payment.unmatched",
            )

    @api.model
    def _open_lines(self, move):
        return move.line_ids.filtered(
            lambda line: line.account_type in PAYABLE_TYPES
            and not line.reconciled
            and not line.currency_id.is_zero(line.amount_residual_currency)
        )

    @api.model
    def _open_amount(self, move, currency, date):
        """What ``move`` has open, in ``currency``: its own figure when it is
        in that currency, else converted at the payment date's rate, as
        Odoo's payment registration does."""
        lines = self._open_lines(move)
        own = abs(sum(lines.mapped("amount_residual_currency")))
        if move.currency_id == currency:
            return currency.round(own)
        company = move.company_id
        if currency == company.currency_id:
            return move.currency_id._convert(own, currency, company, date)
        balance = abs(sum(lines.mapped("amount_residual")))
        return company.currency_id._convert(balance, currency, company, date)

    @api.model
    def _discounted_amount(self, move, currency, date):
        """What settles ``move`` in full on ``date`` under its payment term's
        early payment discount, as Odoo's payment registration offers it;
        None when no discount applies."""
        if not move._is_eligible_for_early_payment_discount(currency, date):
            return None
        lines = move.line_ids.filtered(lambda line: line.display_type == "payment_term")
        return str(currency.round(abs(sum(lines.mapped("discount_amount_currency")))))

    @api.model
    def _supplier_of(self, moves, data):
        """The supplier of documents named by external id only."""
        partners = moves.commercial_partner_id
        if len(partners) > 1:
            raise FihBusinessException(
                self.env._(
                    "Payment %(payment)s names no supplier and settles documents "
                    "of several (%(suppliers)s); nothing of this payment was "
                    "registered.",
                    payment=data["external_id"],
                    suppliers=", ".join(partners.mapped("display_name")),
                ),
                cause="payment.unmatched",
            )
        return partners
