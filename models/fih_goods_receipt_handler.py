from odoo import fields, models

from ..exceptions import FihBusinessException


class FihGoodsReceiptHandler(models.AbstractModel):
    """``goods_receipt.upsert``: quantities received on the order's receipt
    (partial receipts leave a backorder) or services confirmed, so that bills
    are matched against what was really delivered."""

    _name = "fih.goods.receipt.handler"
    _inherit = ["fih.procure.to.pay.handler"]
    _description = "Goods Receipt Flow"
    _fih_event_type = "goods_receipt.upsert"
    _fih_object_type = "goods_receipt"

    def _apply(self, backend, message, data, company, cache):
        binding = self._binding(backend, "goods_receipt", data["external_id"])
        if binding:
            self._already_applied(binding, data, self.env._("Receipt"))
        order = self._purchase_order(backend, data["purchase_order_external_id"])
        others = set(data.get("whole_orders") or ()) | {
            line["purchase_order_external_id"]
            for line in data.get("lines") or ()
            if line.get("purchase_order_external_id")
            not in (None, data["purchase_order_external_id"])
        }
        if others:
            raise FihBusinessException(
                self.env._(
                    "Receipt %(receipt)s also counts goods of other orders "
                    "(%(others)s); nothing was received. Send one receipt per "
                    "order.",
                    receipt=data["external_id"],
                    others=", ".join(sorted(others)),
                ),
                cause="receipt.refused",
            )
        if data.get("whole_order"):
            # only a ship notice may announce a whole order: a receipt counts
            raise FihBusinessException(
                self.env._(
                    "Receipt %(receipt)s says the whole order %(order)s arrived "
                    "without counting it; nothing was received. Send the quantities "
                    "received per order line.",
                    receipt=data["external_id"],
                    order=order.name,
                ),
                cause="receipt.refused",
            )
        if order.state not in ("purchase", "done"):
            raise FihBusinessException(
                self.env._(
                    "Order %(order)s is %(state)s: nothing can be received on it.",
                    order=order.name,
                    state=dict(order._fields["state"].selection)[order.state],
                ),
                cause="order.refused",
            )
        rounded = self._quantity_precision_findings(data["lines"], "po_line_id")
        if rounded:
            raise FihBusinessException(
                self.env._(
                    "Receipt %(receipt)s is not booked: %(reasons)s",
                    receipt=data["external_id"],
                    reasons=" ".join(rounded),
                ),
                cause="unit.rounding",
            )
        # per order line: the quantities received, each in its unit
        quantities = self._quantities(order, data["lines"])
        goods = {
            line: received
            for line, received in quantities.items()
            if line.product_id.type == "consu"
        }
        services = {
            line: received for line, received in quantities.items() if line not in goods
        }
        links = []
        if goods:
            picking = self._receive_goods(order, goods, data["receipt_date"])
            links.append((picking._name, picking.id, "received"))
        for line, received in services.items():
            line.qty_received = line.qty_received + self._in_unit(
                line, received, line.product_uom
            )
        if services and not goods:
            links.append((order._name, order.id, "received"))
        # the picking of the goods (one per receipt), else this message: a
        # receipt is bound to something it alone owns
        record = self.env["stock.picking"].browse(links[0][1]) if goods else message
        self._bind(backend, message, "goods_receipt", data["external_id"], record, data)
        return links

    def _quantities(self, order, lines):
        """Per order line, the ``(quantity, unit)`` received; each receipt
        line is in its own unit (the order line's by default). Refuses the
        receipt when a line would go over what was ordered, in the order
        line's unit, plus the company's over-receipt tolerance."""
        by_external_id = {
            line.fih_external_line_id: line
            for line in order.order_line
            if line.fih_external_line_id
        }
        tolerance = order.company_id.fih_over_receipt_tolerance
        quantities = {}
        for item in lines:
            line = by_external_id.get(item["po_line_id"])
            if not line:
                raise FihBusinessException(
                    self.env._(
                        "Order %(order)s has no line %(line)s.",
                        order=order.name,
                        line=item["po_line_id"],
                    ),
                    cause="order.line_unknown",
                )
            unit = line.product_uom
            if item.get("uom"):
                unit = self._unit(item["uom"], line.product_id, self._where(line))
            quantities.setdefault(line, []).append((item["quantity"], unit))
        for line, received in quantities.items():
            allowed = line.product_qty * (1 + tolerance / 100)
            after = line.qty_received + self._in_unit(line, received, line.product_uom)
            if after > allowed + 1e-9:
                raise FihBusinessException(
                    self.env._(
                        "Over-receipt on %(order)s line %(line)s (%(product)s): "
                        "%(after)s %(unit)s would be received for %(ordered)s "
                        "%(unit)s ordered; up to %(tolerance)s%% more is accepted "
                        "(%(allowed)s %(unit)s). Nothing was received.",
                        order=order.name,
                        line=line.fih_external_line_id,
                        product=line.name,
                        after=after,
                        unit=line.product_uom.name,
                        ordered=line.product_qty,
                        tolerance=tolerance,
                        allowed=round(allowed, 4),
                    ),
                    cause="match.quantity",
                )
        return quantities

    def _where(self, line):
        return self.env._(
            "Receipt for %(order)s line %(line)s",
            order=line.order_id.name,
            line=line.fih_external_line_id,
        )

    def _in_unit(self, line, received, to_unit):
        """The ``(quantity, unit)`` pairs received on ``line``, added up in
        ``to_unit``, each converted exactly (else an exception)."""
        return sum(
            self._exact_quantity(quantity, unit, to_unit, self._where(line))
            for quantity, unit in received
        )

    def _receive_goods(self, order, quantities, receipt_date):
        picking = order.picking_ids.filtered(
            lambda p: p.picking_type_code == "incoming"
            and p.state not in ("done", "cancel")
        )[:1]
        if not picking:
            raise FihBusinessException(
                self.env._("Order %s has no receipt waiting.", order.name),
                cause="receipt.refused",
            )
        missing = [
            line for line in quantities if line not in picking.move_ids.purchase_line_id
        ]
        if missing:
            raise FihBusinessException(
                self.env._(
                    "The receipt of %(order)s has no move for %(lines)s; nothing was "
                    "received.",
                    order=order.name,
                    lines=", ".join(line.name for line in missing),
                ),
                cause="receipt.refused",
            )
        lines_done = set()
        for move in picking.move_ids:
            line = move.purchase_line_id
            quantity = 0
            if line in quantities and line not in lines_done:
                # in the move's unit: the product's, as purchase creates moves
                quantity = self._in_unit(line, quantities[line], move.product_uom)
                lines_done.add(line)
            if quantity and move.product_id.tracking != "none":
                raise FihBusinessException(
                    self.env._(
                        "%s is tracked by lot or serial number: receive it in "
                        "Odoo, where the numbers are entered.",
                        move.product_id.display_name,
                    ),
                    cause="receipt.refused",
                )
            move.quantity = quantity
            move.picked = bool(quantity)
        # what was not received stays open on a backorder
        picking.with_context(skip_backorder=True).button_validate()
        if picking.state != "done":
            raise FihBusinessException(
                self.env._(
                    "Receipt %s could not be validated automatically; validate it "
                    "in Odoo.",
                    picking.name,
                ),
                cause="receipt.refused",
            )
        # the day the goods arrived, not the day the document was processed:
        # on the receipt and on its stock moves (the stock history)
        arrived = fields.Datetime.to_datetime(receipt_date)
        picking.date_done = arrived
        done = picking.move_ids.filtered(lambda move: move.state == "done")
        done.write({"date": arrived})
        done.move_line_ids.write({"date": arrived})
        return picking
