from odoo import api, fields, models
from odoo.exceptions import ValidationError

# Standard Webhooks senders retry for a few days; procurement platforms and
# AP tools may resend a document for weeks (a supplier re-submits, a buyer
# re-approves). Five weeks covers both by default.
DEFAULT_REDELIVERY_WINDOW_DAYS = 35
# processed messages stay in the exchange log this long before they move to
# the archive (and never before their payload is purged and their
# redelivery window has passed)
DEFAULT_ARCHIVE_AFTER_DAYS = 90


class FihBackendRetention(models.Model):
    """How long a backend's messages stay in the exchange log."""

    _inherit = "fih.backend"

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

    @api.constrains("redelivery_window_days", "archive_after_days")
    def _check_retention_days(self):
        for backend in self:
            if backend.redelivery_window_days < 1 or backend.archive_after_days < 1:
                raise ValidationError(
                    self.env._(
                        "The redelivery window and the archive delay of %s must be "
                        "at least one day.",
                        backend.name,
                    )
                )

    def _archive_after_days(self):
        """Days after receipt a settled message may leave the log."""
        self.ensure_one()
        return max(self.archive_after_days, self.redelivery_window_days)
