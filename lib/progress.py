"""How far long work has come, and when it should end, in business words.

Long work (a publication load, a bulk retry, a scheduled pull) counts what it
has done out of a total, in chunks. From the figures and the time it started,
:func:`measure` gives the fraction done, the time spent and an estimate of the
time left; :func:`sentence` says it the way a finance user reads it.

The estimate uses the pace of the current run only: work done before a
resumption (``done_before``) counts as done, not as speed.

>>> p = measure(done=1200, total=5000, elapsed=60, chunks_done=3, chunks_total=10)
>>> p.fraction
0.24
>>> p.percent
24.0
>>> p.remaining_seconds
190.0
>>> sentence(p, unit="rows")
'1,200 of 5,000 rows · 3 of 10 chunks · about 3 min left'

A total that is not known yet (a pull lists page after page) gives what has
been done and the time spent:

>>> sentence(measure(done=240, elapsed=12, chunks_done=3), unit="documents")
'240 documents · 3 pages so far · 12 s elapsed'

Finished work says so:

>>> sentence(measure(done=15, total=15, elapsed=125, chunks_done=1, chunks_total=1),
...          unit="messages")
'15 of 15 messages · 1 of 1 chunk · done in 2 min 5 s'
"""

from dataclasses import dataclass

UNITS = {
    # unit: (one, several, what a chunk is called: one, several)
    "rows": ("row", "rows", "chunk", "chunks"),
    "messages": ("message", "messages", "chunk", "chunks"),
    "documents": ("document", "documents", "page", "pages"),
}


@dataclass(frozen=True)
class Progress:
    """Figures of one piece of long work at one moment."""

    done: int
    total: int | None
    elapsed: float
    chunks_done: int
    chunks_total: int | None
    remaining_seconds: float | None

    @property
    def fraction(self):
        """Share done, 0 to 1; None while the total is unknown.

        >>> measure(done=5, total=0).fraction
        1.0
        >>> measure(done=7, total=5).fraction
        1.0
        >>> measure(done=3).fraction is None
        True
        """
        if self.total is None:
            return None
        if self.total <= 0:
            return 1.0
        return min(max(self.done / self.total, 0.0), 1.0)

    @property
    def percent(self):
        """Percentage done, one decimal; 0 while the total is unknown.

        >>> measure(done=1, total=3).percent
        33.3
        """
        fraction = self.fraction
        return 0.0 if fraction is None else round(fraction * 100, 1)

    @property
    def finished(self):
        """True once everything counted is done.

        >>> measure(done=4, total=4).finished, measure(done=3, total=4).finished
        (True, False)
        """
        return self.total is not None and self.done >= self.total


def measure(
    done,
    total=None,
    elapsed=0.0,
    chunks_done=0,
    chunks_total=None,
    done_before=0,
):
    """The :class:`Progress` of work that did ``done`` of ``total`` items in
    ``elapsed`` seconds of the current run, ``done_before`` of them in earlier
    runs.

    The estimate of the time left is the current run's pace applied to what
    remains; there is none before the first item of the run is done.

    >>> measure(done=500, total=1000, elapsed=10, done_before=400).remaining_seconds
    50.0
    >>> measure(done=400, total=1000, elapsed=10, done_before=400).remaining_seconds
    >>> measure(done=-3, total=-1).done, measure(done=-3, total=-1).total
    (0, 0)
    """
    done = max(int(done or 0), 0)
    total = None if total is None else max(int(total), 0)
    elapsed = max(float(elapsed or 0.0), 0.0)
    remaining = None
    if total is not None:
        left = max(total - done, 0)
        paced = done - max(int(done_before or 0), 0)
        if left == 0:
            remaining = 0.0
        elif paced > 0 and elapsed > 0:
            remaining = round(left * elapsed / paced, 1)
    return Progress(
        done=done,
        total=total,
        elapsed=elapsed,
        chunks_done=max(int(chunks_done or 0), 0),
        chunks_total=None if chunks_total is None else max(int(chunks_total), 0),
        remaining_seconds=remaining,
    )


def duration(seconds):
    """A duration the way people say it: seconds, minutes, hours.

    >>> duration(0.4), duration(42), duration(125), duration(3 * 3600 + 20 * 60)
    ('1 s', '42 s', '2 min 5 s', '3 h 20 min')
    >>> duration(600)
    '10 min'
    """
    seconds = max(int(round(seconds)), 1)
    if seconds < 60:
        return f"{seconds} s"
    minutes, seconds = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes} min {seconds} s" if seconds else f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes} min" if minutes else f"{hours} h"


def estimate(seconds):
    """The time left, rounded the way an estimate is read.

    >>> estimate(20), estimate(61), estimate(190), estimate(2 * 3600 + 25 * 60)
    ('less than a minute', 'about 1 min', 'about 3 min', 'about 2 h 25 min')
    """
    if seconds < 60:
        return "less than a minute"
    minutes = int(round(seconds / 60))
    if minutes < 60:
        return f"about {minutes} min"
    hours, minutes = divmod(minutes, 60)
    return f"about {hours} h {minutes} min" if minutes else f"about {hours} h"


def _count(number, one, several):
    return f"{number:,} {one if number == 1 else several}"


def sentence(progress, unit="rows"):
    """One line for the user: done of total, chunks, then the time left
    (or the time spent, when it cannot be estimated or the work is done).

    >>> sentence(measure(done=0, total=5000, chunks_total=10))
    '0 of 5,000 rows · 0 of 10 chunks · estimating the time left'
    >>> sentence(measure(done=1, total=2, elapsed=5, chunks_done=1), "messages")
    '1 of 2 messages · 1 chunk · less than a minute left'
    """
    one, several, chunk_one, chunk_several = UNITS[unit]
    if progress.total is None:
        parts = [_count(progress.done, one, several)]
        parts.append(_count(progress.chunks_done, chunk_one, chunk_several) + " so far")
        parts.append(f"{duration(progress.elapsed)} elapsed")
        return " · ".join(parts)
    parts = [f"{progress.done:,} of {_count(progress.total, one, several)}"]
    if progress.chunks_total is not None:
        parts.append(
            f"{progress.chunks_done:,} of "
            f"{_count(progress.chunks_total, chunk_one, chunk_several)}"
        )
    elif progress.chunks_done:
        parts.append(_count(progress.chunks_done, chunk_one, chunk_several))
    if progress.finished:
        parts.append(f"done in {duration(progress.elapsed)}")
    elif progress.remaining_seconds is None:
        parts.append("estimating the time left")
    else:
        parts.append(f"{estimate(progress.remaining_seconds)} left")
    return " · ".join(parts)
