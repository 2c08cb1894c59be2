import json
import re

from odoo import api, fields, models

from ..exceptions import FihBusinessException, FihSkipped, FihTransientError
from ..lib.money import plain
from ..lib.ordering import parse_timestamp, stale_reason
from ..lib.tax_check import CATEGORIES, SELF_ASSESSED, category_name, parse_tax_code

_PEPPOL_ID = re.compile(r"^\d{4}:([0-9A-Za-z]+)$")
# a cXML network credential as an external id: <domain>:<identity>
_CREDENTIAL = re.compile(r"^[A-Za-z][\w.-]*:(.+)$", re.S)


class FihProcureToPayHandler(models.AbstractModel):
    """What the procure-to-pay flows share: bindings, look-ups that explain
    themselves, and the order of arrival."""

    _name = "fih.procure.to.pay.handler"
    _inherit = ["fih.handler"]
    _description = "Procure-to-pay flow"

    # -- bindings -------------------------------------------------------------

    @api.model
    def _binding(self, backend, object_type, external_id):
        return self.env["fih.binding"].search(
            [
                ("backend_id", "=", backend.id),
                ("object_type", "=", object_type),
                ("external_id", "=", external_id),
            ],
            limit=1,
        )

    @api.model
    def _bound(self, backend, object_type, external_id, model):
        """The record this backend, or another backend of its company (the
        AP tool names orders and suppliers as the procurement platform
        does), knows by ``external_id``."""
        binding = self._binding(backend, object_type, external_id) or self.env[
            "fih.binding"
        ].search(
            [
                ("company_id", "=", backend.company_id.id),
                ("object_type", "=", object_type),
                ("external_id", "=", external_id),
            ],
            order="backend_id",
            limit=1,
        )
        if binding.res_model != model:
            return self.env[model]  # a marker, such as an order cancelled early
        return self._bound_record(binding, model)

    @api.model
    def _bound_record(self, binding, model):
        """The record of ``binding``; one deleted in Odoo is an exception, not
        a reason to create it again."""
        if not binding:
            return self.env[model]
        record = self.env[model].browse(binding.res_id).exists()
        if not record:
            raise FihBusinessException(
                self.env._(
                    "%(external)s was applied before, but its Odoo record was "
                    "deleted since; it is not created again. Remove the external "
                    "id under Integration > External IDs to allow it.",
                    external=binding.external_id,
                ),
                cause="document.deleted",
            )
        return record

    @api.model
    def _like_literal(self, value):
        """``value`` for =ilike: a case-insensitive exact match, so that % and
        _ in invoice numbers are not wildcards."""
        return value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")

    @api.model
    def _bind(self, backend, message, object_type, external_id, record, data):
        values = {
            "last_sync_at": fields.Datetime.now(),
            "last_message_id": message.id,
            "source_version": data.get("source_version"),
            "source_updated_at": parse_timestamp(data.get("updated_at")),
        }
        binding = self._binding(backend, object_type, external_id)
        if binding:
            binding.write(values)
        else:
            self.env["fih.binding"].create(
                {
                    "backend_id": backend.id,
                    "object_type": object_type,
                    "external_id": external_id,
                    "res_model": record._name,
                    "res_id": record.id,
                    **values,
                }
            )

    @api.model
    def _already_applied(self, binding, data, what):
        """An event applied once (a receipt, a payment) sent again: nothing to
        do if it is the same; a different content is a correction the hub
        cannot apply, so a person decides."""
        earlier = binding.last_message_id.sudo()
        try:
            earlier_data = json.loads(earlier.payload or "null")["data"]
        except (TypeError, ValueError, KeyError):
            earlier_data = None  # purged by retention: nothing to compare
        ignored = ("updated_at", "source_version")
        if earlier_data is not None and {
            key: value for key, value in earlier_data.items() if key not in ignored
        } != {key: value for key, value in data.items() if key not in ignored}:
            raise FihBusinessException(
                self.env._(
                    "%(what)s %(id)s was already applied (message %(message)s) and "
                    "now arrives with another content. Applied documents are not "
                    "changed: correct it in Odoo, or send the correction as a new "
                    "document.",
                    what=what,
                    id=binding.external_id,
                    message=earlier.id,
                ),
                cause="document.changed",
            )
        raise FihSkipped(
            self.env._(
                "%(what)s %(id)s was already applied.",
                what=what,
                id=binding.external_id,
            )
        )

    @api.model
    def _check_not_stale(self, binding, message, data):
        if not binding or message.replay_of_id:
            return
        reason = stale_reason(
            (binding.source_version, binding.source_updated_at),
            data.get("source_version"),
            parse_timestamp(data.get("updated_at")),
        )
        if reason:
            raise FihSkipped(self.env._("Not applied: %s.", reason))

    # -- look-ups -------------------------------------------------------------

    @api.model
    def _supplier_by_reference(self, backend, external_id):
        """The supplier the cross-reference table 'suppliers' names for
        ``external_id``: an entry of that exact id, else, for a network
        credential ``<domain>:<identity>`` (cXML), of the identity alone."""
        ValueMap = self.env["fih.value.map"]
        candidates = [external_id]
        credential = _CREDENTIAL.match(external_id)
        if credential:
            candidates.append(credential.group(1))
        for candidate in candidates:
            partner = ValueMap._record_for("suppliers", candidate, backend)
            if partner and partner._name == "res.partner":
                return partner.commercial_partner_id
        return self.env["res.partner"]

    @api.model
    def _supplier(self, backend, external_id, company=None):
        """The bound supplier, else the one the cross-reference table
        'suppliers' names; missing means it has not arrived yet (retry). A
        Peppol participant id is looked up among the partners of ``company``
        (the document's) and the shared ones, and must name one only."""
        partner = self._bound(
            backend, "supplier", external_id, "res.partner"
        ) or self._supplier_by_reference(backend, external_id)
        identifiers = self.env.context.get("fih_supplier_identifiers")
        if not partner and identifiers:
            partner = self._supplier_by_identifiers(backend, identifiers)
        peppol = _PEPPOL_ID.match(external_id)
        if not partner and peppol:
            # a Peppol participant (scheme:number): the company's own number,
            # as registry number or as its VAT number without the country
            number = peppol.group(1)
            domain = [
                ("parent_id", "=", False),
                "|",
                ("company_registry", "=", number),
                ("vat", "=ilike", f"%{self._like_literal(number)}"),
            ]
            if company:
                domain.append(("company_id", "in", [False, company.id]))
            partner = (
                self.env["res.partner"]
                .search(domain)
                .filtered(
                    lambda p: p.company_registry == number
                    or re.sub(r"[^0-9A-Za-z]", "", p.vat or "")[2:] == number
                )
            )
            if len(partner) > 1:
                raise FihBusinessException(
                    self.env._(
                        "Supplier %(supplier)s: several partners have the number "
                        "%(number)s (%(partners)s), so the document cannot tell "
                        "which supplier it is from. Keep the number on one "
                        "partner only, or name the supplier in the "
                        "cross-reference table 'suppliers'.",
                        supplier=external_id,
                        number=number,
                        partners=", ".join(partner.mapped("display_name")),
                    ),
                    cause="supplier.ambiguous",
                )
        if not partner:
            raise FihTransientError(
                self.env._(
                    "Supplier %(supplier)s is not known yet from %(backend)s; the "
                    "document waits for it and is retried automatically. If the "
                    "supplier exists in Odoo under another id, name it in the "
                    "cross-reference table 'suppliers'.",
                    supplier=external_id,
                    backend=backend.name,
                ),
                cause="supplier.unknown",
            )
        return partner

    @api.model
    def _purchase_order(self, backend, external_id):
        order = self._bound(
            backend, "purchase_order", external_id, "purchase.order"
        ) or self._order_by_payload_id(backend, external_id)
        if not order:
            raise FihTransientError(
                self.env._(
                    "Purchase order %(order)s is not known yet from %(backend)s; "
                    "the document waits for it and is retried automatically.",
                    order=external_id,
                    backend=backend.name,
                ),
                cause="order.unknown",
            )
        return order

    @api.model
    def _order_by_payload_id(self, backend, payload_id):
        """The order a cXML document names by the payloadID of its
        OrderRequest (cXML makes the orderID of an OrderReference optional):
        the order that request created, in the backend's company."""
        message = (
            self.env["fih.message"]
            .sudo()
            .search(
                [
                    ("company_id", "=", backend.company_id.id),
                    ("event_type", "=", "purchase_order.upsert"),
                    ("idempotency_key", "=", payload_id),
                    ("state", "=", "done"),
                ],
                limit=1,
            )
        )
        link = message.link_ids.filtered(
            lambda link: link.res_model == "purchase.order"
        )[:1]
        return self.env["purchase.order"].browse(link.res_id).exists()

    @api.model
    def _currency(self, code, cache=None):
        """The active currency of ``code``; ``cache`` (a dict) spares the
        look-up for the rest of a batch."""
        key = ("currency", code)
        if cache is not None and key in cache:
            return cache[key]
        currency = (
            self.env["res.currency"]
            .with_context(active_test=False)
            .search([("name", "=", code)], limit=1)
        )
        if not currency or not currency.active:
            raise FihBusinessException(
                self.env._(
                    "Currency %s is not active in Odoo; activate it or correct "
                    "the document.",
                    code,
                ),
                cause="currency.inactive",
                params={"code": code},
            )
        if cache is not None:
            cache[key] = currency
        return currency

    @api.model
    def _currencies_without_rate(self, currencies, company, day):
        """Those of ``currencies`` (other than the company's) with no exchange
        rate on or before ``day`` for ``company``: Odoo would convert them 1:1."""
        Rate = self.env["res.currency.rate"]
        return (currencies - company.currency_id).filtered(
            lambda currency: not Rate.search_count(
                [
                    ("currency_id", "=", currency.id),
                    ("name", "<=", day),
                    ("company_id", "in", [False, company.root_id.id]),
                ],
                limit=1,
            )
        )

    @api.model
    def _taxes(self, backend, company, codes, cache=None):
        """Purchase taxes for canonical tax codes (see :meth:`_tax`)."""
        taxes = self.env["account.tax"]
        for code in codes or []:
            taxes |= self._tax(backend, company, code, cache)
        return taxes

    @api.model
    def _tax(self, backend, company, code, cache=None):
        """The purchase tax of one canonical tax code: the backend's
        cross-reference table 'taxes' first (exact code), else the company's
        purchase tax of the code's UNCL5305 category and rate. ``cache`` (a
        dict) spares the look-ups for the rest of a batch."""
        key = ("tax", backend.id, company.id, code)
        if cache is not None and key in cache:
            return cache[key]
        tax = self.env["fih.value.map"]._record_for("taxes", code, backend)
        if tax is not None and tax._name != "account.tax":
            raise FihBusinessException(
                self.env._(
                    "Tax code %(code)s is mapped to %(record)s in the "
                    "cross-reference table 'taxes' of %(backend)s, which is not a "
                    "tax; map it to a purchase tax.",
                    code=code,
                    record=tax.display_name,
                    backend=backend.name,
                ),
                cause="tax.mapping_invalid",
                params={"code": code},
            )
        tax = tax or self._tax_by_category(backend, company, code)
        if cache is not None:
            cache[key] = tax
        return tax

    @api.model
    def _tax_by_category(self, backend, company, code):
        """The purchase tax of ``code``'s category and rate. Reverse charge
        (AE) and intra-community (K) codes state 0 %, the books self-assess:
        the one tax of that category whose distribution nets to zero. Other
        categories: the tax of that category and rate, one only; a standard
        rate also matches taxes without a category, the first in sequence."""
        Tax = self.env["account.tax"]
        parsed = parse_tax_code(code)
        remedy = self.env._(
            "map the code in the cross-reference table 'taxes' of %s", backend.name
        )
        if parsed is None or (parsed.category == "S" and parsed.percent is None):
            raise FihBusinessException(
                self.env._(
                    "Tax code %(code)s names no rate or category the hub can look "
                    "up in %(company)s; %(remedy)s.",
                    code=code,
                    company=company.name,
                    remedy=remedy,
                ),
                cause="tax.unknown_code",
                params={"code": code},
            )
        category = parsed.category
        if category not in CATEGORIES:
            raise FihBusinessException(
                self.env._(
                    "Tax code %(code)s names the unknown tax category %(category)s; "
                    "%(remedy)s, or ask the sender for a UNCL5305 category "
                    "(%(known)s).",
                    code=code,
                    category=category,
                    remedy=remedy,
                    known=", ".join(CATEGORIES),
                ),
                cause="tax.unknown_code",
                params={"code": code},
            )
        domain = [
            ("type_tax_use", "=", "purchase"),
            *Tax._check_company_domain(company),
        ]
        if category in SELF_ASSESSED:
            tagged = Tax.search(
                domain + [("fih_tax_category", "=", category)], order="sequence, id"
            )
            candidates = tagged.filtered("has_negative_factor")
            if parsed.percent:
                candidates = candidates.filtered(
                    lambda tax: tax.amount == float(parsed.percent)
                )
            if not candidates:
                raise FihBusinessException(
                    self.env._(
                        "Tax code %(code)s (%(category)s) has no purchase tax in "
                        "%(company)s that self-assesses it. Set the tax category "
                        "%(short)s on a purchase tax whose distribution has a "
                        "+100 %% and a -100 %% tax line (Accounting > "
                        "Configuration > Taxes)%(not_self)s, or %(remedy)s.",
                        code=code,
                        category=category_name(category),
                        short=category,
                        company=company.name,
                        not_self=self.env._(
                            "; %s has the category but no -100 %% tax line",
                            ", ".join(tagged.mapped("name")),
                        )
                        if tagged
                        else "",
                        remedy=remedy,
                    ),
                    cause="tax.no_purchase_tax",
                    params={"code": code},
                )
        else:
            domain += [
                ("amount_type", "=", "percent"),
                ("price_include", "=", False),
                (
                    "fih_tax_category",
                    "in",
                    ["S", False] if category == "S" else [category],
                ),
            ]
            if parsed.percent is not None:
                domain.append(("amount", "=", float(parsed.percent)))
            candidates = Tax.search(domain, order="sequence, id").filtered(
                lambda tax: not tax.has_negative_factor
            )
            if category == "S":
                # a tax marked standard before unmarked ones, then the sequence
                candidates = (
                    candidates.filtered(lambda tax: tax.fih_tax_category == "S")
                    or candidates
                )[:1]
            if not candidates:
                rate = (
                    self.env._("of %s %%", plain(parsed.percent))
                    if parsed.percent is not None
                    else ""
                )
                raise FihBusinessException(
                    self.env._(
                        "Tax code %(code)s has no purchase tax %(rate)s with the "
                        "tax category %(category)s in %(company)s: create one or "
                        "set that category on the tax to use (Accounting > "
                        "Configuration > Taxes), or %(remedy)s.",
                        code=code,
                        company=company.name,
                        category=category_name(category),
                        rate=rate,
                        remedy=remedy,
                    ),
                    cause="tax.unknown_code",
                    params={"code": code},
                )
        if len(candidates) > 1:
            raise FihBusinessException(
                self.env._(
                    "Tax code %(code)s (%(category)s) matches several purchase "
                    "taxes in %(company)s: %(taxes)s; %(remedy)s to the one to use.",
                    code=code,
                    category=category_name(category),
                    company=company.name,
                    taxes=", ".join(candidates.mapped("name")),
                    remedy=remedy,
                ),
                cause="tax.ambiguous",
                params={"code": code},
            )
        return candidates

    @api.model
    def _analytic_distribution(self, company, cost_center):
        if not cost_center:
            return False
        account = self.env["account.analytic.account"].search(
            [
                ("code", "=", cost_center),
                ("company_id", "in", [company.id, False]),
            ],
            limit=1,
        )
        if not account:
            raise FihBusinessException(
                self.env._(
                    "Cost center %(code)s does not exist in %(company)s (analytic "
                    "account with that reference).",
                    code=cost_center,
                    company=company.name,
                ),
                cause="cost_center.unknown",
                params={"code": cost_center},
            )
        return {str(account.id): 100.0}

    @api.model
    def _product(self, company, code, partner=None, cache=None):
        """The product with that internal reference, or with that code in the
        supplier's price list; else (or without a code) the hub's
        non-catalogue purchase product, the line keeping its description.
        ``cache`` (a dict) spares the look-ups for the rest of a batch."""
        supplier = partner.commercial_partner_id.id if partner else None
        key = ("product", company.id, code, supplier)
        if cache is not None and key in cache:
            return cache[key]
        product = self._product_uncached(company, code, partner)
        if cache is not None:
            cache[key] = product
        return product

    @api.model
    def _product_uncached(self, company, code, partner):
        non_catalogue = self.env.ref("finance_integration_hub.product_non_catalogue")
        if not code:
            return non_catalogue
        Product = self.env["product.product"]
        company_domain = Product._check_company_domain(company)
        product = Product.search(
            [("default_code", "=", code), ("purchase_ok", "=", True), *company_domain],
            limit=1,
        )
        if not product and partner:
            info = self.env["product.supplierinfo"].search(
                [
                    ("partner_id", "=", partner.commercial_partner_id.id),
                    ("product_code", "=", code),
                ],
                limit=1,
            )
            product = info.product_id or info.product_tmpl_id.product_variant_id
        return product or non_catalogue
