import contextlib

from odoo import api, models

ISO_DATE = "%Y-%m-%d"
KNOWN_EXTERNAL_IDS = "fih_known_external_ids"  # cursor cache key, see below


def _utc(moment):
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ") if moment else None


def _date(day):
    return day.strftime(ISO_DATE) if day else None


def _drop_empty(document):
    """Canonical documents leave out what Odoo does not know."""
    return {key: value for key, value in document.items() if value not in (None, "")}


class FihCanonicalExport(models.AbstractModel):
    """Odoo records as canonical documents, for outbound messages."""

    _name = "fih.canonical.export"
    _description = "Canonical Export"

    @api.model
    def _external_id(self, record, object_type, backend):
        """The receiver's own id when it gave us one, else a stable Odoo id."""
        known = self.env.cr.cache.get(KNOWN_EXTERNAL_IDS, {}).get(
            (backend.id, object_type), {}
        )
        if record.id in known:
            external_id = known[record.id]
        else:
            external_id = self._bound_ids(backend, object_type, record.ids, limit=1)
            external_id = external_id.get(record.id)
        return external_id or f"odoo-{record._name}-{record.id}"

    def _bound_ids(self, backend, object_type, res_ids, limit=None):
        """``{res_id: the receiver's id}`` of the records ``res_ids`` bound
        to ``backend`` as ``object_type`` (the first binding of each, in the
        bindings' order)."""
        bindings = (
            self.env["fih.binding"]
            .sudo()
            .search_fetch(
                [
                    ("backend_id", "=", backend.id),
                    ("object_type", "=", object_type),
                    ("res_id", "in", list(res_ids)),
                ],
                ["res_id", "external_id"],
                limit=limit,
            )
        )
        found = {}
        for binding in bindings:
            found.setdefault(binding.res_id, binding.external_id)
        return found

    @contextlib.contextmanager
    def _external_ids_known(self, backend, object_type, records):
        """Within the block, the external ids of ``records`` (and of their
        companies, for suppliers) as ``object_type`` come from one query
        instead of one per document; the same ids ``_external_id`` finds."""
        targets = records
        if object_type == "supplier":
            targets |= records.commercial_partner_id
        known = dict.fromkeys(targets.ids)
        known.update(self._bound_ids(backend, object_type, targets.ids))
        every = self.env.cr.cache.setdefault(KNOWN_EXTERNAL_IDS, {})
        every[(backend.id, object_type)] = known
        try:
            yield
        finally:
            every.pop((backend.id, object_type), None)

    @api.model
    def _document(self, object_type, record, backend):
        exporters = {
            "supplier": self._supplier,
            "purchase_order": self._purchase_order,
            "goods_receipt": self._goods_receipt,
            "invoice": self._invoice,
            "payment": self._payment,
            "cost_center": self._cost_center,
        }
        return exporters[object_type](record, backend)

    def _common(self, record, company):
        return {
            "company_code": company.company_registry or None,
            "updated_at": _utc(record.write_date),
        }

    def _supplier(self, partner, backend):
        partner = partner.commercial_partner_id.with_company(backend.company_id)
        return _drop_empty(
            {
                "external_id": self._external_id(partner, "supplier", backend),
                "name": partner.name,
                "vat": partner.vat or None,
                "company_registry": partner.company_registry or None,
                "email": partner.email or None,
                "phone": partner.phone or None,
                "address": _drop_empty(
                    {
                        "street": partner.street or None,
                        "street2": partner.street2 or None,
                        "zip": partner.zip or None,
                        "city": partner.city or None,
                        "country_code": partner.country_id.code or None,
                    }
                ),
                "currency": partner.property_purchase_currency_id.name or None,
                "payment_terms": partner.property_supplier_payment_term_id.name or None,
                "bank_accounts": [
                    _drop_empty(
                        {
                            "iban": bank.sanitized_acc_number,
                            "bic": bank.bank_bic or None,
                            "holder": bank.acc_holder_name or None,
                        }
                    )
                    for bank in partner.bank_ids
                ],
                "updated_at": _utc(partner.write_date),
            }
        )

    def _tax_codes(self, taxes):
        return [tax.description or tax.name for tax in taxes]

    def _cost_center_code(self, analytic_distribution):
        if not analytic_distribution:
            return None
        account_id = int(next(iter(analytic_distribution)).split(",")[0])
        account = self.env["account.analytic.account"].browse(account_id)
        return account.code or account.name

    def _cost_center_name(self, analytic_distribution):
        if not analytic_distribution:
            return None
        account_id = int(next(iter(analytic_distribution)).split(",")[0])
        return self.env["account.analytic.account"].browse(account_id).name or None

    def _classification(self, category, backend):
        """The UNSPSC code of the product category or its nearest parent
        (cross-reference table 'unspsc'), else the category's full name in
        the domain 'custom'."""
        value_map = self.env["fih.value.map"]
        current = category
        while current:
            code = value_map._external_value_for("unspsc", current, backend)
            if code:
                return {"domain": "UNSPSC", "code": code}
            current = current.parent_id
        return (
            {"domain": "custom", "code": category.complete_name} if category else None
        )

    def _bill_to(self, company):
        """The buying company at its invoice address."""
        address = self.env["res.partner"].browse(
            company.partner_id.address_get(["invoice"])["invoice"]
        )
        return _drop_empty(
            {
                "name": company.name,
                "street": address.street or None,
                "street2": address.street2 or None,
                "zip": address.zip or None,
                "city": address.city or None,
                "state_code": address.state_id.code or None,
                "country_code": address.country_id.code or None,
                "email": address.email or None,
            }
        )

    def _purchase_order(self, order, backend):
        lines = order.order_line.filtered(lambda line: not line.display_type)
        return _drop_empty(
            {
                "external_id": self._external_id(order, "purchase_order", backend),
                "supplier_external_id": self._external_id(
                    order.partner_id.commercial_partner_id, "supplier", backend
                ),
                "currency": order.currency_id.name,
                "order_date": _date(order.date_approve or order.date_order),
                "state": "cancelled" if order.state == "cancel" else "approved",
                "lines": [
                    _drop_empty(
                        {
                            "line_id": str(line.id),
                            "product_code": line.product_id.default_code or None,
                            "description": line.name,
                            "quantity": line.product_qty,
                            "uom": line.product_uom.name,
                            "unit_price": line.price_unit,
                            "tax_codes": self._tax_codes(line.taxes_id),
                            "cost_center": self._cost_center_code(
                                line.analytic_distribution
                            ),
                            "cost_center_name": self._cost_center_name(
                                line.analytic_distribution
                            ),
                            "requested_date": _date(line.date_planned),
                            "classification": self._classification(
                                line.product_id.categ_id, backend
                            ),
                        }
                    )
                    for line in lines
                ],
                "bill_to": self._bill_to(order.company_id),
                **self._common(order, order.company_id),
            }
        )

    def _goods_receipt(self, picking, backend):
        moves = picking.move_ids.filtered(lambda move: move.purchase_line_id)
        return _drop_empty(
            {
                "external_id": self._external_id(picking, "goods_receipt", backend),
                "purchase_order_external_id": self._external_id(
                    picking.purchase_id, "purchase_order", backend
                ),
                "receipt_date": _date(picking.date_done),
                "kind": "goods",
                "lines": [
                    {
                        "po_line_id": str(move.purchase_line_id.id),
                        "quantity": move.quantity,
                        "uom": move.product_uom.name,
                    }
                    for move in moves
                ],
                **self._common(picking, picking.company_id),
            }
        )

    def _invoice(self, move, backend):
        lines = move.invoice_line_ids.filtered(
            lambda line: line.display_type == "product"
        )
        tax_totals = {}
        for line in move.line_ids.filtered("tax_line_id"):
            code = line.tax_line_id.description or line.tax_line_id.name
            total = tax_totals.setdefault(
                code, {"tax_code": code, "base": 0.0, "amount": 0.0}
            )
            total["base"] += abs(line.tax_base_amount)
            total["amount"] += abs(line.amount_currency)
        orders = lines.purchase_line_id.order_id
        return _drop_empty(
            {
                "external_id": self._external_id(move, "invoice", backend),
                "document_type": "credit_note"
                if move.move_type == "in_refund"
                else "invoice",
                "supplier_external_id": self._external_id(
                    move.partner_id.commercial_partner_id, "supplier", backend
                ),
                "invoice_number": move.ref or move.name,
                "invoice_date": _date(move.invoice_date),
                "due_date": _date(move.invoice_date_due),
                "currency": move.currency_id.name,
                "purchase_order_external_id": self._external_id(
                    orders[:1], "purchase_order", backend
                )
                if orders
                else None,
                "lines": [
                    _drop_empty(
                        {
                            "line_id": str(line.id),
                            "po_line_id": str(line.purchase_line_id.id)
                            if line.purchase_line_id
                            else None,
                            "product_code": line.product_id.default_code or None,
                            "description": line.name or line.product_id.name,
                            "quantity": line.quantity,
                            "uom": line.product_uom_id.name or None,
                            "unit_price": line.price_unit,
                            "tax_codes": self._tax_codes(line.tax_ids),
                            "cost_center": self._cost_center_code(
                                line.analytic_distribution
                            ),
                        }
                    )
                    for line in lines
                ],
                "tax_totals": [
                    {
                        **total,
                        "base": round(total["base"], 2),
                        "amount": round(total["amount"], 2),
                    }
                    for total in tax_totals.values()
                ],
                "amount_untaxed": move.amount_untaxed,
                "amount_tax": move.amount_tax,
                "amount_total": move.amount_total,
                **self._common(move, move.company_id),
            }
        )

    def _payment(self, payment, backend):
        bills = payment.reconciled_bill_ids
        return _drop_empty(
            {
                "external_id": self._external_id(payment, "payment", backend),
                "supplier_external_id": self._external_id(
                    payment.partner_id.commercial_partner_id, "supplier", backend
                )
                if payment.partner_id
                else None,
                "payment_date": _date(payment.date),
                "currency": payment.currency_id.name,
                "amount": payment.amount,
                "reference": payment.memo or payment.name or None,
                "allocations": [
                    {
                        "invoice_external_id": self._external_id(
                            bill, "invoice", backend
                        ),
                        "amount": min(bill.amount_total, payment.amount),
                    }
                    for bill in bills
                ],
                **self._common(payment, payment.company_id),
            }
        )

    def _cost_center(self, account, backend):
        return _drop_empty(
            {
                "external_id": self._external_id(account, "cost_center", backend),
                "code": account.code or str(account.id),
                "name": account.name,
                "active": account.active,
                "currency": account.currency_id.name or None,
                **self._common(account, account.company_id or backend.company_id),
            }
        )
