from odoo import models
from odoo.exceptions import UserError

from ..lib import envelope
from .fih_intake import IntakeResult, error


class FihBiAcknowledgementIntake(models.AbstractModel):
    """``POST /finance_hub/bi/ack/<backend>``: a reporting platform confirms,
    signed, what it loaded; the load compares the figures and the answer
    says whether they reconcile."""

    _name = "fih.bi.acknowledgement.intake"
    _inherit = ["fih.intake"]
    _description = "BI Acknowledgement Intake"

    def _accept(self, config, headers, body):
        try:
            acknowledgement = envelope.parse_json(body)
        except envelope.EnvelopeError as exc:
            return error(400, "malformed_json", str(exc))
        if not isinstance(acknowledgement, dict) or not acknowledgement.get("load_id"):
            return error(400, "invalid_acknowledgement", "Send an object with load_id.")
        backend = self.env["fih.backend"].sudo().browse(config.id)
        try:
            load = (
                self.env["fih.bi.load"]
                .sudo()
                ._receive_acknowledgement(backend, acknowledgement)
            )
        except UserError as exc:
            return error(409, "not_acknowledgeable", str(exc))
        return IntakeResult(
            200,
            {
                "load_id": load.uid,
                "state": load.state,
                "differences": (load.differences or "").splitlines(),
            },
        )
