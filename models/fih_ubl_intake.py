from odoo import models

from ..lib import einvoice_inbound
from ..lib.en16931 import EN16931Error, canonical_problems
from ..lib.mapping_engine import LookupMissing
from .fih_intake import XML_CONTENT_TYPES, IntakeResult, error


class FihUblIntake(models.AbstractModel):
    """``POST /finance_hub/ubl/<backend>``: an EN 16931 invoice or credit note,
    UBL 2.1 / Peppol BIS 3.0 or UN/CEFACT CII (Factur-X, ZUGFeRD,
    XRechnung-CII), signed like a webhook; read it now (a document that cannot
    be read is answered 400 at once), store it once per supplier and invoice
    number, answer 202."""

    _name = "fih.ubl.intake"
    _inherit = ["fih.intake"]
    _description = "UBL Intake"
    _fih_media_types = XML_CONTENT_TYPES

    def _place_accounting_costs(self, backend, document):
        """A UBL AccountingCost is the buyer's own accounting string, not a
        cost centre: it becomes one only when the backend's cross-reference
        table 'cost_centers' maps it; otherwise it stays readable in the bill
        line's label."""
        ValueMap = self.env["fih.value.map"]
        for line in document["lines"]:
            cost = line.pop("cost_center", None)
            if not cost:
                continue
            try:
                line["cost_center"] = ValueMap._lookup("cost_centers", cost, backend)
            except LookupMissing:
                line["description"] = (
                    f"{line['description']} (Accounting cost: {cost})"
                )[:2048]

    def _event_key(self, document):
        """The message key of a UBL document: its supplier, type and number.

        The supplier's identifier (a VAT or Peppol id) is replaced by a keyed
        token: the key is shown to every user of the exchange log, and the
        document stays unique per supplier without naming it.
        """
        supplier = document["supplier_external_id"]
        rest = document["external_id"].removeprefix(f"{supplier}/")
        token = self.env["fih.message"]._identifier_token(supplier)
        return f"ubl:{token}/{rest}"

    def _accept(self, config, headers, body):
        try:
            document = einvoice_inbound.read(body)
        except EN16931Error as exc:
            return error(400, einvoice_inbound.syntax_code(exc), str(exc))
        self._place_accounting_costs(config, document)
        problems = canonical_problems(document)
        if problems:  # such as a currency code that is no ISO 4217 code
            return error(400, "invalid_ubl", problems)
        # the same document sent again gives the same event (same fingerprint):
        # a redelivery is a duplicate, another content under its identity a
        # conflict
        event = {
            "id": self._event_key(document),
            "type": "invoice.upsert",
            "occurred_at": f"{document['invoice_date']}T00:00:00Z",
            "data": document,
        }
        refusal = self._kind_refusal(config, event["type"])  # the backend's kind
        if refusal:
            return error(403, "event_type_not_allowed", refusal)
        (result,) = self._store_events(
            config.id,
            config.company_id,
            [event],
            headers.get("webhook-id"),
            self._correlation_id(headers),
            source_document=body.decode("utf-8", errors="replace"),
        )
        if result["duplicate"] and not result["same_content"]:
            return error(
                409,
                "conflict",
                f"{document['document_type'].replace('_', ' ').capitalize()} "
                f"{document['invoice_number']} of this supplier was already "
                "received with a different content; a correction needs a credit "
                "note or a new document number.",
            )
        return IntakeResult(
            202,
            {
                "status": "accepted",
                "message_id": result["message_id"],
                "duplicate": result["duplicate"],
                "invoice": document["external_id"],
            },
        )
