"""Guards that keep the simulator on the local machine.

The simulator signs requests with real secrets and can flood a target, so it
must never talk to anything but loopback. Host names are not resolved: only
the literal ``localhost`` and loopback IP literals are accepted, which rules
out DNS tricks.
"""

import ipaddress
from urllib.parse import urlsplit

ALLOWED_SCHEMES = ("http", "https")


class NonLoopbackError(ValueError):
    """The simulator was asked to bind to or contact a non-loopback host."""


def is_loopback_host(host):
    """Return True for ``localhost``, 127.0.0.0/8 and ``::1`` (brackets allowed)."""
    if not host:
        return False
    host = host.strip().strip("[]").lower().rstrip(".")
    if host == "localhost":
        return True
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    mapped = address.ipv4_mapped if address.version == 6 else None
    return address.is_loopback or bool(mapped and mapped.is_loopback)


def ensure_loopback_host(host):
    """Return ``host`` unchanged, or raise :class:`NonLoopbackError`."""
    if not is_loopback_host(host):
        raise NonLoopbackError(
            f"refusing non-loopback host {host!r}: the simulator only talks to "
            "127.0.0.0/8, ::1 or localhost"
        )
    return host


def ensure_loopback_url(url):
    """Return the parsed ``url`` (``urlsplit``) if it targets loopback over HTTP."""
    parts = urlsplit(url)
    if parts.scheme not in ALLOWED_SCHEMES:
        raise NonLoopbackError(f"refusing URL {url!r}: only http(s) is supported")
    ensure_loopback_host(parts.hostname or "")
    return parts
