import json

from odoo import api, fields, models

from ..lib import mapping_engine
from .fih_mapping import CREATING, LOADING_TEMPLATES

# the engine's own list, so the UI offers exactly what it can run
TRANSFORM_SELECTION = [(name, name.capitalize()) for name in mapping_engine.TRANSFORMS]
# rule field -> transform parameter
PARAM_FIELDS = {
    "constant_value": "value",
    "date_format": "format",
    "timezone": "timezone",
    "decimal_separator": "decimal_separator",
    "thousands_separator": "thousands_separator",
    "digits": "digits",
    "factor": "factor",
    "table_code": "table",
}


class FihMappingRule(models.Model):
    """One field of a mapping: where to read, how to transform, where to write."""

    _name = "fih.mapping.rule"
    _description = "Field Mapping Rule"
    _inherit = ["fih.audited.mixin"]
    _order = "mapping_id, sequence, id"

    mapping_id = fields.Many2one(
        "fih.mapping", required=True, ondelete="cascade", index=True
    )
    company_id = fields.Many2one(
        related="mapping_id.company_id", store=True, index=True
    )
    sequence = fields.Integer(default=10)
    target_path = fields.Char(
        required=True,
        help="Where the value goes, as a dotted path; [] marks a list, e.g. "
        "lines[].quantity.",
    )
    source_path = fields.Char(
        help="Where the value is read, as a dotted path; [] marks a list, e.g. "
        "items[].qty. Empty for a constant.",
    )
    transform = fields.Selection(
        TRANSFORM_SELECTION,
        required=True,
        default="copy",
        help="How the value is converted.",
    )
    constant_value = fields.Char(help="Value written by a 'Constant' rule.")
    default_value = fields.Char(help="Value used when the source is missing or empty.")
    required = fields.Boolean(help="A message without this value is refused.")
    date_format = fields.Char(
        help="Format of the external date, e.g. %d/%m/%Y (Python strftime codes)."
    )
    timezone = fields.Char(
        help="Time zone of external date-times without one, e.g. Europe/Brussels."
    )
    decimal_separator = fields.Char(size=1, help="e.g. ',' for 1.234,50")
    thousands_separator = fields.Char(size=1, help="e.g. '.' for 1.234,50")
    digits = fields.Integer(help="Decimals to round to; 0 keeps them all.")
    factor = fields.Float(digits=(16, 6), help="Multiplier, e.g. 0.01 for cents.")
    table_code = fields.Char(
        string="Cross-Reference Table",
        help="Code of the cross-reference table for 'Cross-reference table', "
        "'Unit' or 'Currency' rules.",
    )

    @api.model
    def _values_from_definition(self, rule):
        """Rule values from a shipped JSON definition."""
        params = rule.get("params") or {}
        values = {
            "sequence": rule.get("sequence", 10),
            "target_path": rule["target"],
            "source_path": rule.get("source") or False,
            "transform": rule.get("transform", "copy"),
            "required": bool(rule.get("required")),
            "default_value": _as_text(rule.get("default")),
        }
        for field_name, param in PARAM_FIELDS.items():
            if param in params:
                value = params[param]
                values[field_name] = (
                    value if field_name in ("digits", "factor") else _as_text(value)
                )
        return values

    def _engine_rule(self):
        self.ensure_one()
        params = {}
        for field_name, param in PARAM_FIELDS.items():
            value = self[field_name]
            if value not in (False, "", 0, 0.0):
                params[param] = value
        if "value" in params:
            params["value"] = _from_text(params["value"])
        return mapping_engine.Rule(
            target=self.target_path,
            source=self.source_path or None,
            transform=self.transform,
            params=params,
            default=_from_text(self.default_value) if self.default_value else None,
            required=self.required,
            sequence=self.sequence,
        )

    # drafts only, and every change is told in the mapping's chatter
    def _loading_templates(self):
        # the marker is an object: a JSON-RPC caller cannot send it
        return self.env.context.get("fih_loading_templates") is LOADING_TEMPLATES

    @api.model_create_multi
    def create(self, vals_list):
        if not self._loading_templates():
            self.env["fih.mapping"].browse(
                [vals["mapping_id"] for vals in vals_list if vals.get("mapping_id")]
            )._check_editable()
        rules = super().create(vals_list)
        creating = self.env.context.get("fih_mapping_creation") is CREATING
        if not self._loading_templates() and not creating:
            for rule in rules:
                rule.mapping_id.message_post(
                    body=self.env._("Rule added: %s", rule._describe())
                )
        return rules

    def write(self, vals):
        if self._loading_templates():
            return super().write(vals)
        self.mapping_id._check_editable()
        if vals.get("mapping_id"):
            # a rule moves only between drafts
            self.env["fih.mapping"].browse(vals["mapping_id"])._check_editable()
        before = {rule.id: rule._describe() for rule in self}
        result = super().write(vals)
        for rule in self:
            rule.mapping_id.message_post(
                body=self.env._(
                    "Rule changed: %(before)s → %(after)s",
                    before=before[rule.id],
                    after=rule._describe(),
                )
            )
        return result

    def unlink(self):
        if not self._loading_templates():
            self.mapping_id._check_editable()
            for rule in self:
                rule.mapping_id.message_post(
                    body=self.env._("Rule removed: %s", rule._describe())
                )
        return super().unlink()

    def _describe(self):
        self.ensure_one()
        engine_rule = self._engine_rule()
        params = (
            f" {json.dumps(dict(engine_rule.params))}" if engine_rule.params else ""
        )
        return (
            f"{self.source_path or '(constant)'} → {self.target_path} "
            f"[{self.transform}{params}]"
        )


def _as_text(value):
    """Store any JSON value in a text field (numbers and booleans as JSON)."""
    if value is None:
        return False
    return value if isinstance(value, str) else json.dumps(value)


def _from_text(text):
    try:
        value = json.loads(text)
    except (TypeError, ValueError):
        return text
    # a quoted or plain string stays a string; JSON numbers become numbers
    return value if not isinstance(value, dict | list) else text
