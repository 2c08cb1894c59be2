/** @odoo-module */

import { registry } from "@web/core/registry";

// An Integration Manager starts a supplier mapping for a backend from a
// shipped template and submits it; Approve is not offered to them.
registry.category("web_tour.tours").add("fih_template_to_submitted_mapping", {
    steps: () => [
        {
            content: "Open the backend's mappings",
            trigger: ".o_form_view button[name=action_open_mappings]",
            run: "click",
        },
        {
            content: "The shipped templates are listed for the backend",
            trigger:
                ".o_data_row:contains('Procurement platform v2 supplier') button[name=action_use_for_backend]",
            run: "click",
        },
        {
            content: "A draft copy for the backend opens",
            trigger:
                ".o_action_manager:has(.o_breadcrumb:contains('Tour platform')) .o_statusbar_status button.o_arrow_button_current:contains('Draft')",
        },
        {
            content: "Submit it for approval",
            trigger: ".o_form_view button[name=action_submit]",
            run: "click",
        },
        {
            content: "It waits for another manager",
            trigger:
                ".o_statusbar_status button.o_arrow_button_current:contains('Waiting for approval')",
        },
        {
            content: "The submitter is told who approves, and is not offered Approve",
            trigger:
                ".o_form_view .o_form_statusbar:contains('another Integration Manager'):not(:has(button[name=action_approve]))",
        },
    ],
});

// A second Integration Manager approves the submitted mapping.
registry.category("web_tour.tours").add("fih_approve_submitted_mapping", {
    steps: () => [
        {
            content: "Approve the mapping another manager submitted",
            trigger: ".o_form_view button[name=action_approve]",
            run: "click",
        },
        {
            content: "The mapping is active",
            trigger: ".o_statusbar_status button.o_arrow_button_current:contains('Active')",
        },
    ],
});

// An accountant finds the bills the integration held from the Vendor Bills list.
registry.category("web_tour.tours").add("fih_held_bill_from_vendor_bills", {
    steps: () => [
        {
            content: "Open the filters",
            trigger: ".o_control_panel_actions .o_searchview_dropdown_toggler",
            run: "click",
        },
        {
            content: "Keep the bills held by the integration",
            trigger: ".o_filter_menu .o_menu_item:contains('Held by integration')",
            run: "click",
        },
        {
            content: "Only the held bill is left in the list",
            trigger:
                ".o_list_table:has(.o_data_row:contains('Held Tour Supplies')):not(:has(.o_data_row:contains('Clean Tour Supplies')))",
        },
        {
            content: "It needs attention",
            trigger: ".o_data_row:contains('Held Tour Supplies') td[name=fih_sync_state]:contains('Needs attention')",
        },
        {
            content: "Open it",
            trigger: ".o_data_row:contains('Held Tour Supplies') td[name=invoice_partner_display_name]",
            run: "click",
        },
        {
            content: "The bill says why it was held",
            trigger: ".o_form_view .alert-warning:contains('No purchase order matches')",
        },
    ],
});
