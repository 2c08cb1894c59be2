/** @odoo-module */

import { registry } from "@web/core/registry";
import { stepUtils } from "@web_tour/tour_service/tour_utils";

// A finance admin connects a new system: creates the backend.
registry.category("web_tour.tours").add("fih_create_backend", {
    steps: () => [
        {
            content: "Create a backend",
            trigger: ".o_list_button_add",
            run: "click",
        },
        {
            content: "Name it as finance users know it",
            trigger: ".o_field_widget[name=name] input",
            run: "edit Tour procurement platform",
        },
        {
            content: "Give it the code used in its webhook address",
            trigger: ".o_field_widget[name=code] input",
            run: "edit tour-platform",
        },
        ...stepUtils.saveForm(),
        {
            content: "The webhook address to give the system is shown",
            trigger: ".o_field_widget[name=webhook_url]:contains('/finance_hub/webhook/tour-platform')",
        },
    ],
});

// After a webhook failed: the dashboard shows it, the admin retries it.
registry.category("web_tour.tours").add("fih_retry_failed", {
    steps: () => [
        {
            content: "The backend is down: its only message failed",
            trigger: ".o_kanban_record:contains('Tour procurement platform'):contains('Down')",
        },
        {
            content: "Open the messages that need attention",
            trigger:
                ".o_kanban_record:contains('Tour procurement platform') button[name=action_open_failed_messages]",
            run: "click",
        },
        {
            content: "Open the failed supplier message",
            trigger: ".o_data_row:contains('Supplier') td[name=display_name]",
            run: "click",
        },
        {
            content: "The problem is explained in business words",
            trigger: ".alert-warning:contains('country code')",
        },
        {
            content: "Retry it",
            trigger: ".o_form_view button[name=action_retry]",
            run: "click",
        },
        {
            content: "It waits for processing again",
            trigger: ".o_statusbar_status button.o_arrow_button_current:contains('Received')",
        },
    ],
});
