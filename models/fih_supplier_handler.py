from odoo import api, fields, models

from ..exceptions import FihBusinessException, FihPermanentError, FihSkipped
from ..lib import supplier_payload
from ..lib.ordering import parse_timestamp, stale_reason

PARTNER = "res.partner"
# compacted VAT, the same normalisation as supplier_payload.compact()
VAT_COMPACT_SQL = r"upper(regexp_replace(coalesce(vat, ''), '[\s.\-]', '', 'g'))"


class FihSupplierHandler(models.AbstractModel):
    """``supplier.upsert``: create or update suppliers through their bindings."""

    _name = "fih.supplier.handler"
    _inherit = ["fih.handler"]
    _description = "Supplier Flow"
    _fih_event_type = "supplier.upsert"
    _fih_object_type = "supplier"

    @api.model
    def _fih_process(self, messages, documents):
        """Apply canonical suppliers; ``documents`` maps message ids to them.

        Returns ``{message_id: [(model, id, operation)] | Exception}``.
        """
        backend = messages.backend_id
        backend.ensure_one()
        outcomes = {}
        parsed = []
        for message in messages:
            document = documents[message.id]
            try:
                supplier = supplier_payload.normalize(document.data)
            except supplier_payload.PayloadError as exc:
                outcomes[message.id] = exc
                continue
            supplier["company"] = document.company
            supplier["source_version"] = document.data.get("source_version")
            supplier["forced"] = bool(message.replay_of_id)
            if message.resolution_partner_id:
                supplier["resolution_partner_id"] = message.resolution_partner_id.id
            parsed.append((message, supplier))
        if not parsed:
            return outcomes
        context = self._load_context(backend, [s for _m, s in parsed])
        creates = []  # (message, supplier), created together at the end
        pending_external = {}
        for message, supplier in parsed:
            external_id = supplier["external_id"]
            try:
                partner_id = context["bindings"].get(external_id)
                if partner_id:
                    outcomes[message.id] = self._update(
                        backend, message, supplier, partner_id, context
                    )
                elif external_id in pending_external:
                    # same supplier twice in one batch: apply in arrival order
                    pending_external[external_id].append((message, supplier))
                else:
                    partner_id = self._find_existing(backend, supplier, context)
                    if partner_id:
                        outcomes[message.id] = self._link(
                            backend, message, supplier, partner_id, context
                        )
                    else:
                        self._reserve_identifiers(supplier, context)
                        pending_external[external_id] = []
                        creates.append((message, supplier))
            except (
                FihPermanentError,
                FihSkipped,
                supplier_payload.PayloadError,
            ) as exc:
                outcomes[message.id] = exc
        if creates:
            outcomes.update(self._create(backend, creates, context))
            for created_message, supplier in creates:
                partner_id = context["bindings"].get(supplier["external_id"])
                for later_message, later_supplier in pending_external.get(
                    supplier["external_id"], []
                ):
                    if not partner_id:  # its creation failed: the same cause
                        outcomes[later_message.id] = outcomes[created_message.id]
                        continue
                    try:
                        outcomes[later_message.id] = self._update(
                            backend, later_message, later_supplier, partner_id, context
                        )
                    except (FihPermanentError, FihSkipped) as exc:
                        outcomes[later_message.id] = exc
        return outcomes

    @api.model
    def _fih_preview(self, backend, document, company):
        """What applying ``document`` would do, in words; writes nothing."""
        supplier = supplier_payload.normalize(document)
        supplier.update(
            company=company, source_version=document.get("source_version"), forced=False
        )
        context = self._load_context(backend, [supplier])
        values = self._partner_values(backend, supplier, context)
        partner_id = context["bindings"].get(supplier["external_id"])
        if partner_id:
            stored = context["versions"].get(supplier["external_id"])
            reason = stale_reason(
                stored,
                supplier["source_version"],
                parse_timestamp(supplier["updated_at"]),
            )
            partner = self.env[PARTNER].with_company(company).browse(partner_id)
            if reason:
                return [self.env._("Skip: %s", reason)]
            lines = [self.env._("Update supplier '%s':", partner.display_name)]
            for name, value in values.items():
                if self._differs(partner[name], value):
                    field = partner._fields[name]
                    lines.append(
                        f"  {field.string}: {_shown(partner[name])} → "
                        f"{_shown(value, field, self.env)}"
                    )
            return lines if len(lines) > 1 else [*lines, self.env._("  no change")]
        try:
            existing = self._find_existing(backend, supplier, context)
        except FihBusinessException as exc:
            return [self.env._("Exception for a finance user: %s", exc)]
        if existing:
            partner = self.env[PARTNER].browse(existing)
            return [self.env._("Link to existing partner '%s'", partner.display_name)]
        lines = [
            self.env._(
                "Create supplier '%(name)s' in %(company)s:",
                name=supplier["name"],
                company=company.name,
            )
        ]
        for name, value in values.items():
            if value:
                field = self.env[PARTNER]._fields[name]
                lines.append(f"  {field.string}: {_shown(value, field, self.env)}")
        for account in supplier["bank_accounts"]:
            lines.append(self.env._("  Bank account: %s", account["iban"]))
        return lines

    # -- look-ups, one query each for the whole batch -----------------------

    def _load_context(self, backend, suppliers):
        cr = self.env.cr
        external_ids = tuple({s["external_id"] for s in suppliers})
        cr.execute(
            """
            SELECT external_id, res_id, source_version, source_updated_at, id
              FROM fih_binding
             WHERE backend_id = %s AND object_type = 'supplier'
               AND external_id IN %s
            """,
            (backend.id, external_ids),
        )
        bindings, versions, binding_ids = {}, {}, {}
        for external_id, res_id, version, updated_at, binding_id in cr.fetchall():
            bindings[external_id] = res_id
            versions[external_id] = (version, updated_at)
            binding_ids[external_id] = binding_id
        vats = tuple({s["vat"] for s in suppliers if s["vat"]}) or ("",)
        cr.execute(
            f"""
            SELECT {VAT_COMPACT_SQL}, id FROM res_partner
             WHERE active AND parent_id IS NULL AND {VAT_COMPACT_SQL} IN %s
               AND (company_id IS NULL OR company_id = %s)
             ORDER BY id
            """,  # noqa: S608 - constant SQL fragment, values are parameters
            (vats, backend.company_id.id),
        )
        partners_by_vat = {}
        for vat, partner_id in cr.fetchall():
            partners_by_vat.setdefault(vat, partner_id)
        ibans = tuple({a["iban"] for s in suppliers for a in s["bank_accounts"]}) or (
            "",
        )
        cr.execute(
            """
            SELECT b.sanitized_acc_number, b.partner_id
              FROM res_partner_bank b
              JOIN res_partner p ON p.id = b.partner_id
             WHERE b.active AND p.active AND b.sanitized_acc_number IN %s
               AND (p.company_id IS NULL OR p.company_id = %s)
             ORDER BY b.id
            """,
            (ibans, backend.company_id.id),
        )
        partners_by_iban = {}
        for iban, partner_id in cr.fetchall():
            partners_by_iban.setdefault(iban, partner_id)
        return {
            "bindings": bindings,
            "versions": versions,
            "binding_ids": binding_ids,
            "vat": partners_by_vat,
            "iban": partners_by_iban,
            "countries": {},
            "currencies": {},
            "payment_terms": {},
        }

    def _reserve_identifiers(self, supplier, context):
        # a later supplier of the same batch must see this one's VAT and IBANs
        if supplier["vat"]:
            context["vat"].setdefault(supplier["vat"], ("pending", supplier))
        for account in supplier["bank_accounts"]:
            context["iban"].setdefault(account["iban"], ("pending", supplier))

    def _find_existing(self, backend, supplier, context):
        """Partner already holding this VAT or IBAN: link it or raise."""
        if supplier.get("resolution_partner_id"):
            partner_id = supplier["resolution_partner_id"]
            # checked again here: the link may have been stored before the rule
            refusal = self.env["fih.message"]._link_refusal(
                self.env[PARTNER].browse(partner_id), backend.company_id
            )
            if refusal:
                raise FihBusinessException(
                    self.env._(
                        "Supplier '%(name)s' (%(ext)s) was not linked to the partner "
                        "chosen in 'Link to Supplier': %(reason)s. Choose the "
                        "supplier's own partner there and retry, or cancel this "
                        "message.",
                        name=supplier["name"],
                        ext=supplier["external_id"],
                        reason=refusal,
                    ),
                    params={"partner_id": partner_id},
                )
            bound_to = self._bound_external_id(backend, partner_id)
            if bound_to:
                raise FihBusinessException(
                    self.env._(
                        "Supplier '%(name)s' (%(ext)s) cannot be linked to "
                        "'%(partner)s': that partner already stands for supplier "
                        "%(other)s of %(backend)s, and one partner stands for one "
                        "supplier of a backend. The two are duplicates in "
                        "%(backend)s: merge them there, or cancel this message.",
                        name=supplier["name"],
                        ext=supplier["external_id"],
                        partner=self.env[PARTNER].browse(partner_id).display_name,
                        other=bound_to,
                        backend=backend.name,
                    ),
                    cause="supplier.duplicate_at_source",
                    params={"partner_id": partner_id, "other": bound_to},
                )
            return partner_id
        matches = []
        if supplier["vat"] and supplier["vat"] in context["vat"]:
            matches.append(
                (
                    self.env._("VAT number %s", supplier["vat"]),
                    context["vat"][supplier["vat"]],
                )
            )
        for account in supplier["bank_accounts"]:
            if account["iban"] in context["iban"]:
                matches.append(
                    (
                        self.env._("IBAN %s", account["iban"]),
                        context["iban"][account["iban"]],
                    )
                )
        if not matches:
            return False
        what, owner = matches[0]
        if isinstance(owner, tuple):
            raise FihBusinessException(
                self.env._(
                    "Supplier '%(name)s' (%(ext)s) has the same %(what)s as supplier "
                    "'%(other)s' (%(other_ext)s) received in the same batch. One of "
                    "them is probably a duplicate in %(backend)s; correct it there, "
                    "or link this one to the right supplier and retry.",
                    name=supplier["name"],
                    ext=supplier["external_id"],
                    what=what,
                    other=owner[1]["name"],
                    other_ext=owner[1]["external_id"],
                    backend=backend.name,
                ),
                cause="supplier.duplicate_in_batch",
            )
        owners = {owner for _what, owner in matches if not isinstance(owner, tuple)}
        partner = self.env[PARTNER].browse(owner)
        protected = self.env["fih.message"]._protected_partner_reason(partner)
        if protected:
            # a supplier never stands for a company or a person who logs in
            raise FihBusinessException(
                self.env._(
                    "Supplier '%(name)s' (%(ext)s) from %(backend)s was not created: "
                    "its %(what)s is the one of '%(partner)s', %(reason)s, and a "
                    "supplier is never linked to it. Correct the supplier in "
                    "%(backend)s, or cancel this message.",
                    name=supplier["name"],
                    ext=supplier["external_id"],
                    backend=backend.name,
                    what=what,
                    partner=partner.display_name,
                    reason=protected,
                ),
                params={"partner_id": owner},
            )
        cause = (
            "supplier.duplicate_vat"
            if supplier["vat"] in context["vat"]
            else ("supplier.duplicate_iban")
        )
        bound_to = self._bound_external_id(backend, owner)
        if bound_to and not (
            backend.supplier_duplicate_policy == "link" and len(owners) == 1
        ):
            # linking cannot help: that partner stands for another supplier
            raise FihBusinessException(
                self.env._(
                    "Supplier '%(name)s' (%(ext)s) from %(backend)s was not created: "
                    "its %(what)s already belongs to '%(partner)s', which stands "
                    "for supplier %(other)s of %(backend)s. The two are probably "
                    "duplicates in %(backend)s: merge or correct them there, then "
                    "retry, or cancel this message.",
                    name=supplier["name"],
                    ext=supplier["external_id"],
                    backend=backend.name,
                    what=what,
                    partner=partner.display_name,
                    other=bound_to,
                ),
                cause="supplier.duplicate_at_source",
                params={"partner_id": owner, "other": bound_to},
            )
        if backend.supplier_duplicate_policy == "link" and len(owners) == 1:
            if bound_to:
                raise FihBusinessException(
                    self.env._(
                        "Supplier '%(name)s' (%(ext)s) has the same %(what)s as "
                        "'%(partner)s', which is already linked to another supplier "
                        "of %(backend)s. Check for a duplicate in %(backend)s.",
                        name=supplier["name"],
                        ext=supplier["external_id"],
                        what=what,
                        partner=partner.display_name,
                        backend=backend.name,
                    ),
                    cause="supplier.duplicate_at_source",
                    params={"partner_id": owner, "other": bound_to},
                )
            return owner
        raise FihBusinessException(
            self.env._(
                "Supplier '%(name)s' (%(ext)s) from %(backend)s was not created: its "
                "%(what)s already belongs to '%(partner)s' (partner #%(id)s). Link it "
                "to that partner (field 'Link to Supplier', then Retry), or correct "
                "the supplier in %(backend)s.",
                name=supplier["name"],
                ext=supplier["external_id"],
                backend=backend.name,
                what=what,
                partner=partner.display_name,
                id=owner,
            ),
            cause=cause,
            params={"partner_id": owner},
        )

    def _bound_external_id(self, backend, partner_id):
        """The supplier of ``backend`` that partner already stands for, if any."""
        binding = self.env["fih.binding"].search(
            [
                ("backend_id", "=", backend.id),
                ("object_type", "=", "supplier"),
                ("res_id", "=", partner_id),
            ],
            limit=1,
        )
        return binding.external_id or False

    # -- values (lookups of codes: fih_supplier_lookups) ----------------------

    def _partner_values(self, backend, supplier, context):
        # look-ups (payment terms...) in the company the supplier is routed to
        self = self.with_company(supplier["company"])  # noqa: PLW0642
        address = supplier["address"]
        country_id = self._country_id(address.get("country_code"), context)
        values = {
            "name": supplier["name"],
            "is_company": True,
            "vat": supplier["vat"] or False,
            "company_registry": supplier["company_registry"] or False,
            "email": supplier["email"] or False,
            "phone": supplier["phone"] or False,
            "street": address.get("street") or False,
            "street2": address.get("street2") or False,
            "zip": address.get("zip") or False,
            "city": address.get("city") or False,
            "country_id": country_id,
            "state_id": self._state_id(country_id, address.get("state_code")),
        }
        if supplier["currency"]:
            values["property_purchase_currency_id"] = self._currency_id(
                supplier["currency"], context
            )
        if supplier["payment_terms"]:
            values["property_supplier_payment_term_id"] = self._payment_term_id(
                supplier["payment_terms"], supplier["company"], context
            )
        return values

    def _version_values(self, message, supplier):
        return {
            "last_sync_at": fields.Datetime.now(),
            "last_message_id": message.id,
            "source_version": supplier["source_version"],
            "source_updated_at": parse_timestamp(supplier["updated_at"]),
        }

    def _binding_values(self, backend, message, supplier, partner_id):
        return {
            "backend_id": backend.id,
            "object_type": "supplier",
            "external_id": supplier["external_id"],
            "res_model": PARTNER,
            "res_id": partner_id,
            **self._version_values(message, supplier),
        }

    # -- writes --------------------------------------------------------------

    def _create(self, backend, creates, context):
        outcomes = {}
        by_company = {}
        for message, supplier in creates:
            by_company.setdefault(supplier["company"], []).append((message, supplier))
        for company, company_creates in by_company.items():
            outcomes.update(
                self._create_in_company(backend, company, company_creates, context)
            )
        return outcomes

    def _create_in_company(self, backend, company, creates, context):
        Partner = (
            self.env[PARTNER].with_company(company).with_context(tracking_disable=True)
        )
        vals_list = []
        outcomes = {}
        valid = []
        for message, supplier in creates:
            try:
                values = self._partner_values(backend, supplier, context)
            except FihPermanentError as exc:
                outcomes[message.id] = exc
                continue
            values["supplier_rank"] = 1
            values["bank_ids"] = [
                (
                    0,
                    0,
                    {
                        "acc_number": account["iban"],
                        "acc_holder_name": account["holder"] or False,
                    },
                )
                for account in supplier["bank_accounts"]
            ]
            vals_list.append(values)
            valid.append((message, supplier))
        partners = Partner.create(vals_list)
        bindings = []
        for (message, supplier), partner in zip(valid, partners, strict=True):
            context["bindings"][supplier["external_id"]] = partner.id
            values = self._binding_values(backend, message, supplier, partner.id)
            context["versions"][supplier["external_id"]] = (
                values["source_version"],
                values["source_updated_at"],
            )
            bindings.append(values)
            outcomes[message.id] = [(PARTNER, partner.id, "created")]
        for values, binding in zip(
            bindings, self.env["fih.binding"].create(bindings), strict=True
        ):
            context["binding_ids"][values["external_id"]] = binding.id
        return outcomes

    def _link(self, backend, message, supplier, partner_id, context):
        binding = self.env["fih.binding"].create(
            self._binding_values(backend, message, supplier, partner_id)
        )
        context["bindings"][supplier["external_id"]] = partner_id
        context["binding_ids"][supplier["external_id"]] = binding.id
        self._update(backend, message, supplier, partner_id, context)
        return [(PARTNER, partner_id, "linked")]

    def _update(self, backend, message, supplier, partner_id, context):
        stored = context["versions"].get(supplier["external_id"])
        reason = (
            stale_reason(
                stored,
                supplier["source_version"],
                parse_timestamp(supplier["updated_at"]),
            )
            if stored and not supplier["forced"]
            else None
        )
        if reason:
            raise FihSkipped(
                self.env._(
                    "Supplier '%(name)s' (%(ext)s) was not updated: %(reason)s",
                    name=supplier["name"],
                    ext=supplier["external_id"],
                    reason=reason,
                )
            )
        partner = self.env[PARTNER].with_company(supplier["company"]).browse(partner_id)
        values = self._partner_values(backend, supplier, context)
        if partner.supplier_rank < 1:
            values["supplier_rank"] = 1
        changed = {
            name: value
            for name, value in values.items()
            if self._differs(partner[name], value)
        }
        existing_ibans = set(partner.bank_ids.mapped("sanitized_acc_number"))
        new_accounts = []
        for account in supplier["bank_accounts"]:
            if account["iban"] in existing_ibans:
                continue
            owner = context["iban"].get(account["iban"])
            if owner and not isinstance(owner, tuple) and owner != partner_id:
                raise FihBusinessException(
                    self.env._(
                        "The update of supplier '%(name)s' (%(ext)s) adds IBAN "
                        "%(iban)s, which belongs to another partner (#%(owner)s). "
                        "Bank details were not changed; check the supplier in "
                        "%(backend)s.",
                        name=supplier["name"],
                        ext=supplier["external_id"],
                        iban=account["iban"],
                        owner=owner,
                        backend=backend.name,
                    ),
                    cause="supplier.duplicate_iban",
                    params={"partner_id": owner},
                )
            new_accounts.append(
                (
                    0,
                    0,
                    {
                        "acc_number": account["iban"],
                        "acc_holder_name": account["holder"] or False,
                    },
                )
            )
        if new_accounts:
            changed["bank_ids"] = new_accounts
        if changed:
            partner.write(changed)
        version_values = self._version_values(message, supplier)
        self.env["fih.binding"].browse(
            context["binding_ids"][supplier["external_id"]]
        ).write(version_values)
        context["versions"][supplier["external_id"]] = (
            version_values["source_version"],
            version_values["source_updated_at"],
        )
        return [(PARTNER, partner_id, "updated")]

    @staticmethod
    def _differs(current, value):
        if isinstance(current, models.BaseModel):
            return current.id != (value or False)
        return (current or False) != (value or False)


def _shown(value, field=None, env=None):
    """A value as a finance user reads it (record names, not ids)."""
    if isinstance(value, models.BaseModel):
        return value.display_name or "-"
    if field is not None and field.type == "many2one" and value:
        return env[field.comodel_name].browse(value).display_name
    return "-" if value in (False, None, "") else str(value)
