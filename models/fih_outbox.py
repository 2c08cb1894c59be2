import json
import uuid

from odoo import SUPERUSER_ID, api, fields, models
from odoo.exceptions import AccessError

from .fih_subscription import EVENTS


class FihOutbox(models.AbstractModel):
    """Transactional outbox: business changes write their events here, in the
    same transaction; queue_job delivers them after the commit."""

    _name = "fih.outbox"
    _description = "Outbound Event Capture"

    @api.model
    def _emit(self, event_code, records):
        """Queue ``event_code`` for ``records`` to every subscribed backend.

        A record changed by an inbound message of a backend is not sent back
        to that backend (no sync loops).
        """
        if not records or self.env.context.get("fih_no_outbox"):
            return self.env["fih.message"]
        subscription_ids = self.env["fih.subscription"]._ids_for_event(event_code)
        if not subscription_ids:
            return self.env["fih.message"]
        records = records.exists()
        object_type = EVENTS[event_code][0]
        subscriptions = self.env["fih.subscription"].sudo().browse(subscription_ids)
        origin = self.env.context.get("fih_origin_backend_id")
        now = fields.Datetime.now()
        rows = []
        for subscription in subscriptions:
            backend = subscription.backend_id
            if backend.id == origin:
                continue
            company_records = records.filtered(
                lambda r, c=backend.company_id: "company_id" not in r._fields
                or not r.company_id
                or r.company_id == c
            )
            # rendered as the backend's service user: it sees what its flows
            # may send, whoever made the change
            exporter = (
                self.env["fih.canonical.export"]
                .with_user(backend.service_user_id)
                .with_context(allowed_company_ids=backend.company_id.ids)
            )
            for record in subscription._matching(company_records):
                event_id = f"evt_{uuid.uuid4().hex}"
                problem = None
                try:
                    with self.env.cr.savepoint():
                        as_service = record.with_env(exporter.env)
                        # explicit: values already cached would skip the check
                        as_service.check_access("read")
                        document = exporter._document(
                            object_type, as_service, backend.with_env(exporter.env)
                        )
                except AccessError as exc:
                    # the business change goes on; the event waits for a fix
                    document = {"external_id": f"odoo-{record._name}-{record.id}"}
                    problem = self.env._(
                        "The service user of %(backend)s may not read this "
                        "record, so the event could not be prepared: %(error)s",
                        backend=backend.name,
                        error=exc.args[0] if exc.args else exc,
                    )
                payload = json.dumps(
                    {
                        "id": event_id,
                        "type": event_code,
                        "occurred_at": now.strftime("%Y-%m-%dT%H:%M:%SZ"),
                        "data": document,
                    },
                    ensure_ascii=False,
                    default=str,
                )
                rows.append(
                    {
                        "backend_id": backend.id,
                        "direction": "outbound",
                        "event_type": event_code,
                        "object_type": object_type,
                        "idempotency_key": event_id,
                        "subscription_id": subscription.id,
                        "record_model": record._name,
                        "record_id": record.id,
                        "payload": payload,
                        "payload_sha256": self.env["fih.message"]._fingerprint(payload),
                        **(
                            {
                                "state": "failed",
                                "error_kind": "permanent",
                                "error_message": problem,
                            }
                            if problem
                            else {}
                        ),
                    }
                )
        if not rows:
            return self.env["fih.message"]
        # the log is not a document people follow: no followers, no chatter
        messages = (
            self.env["fih.message"]
            .sudo()
            .with_context(
                tracking_disable=True,
                mail_create_nolog=True,
                mail_create_nosubscribe=True,
            )
            .create(rows)
        )
        failed = messages.filtered(lambda m: m.state == "failed")
        for message in failed:
            message._schedule_exception_activity(message.error_message)
        backends = (messages - failed).backend_id
        backends._enqueue_work("outbound")
        self._wake_up_after_commit(backends)
        return messages

    def _wake_up_after_commit(self, backends):
        """Look again once the events are committed: a delivery job that was
        waiting when they were written may have run and found nothing before
        the commit; without this, they would wait for the minute sweeper."""
        if not backends:
            return
        woken = self.env.cr.postcommit.data.setdefault("fih_outbound_wake_up", set())
        if not woken:
            registry = self.env.registry

            @self.env.cr.postcommit.add
            def wake_up():
                with registry.cursor() as cr:
                    env = api.Environment(cr, SUPERUSER_ID, {})
                    env["fih.backend"].browse(sorted(woken)).exists()._enqueue_work(
                        "outbound"
                    )

        woken.update(backends.ids)
