"""User-controlled text made safe to write into a log line.

A sender chooses the path, the headers and the body; written as is, a
newline in them starts a forged log line and a NUL cuts it. Each control
character is shown escaped, and the text is cut to a readable length.

>>> for_log("x\\n2026-12-01 12:00:00 INFO admin logged in\\x00")
'x\\\\n2026-12-01 12:00:00 INFO admin logged in\\\\x00'
>>> for_log("a" * 200, limit=10)
'aaaaaaaaaa…'
>>> for_log(None)
'None'
"""

import re

_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")


def for_log(value, limit=120):
    """``value`` as text with control characters escaped, at most ``limit``
    characters (then an ellipsis)."""
    text = str(value)
    cut = len(text) > limit
    text = _CONTROL.sub(
        lambda m: m.group(0).encode("unicode_escape").decode(), text[:limit]
    )
    return text + ("…" if cut else "")
