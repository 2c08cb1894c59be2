/** The dashboard's traffic chart of a backend: messages received per hour
 * (24 hours) or per day (7 days), those needing attention stacked in red.
 * A click on a bar opens exactly the messages it counts. Chart.js comes from
 * Odoo's own bundle; the figures from the server (fih.message.stat). */
import { _t } from "@web/core/l10n/translation";
import { loadBundle } from "@web/core/assets";
import { registry } from "@web/core/registry";
import { useService } from "@web/core/utils/hooks";
import { getColor } from "@web/core/colors/colors";
import { cookie } from "@web/core/browser/cookie";
import { standardFieldProps } from "@web/views/fields/standard_field_props";
import { Component, onWillStart, useEffect, useRef, useState } from "@odoo/owl";

export class FihTrafficChartField extends Component {
    static template = "finance_integration_hub.TrafficChartField";
    static props = { ...standardFieldProps };

    setup() {
        this.canvasRef = useRef("canvas");
        this.action = useService("action");
        this.orm = useService("orm");
        this.state = useState({ period: "24h" });
        this.chart = null;
        onWillStart(() => loadBundle("web.chartjs_lib"));
        useEffect(
            () => {
                this.renderChart();
                return () => this.chart?.destroy();
            },
            () => [this.state.period, this.props.record.data[this.props.name]]
        );
    }

    get charts() {
        const raw = this.props.record.data[this.props.name];
        return raw ? JSON.parse(raw) : null;
    }

    get current() {
        return this.charts?.[this.state.period];
    }

    get total() {
        const chart = this.current;
        if (!chart) {
            return 0;
        }
        return [...chart.ok, ...chart.attention].reduce((sum, value) => sum + value, 0);
    }

    setPeriod(period) {
        this.state.period = period;
    }

    renderChart() {
        this.chart?.destroy();
        const chart = this.current;
        if (!chart || !this.canvasRef.el) {
            return;
        }
        const scheme = cookie.get("color_scheme");
        this.chart = new Chart(this.canvasRef.el, {
            type: "bar",
            data: {
                labels: chart.labels,
                datasets: [
                    {
                        label: _t("To fix"),
                        data: chart.attention,
                        backgroundColor: getColor(1, scheme, "sm"),
                        stack: "messages",
                    },
                    {
                        label: _t("Other messages"),
                        data: chart.ok,
                        backgroundColor: getColor(2, scheme, "sm"),
                        stack: "messages",
                    },
                ],
            },
            options: {
                maintainAspectRatio: false,
                animation: false,
                plugins: {
                    legend: { display: false },
                    tooltip: { intersect: false, mode: "index", position: "nearest" },
                },
                scales: {
                    x: {
                        stacked: true,
                        grid: { display: false },
                        ticks: { maxTicksLimit: 7, maxRotation: 0 },
                    },
                    y: { stacked: true, beginAtZero: true, ticks: { precision: 0, maxTicksLimit: 4 } },
                },
                onClick: (event, elements) => this.openBar(elements),
                onHover: (event, elements) => {
                    event.native.target.style.cursor = elements.length ? "pointer" : "default";
                },
            },
        });
    }

    async openBar(elements) {
        if (!elements.length) {
            return;
        }
        const { index, datasetIndex } = elements[0];
        const [start, end] = this.current.bounds[index];
        const action = await this.orm.call(
            this.props.record.resModel,
            "action_open_traffic",
            [[this.props.record.resId], start, end, datasetIndex === 0]
        );
        await this.action.doAction(action);
    }
}

export const fihTrafficChartField = {
    component: FihTrafficChartField,
    supportedTypes: ["text"],
};

registry.category("fields").add("fih_traffic_chart", fihTrafficChartField);
