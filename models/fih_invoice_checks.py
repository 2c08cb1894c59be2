from dataclasses import replace

from odoo import fields, models

from ..lib import three_way_match, units
from ..lib.money import money, plain, round_half_up, to_decimal

# order prices converted into the bill's currency keep this many decimals
CONVERTED_PRICE_PLACES = 6
PRICE_FINDINGS = ("price_mismatch", "over_credited_price")


class FihInvoiceChecks(models.AbstractModel):
    """The checks a bill passes before it is posted: supplier, totals,
    exchange rates, unit price precision, possible duplicates and the
    three-way match (order prices converted into the bill's currency); each
    failure is a sentence with the figures compared. A bill dated in a locked
    period is not held: Odoo books it on the first open date."""

    _inherit = "fih.invoice.handler"

    def _findings(self, bill, order, data, tax_findings=None):
        """Every reason not to post, as sentences with the figures compared
        (the tax findings are added by ``fih_invoice_taxes``)."""
        findings = []
        for one in order:
            findings += self._order_findings(bill, one)
        findings += self._several_orders_findings(bill, order)
        findings += self._line_amount_findings(bill, data)
        # exact: the taxes are booked as stated (fih_invoice_taxes, else the
        # bill is held for them) and every line at its stated amount
        findings += self._total_findings(bill, data)
        findings += self._amount_due_findings(bill, data)
        rate_findings = self._exchange_rate_findings(bill, order)
        findings += rate_findings
        findings += self._price_precision_findings(bill.currency_id, data["lines"])
        findings += self._quantity_precision_findings(data["lines"])
        findings += self._near_duplicate_findings(bill)
        if order and len(order.currency_id) == 1:
            findings += [
                finding.message
                for finding in self._three_way_match(
                    bill, order, compare_prices=not rate_findings
                ).findings
            ]
        findings += self._untaxed_findings(bill, data)
        return findings

    def _total_findings(self, bill, data):
        """The bill's total against the document's, to the smallest amount
        of the currency."""
        currency = bill.currency_id
        if not currency.compare_amounts(bill.amount_total, data["amount_total"]):
            return []
        return [
            self.env._(
                "Total: the document states %(stated)s, the bill comes to "
                "%(computed)s %(currency)s.",
                stated=money(to_decimal(data["amount_total"]), currency.decimal_places),
                computed=money(to_decimal(bill.amount_total), currency.decimal_places),
                currency=currency.name,
            )
        ]

    def _untaxed_findings(self, bill, data):
        """The bill's untaxed amount against the document's, exactly (every
        line, charge and allowance is booked at its stated amount)."""
        currency = bill.currency_id
        if not currency.compare_amounts(bill.amount_untaxed, data["amount_untaxed"]):
            return []
        return [
            self.env._(
                "Untaxed total: the document states %(declared)s, its lines "
                "add up to %(computed)s %(currency)s.",
                declared=money(
                    to_decimal(data["amount_untaxed"]), currency.decimal_places
                ),
                computed=money(
                    to_decimal(bill.amount_untaxed), currency.decimal_places
                ),
                currency=currency.name,
            )
        ]

    def _amount_due_findings(self, bill, data):
        """A document sent for information only is never posted; one whose
        supplier asks another amount to be paid than its total (a prepayment,
        a rounding, a deposit) is booked at its total and held, so that a
        person matches the difference before it is paid."""
        currency = bill.currency_id
        findings = []
        if data.get("information_only"):
            findings.append(
                self.env._(
                    "Information only: the supplier sent invoice %(number)s for "
                    "your records, not to be paid through it (it is settled "
                    "otherwise, for instance by purchasing card). Check how it "
                    "was paid: post it by hand and record that payment, or "
                    "cancel the draft.",
                    number=data["invoice_number"],
                )
            )
        due, total = data.get("amount_due"), data["amount_total"]
        prepaid, rounding = data.get("amount_prepaid"), data.get("amount_rounding")
        if prepaid or rounding:
            # EN 16931 BR-CO-16: amount due = total - prepaid + rounding
            expected = to_decimal(total) - to_decimal(prepaid or 0)
            expected += to_decimal(rounding or 0)
            stated = expected if due is None else to_decimal(due)
            if currency.compare_amounts(float(expected), float(stated)):
                findings.append(
                    self.env._(
                        "Amount due: the document states %(due)s %(currency)s to "
                        "pay, but its total %(total)s less %(prepaid)s prepaid "
                        "plus a rounding of %(rounding)s comes to %(expected)s. "
                        "Ask the supplier for a corrected invoice.",
                        due=money(stated, currency.decimal_places),
                        total=money(to_decimal(total), currency.decimal_places),
                        prepaid=money(
                            to_decimal(prepaid or 0), currency.decimal_places
                        ),
                        rounding=money(
                            to_decimal(rounding or 0), currency.decimal_places
                        ),
                        expected=money(expected, currency.decimal_places),
                        currency=currency.name,
                    )
                )
                return findings
            due = float(stated)
        if due is None or not currency.compare_amounts(due, total):
            return findings

        def shown(value):
            return money(to_decimal(value), currency.decimal_places)

        figures = {
            "due": shown(due),
            "total": shown(total),
            "difference": shown(to_decimal(total) - to_decimal(due)),
            "prepaid": shown(prepaid or 0),
            "rounding": shown(rounding or 0),
            "currency": currency.name,
        }
        if currency.compare_amounts(due, 0) < 0:
            message = self.env._(
                "Amount due: the supplier states it owes %(refund)s %(currency)s "
                "back on this invoice (its total %(total)s is less than what was "
                "already paid). Post the bill by hand, reconcile it with that "
                "payment and ask the supplier for the refund.",
                refund=shown(-to_decimal(due)),
                total=figures["total"],
                currency=currency.name,
            )
        elif prepaid and not rounding:
            message = self.env._(
                "Amount due: the supplier states %(prepaid)s %(currency)s "
                "already paid and asks %(due)s of the total %(total)s "
                "%(currency)s. Post the bill by hand and reconcile it with that "
                "prepayment, so that only %(due)s is left to pay.",
                **figures,
            )
        elif rounding and not prepaid:
            message = self.env._(
                "Amount due: the supplier rounds the amount to pay by "
                "%(rounding)s to %(due)s %(currency)s; the bill's total is "
                "%(total)s. Post the bill by hand and, when you pay %(due)s, "
                "write the difference of %(rounding)s off as a rounding.",
                **figures,
            )
        elif currency.compare_amounts(due, total) < 0:
            message = self.env._(
                "Amount due: the supplier asks %(due)s %(currency)s to be paid, "
                "less than the bill's total of %(total)s: %(difference)s is "
                "already paid or credited (prepaid %(prepaid)s, rounding "
                "%(rounding)s stated). Find that payment or credit note, post "
                "the bill by hand and reconcile it with it, so that only "
                "%(due)s is left to pay; if there is none, ask the supplier for "
                "a corrected invoice.",
                **figures,
            )
        else:
            message = self.env._(
                "Amount due: the supplier asks %(due)s %(currency)s to be paid, "
                "more than the bill's total of %(total)s. Ask the supplier for a "
                "corrected invoice.",
                **figures,
            )
        return [*findings, message]

    def _order_findings(self, bill, order):
        """The order a bill invoices must be confirmed, placed with the bill's
        supplier and in the bill's company."""
        findings = []
        if order.state not in ("purchase", "done"):
            findings.append(
                self.env._(
                    "Order: %(order)s is %(state)s, not a confirmed order; a bill "
                    "cannot be matched with it. Confirm the order again or "
                    "ask the supplier for a credit note.",
                    order=order.name,
                    state=dict(order._fields["state"].selection).get(order.state),
                )
            )
        if order.partner_id.commercial_partner_id != (
            bill.partner_id.commercial_partner_id
        ):
            findings.append(
                self.env._(
                    "Supplier: the bill is from %(bill)s, order %(order)s was placed "
                    "with %(supplier)s.",
                    bill=bill.partner_id.display_name,
                    order=order.name,
                    supplier=order.partner_id.display_name,
                )
            )
        if order.company_id != bill.company_id:
            findings.append(
                self.env._(
                    "Company: order %(order)s belongs to %(order_company)s, the bill "
                    "to %(company)s; a bill is matched with orders of its own "
                    "company. Ask the supplier for one invoice per company.",
                    order=order.name,
                    order_company=order.company_id.display_name,
                    company=bill.company_id.display_name,
                )
            )
        return findings

    def _several_orders_findings(self, bill, orders):
        """A summary invoice covering several orders is one bill only when its
        orders share a currency (one price comparison, one payable)."""
        if len(orders.currency_id) < 2:
            return []
        return [
            self.env._(
                "Orders: the bill covers orders in several currencies (%(orders)s); "
                "one bill cannot be matched with all of them. Ask the supplier "
                "for one invoice per currency.",
                orders=", ".join(
                    f"{one.name} {one.currency_id.name}" for one in orders
                ),
            )
        ]

    def _line_amount_findings(self, bill, data):
        """A line whose amount the document states (UBL LineExtensionAmount)
        must be booked at exactly that amount; Odoo books quantity x unit
        price at its precisions, which can differ by a cent or two."""
        by_line = {aml.fih_external_line_id: aml for aml in bill.invoice_line_ids}
        findings = []
        currency = bill.currency_id
        for item in data["lines"]:
            aml = by_line.get(item["line_id"])
            if aml is None or item.get("line_amount") is None:
                continue
            stated = to_decimal(item["line_amount"])
            # with the line's own charges and allowances booked beside it
            own = bill.invoice_line_ids.filtered(
                lambda one, line_id=item["line_id"]: one.fih_charge_kind
                and (one.fih_external_line_id or "").rpartition("/")[0] == line_id
            )
            booked = sum((to_decimal(one.price_subtotal) for one in aml | own), 0)
            if not currency.compare_amounts(float(stated), float(booked)):
                continue
            if item.get("discount_percent"):
                findings.append(
                    self.env._(
                        "Line %(line)s: the document states %(stated)s after its "
                        "discount of %(discount)s %%, Odoo books %(booked)s "
                        "%(currency)s (quantity x unit price less %(booked_discount)s "
                        "%% at Odoo's 'Discount' precision); correct the line or "
                        "ask the supplier for a corrected invoice.",
                        line=item["line_id"],
                        stated=money(stated, currency.decimal_places),
                        discount=plain(to_decimal(item["discount_percent"])),
                        booked_discount=plain(to_decimal(aml.discount)),
                        booked=money(booked, currency.decimal_places),
                        currency=currency.name,
                    )
                )
            else:
                findings.append(
                    self.env._(
                        "Line %(line)s: the document states %(stated)s, Odoo books "
                        "%(booked)s %(currency)s (quantity x unit price at Odoo's "
                        "precision); correct the line or raise the precision.",
                        line=item["line_id"],
                        stated=money(stated, currency.decimal_places),
                        booked=money(booked, currency.decimal_places),
                        currency=currency.name,
                    )
                )
        return findings

    def _exchange_rate_findings(self, bill, order):
        """Odoo takes 1:1 when a currency has no rate: the bill's currency,
        and the order's for the price comparison, need one on or before the
        invoice date."""
        company = bill.company_id
        day = bill.invoice_date or fields.Date.context_today(bill)
        return [
            self.env._(
                "Currency: no %(currency)s exchange rate is recorded on or "
                "before %(date)s, so the bill cannot be valued in "
                "%(company_currency)s nor compared with its order. Add the "
                "rate in Accounting > Configuration > Currencies, then "
                "process the document again.",
                currency=currency.name,
                date=day,
                company_currency=company.currency_id.name,
            )
            for currency in self._currencies_without_rate(
                bill.currency_id | order.currency_id, company, day
            )
        ]

    def _order_price(self, order_line, bill):
        """The order line's unit price in the bill's currency, at the rate of
        the invoice date (Odoo's conversion, not rounded to cents)."""
        if order_line.currency_id == bill.currency_id:
            return str(order_line.price_unit)
        converted = order_line.currency_id._convert(
            order_line.price_unit,
            bill.currency_id,
            bill.company_id,
            bill.invoice_date or fields.Date.context_today(bill),
            round=False,
        )
        return str(round_half_up(to_decimal(converted), CONVERTED_PRICE_PLACES))

    def _match_tolerance(self, company):
        def limit(value):
            return str(value) if value else None

        return three_way_match.Tolerance(
            quantity_percent=str(company.fih_match_quantity_tolerance),
            price_percent=limit(company.fih_match_price_tolerance_percent),
            price_amount=limit(company.fih_match_price_tolerance_amount),
            check_lower=company.fih_match_price_lower_check,
            lower_percent=limit(company.fih_match_price_lower_tolerance_percent),
            lower_amount=limit(company.fih_match_price_lower_tolerance_amount),
        )

    def _three_way_match(self, bill, order, compare_prices=True):
        """The lib's match on the bill's lines against their order lines, every
        quantity and unit price in the order line's unit (Odoo counts billed
        quantities in it too)."""
        order_lines = []
        # only the lines the bill refers to: the others cannot be matched
        billed = (
            bill.invoice_line_ids.purchase_line_id
            | bill.invoice_line_ids.fih_price_adjusted_line_id
        )
        several = len(billed.order_id) > 1

        def key(line):
            # a bill over several orders names each order line with its order
            if several:
                return f"{line.order_id.name}/{line.fih_external_line_id}"
            return line.fih_external_line_id

        for line in billed.filtered("fih_external_line_id"):
            # only posted documents count: a held draft may still change
            other = line.invoice_lines.filtered(
                lambda aml: aml.move_id != bill and aml.parent_state == "posted"
            )
            sign = {
                aml: -1 if aml.move_id.move_type == "in_refund" else 1 for aml in other
            }
            invoiced = sum(sign[aml] * self._in_order_unit(aml)[0] for aml in other)
            rebates = line.fih_price_adjustment_line_ids.filtered(
                lambda aml: aml.move_id != bill
                and aml.parent_state == "posted"
                and aml.move_id.move_type == "in_refund"
            )
            order_lines.append(
                three_way_match.OrderLine(
                    key(line),
                    ordered=str(line.product_qty),
                    unit_price=self._order_price(line, bill),
                    received=str(line.qty_received),
                    invoiced=invoiced,
                    billing_control="ordered"
                    if line.product_id.purchase_method == "purchase"
                    else "received",
                    billed_value=sum(
                        sign[aml] * self._in_bill_currency(aml, bill) for aml in other
                    ),
                    rebated=sum(self._in_bill_currency(aml, bill) for aml in rebates),
                )
            )
        invoice_lines = []
        for aml in bill.invoice_line_ids:
            if aml.fih_charge_kind:
                continue  # header charges have no order line
            quantity, unit_price = self._in_order_unit(aml)
            order_line = aml.purchase_line_id or aml.fih_price_adjusted_line_id
            invoice_lines.append(
                three_way_match.InvoiceLine(
                    aml.fih_external_line_id or str(aml.id),
                    key(order_line) if order_line.fih_external_line_id else None,
                    quantity=quantity,
                    unit_price=unit_price,
                    price_adjustment=bool(aml.fih_price_adjusted_line_id),
                )
            )
        result = three_way_match.match(
            order_lines,
            invoice_lines,
            credit_note=bill.move_type == "in_refund",
            tolerance=self._match_tolerance(bill.company_id),
            currency=bill.currency_id.name,
            compare_prices=compare_prices,
            currency_places=bill.currency_id.decimal_places,
        )
        if order.currency_id != bill.currency_id:
            return self._with_conversion_note(result, bill, order)
        return result

    def _with_conversion_note(self, result, bill, order):
        """Price findings of a bill in another currency than its order say
        which rate the order prices were converted at."""
        day = bill.invoice_date or fields.Date.context_today(bill)
        rate = order.currency_id._get_conversion_rate(
            order.currency_id, bill.currency_id, bill.company_id, day
        )
        note = self.env._(
            " Order prices in %(order)s are converted to %(bill)s at the rate of "
            "%(date)s: 1 %(order)s = %(rate)s %(bill)s.",
            order=order.currency_id.name,
            bill=bill.currency_id.name,
            date=day,
            rate=plain(round_half_up(to_decimal(rate), CONVERTED_PRICE_PLACES)),
        )
        return three_way_match.MatchResult(
            tuple(
                replace(finding, message=finding.message + note)
                if finding.kind in PRICE_FINDINGS
                else finding
                for finding in result.findings
            )
        )

    def _in_bill_currency(self, aml, bill):
        """A line's net amount in ``bill``'s currency, at the rate of the bill's
        invoice date when the line is in another currency, as a Decimal."""
        amount = aml.price_subtotal
        if aml.currency_id != bill.currency_id:
            amount = aml.currency_id._convert(
                amount,
                bill.currency_id,
                bill.company_id,
                bill.invoice_date or fields.Date.context_today(bill),
                round=False,
            )
        return to_decimal(amount)

    def _in_order_unit(self, aml):
        """A bill line's quantity and unit price in its order line's unit, as
        Decimals: converted by Odoo's units of measure, without rounding (a
        line without an order line keeps its own). The price is net of the
        line's discount: what the bill pays per unit."""
        order_line = aml.purchase_line_id or aml.fih_price_adjusted_line_id
        unit, order_unit = aml.product_uom_id, order_line.product_uom
        # the price paid: less the line's discount
        price = to_decimal(aml.price_unit)
        if aml.discount:
            price = price * (100 - to_decimal(aml.discount)) / 100
        if not (unit and order_unit) or unit == order_unit:
            return to_decimal(aml.quantity), price
        return (
            units.figure(unit._compute_quantity(aml.quantity, order_unit, round=False)),
            units.figure(unit._compute_price(float(price), order_unit)),
        )
