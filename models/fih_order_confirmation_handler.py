from markupsafe import Markup, escape

from odoo import fields, models
from odoo.tools import float_compare

from ..exceptions import FihBusinessException, FihSkipped

ORDER = "purchase.order"
# parts of a line that the supplier will deliver
DELIVERED = ("accepted", "changed", "backordered")


class FihOrderConfirmationHandler(models.AbstractModel):
    """``order_confirmation.upsert``: the supplier's answer to an order.

    Expected delivery dates become the order lines' expected arrival
    (``date_planned``, through Odoo's own date update, which moves the
    receipt's deadlines along); the order records that the supplier
    acknowledged or declined it, and its chatter keeps the confirmation.
    What the buyer must decide (a rejected order or line, a confirmed price
    or quantity that differs from the order, a substitute item) reaches the
    order's buyer as an activity with the supplier's comments. Prices and
    quantities of the order are never changed here: the buyer changes the
    order if they agree.
    """

    _name = "fih.order.confirmation.handler"
    _inherit = ["fih.procure.to.pay.handler"]
    _description = "Order Confirmation Flow"
    _fih_event_type = "order_confirmation.upsert"
    _fih_object_type = "order_confirmation"

    def _apply(self, backend, message, data, company, cache):
        binding = self._binding(backend, "order_confirmation", data["external_id"])
        self._check_not_stale(binding, message, data)
        order = self._purchase_order(backend, data["purchase_order_external_id"])
        if order.state == "cancel":
            raise FihSkipped(
                self.env._(
                    "Order %s is cancelled; the supplier's confirmation changes "
                    "nothing.",
                    order.name,
                )
            )
        parts = self._parts_by_line(order, data)
        if data.get("currency") and data["currency"] != order.currency_id.name:
            raise FihBusinessException(
                self.env._(
                    "The supplier confirms prices of order %(order)s in %(currency)s, "
                    "but the order is in %(order_currency)s; nothing was applied. "
                    "Agree the currency with the supplier.",
                    order=order.name,
                    currency=data["currency"],
                    order_currency=order.currency_id.name,
                ),
                cause="currency.mismatch",
            )
        findings = self._findings(order, parts, data)  # refuses before writing
        for line, day in self._new_dates(parts):
            # Odoo's own update: open receipt moves get the new deadline
            line._update_date_planned(fields.Datetime.to_datetime(day))
        order.write(
            {"mail_reception_declined": True}
            if data["status"] == "rejected"
            else {"mail_reception_confirmed": True}
        )
        order.message_post(
            body=self._summary(order, parts, data),
            subtype_xmlid="mail.mt_note",
        )
        if findings:
            self._tell_buyer(backend, order, findings, data)
        # one message, one confirmation: an order may have several
        self._bind(
            backend, message, "order_confirmation", data["external_id"], message, data
        )
        return [(ORDER, order.id, "updated")]

    # -- reading the confirmation against the order ------------------------------

    def _parts_by_line(self, order, data):
        """``{order line: [line parts of the confirmation]}``, in order."""
        by_external_id = {
            line.fih_external_line_id: line
            for line in order.order_line
            if line.fih_external_line_id
        }
        parts = {}
        for part in data.get("lines") or []:
            line = by_external_id.get(part["po_line_id"])
            if not line:
                raise FihBusinessException(
                    self.env._(
                        "The supplier confirms line %(line)s of order %(order)s, "
                        "which has no such line; nothing was applied.",
                        line=part["po_line_id"],
                        order=order.name,
                    ),
                    cause="order.line_unknown",
                )
            parts.setdefault(line, []).append(part)
        return parts

    def _quantity(self, line, part):
        """The part's quantity in the order line's unit."""
        name = part.get("uom")
        if not name or name.lower() == line.product_uom.name.lower():
            return part["quantity"]
        unit = self.env["uom.uom"].search([("name", "=ilike", name)], limit=1)
        if not unit or unit.category_id != line.product_uom.category_id:
            raise FihBusinessException(
                self.env._(
                    "The supplier confirms line %(line)s of order %(order)s in "
                    "%(unit)s, which cannot be compared with the ordered "
                    "%(ordered)s; nothing was applied.",
                    line=line.fih_external_line_id,
                    order=line.order_id.name,
                    unit=name,
                    ordered=line.product_uom.name,
                ),
                cause="unit.incompatible",
            )
        return unit._compute_quantity(
            part["quantity"], line.product_uom, rounding_method="HALF-UP"
        )

    def _new_dates(self, parts):
        """``[(line, date)]``: the last expected delivery of each line, where
        it differs from the line's expected arrival."""
        dates = []
        for line, line_parts in parts.items():
            expected = [
                part["delivery_date"]
                for part in line_parts
                if part["status"] in DELIVERED and part.get("delivery_date")
            ]
            if not expected:
                continue
            day = fields.Date.to_date(max(expected))
            if not line.date_planned or line.date_planned.date() != day:
                dates.append((line, day))
        return dates

    def _findings(self, order, parts, data):
        """What the buyer must decide, one sentence each."""
        findings = []
        if data["status"] == "rejected":
            findings.append(self.env._("The supplier rejected the whole order."))
        for line, line_parts in parts.items():
            label = self.env._(
                "Line %(line)s (%(product)s)",
                line=line.fih_external_line_id,
                product=line.name,
            )
            unit = line.product_uom.name
            rounding = line.product_uom.rounding
            rejected = sum(
                self._quantity(line, p) for p in line_parts if p["status"] == "rejected"
            )
            delivered = sum(
                self._quantity(line, p) for p in line_parts if p["status"] in DELIVERED
            )
            if float_compare(rejected, 0, precision_rounding=rounding) > 0:
                findings.append(
                    self.env._(
                        "%(line)s: %(rejected)s %(unit)s of %(ordered)s rejected.",
                        line=label,
                        rejected=rejected,
                        unit=unit,
                        ordered=line.product_qty,
                    )
                )
            elif any(p["status"] in DELIVERED for p in line_parts) and float_compare(
                delivered, line.product_qty, precision_rounding=rounding
            ):
                findings.append(
                    self.env._(
                        "%(line)s: the supplier confirms %(confirmed)s %(unit)s, "
                        "%(ordered)s were ordered.",
                        line=label,
                        confirmed=delivered,
                        unit=unit,
                        ordered=line.product_qty,
                    )
                )
            for part in line_parts:
                price = part.get("unit_price")
                if price is not None and order.currency_id.compare_amounts(
                    price, line.price_unit
                ):
                    findings.append(
                        self.env._(
                            "%(line)s: confirmed at %(price)s %(currency)s instead "
                            "of %(ordered)s; the order keeps its price until you "
                            "change it.",
                            line=label,
                            price=price,
                            currency=order.currency_id.name,
                            ordered=line.price_unit,
                        )
                    )
                if part.get("substitute"):
                    substitute = part["substitute"]
                    findings.append(
                        self.env._(
                            "%(line)s: the supplier offers %(item)s instead.",
                            line=label,
                            item=" ".join(
                                filter(
                                    None,
                                    (
                                        substitute.get("product_code"),
                                        substitute.get("description"),
                                    ),
                                )
                            ),
                        )
                    )
        return findings

    # -- telling people ---------------------------------------------------------

    def _part_text(self, line, part):
        text = self.env._(
            "line %(line)s: %(quantity)s %(unit)s %(status)s",
            line=line.fih_external_line_id,
            quantity=part["quantity"],
            unit=part.get("uom") or line.product_uom.name,
            status=part["status"],
        )
        if part.get("delivery_date"):
            text += self.env._(", expected %s", part["delivery_date"])
        if part.get("comments"):
            text += f" ({part['comments']})"
        return text

    def _summary(self, order, parts, data):
        body = Markup("<p>%s</p>") % self.env._(
            "Order confirmation %(reference)s of the supplier, %(date)s: %(status)s.",
            reference=data.get("supplier_reference") or data["external_id"],
            date=data["confirmation_date"],
            status=data["status"],
        )
        items = [
            self._part_text(line, part)
            for line, line_parts in parts.items()
            for part in line_parts
        ]
        if items:
            body += Markup("<ul>%s</ul>") % Markup("").join(
                Markup("<li>%s</li>") % escape(item) for item in items
            )
        if data.get("comments"):
            body += Markup("<p>%s</p>") % self.env._(
                "The supplier's comments: %s", data["comments"]
            )
        return body

    def _tell_buyer(self, backend, order, findings, data):
        note = Markup("<ul>%s</ul>") % Markup("").join(
            Markup("<li>%s</li>") % escape(text) for text in findings
        )
        comments = [data["comments"]] if data.get("comments") else []
        comments += [
            f"{part['po_line_id']}: {part['comments']}"
            for part in data.get("lines") or []
            if part.get("comments")
        ]
        if comments:
            note += Markup("<p>%s</p><ul>%s</ul>") % (
                self.env._("The supplier's comments:"),
                Markup("").join(Markup("<li>%s</li>") % escape(c) for c in comments),
            )
        buyer = order.user_id
        if not buyer or buyer == backend.service_user_id:
            # the order came in through the hub: its exception user decides
            buyer = backend._exception_user()
        order.activity_schedule(
            "mail.mail_activity_data_todo",
            summary=self.env._("Supplier's confirmation: decide on %s", order.name),
            note=note,
            user_id=buyer.id,
        )
