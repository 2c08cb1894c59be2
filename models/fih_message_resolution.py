from odoo import api, models
from odoo.exceptions import AccessError, ValidationError


class FihMessageResolution(models.Model):
    """*Link to Supplier*: the partner a person chooses for an incoming
    supplier that failed as a duplicate. The retry writes the supplier's
    name, VAT number and bank accounts onto it, so only a partner that can
    really stand for an external supplier is accepted."""

    _inherit = "fih.message"

    def _check_resolution_partner(self, partner):
        """A person links a supplier only to a partner they can read, that
        may stand for a supplier of the message's company."""
        if not self.env.su:
            try:
                partner.check_access("read")
            except AccessError as exc:
                raise ValidationError(
                    self.env._(
                        "You can link a supplier only to a partner you can see; "
                        "partner #%s is not one of them. Choose another partner.",
                        partner.id,
                    )
                ) from exc
        for message in self:
            refusal = self._link_refusal(partner, message.company_id)
            if refusal:
                raise ValidationError(
                    self.env._(
                        "Message %(message)s cannot be linked to this partner: "
                        "%(reason)s. Choose the supplier's own partner in 'Link to "
                        "Supplier'.",
                        message=message.display_name,
                        reason=refusal,
                    )
                )

    @api.model
    def _protected_partner_reason(self, partner):
        """Why ``partner`` never stands for an external supplier, in words, or
        False: it is the partner of a company or of a user (the supplier's
        name, VAT number and bank accounts would be written onto it)."""
        companies = (
            self.env["res.company"]
            .sudo()
            .with_context(active_test=False)
            .search([("partner_id", "=", partner.id)], limit=1)
        )
        if companies:
            return self.env._("the partner of company %s itself", companies.name)
        users = (
            self.env["res.users"]
            .sudo()
            .with_context(active_test=False)
            .search([("partner_id", "=", partner.id)], limit=1)
        )
        if users:
            return self.env._("the partner of user %s", users.name)
        return False

    @api.model
    def _link_refusal(self, partner, company):
        """Why a supplier of ``company`` may not be linked to ``partner``, in
        words, or False. A supplier is linked to a commercial partner (not one
        of its contacts), active, shared or of that company, and never to the
        partner of a company or of a user."""
        partner = partner.sudo().with_context(active_test=False)
        if not partner.exists():
            return self.env._("that partner no longer exists")
        if not partner.active:
            return self.env._("'%s' is archived", partner.display_name)
        if partner.commercial_partner_id != partner:
            return self.env._(
                "'%(partner)s' is a contact of '%(parent)s'; link the supplier to "
                "'%(parent)s' itself",
                partner=partner.display_name,
                parent=partner.commercial_partner_id.display_name,
            )
        if partner.company_id and partner.company_id != company:
            return self.env._(
                "'%(partner)s' belongs to company %(other)s, not to %(company)s",
                partner=partner.display_name,
                other=partner.company_id.name,
                company=company.name,
            )
        protected = self._protected_partner_reason(partner)
        if protected:
            return self.env._(
                "'%(partner)s' is %(reason)s",
                partner=partner.display_name,
                reason=protected,
            )
        return False
