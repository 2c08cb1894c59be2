"""Names of the hub's records as users read them.

A record without a name field would otherwise show as "fih.subscription,1"
in breadcrumbs, many2one fields and the chatter: each model below says what
its rows are in business words.
"""

from odoo import api, models


def _label(record, field_name):
    """The label of a selection value of ``record``."""
    field = record._fields[field_name]
    return dict(field._description_selection(record.env)).get(record[field_name]) or ""


def _model_label(env, model_name):
    """A model's description ("Journal Entry"), or its technical name."""
    if not model_name:
        return ""
    return env["ir.model"]._get(model_name).name or model_name


class FihAuditLogName(models.Model):
    _inherit = "fih.audit.log"

    @api.depends("action", "record_name", "res_model")
    def _compute_display_name(self):
        for entry in self:
            entry.display_name = self.env._(
                "%(action)s: %(record)s",
                action=_label(entry, "action"),
                record=entry.record_name or _model_label(self.env, entry.res_model),
            )


class FihBiDeletionName(models.Model):
    _inherit = "fih.bi.deletion"

    @api.depends("res_model", "res_id")
    def _compute_display_name(self):
        for deletion in self:
            deletion.display_name = self.env._(
                "Deleted %(kind)s no. %(number)s",
                kind=_model_label(self.env, deletion.res_model),
                number=deletion.res_id,
            )


class FihBiLoadChunkName(models.Model):
    _inherit = "fih.bi.load.chunk"

    @api.depends("load_id", "sequence")
    def _compute_display_name(self):
        for chunk in self:
            chunk.display_name = self.env._(
                "%(load)s, part %(part)s",
                load=chunk.load_id.display_name or "",
                part=chunk.sequence,
            )


class FihMappingRuleName(models.Model):
    _inherit = "fih.mapping.rule"

    @api.depends("source_path", "target_path", "transform")
    def _compute_display_name(self):
        for rule in self:
            source = rule.source_path or _label(rule, "transform")
            rule.display_name = f"{source} → {rule.target_path or ''}".strip()


class FihMessageLinkName(models.Model):
    _inherit = "fih.message.link"

    @api.depends("res_model", "res_id", "operation")
    def _compute_display_name(self):
        for link in self:
            link.display_name = link.record_name or _model_label(
                self.env, link.res_model
            )


class FihMessageStatName(models.Model):
    _inherit = "fih.message.stat"

    @api.depends("backend_id", "event_type", "state")
    def _compute_display_name(self):
        for stat in self:
            stat.display_name = " · ".join(
                filter(None, (stat.backend_id.name, stat.event_type, stat.state))
            )


class FihOperatorActionName(models.Model):
    _inherit = "fih.operator.action"

    @api.depends("action", "user_id", "message_id")
    def _compute_display_name(self):
        for action in self:
            action.display_name = self.env._(
                "%(action)s by %(user)s",
                action=_label(action, "action"),
                user=action.user_id.name or "",
            )


class FihPaymentDifferencePolicyName(models.Model):
    _inherit = "fih.payment.difference.policy"

    @api.depends("label", "company_id")
    def _compute_display_name(self):
        for policy in self:
            policy.display_name = policy.label or self.env._("Payment difference")


class FihPullName(models.Model):
    _inherit = "fih.pull"

    @api.depends("backend_id", "object_type")
    def _compute_display_name(self):
        for pull in self:
            pull.display_name = self.env._(
                "%(backend)s: %(object)s pull",
                backend=pull.backend_id.name or "",
                object=_label(pull, "object_type"),
            )


class FihRateCounterName(models.Model):
    _inherit = "fih.rate.counter"

    @api.depends("backend_id", "direction")
    def _compute_display_name(self):
        for counter in self:
            counter.display_name = self.env._(
                "%(backend)s: %(direction)s rate",
                backend=counter.backend_id.name or "",
                direction=_label(counter, "direction"),
            )


class FihSorRuleName(models.Model):
    _inherit = "fih.sor.rule"

    @api.depends("object_type", "owner_backend_id")
    def _compute_display_name(self):
        for rule in self:
            rule.display_name = self.env._(
                "%(object)s owned by %(owner)s",
                object=_label(rule, "object_type"),
                owner=rule.owner_backend_id.name or self.env._("Odoo"),
            )


class FihSubscriptionName(models.Model):
    _inherit = "fih.subscription"

    @api.depends("backend_id", "event_code")
    def _compute_display_name(self):
        for subscription in self:
            subscription.display_name = self.env._(
                "%(backend)s: %(event)s",
                backend=subscription.backend_id.name or "",
                event=_label(subscription, "event_code"),
            )


class FihValueMapEntryName(models.Model):
    _inherit = "fih.value.map.entry"

    @api.depends("external_value", "canonical_value", "record_ref")
    def _compute_display_name(self):
        for entry in self:
            record = entry.record_ref
            target = entry.canonical_value
            if not target and record and record.has_access("read"):
                target = record.display_name
            # a record the user may not read (another company's) is not named
            entry.display_name = (
                f"{entry.external_value or ''} → {target}"
                if target
                else entry.external_value or ""
            )
