"""What a flow raises, and how the processing engine treats each kind.

Handlers raise these (or return them as a message's outcome); the processor
turns them into message states: permanent and business errors wait for a
person, transient ones are retried with backoff, skips are settled.

Each carries a *cause code* and its parameters (see ``lib/causes.py``): the
exception inbox files the failing messages by cause, not by wording.
"""


class _Caused:
    """The cause code and parameters of a failure; the readable text stays."""

    cause = None

    def _set_cause(self, cause, params):
        if cause:
            self.cause = cause
        self.params = dict(params or {})


class FihPermanentError(_Caused, Exception):
    """Retrying cannot help: the payload or the configuration must change."""

    def __init__(self, message, detail=None, kind="permanent", cause=None, params=None):
        super().__init__(message)
        self.detail = detail
        self.kind = kind
        self._set_cause(cause, params)


class FihBusinessException(FihPermanentError):
    """A finance user must decide; the message carries an activity."""

    def __init__(self, message, detail=None, cause=None, params=None):
        super().__init__(
            message, detail=detail, kind="business", cause=cause, params=params
        )


class FihSkipped(Exception):
    """Nothing to apply (e.g. older than what Odoo already has); not an error."""


class FihTransientError(_Caused, Exception):
    """Worth retrying later (the other side or a lock was not available)."""

    def __init__(self, message="", cause=None, params=None):
        super().__init__(message)
        self._set_cause(cause, params)
