import { _t } from "@web/core/l10n/translation";
import { registry } from "@web/core/registry";

/**
 * When long work the user started ends, say what it did: the server sends
 * the summary with its last progress notification ("1,197 messages queued
 * for retry, 3 skipped (already done)").
 */
export const fihProgressService = {
    dependencies: ["bus_service", "notification"],

    start(env, { bus_service, notification }) {
        bus_service.subscribe("fih.progress", ({ running, summary, stopped }) => {
            if (running || !summary) {
                return;
            }
            // work that stopped on an error must not read as finished
            if (stopped) {
                notification.add(summary, { title: _t("Stopped"), type: "warning" });
            } else {
                notification.add(summary, { title: _t("Finished"), type: "info" });
            }
        });
        bus_service.start();
    },
};

registry.category("services").add("fih_progress", fihProgressService);
