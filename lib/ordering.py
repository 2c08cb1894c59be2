"""Out-of-order protection: is an incoming change older than what was applied?

A change carries a source version (a counter kept by the external system) or
an update time. Versions win when both sides have one; times are compared
otherwise. Equal versions mean the change was already applied.

>>> from datetime import datetime
>>> stale_reason((3, None), 2, None)
'it is version 2, older than version 3 already applied'
>>> stale_reason((3, None), 4, None) is None
True
>>> reason = stale_reason((None, datetime(2026, 1, 2)), None, datetime(2026, 1, 1))
>>> reason.startswith("it was changed at 2026-01-01 00:00:00, before")
True
"""

from datetime import UTC, datetime


def parse_timestamp(value):
    """ISO 8601 text to a naive UTC datetime (Odoo's convention), or None."""
    if not value:
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
        if moment.tzinfo:
            moment = moment.astimezone(UTC).replace(tzinfo=None)
    except (TypeError, ValueError, OverflowError):  # e.g. year 9999 at -23:59
        return None
    return moment


def stale_reason(stored, incoming_version, incoming_updated_at):
    """Why the incoming change must be skipped, or None to apply it.

    ``stored`` is ``(source_version, source_updated_at)`` of the last change
    applied.
    """
    stored_version, stored_updated_at = stored
    # 0 is what an unnumbered record stores: it orders nothing
    if stored_version and incoming_version is not None:
        if incoming_version < stored_version:
            return (
                f"it is version {incoming_version}, older than version "
                f"{stored_version} already applied"
            )
        if incoming_version == stored_version:
            return f"version {incoming_version} was already applied"
        return None
    if stored_updated_at and incoming_updated_at:
        if incoming_updated_at < stored_updated_at:
            return (
                f"it was changed at {incoming_updated_at}, before the change "
                f"already applied ({stored_updated_at})"
            )
    return None
