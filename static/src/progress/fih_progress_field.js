import { _t } from "@web/core/l10n/translation";
import { registry } from "@web/core/registry";
import { useService } from "@web/core/utils/hooks";
import { standardFieldProps } from "@web/views/fields/standard_field_props";
import { Component, onWillUnmount, useState } from "@odoo/owl";

const BUS_TYPE = "fih.progress";
const RELOAD_EVERY_MS = 2000; // at most one reload of the view per 2 s

/**
 * How far long work has come: a bar and the sentence the server computes
 * ("1,200 of 5,000 rows · 3 of 10 chunks · about 2 min left").
 *
 * The server tells the user who started the work on the bus after each
 * committed chunk; the widget shows the new figures at once and reloads the
 * view (unless something is being edited) so the other figures follow.
 */
export class FihProgressField extends Component {
    static template = "finance_integration_hub.FihProgressField";
    static props = { ...standardFieldProps };

    setup() {
        this.bus = useService("bus_service");
        this.live = useState({ percent: null, text: null, running: null });
        this.lastReload = 0;
        this.onNotification = (payload) => this.receive(payload);
        this.bus.subscribe(BUS_TYPE, this.onNotification);
        this.bus.start();
        onWillUnmount(() => this.bus.unsubscribe(BUS_TYPE, this.onNotification));
    }

    get data() {
        return this.props.record.data;
    }

    get percent() {
        const value = this.live.percent ?? this.data[this.props.name] ?? 0;
        return Math.max(0, Math.min(100, value));
    }

    get text() {
        return this.live.text ?? this.data.progress_text ?? "";
    }

    get running() {
        return this.live.running ?? this.data.progress_running;
    }

    get started() {
        return Boolean(this.live.text || this.data.progress_text);
    }

    get title() {
        return this.running ? _t("Running") : _t("Last run");
    }

    receive(payload) {
        const record = this.props.record;
        if (payload.model !== record.resModel || payload.id !== record.resId) {
            return;
        }
        Object.assign(this.live, {
            percent: payload.percent,
            text: payload.text,
            running: payload.running,
        });
        const now = Date.now();
        if (record.dirty || (payload.running && now - this.lastReload < RELOAD_EVERY_MS)) {
            return;
        }
        this.lastReload = now;
        record.model.load().then(() => {
            Object.assign(this.live, { percent: null, text: null, running: null });
        });
    }
}

export const fihProgressField = {
    component: FihProgressField,
    displayName: _t("Integration progress"),
    supportedTypes: ["float"],
    fieldDependencies: [
        { name: "progress_text", type: "char" },
        { name: "progress_running", type: "boolean" },
    ],
};

registry.category("fields").add("fih_progress", fihProgressField);
