from odoo import api, models
from odoo.exceptions import AccessError

SERVICE_GROUP = "finance_integration_hub.group_fih_service"
# chatter, followers and activities: people may always use them
MAIL_PREFIXES = ("message_", "activity_")


class FihDefaultGuardMixin(models.AbstractModel):
    """Fields that only some callers set get no default from those who may not.

    Odoo fills the values a ``create`` does not send from ``default_get``:
    ``default_<field>`` context keys and personal defaults (``ir.default``),
    which every internal user may store for themselves. For the fields a
    caller may not set, ``default_get`` returns the field's own default only,
    whatever the context or the stored defaults say. After ``create``, the
    fields are checked once more.
    """

    _name = "fih.default.guard.mixin"
    _description = "Integration Record With Fields Only Some Callers Set"

    # fields only a system administrator sets
    _fih_admin_only_fields = frozenset()

    def _fih_default_refused(self, names):
        """The fields among ``names`` whose defaults the caller may not set."""
        if self.env.su or self.env.user.has_group("base.group_system"):
            return set()
        return set(names) & self._fih_admin_only_fields

    @api.model
    def default_get(self, fields_list):
        refused = self._fih_default_refused(fields_list)
        defaults = super().default_get(
            [name for name in fields_list if name not in refused]
        )
        for name in refused:
            field = self._fields.get(name)
            if field and field.default:
                value = field.convert_to_cache(
                    field.default(self), self, validate=False
                )
                defaults[name] = field.convert_to_write(value, self)
        return defaults

    @api.model_create_multi
    def create(self, vals_list):
        records = super().create(vals_list)
        refused = self._fih_default_refused(self._fih_admin_only_fields)
        if refused and any(
            record._fih_set_by_caller(name)
            for record in records.sudo()
            for name in refused
        ):
            raise AccessError(
                self.env._(
                    "Only a system administrator can set %(fields)s on %(what)s.",
                    fields=", ".join(
                        sorted(self._fields[name].string for name in refused)
                    ),
                    what=self._description,
                )
            )
        return records

    def _fih_set_by_caller(self, name):
        """Whether field ``name`` holds something else than its own default
        (set, for a field without one)."""
        field = self._fields[name]
        default = field.default(self) if field.default else False
        return self[name] != default if default else bool(self[name])


class FihGovernedMixin(models.AbstractModel):
    """Records whose workflow fields change only through their actions.

    A person never writes these fields, not even with the write right on the
    record: the actions check who may act and from which state, then write
    them as superuser (``sudo()``). The marker is ``env.su``, which a remote
    caller cannot set (unlike a context key, which any JSON-RPC call may
    send). The hub's service users, which run the flows, are trusted too.
    """

    _name = "fih.governed.mixin"
    _inherit = ["fih.default.guard.mixin"]
    _description = "Integration Record Changed Through Its Actions"

    # fields only the actions write; None: every field but the chatter's
    _fih_action_fields = None

    def _fih_action_only_text(self):
        """What to do instead, in business words."""
        return self.env._("Use the buttons of the record to change it.")

    def _fih_guarded(self, names):
        names = {name for name in names if not name.startswith(MAIL_PREFIXES)}
        if self._fih_action_fields is not None:
            names &= self._fih_action_fields
        return names

    def _fih_is_trusted_writer(self):
        return self.env.su or self.env.user.has_group(SERVICE_GROUP)

    def _fih_default_refused(self, names):
        refused = super()._fih_default_refused(names)
        if not self._fih_is_trusted_writer():
            refused |= self._fih_guarded(names)
        return refused

    def _fih_check_action_fields(self, names):
        guarded = self._fih_guarded(names)
        if guarded and not self._fih_is_trusted_writer():
            raise AccessError(
                self.env._(
                    "%(what)s cannot be written directly (%(fields)s). %(hint)s",
                    what=self._description,
                    fields=", ".join(
                        self._fields[name].string
                        for name in sorted(guarded)
                        if name in self._fields
                    ),
                    hint=self._fih_action_only_text(),
                )
            )

    @api.model_create_multi
    def create(self, vals_list):
        model = self
        if not self._fih_is_trusted_writer():
            for vals in vals_list:
                self._fih_check_action_fields(vals)
            # defaults given in the context are values written by the caller:
            # dropped, which only a whole new context can do
            context = {
                key: value
                for key, value in self.env.context.items()
                if not (
                    key.startswith("default_")
                    and self._fih_guarded([key.removeprefix("default_")])
                )
            }
            model = self.with_context(context)  # pylint: disable=context-overridden
        records = super(FihGovernedMixin, model).create(vals_list)
        if not self._fih_is_trusted_writer():
            records._fih_check_born_at_defaults()
        return records

    def _fih_check_born_at_defaults(self):
        """A record created by a person starts with its workflow fields at
        their own defaults, whatever filled the values not sent."""
        names = [
            name
            for name in self._fih_guarded(self._fields)
            if self._fields[name].store
            and not self._fields[name].automatic
            and not self._fields[name].compute
            and self._fields[name].type not in ("one2many", "many2many")
        ]
        for name in names:
            field = self._fields[name]
            expected = False
            if field.default:
                cached = field.convert_to_cache(
                    field.default(self), self, validate=False
                )
                expected = field.convert_to_write(cached, self) or False
            for record in self.sudo():
                actual = field.convert_to_write(record[name], record) or False
                if actual != expected:
                    self._fih_check_action_fields([name])

    def write(self, vals):
        self._fih_check_action_fields(vals)
        return super().write(vals)
