"""The access model of the hub's buttons: which kind of user may call each
public method the module adds to a model. ``test_access_matrix`` calls every
row as every persona, and fails for a public method without a row here."""

import inspect
from typing import NamedTuple

from odoo import Command, models

MODULE = "odoo.addons.finance_integration_hub."

# the people (and technical users) the calls are made as
PERSONAS = {
    "internal": ["base.group_user"],
    "portal": ["base.group_portal"],
    "user": ["finance_integration_hub.group_fih_user"],
    "handler": ["finance_integration_hub.group_fih_exception_handler"],
    "manager": ["finance_integration_hub.group_fih_manager"],
    "service": ["base.group_user", "finance_integration_hub.group_fih_service"],
    "billing": ["account.group_account_invoice"],
}
READERS = {"user", "handler", "manager"}
HANDLERS = {"handler", "manager"}
MANAGERS = {"manager"}

ACT = "act"  # changes something: the others get an AccessError
OPEN = "open"  # opens a view: returns an action, never a field of the record
ODOO = "odoo"  # extends Odoo's own button, which checks who may press it


class Row(NamedTuple):
    model: str
    method: str
    kind: str
    allowed: frozenset  # personas for which the call must succeed
    fixture: str  # name of the record fixture (a method of the test class)
    call: object  # (test, record as the persona) -> result


def row(model, method, kind, allowed, fixture, call=None):
    return Row(model, method, kind, frozenset(allowed), fixture, call)


