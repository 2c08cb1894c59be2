from odoo import api, fields, models
from odoo.exceptions import AccessError, ValidationError

# Standard Webhooks senders retry for a few days; procurement platforms and
# AP tools may resend a document for weeks (a supplier re-submits, a buyer
# re-approves). Five weeks covers both by default.
DEFAULT_REDELIVERY_WINDOW_DAYS = 35
# processed messages stay in the exchange log this long before they move to
# the archive (and never before their payload is purged and their
# redelivery window has passed)
DEFAULT_ARCHIVE_AFTER_DAYS = 90
# Standard Webhooks senders retry for about 28 hours after the first attempt:
# a shorter window would let a late retry be applied a second time
MIN_REDELIVERY_WINDOW_DAYS = 3
# archived messages are evidence of what was booked and why: kept as long as
# the books themselves (ten years in most EU countries), never less than one
DEFAULT_ARCHIVE_KEEP_YEARS = 10


class FihBackendRetention(models.Model):
    """How long a backend's messages stay in the exchange log."""

    _inherit = "fih.backend"
    # how long evidence is kept is an administrator's decision (see
    # fih.default.guard.mixin: no default from a manager's context either)
    _fih_admin_only_fields = frozenset({"private_host_allowlist", "archive_keep_years"})

    redelivery_window_days = fields.Integer(
        string="Redelivery Window (days)",
        default=DEFAULT_REDELIVERY_WINDOW_DAYS,
        required=True,
        tracking=True,
        help="How long this system may send the same event again. Within this "
        "window a redelivered event is always recognised as a duplicate: its "
        "message is never archived before the window has passed.",
    )
    archive_after_days = fields.Integer(
        string="Archive After (days)",
        default=DEFAULT_ARCHIVE_AFTER_DAYS,
        required=True,
        tracking=True,
        help="Processed, skipped and cancelled messages move from the exchange "
        "log to the message archive this many days after receipt, once their "
        "payload is deleted and their redelivery window has passed. Messages "
        "a person acted on stay in the log.",
    )

    archive_keep_years = fields.Integer(
        string="Keep Archive (years)",
        default=DEFAULT_ARCHIVE_KEEP_YEARS,
        required=True,
        tracking=True,
        help="Archived messages older than this many years are deleted, in "
        "chunks, with an entry in the audit trail. Keep them as long as your "
        "books must be kept.",
    )

    @api.constrains(
        "redelivery_window_days", "archive_after_days", "archive_keep_years"
    )
    def _check_retention_days(self):
        for backend in self:
            if backend.redelivery_window_days < MIN_REDELIVERY_WINDOW_DAYS:
                raise ValidationError(
                    self.env._(
                        "The redelivery window of %(backend)s must be at least "
                        "%(days)s days: senders retry for about a day and a "
                        "late retry must still be recognised as a duplicate.",
                        backend=backend.name,
                        days=MIN_REDELIVERY_WINDOW_DAYS,
                    )
                )
            if backend.archive_after_days < 1 or backend.archive_keep_years < 1:
                raise ValidationError(
                    self.env._(
                        "The archive delay of %s must be at least one day and its "
                        "archive kept at least one year.",
                        backend.name,
                    )
                )

    def write(self, vals):
        if "archive_keep_years" in vals and any(
            backend.archive_keep_years != vals["archive_keep_years"] for backend in self
        ):
            self._check_may_shorten_archive()
        return super().write(vals)

    def _check_may_shorten_archive(self):
        """How long evidence is kept is an administrator's decision."""
        if not (self.env.su or self.env.user.has_group("base.group_system")):
            raise AccessError(
                self.env._(
                    "Only an administrator (Settings) can change how long archived "
                    "messages are kept: ask your Odoo administrator."
                )
            )

    def _archive_after_days(self):
        """Days after receipt a settled message may leave the log."""
        self.ensure_one()
        return max(self.archive_after_days, self.redelivery_window_days)
