from odoo import api, models

from ..exceptions import FihBusinessException
from ..lib import units
from ..lib.price_precision import decimals_needed, price_loss, quantity_loss


class FihProcureToPayUnits(models.AbstractModel):
    """Units of measure and precision in the procure-to-pay flows: the unit a
    document names, exact conversions, and quantities or prices that Odoo's
    decimal precision would change."""

    _inherit = "fih.procure.to.pay.handler"

    @api.model
    def _named_unit(self, value, where):
        """The Odoo unit a document's unit names (an Odoo unit name or a
        UN/ECE code such as DZN or C62), empty when Odoo has none; a name
        several units share is an exception naming them."""
        name = units.odoo_unit_name(value)
        Unit = self.env["uom.uom"]
        if not name:
            return Unit
        domain = [("name", "=ilike", self._like_literal(name))]
        # Odoo's names are English; a unit may also be named in the
        # user's language
        found = Unit.with_context(lang="en_US").search(domain) or Unit.search(domain)
        if len(found) > 1:
            raise FihBusinessException(
                self.env._(
                    "%(where)s: unit %(unit)s names several Odoo units of measure "
                    "(%(units)s); rename them so that each name is unique. Nothing "
                    "was booked.",
                    where=where,
                    unit=value,
                    units=", ".join(found.mapped("display_name")),
                ),
                cause="unit.ambiguous",
                params={"unit": value},
            )
        return found

    @api.model
    def _unit(self, value, product, where):
        """The Odoo unit a document's unit names for ``product``: unknown,
        ambiguous or of another category than the product's unit, it is an
        exception naming both; never replaced by another unit. ``where``
        says which line of which document, for the message."""
        found = self._named_unit(value, where)
        if not found:
            raise FihBusinessException(
                self.env._(
                    "%(where)s: unit %(unit)s is not known in Odoo. Send the name "
                    "of an Odoo unit of measure (such as Units, Dozens, kg) or its "
                    "UN/ECE code (such as C62, DZN, KGM), or create the unit in "
                    "Odoo. Nothing was booked.",
                    where=where,
                    unit=units.described(value),
                ),
                cause="unit.unknown",
                params={"unit": value},
            )
        self._check_unit(found, product, where)
        return found

    @api.model
    def _unit_to_review(self, value, product, where):
        """``(unit, reason)`` of a bill line that refers to no order: the
        document's unit when Odoo has it and it counts ``product``, reason
        None. Otherwise the document is not refused (its amounts are valid):
        the line takes ``product``'s purchase unit, its quantity and price as
        stated, and ``reason`` holds the bill until someone corrects it."""
        found = self._named_unit(value, where)
        if found and found.category_id == product.uom_id.category_id:
            return found, None
        fallback = product.uom_po_id
        if not found:
            return fallback, self.env._(
                "%(where)s: unit %(unit)s is not a unit of measure in Odoo, so the "
                "line is entered in %(fallback)s, with its quantity and amount as "
                "the document states them, and the bill is kept in draft. Create "
                "the unit in Odoo (Inventory > Configuration > Units of "
                "Measure, named %(named)s) or correct the line's unit on the "
                "bill, then post it.",
                where=where,
                unit=units.described(value),
                fallback=fallback.name,
                named=units.odoo_unit_name(value),
            )
        return fallback, self.env._(
            "%(where)s: %(product)s is counted in %(product_unit)s "
            "(%(product_category)s), which cannot be converted to %(unit)s "
            "(%(category)s), so the line is entered in %(fallback)s, with its "
            "quantity and amount as the document states them, and the bill is "
            "kept in draft. Correct the line's unit or product on the bill, then "
            "post it.",
            where=where,
            product=product.display_name,
            product_unit=product.uom_id.name,
            product_category=product.uom_id.category_id.name,
            unit=found.name,
            category=found.category_id.name,
            fallback=fallback.name,
        )

    @api.model
    def _unit_findings(self, bill, data):
        """Sentences for the lines of ``bill`` that refer to no order and whose
        document unit Odoo does not have, or cannot count their product in
        (each entered in the product's unit, see :meth:`_unit_to_review`)."""
        lines = {line.fih_external_line_id: line for line in bill.invoice_line_ids}
        findings = []
        for item in data["lines"]:
            line = lines.get(item["line_id"])
            if not item.get("uom") or item.get("po_line_id") or not line:
                continue
            where = self.env._("Invoice line %(line)s", line=item["line_id"])
            reason = self._unit_to_review(item["uom"], line.product_id, where)[1]
            if reason:
                findings.append(reason)
        return findings

    @api.model
    def _check_unit(self, unit, product, where):
        """A unit that cannot count ``product`` (another category than its
        unit) is an exception naming both units and categories."""
        if unit.category_id != product.uom_id.category_id:
            raise FihBusinessException(
                self.env._(
                    "%(where)s: %(product)s is counted in %(product_unit)s "
                    "(%(product_category)s), which cannot be converted to "
                    "%(unit)s (%(category)s). Correct the unit in the document; "
                    "nothing was booked.",
                    where=where,
                    product=product.display_name,
                    product_unit=product.uom_id.name,
                    product_category=product.uom_id.category_id.name,
                    unit=unit.name,
                    category=unit.category_id.name,
                ),
                cause="unit.incompatible",
            )

    @api.model
    def _exact_quantity(self, quantity, unit, to_unit, where):
        """``quantity`` in ``unit`` converted to ``to_unit`` as Odoo converts
        stock quantities (half up to ``to_unit``'s precision); a quantity that
        ``to_unit`` cannot hold without rounding is an exception, not rounded."""
        if unit.category_id != to_unit.category_id:
            raise FihBusinessException(
                self.env._(
                    "%(where)s: %(unit)s (%(category)s) cannot be converted to "
                    "%(to_unit)s (%(to_category)s). Nothing was booked.",
                    where=where,
                    unit=unit.name,
                    category=unit.category_id.name,
                    to_unit=to_unit.name,
                    to_category=to_unit.category_id.name,
                ),
                cause="unit.incompatible",
            )
        exact = unit._compute_quantity(quantity, to_unit, round=False)
        if not units.fits(exact, to_unit.rounding):
            raise FihBusinessException(
                self.env._(
                    "%(where)s: %(quantity)s %(unit)s is %(exact)s %(to_unit)s, "
                    "but Odoo records %(to_unit)s to %(rounding)s only; booking it "
                    "would round the quantity. Send the quantity in a unit that "
                    "converts exactly, or book it in Odoo. Nothing was booked.",
                    where=where,
                    quantity=quantity,
                    unit=unit.name,
                    exact=units.figure(exact, 6),
                    to_unit=to_unit.name,
                    rounding=to_unit.rounding,
                ),
                cause="unit.rounding",
            )
        return unit._compute_quantity(quantity, to_unit, rounding_method="HALF-UP")

    @api.model
    def _quantity_precision_findings(self, lines, key="line_id"):
        """Sentences for the quantities of canonical ``lines`` (numbered by
        ``key``) that Odoo would round to its Product Unit of Measure
        precision, and what to do about it; none when every quantity is kept
        as stated."""
        digits = self.env["decimal.precision"].precision_get("Product Unit of Measure")
        losses = [
            quantity_loss(line.get(key) or "?", line["quantity"], digits)
            for line in lines
            if line.get("quantity") is not None
        ]
        losses = [loss for loss in losses if loss]
        if not losses:
            return []
        return losses + [
            self.env._(
                "Quantities are never rounded silently: raise the Product Unit of "
                "Measure precision to %(digits)s decimals (Settings > Technical > "
                "Database Structure > Decimal Accuracy), then process the "
                "document again.",
                digits=max(decimals_needed(line["quantity"]) for line in lines),
            )
        ]

    @api.model
    def _price_precision_findings(self, currency, lines):
        """Sentences for the unit prices of canonical ``lines`` that Odoo would
        round so that an amount changes, and what to do about it; none when
        every price is kept as stated."""
        digits = self.env["decimal.precision"].precision_get("Product Price")
        losses = [
            price_loss(
                line["line_id"],
                line["quantity"],
                line["unit_price"],
                digits,
                currency.decimal_places,
            )
            for line in lines
        ]
        losses = [loss for loss in losses if loss]
        enough = [loss.enough_digits for loss in losses if loss.enough_digits]
        if not enough:
            # each sentence says what to do: no precision books those lines
            return [loss.message for loss in losses]
        return [loss.message for loss in losses] + [
            self.env._(
                "Unit prices are never rounded silently: raise the Product Price "
                "precision to %(digits)s decimals (Settings > Technical > Database "
                "Structure > Decimal Accuracy), then process the document again.",
                digits=max(enough),
            )
        ]
