import re

from odoo import api, models

from ..exceptions import FihBusinessException

# how a UBL document's supplier identifiers are tried, in this order
SUPPLIER_IDENTIFIER_ORDER = ("endpoint", "vat", "registry", "gln")
SUPPLIER_IDENTIFIER_WORDS = {
    "endpoint": "Peppol address",
    "vat": "VAT number",
    "registry": "company registration number",
    "gln": "Global Location Number",
}


class FihProcureToPayHandler(models.AbstractModel):
    """A supplier found by the other identifiers its document states (UBL:
    Peppol endpoint, VAT number, registration number, GLN)."""

    _inherit = "fih.procure.to.pay.handler"

    @api.model
    def _supplier_by_identifiers(self, backend, identifiers):
        """The supplier a document names by its other identifiers, tried in
        this order: Peppol endpoint (bound or in the cross-reference table
        'suppliers'), VAT number, legal registration number, GLN (barcode or
        internal reference); only partners of the document's company or
        shared. Two candidates for one identifier are an exception naming
        them: the hub never picks one."""
        company = (
            self.env["res.company"].browse(
                self.env.context.get("fih_supplier_company_id")
            )
            or backend.company_id
        )
        for kind in SUPPLIER_IDENTIFIER_ORDER:
            for entry in identifiers:
                if entry.get("kind") != kind:
                    continue
                partners = self._suppliers_with(backend, company, entry)
                if len(partners) > 1:
                    raise FihBusinessException(
                        self.env._(
                            "The supplier's %(kind)s %(id)s belongs to several "
                            "partners (%(names)s); keep it on one of them, or name "
                            "the right one in the cross-reference table "
                            "'suppliers', then process the document again.",
                            kind=SUPPLIER_IDENTIFIER_WORDS[kind],
                            id=entry["id"],
                            names=", ".join(partners.mapped("display_name")),
                        ),
                        cause="supplier.ambiguous",
                    )
                if partners:
                    return partners
        return self.env["res.partner"]

    @api.model
    def _suppliers_with(self, backend, company, entry):
        """The commercial partners that carry the identifier ``entry``."""
        Partner = self.env["res.partner"]
        value, kind = entry["id"], entry["kind"]
        if kind == "endpoint":
            external_id = f"{entry['scheme']}:{value}" if entry.get("scheme") else value
            return self._bound(
                backend, "supplier", external_id, "res.partner"
            ) or self._supplier_by_reference(backend, external_id)
        normalised = re.sub(r"[^0-9A-Za-z]", "", value).upper()
        if not normalised:
            return Partner
        field = {"vat": "vat", "registry": "company_registry"}.get(kind)
        if field:
            domain = [(field, "ilike", f"%{self._like_literal(normalised[-4:])}%")]
        else:  # a GLN
            domain = ["|", ("barcode", "=", value), ("ref", "=", value)]
        partners = Partner.search([*domain, ("company_id", "in", [company.id, False])])
        if field:
            partners = partners.filtered(
                lambda p: re.sub(r"[^0-9A-Za-z]", "", p[field] or "").upper()
                == normalised
            )
        return partners.commercial_partner_id


class FihInvoiceHandler(models.AbstractModel):
    """A bill's supplier may be found by the identifiers of its document."""

    _inherit = "fih.invoice.handler"

    def _plan(self, backend, message, data, company, cache):
        handler = self
        if data.get("supplier_identifiers"):
            handler = self.with_context(
                fih_supplier_identifiers=data["supplier_identifiers"],
                fih_supplier_company_id=company.id,
            )
        return super(FihInvoiceHandler, handler)._plan(
            backend, message, data, company, cache
        )
