from odoo import api, models

from ..exceptions import (
    FihBusinessException,
    FihPermanentError,
    FihSkipped,
    FihTransientError,
)
from ..lib.backend_kinds import KIND_EVENT_TYPES


class FihHandler(models.AbstractModel):
    """The contract of a flow: one event type in, business records out.

    A flow is an abstract model inheriting ``fih.handler`` that declares the
    event type it handles and the canonical object its payload is in, and
    implements ``_apply`` (one document at a time) or, for flows that gain
    from batching, ``_fih_process`` (a whole batch). The processor finds
    the flow of an event type through :meth:`_fih_handlers`; adding a flow
    is adding such a model, nothing else.
    """

    _name = "fih.handler"
    _description = "Integration Flow"

    _fih_event_type = None  # e.g. "supplier.upsert"
    _fih_object_type = None  # the canonical object of the payload

    @api.model
    def _fih_handlers(self):
        """``{event type: flow model}`` of every installed flow."""
        handlers = {}
        for name in sorted(self.env.registry.descendants(["fih.handler"], "_inherit")):
            model = self.env[name]
            if model._fih_event_type:  # shared bases declare none
                handlers[model._fih_event_type] = model
        return handlers

    @api.model
    def _fih_kind_refusal(self, kind, event_type, backend_name):
        """Why a backend of ``kind`` may not send ``event_type`` events, in
        business words, or None when its kind may use that flow (see
        ``KIND_EVENT_TYPES``)."""
        if event_type in KIND_EVENT_TYPES.get(kind, ()):
            return None
        labels = dict(
            self.env["fih.backend"]._fields["kind"]._description_selection(self.env)
        )
        allowed = [
            labels[other]
            for other, event_types in KIND_EVENT_TYPES.items()
            if event_type in event_types and other in labels
        ]
        return self.env._(
            "%(backend)s is a backend of kind '%(kind)s', which may not send "
            "'%(type)s' events; nothing of it is applied. Send them from a "
            "backend of kind %(allowed)s, or correct this backend's kind if it "
            "is wrong and replay the message.",
            backend=backend_name,
            kind=labels.get(kind, kind),
            type=event_type,
            allowed=" or ".join(f"'{label}'" for label in allowed) or "-",
        )

    @api.model
    def _fih_refuse_kinds(self, messages):
        """``{message_id: error}`` of the messages whose backend's kind may not
        use this flow: checked again before applying, so that a message
        stored earlier, replayed or retried after the kind changed is
        refused with its reason instead of applied."""
        refused = {}
        for message in messages:
            reason = self._fih_kind_refusal(
                message.backend_id.kind, self._fih_event_type, message.backend_id.name
            )
            if reason:
                refused[message.id] = FihPermanentError(
                    reason,
                    cause="backend.kind_not_allowed",
                    params={"type": self._fih_event_type},
                )
        return refused

    @api.model
    def _fih_handler_for_object(self, object_type):
        """The first flow (by event type) whose payload is ``object_type``."""
        for _event_type, handler in sorted(self._fih_handlers().items()):
            if handler._fih_object_type == object_type:
                return handler
        return None

    @api.model
    def _fih_process(self, messages, documents):
        """Apply a batch; ``documents`` maps message ids to canonical documents.

        Returns ``{message_id: [(model, id, operation)] | Exception}``: what a
        person or time must settle is the message's outcome, not raised.
        """
        backend = messages.backend_id
        backend.ensure_one()
        outcomes = {}
        cache = {}  # look-ups shared by the batch
        for message in messages:
            document = documents[message.id]
            try:
                outcomes[message.id] = self._apply(
                    backend, message, document.data, document.company, cache
                )
            except (FihBusinessException, FihSkipped, FihTransientError) as exc:
                outcomes[message.id] = exc
        return outcomes

    def _apply(self, backend, message, data, company, cache):
        """Apply one canonical document; return ``[(model, id, operation)]``."""
        raise NotImplementedError

    @api.model
    def _fih_preview(self, backend, document, company):
        """What applying ``document`` would do, in words; writes nothing.

        Flows that can tell more (the supplier flow lists each field it
        would change) override it.
        """
        return [
            self.env._(
                "The document is valid; the %(flow)s flow of %(backend)s would "
                "apply it.",
                flow=self._description,
                backend=backend.name,
            )
        ]
