from odoo import models

from ..exceptions import FihSkipped


class FihShipNoticeHandler(models.AbstractModel):
    """``ship_notice.upsert``: the supplier announces a delivery. The order's
    receipt gets the expected date and a note; nothing is received, because
    only the buyer's own receipt proves the goods arrived. A notice of the
    whole order (``whole_order``) announces everything the receipt waits for."""

    _name = "fih.ship.notice.handler"
    _inherit = ["fih.procure.to.pay.handler"]
    _description = "Ship Notice Flow"
    _fih_event_type = "ship_notice.upsert"
    _fih_object_type = "goods_receipt"

    def _apply(self, backend, message, data, company, cache):
        own = data["purchase_order_external_id"]
        lines, whole = {own: []}, set(data.get("whole_orders") or ())
        if data.get("whole_order"):
            whole.add(own)
        for line in data.get("lines") or ():
            lines.setdefault(line.get("purchase_order_external_id", own), []).append(
                line
            )
        # a notice of several orders announces each on its own receipt
        outcomes = []
        for external_id in dict.fromkeys([*lines, *sorted(whole)]):
            if lines.get(external_id) or external_id in whole:
                outcomes += self._announce(
                    backend, data, external_id, lines.get(external_id, []), whole
                )
        return outcomes

    def _announce(self, backend, data, order_external_id, items, whole):
        order = self._purchase_order(backend, order_external_id)
        picking = order.picking_ids.filtered(
            lambda p: p.picking_type_code == "incoming"
            and p.state not in ("done", "cancel")
        )[:1]
        if not picking:
            raise FihSkipped(
                self.env._("Order %s has nothing left to receive.", order.name)
            )
        picking.scheduled_date = data["receipt_date"]
        if order_external_id in whole:
            lines = self.env._(
                "the whole order (%s)",
                self._open_quantities(picking),
            )
        else:
            by_external_id = {
                line.fih_external_line_id: line for line in order.order_line
            }
            lines = ", ".join(
                f"{item['quantity']} x {by_external_id[item['po_line_id']].name}"
                if item["po_line_id"] in by_external_id
                else f"{item['quantity']} x line {item['po_line_id']}"
                for item in items
            )
        picking.message_post(
            body=self.env._(
                "Shipment %(shipment)s announced by the supplier for %(date)s: "
                "%(lines)s. Receive it when it arrives.",
                shipment=data["external_id"],
                date=data["receipt_date"],
                lines=lines,
            )
        )
        return [(picking._name, picking.id, "updated")]

    def _open_quantities(self, picking):
        """What the receipt still waits for, in words: ``10.0 Units x Paper``."""
        return ", ".join(
            f"{move.product_uom_qty} {move.product_uom.name} x "
            f"{move.purchase_line_id.name or move.product_id.display_name}"
            for move in picking.move_ids
            if move.state not in ("done", "cancel")
        )
