"""What a flow raises, and how the processing engine treats each kind.

Handlers raise these (or return them as a message's outcome); the processor
turns them into message states: permanent and business errors wait for a
person, transient ones are retried with backoff, skips are settled.
"""


class FihPermanentError(Exception):
    """Retrying cannot help: the payload or the configuration must change."""

    def __init__(self, message, detail=None, kind="permanent"):
        super().__init__(message)
        self.detail = detail
        self.kind = kind


class FihBusinessException(FihPermanentError):
    """A finance user must decide; the message carries an activity."""

    def __init__(self, message, detail=None):
        super().__init__(message, detail=detail, kind="business")


class FihSkipped(Exception):
    """Nothing to apply (e.g. older than what Odoo already has); not an error."""


class FihTransientError(Exception):
    """Worth retrying later (the other side or a lock was not available)."""
