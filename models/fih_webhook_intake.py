from odoo import models

from ..lib import envelope
from .fih_intake import IntakeResult, error


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
        barred = self._refused_by_kind(config, events, is_batch)
        if barred:
            return barred
        correlation_id = self._correlation_id(headers)
        results = self._store_events(
            config.id,
            config.company_id,
            events,
            headers.get("webhook-id"),
            correlation_id,
        )
        conflicts = []
        for index, result in enumerate(results):
            same_content = result.pop("same_content", True)
            result["conflict"] = result["duplicate"] and not same_content
            if result["conflict"]:
                conflicts.append(
                    {
                        "path": f"$.events[{index}]" if is_batch else "$",
                        "event_id": result["event_id"],
                        "reason": "already received with a different content",
                    }
                )
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
        if conflicts:
            # a redelivery repeats its body; another body under a known id is
            # a different event whose content would be lost: never dropped
            payload.update(
                status="conflict",
                error="conflict",
                message=(
                    "Event "
                    + ", ".join(c["event_id"] for c in conflicts)
                    + " was already received with a different content; the new "
                    "content is not stored. Send a change as a new event with an "
                    "id of its own (a redelivery repeats the same body)."
                ),
                details=conflicts,
            )
            return IntakeResult(409, payload)
        return IntakeResult(202, payload)

    def _refused_by_kind(self, config, events, is_batch):
        """The 403 answer when the backend's kind may not use the flow of an
        event (e.g. supplier payments from a reporting platform), else None;
        nothing of the request is stored."""
        details = []
        for index, event in enumerate(events):
            reason = self._kind_refusal(config, event["type"])
            if reason:
                path = f"$.events[{index}].type" if is_batch else "$.type"
                details.append({"path": path, "reason": reason})
        if not details:
            return None
        return error(
            403,
            "event_type_not_allowed",
            "; ".join(sorted({d["reason"] for d in details})),
            details,
        )
