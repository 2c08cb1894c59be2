import json

from odoo import api, fields, models
from odoo.exceptions import UserError

from ..lib import audit_text


class FihAuditLog(models.Model):
    """Who changed which integration setting, when, from what to what.

    Append-only: nobody edits or deletes it from the application. Secrets are
    never recorded, only the fact that one changed.
    """

    _name = "fih.audit.log"
    _description = "Integration Audit Trail"
    _order = "id desc"

    date = fields.Datetime(required=True, readonly=True, default=fields.Datetime.now)
    user_id = fields.Many2one(
        "res.users", required=True, readonly=True, default=lambda self: self.env.user
    )
    company_id = fields.Many2one("res.company", readonly=True, index=True)
    res_model = fields.Char(string="Object", required=True, readonly=True, index=True)
    res_id = fields.Many2oneReference(model_field="res_model", readonly=True)
    record_name = fields.Char(readonly=True)
    action = fields.Selection(
        [
            ("create", "Created"),
            ("write", "Changed"),
            ("unlink", "Deleted"),
            ("secret", "Secret changed"),
            ("approve", "Approved"),
            ("key_rotation", "Secrets re-encrypted"),
            ("purge", "Payloads purged"),
        ],
        required=True,
        readonly=True,
    )
    changes = fields.Text(
        readonly=True, help="Values before and after the change, secrets excluded."
    )
    model_label = fields.Char(string="Setting", compute="_compute_readable")
    changes_display = fields.Text(
        string="What changed",
        compute="_compute_readable",
        help="Each changed field with its label, before and after.",
    )

    @api.depends("res_model", "changes")
    def _compute_readable(self):
        words = {
            "yes": self.env._("Yes"),
            "no": self.env._("No"),
            "empty": self.env._("(empty)"),
        }
        for entry in self:
            model = self.env.get(entry.res_model) if entry.res_model else None
            entry.model_label = (
                self.env["ir.model"]._get(entry.res_model).name or entry.res_model
                if entry.res_model
                else False
            )
            try:
                changes = json.loads(entry.changes) if entry.changes else None
            except ValueError:
                entry.changes_display = entry.changes
                continue
            labels, value_labels, booleans = {}, {}, set()
            for name, field in (model._fields if model is not None else {}).items():
                labels[name] = field.string
                if field.type == "selection":
                    value_labels[name] = dict(field._description_selection(self.env))
                elif field.type == "boolean":
                    booleans.add(name)
            entry.changes_display = audit_text.describe(
                changes,
                labels=labels,
                value_labels=value_labels,
                words=words,
                booleans=booleans,
            )

    @api.model_create_multi
    def create(self, vals_list):
        for vals in vals_list:
            vals["user_id"] = self.env.uid  # the real user, even under sudo
        return super().create(vals_list)

    def write(self, vals):  # pylint: disable=method-required-super
        raise UserError(self.env._("The integration audit trail cannot be changed."))

    def unlink(self):  # pylint: disable=method-required-super
        raise UserError(self.env._("The integration audit trail cannot be deleted."))


class FihAuditedMixin(models.AbstractModel):
    """Records every create, write and unlink of a configuration model."""

    _name = "fih.audited.mixin"
    _description = "Audited Integration Setting"

    def _audit_ignored_fields(self):
        """Fields not worth (or not allowed) recording."""
        return {
            "write_date",
            "write_uid",
            "message_follower_ids",
            "activity_ids",
            "message_ids",
        }

    def _audit_is_secret(self, name):
        # the stored ciphertext; the write-only input fields are not stored
        return name.endswith("_encrypted")

    def _audit_values(self, names):
        values = {}
        for name in names:
            field = self._fields.get(name)
            if not field or not field.store or name in self._audit_ignored_fields():
                continue
            if self._audit_is_secret(name):
                continue
            value = self[name]
            if field.type in ("many2one",):
                value = value.display_name or False
            elif field.type in ("one2many", "many2many"):
                value = value.mapped("display_name")
            elif field.type in ("date", "datetime"):
                value = fields.Datetime.to_string(value) if value else False
            values[name] = value
        return values

    def _audit(self, action, changes=None):
        company_field = "company_id" if "company_id" in self._fields else None
        self.env["fih.audit.log"].sudo().create(
            [
                {
                    "res_model": record._name,
                    "res_id": record.id,
                    "record_name": record.display_name,
                    "company_id": record[company_field].id if company_field else False,
                    "action": action,
                    "changes": json.dumps(changes.get(record.id), default=str)
                    if changes
                    else False,
                }
                for record in self
            ]
        )

    @api.model_create_multi
    def create(self, vals_list):
        records = super().create(vals_list)
        records._audit(
            "create",
            {
                record.id: {"after": record._audit_values(vals)}
                for record, vals in zip(records, vals_list, strict=True)
            },
        )
        return records

    def write(self, vals):
        names = list(vals)
        secrets = [name for name in names if self._audit_is_secret(name) and vals[name]]
        before = {record.id: record._audit_values(names) for record in self}
        result = super().write(vals)
        changes = {}
        for record in self:
            after = record._audit_values(names)
            diff = {
                name: {"before": before[record.id][name], "after": value}
                for name, value in after.items()
                if before[record.id][name] != value
            }
            if diff:
                changes[record.id] = diff
        changed = self.filtered(lambda r: r.id in changes)
        if changed:
            changed._audit("write", changes)
        if secrets:
            self._audit("secret", {record.id: {"secrets": secrets} for record in self})
        return result

    def unlink(self):
        self._audit(
            "unlink",
            {
                record.id: {"before": record._audit_values(list(record._fields))}
                for record in self
            },
        )
        return super().unlink()
