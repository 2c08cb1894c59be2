from prometheus_client.parser import text_string_to_metric_families

from lib import prometheus


def _families(collect):
    text = prometheus.render(collect).decode()
    return {family.name: family for family in text_string_to_metric_families(text)}


def test_gauges_keep_their_names_labels_and_values():
    def collect():
        yield prometheus.gauge(
            "fih_messages_total",
            "Messages in the exchange log.",
            ["backend", "state"],
            [("coupa", "done", 3), ("coupa", "dead", 1)],
        )

    text = prometheus.render(collect).decode()
    assert "# TYPE fih_messages_total gauge" in text
    assert 'fih_messages_total{backend="coupa",state="done"} 3.0' in text
    (family,) = _families(collect).values()
    assert [(s.labels["state"], s.value) for s in family.samples] == [
        ("done", 3),
        ("dead", 1),
    ]


def test_histograms_have_the_latency_buckets_then_count_and_sum():
    def collect():
        yield prometheus.histogram(
            "fih_message_latency_ms",
            "Latency.",
            ["backend"],
            [(["coupa"], [0, 1, 1, 2, 2, 2, 3, 3, 3, 4], 86_000, 5)],
        )

    family = _families(collect)["fih_message_latency_ms"]
    buckets = [(s.labels["le"], s.value) for s in family.samples if "le" in s.labels]
    assert [le for le, _count in buckets] == [
        *(str(bound) for bound in prometheus.LATENCY_BUCKETS_MS),
        "+Inf",
    ]
    assert buckets[-2:] == [("60000", 4), ("+Inf", 5)]
    totals = {s.name: s.value for s in family.samples if "le" not in s.labels}
    assert totals == {
        "fih_message_latency_ms_count": 5,
        "fih_message_latency_ms_sum": 86_000,
    }
    assert 'le="60000"} 4.0' in prometheus.render(collect).decode()


def test_label_values_are_escaped_and_written_as_text():
    def collect():
        yield prometheus.gauge("fih_backlog", "Waiting.", ["backend"], [('a"b\n', 1)])
        yield prometheus.gauge("fih_dead_letters", "Dead.", ["backend"], [(None, 0)])

    text = prometheus.render(collect).decode()
    assert 'fih_backlog{backend="a\\"b\\n"} 1.0' in text
    assert 'fih_dead_letters{backend="None"} 0.0' in text


def test_families_without_samples_are_still_described():
    def collect():
        yield prometheus.gauge("fih_circuit_open", "1 when paused.", ["backend"], [])

    assert prometheus.render(collect).decode() == (
        "# HELP fih_circuit_open 1 when paused.\n# TYPE fih_circuit_open gauge\n"
    )


def test_each_scrape_reads_the_figures_again():
    figures = iter([1, 2])

    def collect():
        yield prometheus.gauge(
            "fih_backlog", "Waiting.", ["backend"], [("x", next(figures))]
        )

    assert prometheus.render(collect).endswith(b"} 1.0\n")
    assert prometheus.render(collect).endswith(b"} 2.0\n")


def test_the_content_type_is_the_one_of_the_text_format():
    assert prometheus.CONTENT_TYPE.startswith("text/plain; version=")
