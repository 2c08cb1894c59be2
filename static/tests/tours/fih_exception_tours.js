/** @odoo-module */

import { registry } from "@web/core/registry";

// An exception handler meets an exception: opens it, applies its fix action,
// then retries its messages and sees what was done.
registry.category("web_tour.tours").add("fih_exception_fix_and_retry", {
    steps: () => [
        {
            content: "The exception is listed on one line, by cause",
            trigger: ".o_data_row:contains('Currency not active: CHF')",
        },
        {
            content: "Open it",
            trigger: ".o_data_row:contains('Currency not active: CHF') td[name=name]",
            run: "click",
        },
        {
            content: "It counts its messages",
            trigger: "button[name=action_open_messages] .o_stat_value:contains('1')",
        },
        {
            content: "Apply its fix: open the currency",
            trigger: ".o_form_view button.o_fih_fix_action:contains('Open the currency'):visible",
            run: "click",
        },
        {
            content: "The currency CHF is opened",
            trigger: ".o_form_view .o_field_widget[name=name]:contains('CHF'), .o_form_view .o_field_widget[name=name] input",
        },
        {
            content: "Activate it",
            trigger: ".o_form_view .o_field_widget[name=active] input",
            run: "click",
        },
        {
            content: "It is active (saved at once)",
            trigger: ".o_form_view .o_field_widget[name=active] input:checked",
        },
        {
            content: "Back to the exception",
            trigger: ".breadcrumb-item a:contains('Currency not active: CHF')",
            run: "click",
        },
        {
            content: "Retry its messages",
            trigger: ".o_form_view button[name=action_retry_all]",
            run: "click",
        },
        {
            content: "The hub says what it did",
            trigger: ".o_notification:contains('1 messages queued for processing, 0 skipped')",
        },
        {
            content: "The exception is resolved",
            trigger: ".o_statusbar_status button.o_arrow_button_current:contains('Resolved')",
        },
        {
            content: "Its smart button is refreshed",
            trigger: "button[name=action_open_messages] .o_stat_value:contains('0')",
        },
    ],
});
