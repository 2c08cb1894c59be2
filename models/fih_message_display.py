import json

from odoo import api, fields, models
from odoo.tools import format_date

from ..lib import masking, message_display


class FihMessageDisplay(models.Model):
    """How a message reads for a finance user: titled by the document it
    carries, its payload indented, masked like the payload for whoever sees
    the backend's data masked."""

    _inherit = "fih.message"

    payload_format = fields.Selection(
        [("json", "JSON"), ("xml", "XML"), ("text", "Text")],
        compute="_compute_payload_display",
        help="How the payload is laid out, for its display.",
    )
    source_document_display = fields.Text(
        string="Original document (indented)",
        compute="_compute_technical_displays",
        groups="finance_integration_hub.group_fih_manager",
    )
    canonical_display = fields.Text(
        string="Canonical document (indented)",
        compute="_compute_technical_displays",
        groups="finance_integration_hub.group_fih_manager",
    )

    # -- masked display ------------------------------------------------------

    def _document(self):
        """The canonical document of this message, as parsed JSON (the
        mapped document when a mapping produced one), or None."""
        self.ensure_one()
        message = self.sudo()
        try:
            if message.canonical_payload:
                return json.loads(message.canonical_payload)
            envelope = json.loads(message.payload or "null")
        except ValueError:
            return None
        if isinstance(envelope, dict) and isinstance(envelope.get("data"), dict):
            return envelope["data"]
        return envelope if isinstance(envelope, dict) else None

    @api.depends("payload")
    @api.depends_context("uid")
    def _compute_payload_display(self):
        for message in self:
            raw = message.sudo().payload or ""
            if not message._sees_unmasked():
                try:
                    raw = json.dumps(
                        masking.mask_document(json.loads(raw)), ensure_ascii=False
                    )
                except ValueError:
                    raw = masking.mask_text(raw)
            kind, text = message_display.pretty_payload(raw)
            message.payload_display = text
            message.payload_format = kind

    @api.depends("source_document", "canonical_payload")
    def _compute_technical_displays(self):
        for message in self:
            message.source_document_display = message_display.pretty_payload(
                message.source_document or ""
            )[1]
            message.canonical_display = message_display.pretty_payload(
                message.canonical_payload or ""
            )[1]

    @api.depends("event_type", "received_at", "payload", "canonical_payload")
    @api.depends_context("uid")
    def _compute_display_name(self):
        documents = {message.id: message._document() for message in self}
        parties = self._party_names(documents)
        for message in self:
            document = documents[message.id]
            party = parties.get(
                (message.backend_id.id, (document or {}).get("supplier_external_id"))
            )
            masked = not message._sees_unmasked()
            if masked and document is not None:
                document = masking.mask_document(document)
            facts = message_display.document_facts(
                message.event_type, document, party=party
            )
            title = message._document_title(facts)
            if not title:
                # the sender's idempotency key means nothing to a finance user
                title = message._fallback_title()
            message.display_name = masking.mask_text(title) if masked else title

    def _party_names(self, documents):
        """Names of the suppliers the messages' documents name by external id:
        {(backend id, external id): partner name}, in one search."""
        wanted = set()
        for message in self:
            external_id = (documents[message.id] or {}).get("supplier_external_id")
            if external_id and isinstance(external_id, str):
                wanted.add((message.backend_id.id, external_id))
        if not wanted:
            return {}
        bindings = (
            self.env["fih.binding"]
            .sudo()
            .search(
                [
                    ("object_type", "=", "supplier"),
                    ("backend_id", "in", list({b for b, _e in wanted})),
                    ("external_id", "in", list({e for _b, e in wanted})),
                ]
            )
        )
        return {
            (binding.backend_id.id, binding.external_id): binding.record_name
            for binding in bindings
            if binding.record_name
        }

    def _fallback_title(self):
        """The event in words, the message's number and the day it came."""
        label = self._event_label() or self.env._("Message")
        number = self._origin.id
        if not number:
            return label
        if not self.received_at:
            return self.env._("%(event)s #%(number)s", event=label, number=number)
        return self.env._(
            "%(event)s #%(number)s of %(day)s",
            event=label,
            number=number,
            day=format_date(self.env, self.received_at),
        )

    def _event_label(self):
        """The event code in words: "supplier.upsert" -> "Supplier upsert"."""
        words = (self.event_type or "").replace(".", " ").replace("_", " ").strip()
        return words[:1].upper() + words[1:]

    def _document_title(self, facts):
        """The title of the document ``facts`` describe, in the user's language."""
        kind = facts.get("kind")
        if kind == "supplier":
            return (
                self.env._("Supplier %s", facts["name"]) if facts.get("name") else None
            )
        if kind in ("bill", "credit_note") and facts.get("number"):
            label = self.env._("Bill") if kind == "bill" else self.env._("Credit note")
            if facts.get("party"):
                return self.env._(
                    "%(label)s %(number)s from %(party)s",
                    label=label,
                    number=facts["number"],
                    party=facts["party"],
                )
            return f"{label} {facts['number']}"
        if kind == "purchase_order" and facts.get("number"):
            if facts.get("party"):
                return self.env._(
                    "Purchase order %(number)s to %(party)s",
                    number=facts["number"],
                    party=facts["party"],
                )
            return self.env._("Purchase order %s", facts["number"])
        if kind == "payment" and (facts.get("number") or facts.get("amount")):
            return self.env._(
                "Payment %(number)s %(amount)s",
                number=facts.get("number") or "",
                amount=facts.get("amount") or "",
            ).strip()
        if kind == "cost_center" and facts.get("name"):
            return self.env._("Cost center %s", facts["name"])
        if kind in ("goods_receipt", "ship_notice", "order_confirmation") and (
            facts.get("order") or facts.get("number")
        ):
            label = {
                "goods_receipt": self.env._("Goods receipt"),
                "ship_notice": self.env._("Ship notice"),
                "order_confirmation": self.env._("Order confirmation"),
            }[kind]
            if facts.get("order"):
                return self.env._(
                    "%(label)s for order %(order)s",
                    label=label,
                    order=facts["order"],
                )
            return f"{label} {facts['number']}"
        return None
