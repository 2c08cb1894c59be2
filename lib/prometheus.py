"""Prometheus text exposition format (version 0.0.4), from plain data.

>>> print(render([("fih_backlog", "gauge", "Waiting messages.",
...     [({"backend": "coupa"}, 3)])]), end="")
# HELP fih_backlog Waiting messages.
# TYPE fih_backlog gauge
fih_backlog{backend="coupa"} 3
"""

LATENCY_BUCKETS_MS = (50, 100, 250, 500, 1000, 2500, 5000, 10000, 30000, 60000)


def _escape(value):
    return str(value).replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def _labels(labels):
    if not labels:
        return ""
    inner = ",".join(
        f'{key}="{_escape(value)}"' for key, value in sorted(labels.items())
    )
    return "{" + inner + "}"


def render(families):
    """``families``: [(name, type, help, [(labels dict, value)])]."""
    lines = []
    for name, kind, help_text, samples in families:
        lines.append(f"# HELP {name} {help_text}")
        lines.append(f"# TYPE {name} {kind}")
        for labels, value in samples:
            labels = dict(labels)
            sample_name = labels.pop("__name__", name)
            lines.append(f"{sample_name}{_labels(labels)} {value}")
    return "\n".join(lines) + "\n"


def histogram_samples(name, labels, counts_by_bucket, total_sum, total_count):
    """Cumulative ``_bucket`` samples plus ``_sum`` and ``_count``.

    ``counts_by_bucket`` maps each upper bound of LATENCY_BUCKETS_MS to the
    number of observations at or below it (already cumulative).
    """
    samples = [
        ({**labels, "le": bound, "__name__": f"{name}_bucket"}, counts_by_bucket[bound])
        for bound in LATENCY_BUCKETS_MS
    ]
    samples.append(
        ({**labels, "le": "+Inf", "__name__": f"{name}_bucket"}, total_count)
    )
    samples.append(({**labels, "__name__": f"{name}_sum"}, total_sum))
    samples.append(({**labels, "__name__": f"{name}_count"}, total_count))
    return samples