MATRIX = [
    # backends: settings and secrets are the Integration Manager's
    row(
        "fih.backend",
        "action_reset_breaker",
        ACT,
        MANAGERS,
        "backend",
        lambda t, r: r.action_reset_breaker(),
    ),
    row(
        "fih.backend",
        "action_generate_webhook_secret",
        ACT,
        MANAGERS,
        "backend",
        lambda t, r: r.action_generate_webhook_secret(),
    ),
    row(
        "fih.backend",
        "action_end_secret_grace",
        ACT,
        MANAGERS,
        "backend",
        lambda t, r: r.action_end_secret_grace(),
    ),
    row(
        "fih.backend",
        "action_reencrypt_secrets",
        ACT,
        MANAGERS,
        "backend",
        lambda t, r: r.action_reencrypt_secrets(),
    ),
    row(
        "fih.backend",
        "action_open_mappings",
        OPEN,
        READERS,
        "backend",
        lambda t, r: r.action_open_mappings(),
    ),
    row(
        "fih.backend",
        "action_open_messages",
        OPEN,
        READERS,
        "backend",
        lambda t, r: r.action_open_messages(),
    ),
    row(
        "fih.exception.group",
        "action_fix",
        OPEN,
        HANDLERS,
        "exception_group_with_fix",
        lambda t, r: r.action_fix(),
    ),
    row(
        "fih.backend",
        "action_open_failed_messages",
        OPEN,
        READERS,
        "backend",
        lambda t, r: r.action_open_failed_messages(),
    ),
    # the dashboard's figures open the messages they count
    row(
        "fih.backend",
        "action_open_waiting_messages",
        OPEN,
        READERS,
        "backend",
        lambda t, r: r.action_open_waiting_messages(),
    ),
    row(
        "fih.backend",
        "action_open_recent_messages",
        OPEN,
        READERS,
        "backend",
        lambda t, r: r.action_open_recent_messages(),
    ),
    row(
        "fih.backend",
        "action_open_traffic",
        OPEN,
        READERS,
        "backend",
        lambda t, r: r.action_open_traffic(
            "2026-01-01 10:00:00", "2026-01-01 11:00:00"
        ),
    ),
    row(
        "fih.backend",
        "action_open_publications",
        OPEN,
        READERS,
        "backend",
        lambda t, r: r.action_open_publications(),
    ),
    row(
        "fih.backend",
        "action_open_bindings",
        OPEN,
        READERS,
        "backend",
        lambda t, r: r.action_open_bindings(),
    ),
    # mappings: four-eyes, managers only
    row(
        "fih.mapping",
        "action_submit",
        ACT,
        MANAGERS,
        "draft_mapping",
        lambda t, r: r.action_submit(),
    ),
    row(
        "fih.mapping",
        "action_reset_to_draft",
        ACT,
        MANAGERS,
        "submitted_mapping",
        lambda t, r: r.action_reset_to_draft(),
    ),
    row(
        "fih.mapping",
        "action_approve",
        ACT,
        MANAGERS,
        "submitted_mapping",
        lambda t, r: r.action_approve(),
    ),
    row(
        "fih.mapping",
        "action_new_version",
        ACT,
        MANAGERS,
        "active_mapping",
        lambda t, r: r.action_new_version(),
    ),
    row(
        "fih.mapping",
        "action_use_for_backend",
        ACT,
        MANAGERS,
        "template",
        lambda t, r: r.with_context(
            fih_backend_id=t.backend.id
        ).action_use_for_backend(),
    ),
    row(
        "fih.mapping.use.wizard",
        "action_use",
        ACT,
        MANAGERS,
        "template",
        lambda t, r: r.env["fih.mapping.use.wizard"]
        .create({"template_id": r.id, "backend_id": t.backend.id})
        .action_use(),
    ),
    row(
        "fih.mapping",
        "action_open_messages",
        OPEN,
        READERS,
        "active_mapping",
        lambda t, r: r.action_open_messages(),
    ),
    row(
        "fih.mapping",
        "action_try",
        OPEN,
        READERS,
        "active_mapping",
        lambda t, r: r.action_try(),
    ),
    row(
        "fih.mapping.try.wizard",
        "action_try",
        ACT,
        READERS,
        "try_wizard",
        lambda t, r: r.create(
            {
                "mapping_id": t.active_mapping().id,
                "backend_id": t.backend.id,
                "object_type": "supplier",
                "sample_payload": "{}",
            }
        ).action_try(),
    ),
    # the exchange log: exception handlers act, with a reason kept
    row(
        "fih.message",
        "action_retry",
        ACT,
        HANDLERS | {"service"},
        "failed_message",
        lambda t, r: r.action_retry(reason="matrix"),
    ),
    row(
        "fih.message",
        "action_replay",
        ACT,
        HANDLERS | {"service"},
        "done_message",
        lambda t, r: r.action_replay(reason="matrix"),
    ),
    row(
        "fih.message",
        "action_cancel",
        ACT,
        HANDLERS | {"service"},
        "failed_message",
        lambda t, r: r.action_cancel(reason="matrix"),
    ),
    row(
        "fih.message",
        "action_open_wizard",
        OPEN,
        READERS,
        "failed_message",
        lambda t, r: r.action_open_wizard(),
    ),
    row(
        "fih.message.action.wizard",
        "action_confirm",
        ACT,
        HANDLERS,
        "message_wizard",
        lambda t, r: r.create(
            {
                "message_ids": [Command.set(t.failed_message().ids)],
                "action": "retry",
                "reason": "matrix",
            }
        ).action_confirm(),
    ),
    row(
        "fih.exception.group",
        "action_retry_all",
        ACT,
        HANDLERS | {"service"},
        "exception_group",
        lambda t, r: r.action_retry_all(),
    ),
    row(
        "fih.exception.group",
        "action_open_messages",
        OPEN,
        READERS,
        "exception_group",
        lambda t, r: r.action_open_messages(),
    ),
    row(
        "fih.binding",
        "action_open_record",
        OPEN,
        READERS,
        "binding",
        lambda t, r: r.action_open_record(),
    ),
    row(
        "fih.message.link",
        "action_open_record",
        OPEN,
        READERS,
        "message_link",
        lambda t, r: r.action_open_record(),
    ),
    # publications and loads: the Integration Manager publishes and stops
    row(
        "fih.bi.publication",
        "action_publish_now",
        ACT,
        MANAGERS,
        "publication",
        lambda t, r: r.action_publish_now(),
    ),
    row(
        "fih.bi.publication",
        "action_full_reload",
        ACT,
        MANAGERS,
        "publication",
        lambda t, r: r.action_full_reload(),
    ),
    row(
        "fih.bi.publication",
        "action_reencrypt_secrets",
        ACT,
        MANAGERS,
        "publication",
        lambda t, r: r.action_reencrypt_secrets(),
    ),
    row(
        "fih.bi.publication",
        "action_publish_period",
        OPEN,
        READERS,
        "publication",
        lambda t, r: r.action_publish_period(),
    ),
    row(
        "fih.bi.publication",
        "action_open_loads",
        OPEN,
        READERS,
        "publication",
        lambda t, r: r.action_open_loads(),
    ),
    row(
        "fih.bi.period.wizard",
        "action_publish",
        ACT,
        MANAGERS,
        "period_wizard",
        lambda t, r: r.create(
            {"publication_id": t.fixture_publication.id, "month": "2026-10-01"}
        ).action_publish(),
    ),
    row(
        "fih.bi.load",
        "action_resume",
        ACT,
        MANAGERS | {"service"},
        "stopped_load",
        lambda t, r: r.action_resume(),
    ),
    row(
        "fih.bi.load",
        "action_cancel",
        ACT,
        MANAGERS | {"service"},
        "running_load",
        lambda t, r: r.action_cancel(),
    ),
    row(
        "fih.pull",
        "action_run_now",
        ACT,
        MANAGERS,
        "pull",
        lambda t, r: r.action_run_now(),
    ),
    # business documents: a posting decision needs Accounting: Billing
    row(
        "account.move",
        "action_fih_not_a_duplicate",
        ACT,
        {"billing"},
        "held_bill",
        lambda t, r: r.action_fih_not_a_duplicate(),
    ),
    row(
        "account.move",
        "action_open_fih_messages",
        OPEN,
        {"billing"},
        "held_bill",
        lambda t, r: r.action_open_fih_messages(),
    ),
    row(
        "account.payment",
        "action_open_fih_messages",
        OPEN,
        {"billing"},
        "payment",
        lambda t, r: r.action_open_fih_messages(),
    ),
    row(
        "purchase.order",
        "action_open_fih_messages",
        OPEN,
        set(),
        "purchase_order",
        lambda t, r: r.action_open_fih_messages(),
    ),
    row(
        "res.partner",
        "action_open_fih_messages",
        OPEN,
        READERS | {"internal", "billing", "service"},
        "partner",
        lambda t, r: r.action_open_fih_messages(),
    ),
    row(
        "res.partner",
        "action_open_fih_bindings",
        OPEN,
        READERS | {"internal", "billing", "service"},
        "partner",
        lambda t, r: r.action_open_fih_bindings(),
    ),
    # Odoo's own buttons, extended by the hub: Odoo checks who may press them
    row("purchase.order", "button_confirm", ODOO, (), None),
    row("purchase.order", "button_cancel", ODOO, (), None),
    row("account.move", "button_cancel", ODOO, (), None),
    row("account.payment", "action_post", ODOO, (), None),
    # the dashboard's cards, problems first: Odoo's read, with its access rules
    row("fih.backend", "web_search_read", ODOO, (), None),
]


def module_public_methods(registry):
    """``{(model, method)}`` of every public method this module defines or
    overrides on a model, Odoo's generic model methods (create, write...)
    aside: what a remote caller may call."""
    found = set()
    for name in registry:
        model_class = registry[name]
        for klass in model_class.__mro__:
            if not klass.__module__.startswith(MODULE):
                continue
            for attr, value in vars(klass).items():
                if attr.startswith("_") or not inspect.isfunction(value):
                    continue
                if hasattr(models.BaseModel, attr):
                    continue
                if model_class._abstract and getattr(value, "_api", None) != "model":
                    continue  # no record to call it on
                found.add((name, attr))
    return found
