/** @odoo-module */

import { registry } from "@web/core/registry";

// A finance user opens the dashboard: the failing system comes first, its
// "to fix" count opens exactly its messages to fix.
registry.category("web_tour.tours").add("fih_dashboard_problems_first", {
    steps: () => [
        {
            content: "The failing system is the first card, marked Down",
            trigger:
                ".o_fih_dashboard .o_kanban_record:first:contains('Tour failing platform'):contains('Down')",
        },
        {
            content: "The healthy system is shown too, after it",
            trigger: ".o_fih_dashboard .o_kanban_record:contains('Tour healthy platform'):contains('OK')",
        },
        {
            content: "Its traffic chart is drawn",
            trigger:
                ".o_kanban_record:contains('Tour failing platform') .o_fih_traffic_chart canvas",
        },
        {
            content: "The chart shows the last 7 days on demand",
            trigger: ".o_kanban_record:contains('Tour failing platform') .o_fih_period_7d",
            run: "click",
        },
        {
            content: "Three messages to fix: open them",
            trigger:
                ".o_kanban_record:contains('Tour failing platform') button.o_fih_to_fix:contains('3'):contains('to fix')",
            run: "click",
        },
        {
            content: "The list is filtered to that system's messages to fix",
            trigger: ".o_breadcrumb:contains('Tour failing platform: to fix')",
        },
        {
            content: "Exactly the three counted messages are listed",
            trigger:
                ".o_list_renderer:has(.o_data_row:nth-child(3)):not(:has(.o_data_row:nth-child(4)))",
        },
    ],
});
