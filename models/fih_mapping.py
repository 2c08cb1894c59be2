import json
import logging
from pathlib import Path

from odoo import api, fields, models
from odoo.exceptions import AccessError, UserError

from ..lib import mapping_engine
from .fih_governed_mixin import MAIL_PREFIXES
from .fih_sor_rule import OBJECT_TYPES

_logger = logging.getLogger(__name__)

SHIPPED_MAPPINGS = Path(__file__).resolve().parents[1] / "mappings"
STATES = [
    ("draft", "Draft"),
    ("to_approve", "Waiting for approval"),
    ("active", "Active"),
    ("superseded", "Superseded"),
]
MANAGER_GROUP = "finance_integration_hub.group_fih_manager"
# what only Submit, Approve, Back to draft, New version and the shipped
# templates write: never a person through the ORM
WORKFLOW_FIELDS = frozenset(
    {
        "state",
        "author_id",
        "approver_id",
        "approved_at",
        "previous_id",
        "version",
        "template_id",
        "shipped_file",
    }
)
# context markers set only by this module's code: objects, which no JSON-RPC
# caller can send (a context key with a plain value could be forged)
CREATING = object()
LOADING_TEMPLATES = object()


class FihMapping(models.Model):
    """A versioned, four-eyes approved field mapping for one backend."""

    _name = "fih.mapping"
    _description = "Field Mapping"
    _inherit = [
        "mail.thread",
        "mail.activity.mixin",
        "fih.audited.mixin",
        "fih.governed.mixin",
    ]
    _order = "backend_id, object_type, direction, version desc"
    _fih_action_fields = WORKFLOW_FIELDS

    name = fields.Char(required=True, tracking=True)
    backend_id = fields.Many2one(
        "fih.backend",
        ondelete="cascade",
        index=True,
        tracking=True,
        help="Backend using this mapping. Empty: a template shipped with the "
        "module, to be copied to a backend.",
    )
    company_id = fields.Many2one(related="backend_id.company_id", store=True)
    object_type = fields.Selection(OBJECT_TYPES, required=True, tracking=True)
    direction = fields.Selection(
        [
            ("inbound", "Inbound: external to canonical"),
            ("outbound", "Outbound: canonical to external"),
        ],
        required=True,
        default="inbound",
        tracking=True,
    )
    api_version = fields.Char(
        string="API Version",
        tracking=True,
        help="Version of the external system's API this mapping reads or writes; "
        "it must match the backend's API version to be used.",
    )
    version = fields.Integer(
        readonly=True,
        default=1,
        tracking=True,
        copy=False,
        help="Version of this mapping.",
    )
    state = fields.Selection(
        STATES,
        default="draft",
        required=True,
        readonly=True,
        tracking=True,
        copy=False,
        help="Drafts are edited; an Integration Manager other than the author "
        "approves them, which makes them active and supersedes the previous "
        "version (kept read-only).",
    )
    description = fields.Text()
    rule_ids = fields.One2many(
        "fih.mapping.rule", "mapping_id", string="Rules", copy=True
    )
    author_id = fields.Many2one(
        "res.users",
        readonly=True,
        copy=False,
        tracking=True,
        help="Who submitted this version for approval.",
    )
    approver_id = fields.Many2one("res.users", readonly=True, copy=False, tracking=True)
    approved_at = fields.Datetime(readonly=True, copy=False)
    previous_id = fields.Many2one(
        "fih.mapping", readonly=True, copy=False, help="Version this one replaces."
    )
    template_id = fields.Many2one(
        "fih.mapping",
        readonly=True,
        copy=False,
        help="Shipped template this mapping comes from.",
    )
    shipped_file = fields.Char(readonly=True, copy=False)
    message_count = fields.Integer(
        compute="_compute_message_count", string="Messages processed"
    )
    can_approve = fields.Boolean(
        compute="_compute_can_approve",
        help="Waiting for approval, and you are an Integration Manager who did "
        "not submit it (four-eyes principle).",
    )

    def init(self):
        # one active version per backend, object, direction and API version
        self.env.cr.execute(
            """
            CREATE UNIQUE INDEX IF NOT EXISTS fih_mapping_one_active_idx
                ON fih_mapping (backend_id, object_type, direction,
                                coalesce(api_version, ''))
             WHERE state = 'active' AND backend_id IS NOT NULL
            """
        )

    @api.model_create_multi
    def create(self, vals_list):
        if not self.env.su and any(not vals.get("backend_id") for vals in vals_list):
            raise UserError(
                self.env._(
                    "Choose the backend of the mapping. Mappings without a "
                    "backend are the templates shipped with the module; copy "
                    "one to a backend with Use for Backend."
                )
            )
        # rules written with a new mapping are part of its creation, not changes
        mappings = super(
            FihMapping, self.with_context(fih_mapping_creation=CREATING)
        ).create(vals_list)
        return mappings.with_env(self.env)

    def write(self, vals):
        # an approved version is what processed messages: it never changes
        content = {name for name in vals if not name.startswith(MAIL_PREFIXES)}
        if not self.env.su and content - WORKFLOW_FIELDS:
            self._check_editable()
        return super().write(vals)

    def unlink(self):
        if not self.env.su and any(
            mapping.state in ("active", "superseded") for mapping in self
        ):
            raise UserError(
                self.env._(
                    "Approved mapping versions cannot be deleted: they record how "
                    "past messages were processed. Create a new version instead."
                )
            )
        return super().unlink()

    def _fih_action_only_text(self):
        return self.env._(
            "A mapping's state, author and approver change only through Submit, "
            "Approve, Back to Draft and New Version, so that another Integration "
            "Manager approves every version (four-eyes principle)."
        )

    @api.depends("state", "author_id")
    @api.depends_context("uid")
    def _compute_can_approve(self):
        manager = self.env.user.has_group(MANAGER_GROUP)
        for mapping in self:
            mapping.can_approve = (
                manager
                and mapping.state == "to_approve"
                and mapping.author_id != self.env.user
            )

    def _compute_message_count(self):
        counts = dict(
            self.env["fih.message"]._read_group(
                [("mapping_id", "in", self.ids)], ["mapping_id"], ["__count"]
            )
        )
        for mapping in self:
            mapping.message_count = counts.get(mapping, 0)

    # -- engine ---------------------------------------------------------------

    def _engine_rules(self):
        self.ensure_one()
        return [rule._engine_rule() for rule in self.rule_ids]

    def _apply(self, document):
        """Map ``document``; raises mapping_engine.MappingError."""
        self.ensure_one()
        backend = self.backend_id

        def lookup(table, value):
            return self.env["fih.value.map"]._lookup(table, value, backend)

        return mapping_engine.apply(self._engine_rules(), document, lookup=lookup)

    @api.model
    def _find_active(self, backend, object_type, direction="inbound"):
        """The mapping a backend uses for an object, or an empty recordset."""
        return self.sudo().search(
            [
                ("backend_id", "=", backend.id),
                ("object_type", "=", object_type),
                ("direction", "=", direction),
                ("state", "=", "active"),
                ("api_version", "in", (backend.api_version or False, False)),
            ],
            order="api_version desc, version desc",
            limit=1,
        )

    # -- workflow -------------------------------------------------------------

    def _check_editable(self):
        if any(mapping.state != "draft" for mapping in self):
            raise UserError(
                self.env._(
                    "Only draft mappings can be changed. Create a new version of "
                    "the active mapping to change it."
                )
            )

    def action_submit(self):
        self.check_access("write")
        for mapping in self:
            mapping._check_editable()
            errors = mapping_engine.validate_rules(mapping._engine_rules())
            if not mapping.rule_ids:
                errors.append({"path": "rules", "reason": "a mapping needs rules"})
            if errors:
                raise UserError(
                    self.env._(
                        "The mapping cannot be submitted:\n%s",
                        "\n".join(f"- {e['path']}: {e['reason']}" for e in errors),
                    )
                )
            # the author is who pressed Submit: never a value the caller gives
            mapping.sudo().write({"state": "to_approve", "author_id": self.env.uid})

    def action_reset_to_draft(self):
        self.check_access("write")
        if any(mapping.state != "to_approve" for mapping in self):
            raise UserError(self.env._("Only mappings waiting for approval go back."))
        self.sudo().write({"state": "draft", "author_id": False})

    def action_approve(self):
        if not self.env.user.has_group(MANAGER_GROUP):
            raise AccessError(
                self.env._(
                    "Only an Integration Manager can approve a mapping: ask your "
                    "Finance Integration administrator (Settings > Users) for the "
                    "'Integration Manager' right."
                )
            )
        self.check_access("write")
        for mapping in self:
            if mapping.state != "to_approve":
                raise UserError(
                    self.env._("Only mappings waiting for approval can be approved.")
                )
            if not mapping.author_id:
                raise UserError(
                    self.env._(
                        "Mapping %s has no recorded author: send it back to draft "
                        "and submit it again.",
                        mapping.display_name,
                    )
                )
            if mapping.author_id == self.env.user:
                raise UserError(
                    self.env._(
                        "You submitted this mapping: another Integration Manager "
                        "must approve it (four-eyes principle)."
                    )
                )
            mapping._activate(approver=self.env.user)

    def _activate(self, approver):
        """Make this version the active one; its callers checked the rights."""
        self.ensure_one()
        mapping = self.sudo()  # the workflow fields are written by actions only
        current = mapping.search(
            [
                ("backend_id", "=", mapping.backend_id.id),
                ("object_type", "=", mapping.object_type),
                ("direction", "=", mapping.direction),
                ("api_version", "=", mapping.api_version),
                ("state", "=", "active"),
                ("id", "!=", mapping.id),
            ]
        )
        current.write({"state": "superseded"})
        mapping.write(
            {
                "state": "active",
                "approver_id": approver.id,
                "approved_at": fields.Datetime.now(),
                "previous_id": current[:1].id or mapping.previous_id.id,
            }
        )
        mapping._audit(
            "approve",
            {
                mapping.id: {
                    "author": mapping.author_id.display_name,
                    "approver": approver.display_name,
                    "version": mapping.version,
                    "superseded": current.mapped("display_name"),
                }
            },
        )

    def action_new_version(self):
        """Start a draft from this version; the active one keeps working."""
        self.ensure_one()
        self.check_access("write")
        if self.state not in ("active", "superseded"):
            raise UserError(self.env._("Edit the draft instead."))
        latest = self.sudo().search(
            [
                ("backend_id", "=", self.backend_id.id),
                ("object_type", "=", self.object_type),
                ("direction", "=", self.direction),
            ],
            order="version desc",
            limit=1,
        )
        draft = self.copy()
        draft.sudo().write(
            {
                "version": latest.version + 1,
                "previous_id": self.id,
                "template_id": self.template_id.id,
            }
        )
        return draft._action_open()

    def action_use_for_backend(self):
        """Copy a shipped template to a backend, as a draft: to the backend
        the template was opened from, else to the one the user chooses."""
        self.ensure_one()
        self.check_access("read")
        if self.backend_id:
            raise UserError(
                self.env._("Only a shipped template is copied to a backend.")
            )
        backend_id = self.env.context.get("fih_backend_id")
        if not backend_id or not isinstance(backend_id, int):
            return {
                "type": "ir.actions.act_window",
                "name": self.env._("Use %s for a Backend", self.name),
                "res_model": "fih.mapping.use.wizard",
                "view_mode": "form",
                "target": "new",
                "context": {"default_template_id": self.id},
            }
        return self._copy_to_backend(self.env["fih.backend"].browse(backend_id))

    def _copy_to_backend(self, backend):
        """The template copied to ``backend`` as a draft, opened."""
        self.ensure_one()
        # the backend comes from the caller: they must be allowed to change it
        backend.check_access("write")
        draft = self.copy({"backend_id": backend.id})
        draft.sudo().write({"template_id": self.id})
        return draft._action_open()

    def _action_open(self):
        return {
            "type": "ir.actions.act_window",
            "res_model": "fih.mapping",
            "res_id": self.id,
            "view_mode": "form",
        }

    def action_open_messages(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "finance_integration_hub.fih_message_action"
        )
        action["domain"] = [("mapping_id", "=", self.id)]
        return action

    def action_try(self):
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "res_model": "fih.mapping.try.wizard",
            "view_mode": "form",
            "target": "new",
            "context": {"default_mapping_id": self.id},
        }

    # -- shipped templates ----------------------------------------------------

    @api.model
    def _activate_template_for_backend(self, shipped_file, backend_id):
        """Give a backend a shipped mapping, active at once (demo and scripted
        set-ups; in the UI a person copies the template and another approves)."""
        template = self.sudo().search(
            [("shipped_file", "=", shipped_file), ("backend_id", "=", False)], limit=1
        )
        mapping = template.copy({"backend_id": backend_id, "template_id": template.id})
        mapping._activate(approver=self.env.ref("base.user_root"))
        return mapping.id

    @api.model
    def _load_shipped_templates(self):
        """Create or refresh the templates from the module's mappings/ folder."""
        templates = self.sudo()  # the module's own data
        for path in sorted(SHIPPED_MAPPINGS.glob("*.json")):
            definition = json.loads(path.read_text())
            template = templates.with_context(active_test=False).search(
                [("shipped_file", "=", path.name), ("backend_id", "=", False)]
            )
            values = {
                "name": definition["name"],
                "object_type": definition["object_type"],
                "direction": definition.get("direction", "inbound"),
                "api_version": definition.get("api_version") or False,
                "description": definition.get("description"),
                "shipped_file": path.name,
                "state": "active",
                "rule_ids": [(5, 0, 0)]
                + [
                    (0, 0, self.env["fih.mapping.rule"]._values_from_definition(rule))
                    for rule in definition["rules"]
                ],
            }
            if template:
                template.with_context(fih_loading_templates=LOADING_TEMPLATES).write(
                    values
                )
            else:
                templates.with_context(fih_loading_templates=LOADING_TEMPLATES).create(
                    values
                )
