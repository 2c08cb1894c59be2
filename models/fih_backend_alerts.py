from datetime import timedelta

from odoo import api, fields, models


class FihBackendAlerts(models.Model):
    """Alerts to a backend's owner: failure rates and new dead letters, at
    most one of each kind per interval."""

    _inherit = "fih.backend"

    alert_failure_rate = fields.Integer(
        string="Alert Above Failure Rate (%)",
        default=20,
        tracking=True,
        help="The owner is alerted when more than this share of the last hour's "
        "messages (at least 10) failed.",
    )
    alert_interval_hours = fields.Integer(
        default=4,
        tracking=True,
        help="At most one alert of each kind per this many hours, however many "
        "messages fail.",
    )
    last_alert_failure_at = fields.Datetime(readonly=True, copy=False)
    last_alert_dead_at = fields.Datetime(readonly=True, copy=False)

    @api.model
    def _cron_alerts(self):
        """Tell owners about failure rates and dead letters, rate-limited."""
        now = fields.Datetime.now()
        backends = self.sudo().search([])
        figures = self.env["fih.health"]._figures(backends.ids, hours=1)
        for backend in backends:
            quiet_since = now - timedelta(hours=backend.alert_interval_hours)
            data = figures.get(backend.id)
            if not data:
                continue
            finished = data["messages_24h"]  # window of the query: one hour
            rate = 100 * data["failure_rate"]
            if (
                finished >= 10
                and rate > backend.alert_failure_rate
                and (
                    not backend.last_alert_failure_at
                    or backend.last_alert_failure_at < quiet_since
                )
            ):
                backend._alert(
                    self.env._(
                        "%(rate)s%% of the last hour's messages from or to %(backend)s "
                        "failed (alert threshold %(threshold)s%%).",
                        rate=round(rate),
                        backend=backend.name,
                        threshold=backend.alert_failure_rate,
                    )
                )
                backend.last_alert_failure_at = now
            new_dead = (
                self.env["fih.message"]
                .sudo()
                .search_count(
                    [
                        ("backend_id", "=", backend.id),
                        ("state", "=", "dead"),
                        ("write_date", ">", backend.last_alert_dead_at or quiet_since),
                    ]
                )
            )
            if new_dead and (
                not backend.last_alert_dead_at
                or backend.last_alert_dead_at < quiet_since
            ):
                backend._alert(
                    self.env._(
                        "%(count)s messages of %(backend)s became dead letters: they "
                        "were retried until the limit and need a decision.",
                        count=new_dead,
                        backend=backend.name,
                    )
                )
                backend.last_alert_dead_at = now

    def _alert(self, text):
        """Activity and e-mail to the owner."""
        self.ensure_one()
        owner = self.owner_id or self.env.ref("base.user_admin")
        self.activity_schedule(
            "mail.mail_activity_data_warning",
            summary=self.env._("Integration alert: %s", self.name),
            note=text,
            user_id=owner.id,
        )
        # queued for the mail cron: a background check must not wait for SMTP
        self.with_context(mail_notify_force_send=False).message_post(
            body=text,
            subject=self.env._("Integration alert: %s", self.name),
            partner_ids=owner.partner_id.ids,
            message_type="notification",
            subtype_xmlid="mail.mt_comment",
        )
