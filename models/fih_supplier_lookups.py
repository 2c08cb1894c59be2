from odoo import models

from ..exceptions import FihPermanentError


class FihSupplierLookups(models.AbstractModel):
    """The Odoo records a supplier's codes name (country, state, currency,
    payment term), looked up once per batch (``context`` keeps what was
    found); a code Odoo does not know stops the supplier with the fix."""

    _inherit = "fih.supplier.handler"

    def _country_id(self, code, context):
        if not code:
            return False
        if code not in context["countries"]:
            country = self.env["res.country"].search([("code", "=", code)], limit=1)
            if not country:
                raise FihPermanentError(
                    self.env._("The country code '%s' does not exist in Odoo.", code),
                    cause="country.unknown",
                    params={"code": code},
                )
            context["countries"][code] = country.id
        return context["countries"][code]

    def _state_id(self, country_id, code):
        if not (country_id and code):
            return False
        state = self.env["res.country.state"].search(
            [("country_id", "=", country_id), ("code", "=", code)], limit=1
        )
        return state.id

    def _currency_id(self, code, context):
        if not code:
            return False
        if code not in context["currencies"]:
            currency = (
                self.env["res.currency"]
                .with_context(active_test=False)
                .search([("name", "=", code)], limit=1)
            )
            if not currency:
                raise FihPermanentError(
                    self.env._("The currency '%s' does not exist in Odoo.", code),
                    cause="currency.unknown",
                    params={"code": code},
                )
            context["currencies"][code] = currency.id
        return context["currencies"][code]

    def _payment_term_id(self, name, company, context):
        if not name:
            return False
        key = (name, company.id)
        if key not in context["payment_terms"]:
            term = self.env["account.payment.term"].search(
                [
                    ("name", "=ilike", name),
                    ("company_id", "in", (False, company.id)),
                ],
                limit=1,
            )
            if not term:
                raise FihPermanentError(
                    self.env._(
                        "The payment term '%s' does not exist in Odoo. Create it or "
                        "correct the supplier at the source, then retry.",
                        name,
                    ),
                    cause="payment_term.unknown",
                    params={"name": name},
                )
            context["payment_terms"][key] = term.id
        return context["payment_terms"][key]
