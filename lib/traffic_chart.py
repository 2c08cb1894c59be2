"""The dashboard's traffic charts and figures, free of the ORM.

A backend's chart shows, per bar, the messages received in that period by
their state now: those that need attention (failed or dead letters) and the
others. The bars come from hourly counters (UTC hours of receipt):

- 24 hours: one bar per hour, the current hour and the 23 before;
- 7 days: one bar per day in the user's time zone, today and the 6 before
  (an hour belongs to the day its start falls on).

Each bar carries its period as UTC bounds, so that a click opens exactly the
messages it counts.
"""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

# states counted as "needs attention" on the charts and the dashboard
ATTENTION_STATES = ("failed", "dead")
# states counted as "waiting"
WAITING_STATES = ("received", "processing")

HOUR = timedelta(hours=1)
_STAMP = "%Y-%m-%d %H:%M:%S"


def windows(now, tz_name="UTC"):
    """The first UTC hour of the 24-hour and of the 7-day window at ``now``
    (a naive UTC datetime), as (day_start, week_start).

    >>> windows(datetime(2026, 3, 10, 14, 25))
    (datetime.datetime(2026, 3, 9, 15, 0), datetime.datetime(2026, 3, 4, 0, 0))
    >>> windows(datetime(2026, 3, 10, 14, 25), "Europe/Brussels")[1]
    datetime.datetime(2026, 3, 3, 23, 0)
    """
    hour = now.replace(minute=0, second=0, microsecond=0)
    zone = ZoneInfo(tz_name or "UTC")
    local_today = _local(hour, zone).date()
    first_day = local_today - timedelta(days=6)
    week_start = hour
    while _local(week_start - HOUR, zone).date() >= first_day:
        week_start -= HOUR
    return hour - 23 * HOUR, week_start


def _local(utc_naive, zone):
    return utc_naive.replace(tzinfo=ZoneInfo("UTC")).astimezone(zone)


def series(rows, now, tz_name="UTC"):
    """The two charts of one backend from its hourly rows ``(hour, state,
    messages)``: {"24h": chart, "7d": chart}, a chart being {"labels",
    "ok", "attention", "bounds"}; bounds are (start, end) UTC strings.

    >>> now = datetime(2026, 3, 10, 14, 25)
    >>> rows = [(datetime(2026, 3, 10, 14), "done", 5),
    ...         (datetime(2026, 3, 10, 14), "failed", 2),
    ...         (datetime(2026, 3, 10, 13), "received", 1),
    ...         (datetime(2026, 3, 8, 9), "dead", 4),
    ...         (datetime(2026, 3, 1, 9), "done", 9)]  # out of both windows
    >>> charts = series(rows, now)
    >>> day = charts["24h"]
    >>> len(day["labels"]), day["labels"][-1], day["ok"][-2:], day["attention"][-1]
    (24, '14:00', [1, 5], 2)
    >>> day["bounds"][-1]
    ['2026-03-10 14:00:00', '2026-03-10 15:00:00']
    >>> week = charts["7d"]
    >>> week["labels"][0], week["labels"][-1], week["ok"], week["attention"]
    ('Wed 4', 'Tue 10', [0, 0, 0, 0, 0, 0, 6], [0, 0, 0, 0, 4, 0, 2])
    >>> week["bounds"][-1]
    ['2026-03-10 00:00:00', '2026-03-10 15:00:00']
    """
    zone = ZoneInfo(tz_name or "UTC")
    day_start, week_start = windows(now, tz_name)
    current = now.replace(minute=0, second=0, microsecond=0)
    hours = {}
    for hour, state, count in rows:
        slot = hours.setdefault(hour, [0, 0])
        slot[1 if state in ATTENTION_STATES else 0] += count
    day = _empty()
    hour = day_start
    while hour <= current:
        ok, attention = hours.get(hour, (0, 0))
        _add(day, _local(hour, zone).strftime("%H:00"), ok, attention, hour)
        hour += HOUR
    week = _empty()
    hour = week_start
    while hour <= current:
        label = _day_label(_local(hour, zone))
        ok, attention = hours.get(hour, (0, 0))
        if week["labels"] and week["labels"][-1] == label:
            week["ok"][-1] += ok
            week["attention"][-1] += attention
            week["bounds"][-1][1] = (hour + HOUR).strftime(_STAMP)
        else:
            _add(week, label, ok, attention, hour)
        hour += HOUR
    return {"24h": day, "7d": week}


def _empty():
    return {"labels": [], "ok": [], "attention": [], "bounds": []}


def _add(chart, label, ok, attention, hour):
    chart["labels"].append(label)
    chart["ok"].append(ok)
    chart["attention"].append(attention)
    chart["bounds"].append([hour.strftime(_STAMP), (hour + HOUR).strftime(_STAMP)])


def _day_label(moment):
    # the day's abbreviated name and number, e.g. "Tue 10"
    return f"{moment.strftime('%a')} {moment.day}"


def seconds(milliseconds):
    """A duration for people: seconds with one decimal, minutes above.

    >>> seconds(1400), seconds(40), seconds(0), seconds(258000), seconds(None)
    ('1.4 s', '0.04 s', '0 s', '4.3 min', '')
    """
    if milliseconds is None:
        return ""
    if not milliseconds:
        return "0 s"
    if milliseconds >= 120000:
        return f"{milliseconds / 60000:.1f} min"
    if milliseconds < 100:
        return f"{milliseconds / 1000:.2f} s"
    return f"{milliseconds / 1000:.1f} s"


def parse_stamp(text):
    """A bound back to a naive UTC datetime (ValueError if not one).

    >>> parse_stamp("2026-03-10 14:00:00")
    datetime.datetime(2026, 3, 10, 14, 0)
    """
    return datetime.strptime(text, _STAMP)
