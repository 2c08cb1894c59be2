from odoo import api, fields, models
from odoo.exceptions import AccessError

from ..lib import masking

# texts quoting the sender's data, masked like the payload when read
MASKED_TEXT_FIELDS = {"error_message", "idempotency_key", "display_name"}
# their stored masked copies: what who sees them masked searches, groups by
# and exports (a search on the raw text would tell a right guess from a wrong)
MASKED_COPIES = {
    "error_message": "error_message_masked",
    "idempotency_key": "idempotency_key_masked",
}


class FihMaskedTextsMixin(models.AbstractModel):
    """Messages whose problem and event key quote the sender's data.

    Whoever sees a backend's data masked (everyone but Integration Managers,
    for confidential and restricted backends) reads these texts masked, and
    also searches, sorts, groups and exports the masked copies kept next to
    the raw texts: a search on the raw text would tell a right guess of a
    masked IBAN from a wrong one. The flows (service users) and managers use
    the raw texts.
    """

    _name = "fih.masked.texts.mixin"
    _description = "Integration Message Quoting the Sender's Data"

    error_message_masked = fields.Text(
        string="Problem (as shown)",
        compute="_compute_masked_copies",
        store=True,
        help="The problem as users who see this backend's data masked read it.",
    )
    idempotency_key_masked = fields.Char(
        string="Event Key (as shown)",
        compute="_compute_masked_copies",
        store=True,
        help="The event key as users who see this backend's data masked read it.",
    )

    def _sees_unmasked(self):
        """Whether the current user sees this message's data unmasked."""
        self.ensure_one()
        return self.env.user.has_group(
            "finance_integration_hub.group_fih_manager"
        ) or self.backend_id.sudo().data_classification in ("public", "internal")

    def _fih_sees_raw_texts(self):
        """Whether searches, groupings and exports use the raw texts: for
        Integration Managers and the flows (service users, superuser)."""
        return (
            self.env.su
            or self.env.user.has_group("finance_integration_hub.group_fih_manager")
            or self.env.user.has_group("finance_integration_hub.group_fih_service")
        )

    @api.depends("error_message", "idempotency_key", "backend_id.data_classification")
    def _compute_masked_copies(self):
        for message in self:
            unmasked = message.backend_id.sudo().data_classification in (
                "public",
                "internal",
            )
            for raw_name, masked_name in MASKED_COPIES.items():
                raw = message[raw_name]
                message[masked_name] = (
                    raw if unmasked or not raw else masking.mask_text(raw)
                )

    @api.model
    def _search(self, domain, offset=0, limit=None, order=None):
        """Who sees the texts masked searches and sorts the masked copies."""
        if not self._fih_sees_raw_texts():
            domain = [
                (MASKED_COPIES[leaf[0]], *leaf[1:])
                if isinstance(leaf, list | tuple)
                and len(leaf) == 3
                and leaf[0] in MASKED_COPIES
                else leaf
                for leaf in domain or []
            ]
            if order:
                order = ",".join(
                    " ".join(
                        [MASKED_COPIES.get(term.split()[0], term.split()[0])]
                        + term.split()[1:]
                    )
                    for term in order.split(",")
                    if term.strip()
                )
        return super()._search(domain, offset=offset, limit=limit, order=order)

    def _fih_check_raw_text_grouping(self, spec):
        name = spec.split(":")[0].split(".")[0]
        if name in MASKED_COPIES and not self._fih_sees_raw_texts():
            raise AccessError(
                self.env._(
                    "%(field)s quotes the sender's data, which you see masked: "
                    "group by %(masked)s instead.",
                    field=self._fields[name].string,
                    masked=self._fields[MASKED_COPIES[name]].string,
                )
            )

    def _read_group_groupby(self, groupby_spec, query):
        self._fih_check_raw_text_grouping(groupby_spec)
        return super()._read_group_groupby(groupby_spec, query)

    def _read_group_select(self, aggregate_spec, query):
        self._fih_check_raw_text_grouping(aggregate_spec)
        return super()._read_group_select(aggregate_spec, query)

    def export_data(self, fields_to_export):
        """Exports are masked like reads: the masked copies are exported."""
        if not self._fih_sees_raw_texts():
            fields_to_export = [
                MASKED_COPIES.get(name, name) for name in fields_to_export
            ]
        return super().export_data(fields_to_export)

    def _read_format(self, fnames, load="_classic_read"):
        """Texts that quote the source's data (the problem, the event key)
        are masked like the payload for whoever sees masked payloads, in the
        views and over RPC alike."""
        result = super()._read_format(fnames, load=load)
        masked = MASKED_TEXT_FIELDS.intersection(fnames)
        if not masked or self.env.su:
            return result
        by_id = {message.id: message for message in self}
        for values in result:
            message = by_id.get(values["id"])
            if message is None or message._sees_unmasked():
                continue
            for name in masked:
                if values.get(name):
                    values[name] = masking.mask_text(values[name])
        return result
