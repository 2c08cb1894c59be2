from odoo import fields, models

from ..lib import ubl_inbound
from .fih_intake import XML_CONTENT_TYPES, IntakeResult, error


class FihUblIntake(models.AbstractModel):
    """``POST /finance_hub/ubl/<backend>``: a UBL 2.1 / Peppol BIS 3.0 Invoice
    or CreditNote, signed like a webhook; read it now (a document that cannot
    be read is answered 400 at once), store it once per supplier and invoice
    number, answer 202."""

    _name = "fih.ubl.intake"
    _inherit = ["fih.intake"]
    _description = "UBL Intake"
    _fih_media_types = XML_CONTENT_TYPES

    def _accept(self, config, headers, body):
        try:
            document = ubl_inbound.invoice_to_canonical(body)
        except ubl_inbound.UBLError as exc:
            return error(400, "invalid_ubl", str(exc))
        event = {
            "id": f"ubl:{document['external_id']}",
            "type": "invoice.upsert",
            "occurred_at": fields.Datetime.now().isoformat() + "Z",
            "data": document,
        }
        (result,) = self._store_events(
            config.id,
            config.company_id,
            [event],
            headers.get("webhook-id"),
            self._correlation_id(headers),
            source_document=body.decode("utf-8", errors="replace"),
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
