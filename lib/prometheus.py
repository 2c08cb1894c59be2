"""Prometheus metrics from plain figures, written by ``prometheus_client``.

Each scrape gets a new ``CollectorRegistry`` whose one collector yields the
metric families a function builds from rows (:func:`gauge`,
:func:`histogram`); ``generate_latest`` writes them in the text format
that :data:`CONTENT_TYPE` names.

>>> def collect():
...     yield gauge("fih_backlog", "Waiting messages.", ["backend"], [("coupa", 3)])
>>> print(render(collect).decode(), end="")
# HELP fih_backlog Waiting messages.
# TYPE fih_backlog gauge
fih_backlog{backend="coupa"} 3.0
"""

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
)

CONTENT_TYPE = CONTENT_TYPE_LATEST
LATENCY_BUCKETS_MS = (50, 100, 250, 500, 1000, 2500, 5000, 10000, 30000, 60000)
# finer bounds for estimating percentiles; every Prometheus bound is one
FINE_LATENCY_BUCKETS_MS = (
    *(10, 20, 30, 40, 50, 60, 70, 80, 90, 100, 125, 150, 175, 200, 250),
    *(300, 350, 400, 450, 500, 600, 700, 800, 900, 1000, 1250, 1500, 1750),
    *(2000, 2500, 3000, 3500, 4000, 4500, 5000, 6000, 7000, 8000, 9000),
    *(10000, 12500, 15000, 17500, 20000, 25000, 30000, 40000, 50000, 60000),
)


def _label_values(values):
    return [str(value) for value in values]


def gauge(name, help_text, labels, rows):
    """A gauge family; each row is its label values followed by the value."""
    family = GaugeMetricFamily(name, help_text, labels=labels)
    for *values, value in rows:
        family.add_metric(_label_values(values), value)
    return family


def counter(name, help_text, labels, rows):
    """A counter family (its samples end in ``_total``); each row is its label
    values followed by the value, which must never decrease between scrapes.

    >>> family = counter("fih_state_changes", "Changes.", ["state"], [("done", 4)])
    >>> [(sample.name, sample.value) for sample in family.samples]
    [('fih_state_changes_total', 4)]
    """
    family = CounterMetricFamily(name, help_text, labels=labels)
    for *values, value in rows:
        family.add_metric(_label_values(values), value)
    return family


def cumulative_buckets(per_bucket):
    """Counts per bucket index (0 = at or below the first bound, the last
    index = above every bound) to the cumulative counts of
    :func:`histogram` and the total.

    >>> cumulative_buckets({0: 2, 3: 1, len(LATENCY_BUCKETS_MS): 4})
    ([2, 2, 2, 3, 3, 3, 3, 3, 3, 3], 7)
    """
    counts, running = [], 0
    for index in range(len(LATENCY_BUCKETS_MS)):
        running += per_bucket.get(index, 0)
        counts.append(running)
    return counts, running + per_bucket.get(len(LATENCY_BUCKETS_MS), 0)


def quantile(per_bucket, fraction, bounds=FINE_LATENCY_BUCKETS_MS):
    """Estimate a quantile from counts per bucket index over ``bounds`` (0 =
    at or below the first bound, ``len(bounds)`` = above them all),
    interpolating inside its bucket like Prometheus' ``histogram_quantile``;
    above the last bound, that bound. ``None`` without observations.

    >>> set(LATENCY_BUCKETS_MS) <= set(FINE_LATENCY_BUCKETS_MS)
    True
    >>> coarse = {1: 1, 2: 1, 3: 3, 4: 3}  # 100, 200, ... 800 ms
    >>> round(quantile(coarse, 0.95, LATENCY_BUCKETS_MS))  # exact: 765
    933
    >>> fine = {FINE_LATENCY_BUCKETS_MS.index(ms): 1 for ms in range(100, 900, 100)}
    >>> round(quantile(fine, 0.5)), round(quantile(fine, 0.95))
    (400, 760)
    >>> quantile({0: 4}, 0.5)
    5.0
    >>> quantile({len(LATENCY_BUCKETS_MS): 2}, 0.9, LATENCY_BUCKETS_MS)
    60000
    >>> quantile({}, 0.5) is None
    True
    """
    total = sum(per_bucket.values())
    if not total:
        return None
    rank = fraction * total
    below = 0
    for index, bound in enumerate(bounds):
        count = per_bucket.get(index, 0)
        if count and below + count >= rank:
            lower = bounds[index - 1] if index else 0
            return lower + (bound - lower) * (rank - below) / count
        below += count
    return bounds[-1]


def histogram(name, help_text, labels, samples):
    """A histogram family over :data:`LATENCY_BUCKETS_MS`.

    ``samples``: ``(label values, cumulative count per bucket, sum, count)``,
    the counts in the order of the buckets (the observations at or below
    each bound).

    >>> family = histogram("fih_latency_ms", "Latency.", ["backend"],
    ...     [(["coupa"], range(1, 11), 1234, 12)])
    >>> [(sample.name, sample.labels.get("le"), sample.value)
    ...  for sample in family.samples][-4:]
    ... # doctest: +NORMALIZE_WHITESPACE
    [('fih_latency_ms_bucket', '60000', 10), ('fih_latency_ms_bucket', '+Inf', 12),
     ('fih_latency_ms_count', None, 12), ('fih_latency_ms_sum', None, 1234)]
    """
    family = HistogramMetricFamily(name, help_text, labels=labels)
    for values, counts, total_sum, total_count in samples:
        buckets = [
            (str(bound), count)
            for bound, count in zip(LATENCY_BUCKETS_MS, counts, strict=True)
        ]
        buckets.append(("+Inf", total_count))
        family.add_metric(_label_values(values), buckets, total_sum)
    return family


class _Collector:
    """A ``prometheus_client`` collector over a function yielding families."""

    def __init__(self, collect):
        self.collect = collect


def render(collect):
    """The text exposition (bytes) of the families ``collect()`` yields."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(_Collector(collect))
    return generate_latest(registry)
