/** @odoo-module */

import { registry } from "@web/core/registry";

// An exception handler retries every message that needs attention at once,
// sees how many were selected, and is told what was done.
registry.category("web_tour.tours").add("fih_bulk_retry", {
    steps: () => [
        {
            content: "Two messages need attention",
            trigger: ".o_list_view .o_data_row:nth-child(2)",
        },
        {
            content: "Select them all",
            trigger: "thead .o_list_record_selector input",
            run: "click",
        },
        {
            content: "Open the actions",
            trigger: ".o_cp_action_menus .dropdown-toggle",
            run: "click",
        },
        {
            content: "Retry, replay or cancel them",
            trigger: ".o-dropdown--menu .o-dropdown-item:contains('Retry, Replay or Cancel')",
            run: "click",
        },
        {
            content: "The wizard counts the selected messages",
            trigger: ".modal .o_field_widget[name=message_count]:contains('2')",
        },
        {
            content: "Retry is the proposed action: confirm",
            trigger: ".modal button[name=action_confirm]",
            run: "click",
        },
        {
            content: "The confirmation says what was done, with counts",
            trigger: ".o_notification:contains('2 messages queued for retry')",
        },
    ],
});

// A bulk action running in the background shows how far it has come.
registry.category("web_tour.tours").add("fih_bulk_progress", {
    steps: () => [
        {
            content: "The list shows the running bulk action's progress",
            trigger: ".o_data_row .o_fih_progress_text:contains('0 of 2 messages')",
        },
        {
            content: "Open it",
            trigger: ".o_data_row td[name=name]",
            run: "click",
        },
        {
            content: "The form shows the bar and the sentence",
            trigger: ".o_form_view .o_fih_progress .progress",
        },
        {
            content: "The sentence says what is left",
            trigger: ".o_form_view .o_fih_progress_text:contains('0 of 1 chunk')",
        },
    ],
});
