from odoo import models

from ..lib import envelope
from .fih_intake import IntakeResult


class FihWebhookIntake(models.AbstractModel):
    """``POST /finance_hub/webhook/<backend>``: signed JSON events, one or a
    batch; authenticate, store once, enqueue. Nothing heavy."""

    _name = "fih.webhook.intake"
    _inherit = ["fih.intake"]
    _description = "Webhook Intake"

    def _accept(self, config, headers, body):
        """Return an :class:`IntakeResult` for one webhook request."""
        try:
            document = envelope.parse_json(body)
            events, is_batch = envelope.split_events(
                document,
                config.max_batch_events,
                known_types=set(self.env["fih.handler"]._fih_handlers()),
            )
        except envelope.EnvelopeError as exc:
            return IntakeResult(400, {**exc.as_response(), "message": str(exc)})
        correlation_id = self._correlation_id(headers)
        results = self._store_events(
            config.id,
            config.company_id,
            events,
            headers.get("webhook-id"),
            correlation_id,
        )
        for result in results:
            result.pop("same_content", None)  # JSON senders keep first-wins
        payload = {
            "status": "accepted",
            "correlation_id": correlation_id,
            "accepted": sum(1 for r in results if not r["duplicate"]),
            "duplicates": sum(1 for r in results if r["duplicate"]),
        }
        if is_batch:
            payload["events"] = results
        else:
            payload.update(
                message_id=results[0]["message_id"], duplicate=results[0]["duplicate"]
            )
        return IntakeResult(202, payload)
